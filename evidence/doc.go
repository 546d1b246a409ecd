// Package evidence reads and writes the evidence directory: the raw AWS CLI
// output that proves, account by account, whether CloudTrail records every
// management event in every region (CIS AWS Foundations v3.0.0, 3.1).
//
// The directory is what `trailguard scan --save-evidence DIR` writes, what
// `trailguard scan --evidence DIR` reads, and what the script printed by
// `trailguard collect-script` produces with nothing but bash and the AWS
// CLI. The three are interchangeable, so an auditor without API access for
// trailguard can still collect, read and keep the evidence:
//
//	DIR/<account-id>/caller-identity.json   aws sts get-caller-identity               (optional)
//	DIR/<account-id>/describe-account.json  aws organizations describe-account        (optional, gives the account name)
//	DIR/<account-id>/regions.json           aws ec2 describe-regions --all-regions    (optional)
//	DIR/<account-id>/describe-trails.json   aws cloudtrail describe-trails            (one region; shadow trails included)
//	DIR/<account-id>/trails/<home-region>/<trail-name>/get-trail-status.json     aws cloudtrail get-trail-status --name <TrailARN>
//	DIR/<account-id>/trails/<home-region>/<trail-name>/get-event-selectors.json  aws cloudtrail get-event-selectors --trail-name <TrailARN>
//	DIR/<account-id>/errors.json            why some of the above could not be read (see below)
//	DIR/<account-id>/collect-run.json       the run marker: which collection wrote the files (see below)
//	DIR/<account-id>/trails/<home-region>/<trail-name>/collect-run.json  the same marker, per trail
//	DIR/<account-id>/manifest.json          who collected the files, when, how, and their SHA-256 (see below)
//	DIR/<account-id>/history/<region>/lookup-events-<EventName>.json  aws cloudtrail lookup-events --lookup-attributes AttributeKey=EventName,AttributeValue=<EventName>
//	DIR/<account-id>/history/collect-run.json  the run marker of the event history, with the --start-time asked (Since)
//
// The history files (the collect script writes them, for each enabled
// region and each history.CoverageEvents name) are read by ReadHistory,
// not Read: see history.go.
//
// Every .json file other than errors.json is exactly what the AWS CLI
// prints for the command, version 1 or 2: timestamps may be ISO 8601
// strings (any offset) or epoch seconds. Write prints the CLI v2 shape:
// four-space indent, ISO 8601 timestamps in UTC with "+00:00".
//
// <trail-name> is the name in the trail's ARN (arn:...:trail/<name>), which
// is also the directory a member account uses for an organization trail. A
// directory whose name is twelve digits is an account directory. A
// directory for a single account may leave out the <account-id> level; the
// account id is then the directory's own name when it is twelve digits,
// else the one in caller-identity.json, else the account in the ARNs of the
// account's own (non-organization) trails. A caller-identity.json for
// another account than its directory makes the account an error: the
// evidence was misfiled.
//
// # Missing facts
//
// Nothing missing is ever read as "fine". A missing describe-trails.json
// makes the account unreadable (Account.Error); a missing status or
// selectors file makes the trail "not readable" (Trail.StatusError,
// Trail.SelectorsError), and a missing regions.json leaves Account.Regions
// nil with Account.RegionsError. The reason recorded when the command
// failed is kept in one of two forms, both read:
//
// errors.json, written by Write, one per account directory; every key is
// optional:
//
//	{
//	    "describe-trails": "why the account could not be read (Account.Error)",
//	    "regions": "why describe-regions failed (Account.RegionsError)",
//	    "trails": {
//	        "<TrailARN>": {
//	            "get-trail-status": "why the status was not read (Trail.StatusError)",
//	            "get-event-selectors": "why the selectors were not read (Trail.SelectorsError)"
//	        }
//	    }
//	}
//
// <command>.err files, written by the collect script: the AWS CLI's error
// output, saved under the name the JSON output would have had
// (describe-trails.err, regions.err, trails/<region>/<name>/get-trail-status.err,
// trails/<region>/<name>/get-event-selectors.err).
//
// When the same reason is given both ways, errors.json wins. A JSON file
// that is present is always read, whatever errors.json says.
//
// Malformed JSON is reported with the file, line and column, on the account
// or trail it belongs to; the rest of the directory is still read.
//
// # Evidence is exact
//
// A file is read as the AWS CLI prints it, not as a lenient parser would
// take it: keys are matched case-sensitively and a key may not appear twice
// in one object (encoding/json alone would read {"IsLogging": false,
// "isLogging": true} as logging); a member the CLI always prints and on
// which the verdict depends (trailList; IsLogging; each basic selector's
// ReadWriteType and IncludeManagementEvents; each advanced selector's
// FieldSelectors and each field selector's Field; Regions) must be present
// and not null. A trail member that is absent takes the value that cannot
// make the trail count (not multi-region, not an organization trail), and
// IncludeGlobalServiceEvents its API default. A file that breaks these
// rules is an error naming the file, the line and the member: the fact it
// holds is not readable, never a default. (The model of the CLI's JSON and
// this exact reading are package awscli's, shared with the fix planner.)
// Every file is capped in size and
// nesting depth, and only regular files are read (a FIFO or a link to a
// device is an error for that file; the rest is still read).
//
// # Facts belong to one trail
//
// A trail that describe-trails.json lists without a valid TrailARN gets no
// facts: nothing ties a file, or another listing, to it. Facts read in one
// account answer for another only under the same ARN, and only for trails
// that count there (see trailguard.ShareTrailFacts).
//
// # Evidence is of this collection
//
// A status or selectors file from an earlier collection must not answer
// for this one. The collect script (and Write) writes collect-run.json,
// {"RunId": "...", "StartTime": "..."}, into the account directory before
// anything else, removes the trail files an earlier run left, and writes
// the same marker into each trail's directory just before reading that
// trail; when it cannot list the trails it says why in trail-list.err. The
// reader trusts a trail's files only when its directory's RunId is the
// account's. Without any marker (evidence collected by hand) a trail file
// written more than a minute before describe-trails.json is from an earlier
// collection. A file that is not trusted is not read: the fact is not
// readable, with the reason, and can make a verdict UNKNOWN but never PASS.
// Lost evidence (a file missing without a recorded refusal, damaged, or
// stale) is also never filled from another account's read, since it might
// have said otherwise; a refusal recorded in a .err file or errors.json is.
//
// # The manifest
//
// Each account directory ends with manifest.json, written last by Write
// and by the collect script, so that an auditor can tell the files are the
// ones collected. It is per account, not one for the whole directory,
// because each account is collected on its own (one run of the script per
// profile, or one scan per organization that replaces only its accounts'
// directories) into a shared directory:
//
//	{
//	    "Tool": "trailguard" | "trailguard collect-script",
//	    "ToolVersion": "the trailguard version (empty for the script)",
//	    "CollectedBy": "the caller ARN the account was read as",
//	    "StartTime": "2026-01-31T09:00:00Z",
//	    "EndTime": "2026-01-31T09:00:07Z",
//	    "CommandLine": ["trailguard", "scan", "--save-evidence", "DIR"],
//	    "RunId": "the RunId of collect-run.json",
//	    "Files": {"<path relative to the account directory, / separated>": "<SHA-256, lower-case hex>", ...}
//	}
//
// ReadVerified (what scan --evidence uses) checks every account directory
// against its manifest. A file listed but missing, a file whose SHA-256
// differs, and a file present but not listed (links and FIFOs included,
// never followed or read) are each a warning on that account, naming the
// file: the evidence is still read and judged as it now is, and the
// result says it is not what was collected. A manifest that cannot be
// read, or lists a path outside the account directory, is a warning too.
// Evidence without a manifest (collected by hand, or by an older
// trailguard) is read as before, with one notice for the whole directory.
package evidence
