#!/usr/bin/env bash
#
# trailguard evidence collection
# CIS Amazon Web Services Foundations Benchmark v3.0.0, recommendation 3.1:
# "Ensure CloudTrail is enabled in all regions".
#
# This script reads, and never changes, one AWS account with the AWS CLI
# (version 1 or 2). It needs bash and the AWS CLI, nothing else. It saves
# the unmodified JSON output of these commands:
#
#   aws sts get-caller-identity                which account the credentials read
#   aws ec2 describe-regions --all-regions     every region and its opt-in status
#   aws cloudtrail describe-trails             every trail the account sees, own
#                                              and organization trails; asked in
#                                              one region, it also lists the
#                                              multi-region trails of the others
#   and for each trail, in its home region and by its full ARN:
#   aws cloudtrail get-trail-status            is the trail logging?
#   aws cloudtrail get-event-selectors         which events does it record?
#   and for each enabled region, for each call that can change coverage
#   (CreateTrail DeleteTrail UpdateTrail StartLogging StopLogging
#   PutEventSelectors), from CloudTrail event history (the last 90 days):
#   aws cloudtrail lookup-events --lookup-attributes AttributeKey=EventName,AttributeValue=<name>
#                                              who changed the trails, and when
#
# Usage:
#
#   AWS_PROFILE=<profile> bash collect.sh [OUTPUT-DIR]
#
#   OUTPUT-DIR   where to save the evidence (default ./trailguard-evidence);
#                the account's files go to OUTPUT-DIR/<account-id>/.
#   AWS_PROFILE  the AWS CLI profile to use (default: the CLI's default).
#   AWS_REGION   the region to ask describe-trails and describe-regions in
#                (default us-east-1).
#   TRAILGUARD_HISTORY_SINCE   the oldest event history to save, as an ISO
#                8601 time (default: 90 days ago, all event history keeps).
#   TRAILGUARD_HISTORY_REGIONS the regions to read event history in,
#                separated by spaces (default: every region enabled for the
#                account); "none" reads no event history. trailguard
#                reports the enabled regions left out as not read.
#
# For several accounts, run it once per account (one profile each) with the
# same OUTPUT-DIR. Then:
#
#   trailguard scan --evidence OUTPUT-DIR
#
# Permissions used (all read-only; the AWS managed policy SecurityAudit
# grants them): sts:GetCallerIdentity, ec2:DescribeRegions,
# cloudtrail:DescribeTrails, cloudtrail:GetTrailStatus,
# cloudtrail:GetEventSelectors, cloudtrail:LookupEvents.
#
# Event history is saved in DIR/<account-id>/history/<region>/
# lookup-events-<EventName>.json, one file per region and call, with a run
# marker of its own (history/collect-run.json, which also records the
# --start-time asked). lookup-events is limited by AWS to two requests a
# second per account and region; the CLI retries when it is throttled.
#
# Each run first writes DIR/<account-id>/collect-run.json, a run id, and
# removes the status and selectors files an earlier run left in trails/;
# each trail's directory gets the same run id before its files are read.
# trailguard does not trust a trail's files whose run id differs from the
# account's (they are from another run), nor, in evidence collected by hand
# without run ids, files written more than a minute before the
# describe-trails.json they belong to. Copy the whole account directory,
# collect-run.json files included.
#
# The last file written is DIR/<account-id>/manifest.json: who collected
# the evidence (the caller ARN), when (start and end, UTC), with which
# script and command line, and the SHA-256 of every file this run wrote
# (computed with sha256sum, or shasum -a 256 where that is what exists):
#
#   {
#       "Tool": "trailguard collect-script",
#       "ToolVersion": "",
#       "CollectedBy": "arn:aws:sts::111111111111:assumed-role/Audit/auditor",
#       "StartTime": "2026-01-31T09:00:00Z",
#       "EndTime": "2026-01-31T09:00:07Z",
#       "CommandLine": ["collect.sh", "./evidence"],
#       "RunId": "...",
#       "Files": {"describe-trails.json": "<sha-256 in hex>", ...}
#   }
#
# trailguard scan --evidence checks every file against it and warns, on the
# account's result, about each file changed, added or removed since; keep
# the manifest with the files. Without a sha256sum or shasum the script
# stops before reading anything.
#
# A command that fails does not stop the script. Its error message is saved
# where its output would have gone, with .err instead of .json (for example
# trails/us-east-1/org-trail/get-trail-status.err), and trailguard reports
# that fact as not readable, never as compliant. An organization trail seen
# from a member account is typical: the member may not read its status;
# collect the management account too, into the same OUTPUT-DIR.

set -u

OUT="${1:-./trailguard-evidence}"
REGION="${AWS_REGION:-${AWS_DEFAULT_REGION:-us-east-1}}"
# Output goes to files; never hand it to a pager.
export AWS_PAGER=""

if ! command -v aws >/dev/null 2>&1; then
	echo "collect: the AWS CLI (aws) is not on PATH; install it first" >&2
	exit 1
fi

# sha256 FILE: print the file's SHA-256 in hex. The file is read on stdin,
# so that no file name can change what the tool prints.
if command -v sha256sum >/dev/null 2>&1; then
	sha256() { sha256sum <"$1"; }
elif command -v shasum >/dev/null 2>&1; then
	sha256() { shasum -a 256 <"$1"; }
else
	echo "collect: neither sha256sum nor shasum is on PATH; the manifest needs one of them" >&2
	exit 1
fi

# json_string TEXT: print TEXT as a JSON string. Backslash and quote are
# escaped, tab, newline and carriage return written as escapes, and other
# control characters dropped, so no value can break the manifest.
json_string() {
	local s="$1"
	s="${s//\\/\\\\}"
	s="${s//\"/\\\"}"
	s="${s//$'\t'/\\t}"
	s="${s//$'\n'/\\n}"
	s="${s//$'\r'/\\r}"
	s="$(LC_ALL=C; printf '%s' "${s//[[:cntrl:]]/}")"
	printf '"%s"' "$s"
}

# Every file this run writes, for the manifest.
WRITTEN=()

# save FILE ARGS...: run "aws ARGS... --output json", keep its output in
# FILE when it succeeds, else its error message in FILE with .err for .json.
# Returns the command's exit status.
save() {
	local file="$1"
	shift
	local err="${file%.json}.err"
	rm -f -- "$file" "$err" "$file.tmp" "$err.tmp"
	aws "$@" --output json >"$file.tmp" 2>"$err.tmp" </dev/null
	local status=$?
	if [ "$status" -eq 0 ]; then
		mv -f -- "$file.tmp" "$file"
		rm -f -- "$err.tmp"
		WRITTEN+=("$file")
		return 0
	fi
	if [ ! -s "$err.tmp" ]; then
		echo "exit status $status" >"$err.tmp"
	fi
	mv -f -- "$err.tmp" "$err"
	rm -f -- "$file.tmp"
	WRITTEN+=("$err")
	echo "collect: aws $1 $2 failed (exit status $status); its message is in $err" >&2
	return "$status"
}

# 1. Which account: everything else is saved under its id.
ACCOUNT="$(aws sts get-caller-identity --region "$REGION" --query Account --output text </dev/null)"
ACCOUNT="${ACCOUNT%$'\r'}"
case "$ACCOUNT" in
[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]) ;;
*)
	echo "collect: cannot tell which account the credentials belong to (aws sts get-caller-identity); check AWS_PROFILE and the credentials" >&2
	exit 1
	;;
esac
DIR="$OUT/$ACCOUNT"
if ! mkdir -p -- "$DIR"; then
	echo "collect: cannot create $DIR" >&2
	exit 1
fi
echo "collect: account $ACCOUNT into $DIR (region $REGION)" >&2

# 2. The run marker, before anything is read. Evidence is what the CLI
#    printed in this run: trailguard trusts a trail's files only when the
#    trail's directory holds the same RunId as the account directory, so
#    files an earlier run left behind can never answer for this one, even
#    in a copy of the directory. The files of every trail from an earlier
#    run are removed now; each trail gets the marker again just before its
#    status and selectors are read.
# bash 4.2 and later print the time themselves; older ones (macOS) ask date.
START="$(TZ=UTC0 printf '%(%Y-%m-%dT%H:%M:%SZ)T' -1 2>/dev/null)"
case "$START" in
[0-9][0-9][0-9][0-9]-*) ;;
*) START="$(date -u +%Y-%m-%dT%H:%M:%SZ 2>/dev/null)" ;;
esac
RUN="${START//[-:]/}-$$-$RANDOM$RANDOM"
MARKER="{\"RunId\": \"$RUN\", \"StartTime\": \"$START\"}"
mark() {
	printf '%s\n' "$MARKER" >"$1/collect-run.json.tmp" && mv -f -- "$1/collect-run.json.tmp" "$1/collect-run.json" &&
		WRITTEN+=("$1/collect-run.json")
}
# A manifest of an earlier run would not describe this one.
rm -f -- "$DIR/manifest.json"
if ! mark "$DIR"; then
	echo "collect: cannot write the run marker in $DIR" >&2
	exit 1
fi
rm -f -- "$DIR/trail-list.err"
for OLD in "$DIR"/trails/*/*/; do
	[ -d "$OLD" ] || continue
	rm -f -- "$OLD"collect-run.json "$OLD"get-trail-status.json "$OLD"get-trail-status.err \
		"$OLD"get-event-selectors.json "$OLD"get-event-selectors.err
done

save "$DIR/caller-identity.json" sts get-caller-identity --region "$REGION"

# 3. Every region, enabled or not, with its opt-in status: the regions a
#    trail has to cover.
save "$DIR/regions.json" ec2 describe-regions --all-regions --region "$REGION"

# 4. Every trail the account sees. Shadow trails (the copies of a
#    multi-region trail listed in every region) are included, so that one
#    region's answer shows the trails of all regions.
if save "$DIR/describe-trails.json" cloudtrail describe-trails --include-shadow-trails --region "$REGION"; then
	# The same list as lines of "ARN <tab> home region <tab> name".
	LIST="$DIR/.trail-list.tmp"
	if aws cloudtrail describe-trails --include-shadow-trails --region "$REGION" \
		--query 'trailList[].[TrailARN,HomeRegion,Name]' --output text >"$LIST" 2>"$DIR/trail-list.err" </dev/null; then
		rm -f -- "$DIR/trail-list.err"
		SEEN=" "
		while IFS=$'\t' read -r ARN HOME_REGION NAME; do
			ARN="${ARN%$'\r'}"
			HOME_REGION="${HOME_REGION%$'\r'}"
			NAME="${NAME%$'\r'}"
			if [ -z "$ARN" ] || [ "$ARN" = "None" ]; then
				continue
			fi
			# One trail, one ARN: ask once, however often it is listed.
			case "$SEEN" in *" $ARN "*) continue ;; esac
			SEEN="$SEEN$ARN "
			# The home region is also the region field of the ARN
			# (arn:aws:cloudtrail:REGION:ACCOUNT:trail/NAME).
			if [ -z "$HOME_REGION" ] || [ "$HOME_REGION" = "None" ]; then
				REST="${ARN#*:*:*:}"
				HOME_REGION="${REST%%:*}"
			fi
			# The directory is named after the name in the ARN.
			case "$ARN" in
			*:trail/*) TRAIL="${ARN##*:trail/}" ;;
			*) TRAIL="$NAME" ;;
			esac
			# AWS trail names are letters, digits, '.', '_' and '-' only:
			# anything else is not a trail's and never becomes a path.
			case "$TRAIL" in
			'' | . | .. | *[!A-Za-z0-9._-]*)
				echo "collect: skipping trail $ARN: its name is not a plain directory name" >&2
				continue
				;;
			esac
			case "$HOME_REGION" in
			'' | -* | *[!a-z0-9-]*)
				echo "collect: skipping trail $ARN: home region '$HOME_REGION' is not a region name" >&2
				continue
				;;
			esac
			TDIR="$DIR/trails/$HOME_REGION/$TRAIL"
			if ! mkdir -p -- "$TDIR" || ! mark "$TDIR"; then
				echo "collect: cannot create $TDIR" >&2
				continue
			fi
			# 5. Status and selectors, from the home region and by full
			#    ARN: a member account asking by name for an organization
			#    trail gets TrailNotFoundException.
			save "$TDIR/get-trail-status.json" cloudtrail get-trail-status --name "$ARN" --region "$HOME_REGION"
			save "$TDIR/get-event-selectors.json" cloudtrail get-event-selectors --trail-name "$ARN" --region "$HOME_REGION"
		done <"$LIST"
	else
		[ -s "$DIR/trail-list.err" ] || echo "exit status of aws cloudtrail describe-trails --query: non-zero" >"$DIR/trail-list.err"
		echo "collect: could not list the trails again to read their status; the trails will show as not readable (see $DIR/trail-list.err)" >&2
	fi
	rm -f -- "$LIST"
fi

# 6. Event history: the calls that can change coverage, region by region,
#    one lookup attribute per call (the API takes one). Every enabled
#    region, not only where trails live now: a trail deleted since may
#    have lived anywhere, and a call is recorded in the region it was
#    made in. Files of an earlier run are removed first; the history
#    marker ties the rest to this run.
HDIR="$DIR/history"
HISTORY_EVENTS="CreateTrail DeleteTrail UpdateTrail StartLogging StopLogging PutEventSelectors"
HREGIONS="${TRAILGUARD_HISTORY_REGIONS:-}"
if [ -d "$HDIR" ]; then
	rm -f -- "$HDIR/collect-run.json" "$HDIR/region-list.err"
	for OLD in "$HDIR"/*/; do
		[ -d "$OLD" ] || continue
		rm -f -- "$OLD"lookup-events-*.json "$OLD"lookup-events-*.err
	done
fi
if [ "$HREGIONS" != "none" ]; then
	SINCE="${TRAILGUARD_HISTORY_SINCE:-}"
	if [ -z "$SINCE" ]; then
		# GNU date, then BSD date (macOS); without either, no --start-time:
		# event history holds 90 days anyway.
		SINCE="$(date -u -d '90 days ago' +%Y-%m-%dT%H:%M:%SZ 2>/dev/null ||
			date -u -v-90d +%Y-%m-%dT%H:%M:%SZ 2>/dev/null)"
	fi
	case "$SINCE" in
	*[!0-9A-Za-z:+.-]*)
		echo "collect: TRAILGUARD_HISTORY_SINCE '$SINCE' is not an ISO 8601 time; event history is read without it" >&2
		SINCE=""
		;;
	esac
	if mkdir -p -- "$HDIR" &&
		printf '{"RunId": %s, "StartTime": %s, "Since": %s}\n' "$(json_string "$RUN")" "$(json_string "$START")" "$(json_string "$SINCE")" >"$HDIR/collect-run.json.tmp" &&
		mv -f -- "$HDIR/collect-run.json.tmp" "$HDIR/collect-run.json"; then
		WRITTEN+=("$HDIR/collect-run.json")
		if [ -z "$HREGIONS" ]; then
			if ! HREGIONS="$(aws ec2 describe-regions --all-regions --region "$REGION" \
				--query 'Regions[?OptInStatus!=`not-opted-in`].RegionName' --output text 2>"$HDIR/region-list.err" </dev/null)"; then
				[ -s "$HDIR/region-list.err" ] || echo "exit status of aws ec2 describe-regions --query: non-zero" >"$HDIR/region-list.err"
				WRITTEN+=("$HDIR/region-list.err")
				echo "collect: could not list the regions to read event history in (see $HDIR/region-list.err)" >&2
				HREGIONS=""
			else
				rm -f -- "$HDIR/region-list.err"
			fi
		fi
		# The list is split on blanks only: no region name is a glob.
		set -f
		for R in $HREGIONS; do
			R="${R%$'\r'}"
			case "$R" in
			'' | -* | *[!a-z0-9-]*)
				echo "collect: skipping event history of '$R': not a region name" >&2
				continue
				;;
			esac
			mkdir -p -- "$HDIR/$R" || continue
			for EV in $HISTORY_EVENTS; do
				save "$HDIR/$R/lookup-events-$EV.json" cloudtrail lookup-events \
					--lookup-attributes "AttributeKey=EventName,AttributeValue=$EV" \
					${SINCE:+--start-time "$SINCE"} --region "$R"
			done
		done
		set +f
	else
		echo "collect: cannot write $HDIR; event history is not saved" >&2
	fi
fi

# 7. The manifest, last: who, when, how, and the SHA-256 of every file
#    written above. The caller ARN is taken from the saved
#    caller-identity.json, where the CLI prints it on a line of its own.
ARN_OF_CALLER=""
if [ -f "$DIR/caller-identity.json" ]; then
	while IFS= read -r LINE; do
		if [[ "$LINE" =~ \"Arn\"[[:space:]]*:[[:space:]]*\"([^\"\\]*)\" ]]; then
			ARN_OF_CALLER="${BASH_REMATCH[1]}"
		fi
	done <"$DIR/caller-identity.json"
fi
END="$(TZ=UTC0 printf '%(%Y-%m-%dT%H:%M:%SZ)T' -1 2>/dev/null)"
case "$END" in
[0-9][0-9][0-9][0-9]-*) ;;
*) END="$(date -u +%Y-%m-%dT%H:%M:%SZ 2>/dev/null)" ;;
esac
{
	printf '{\n    "Tool": "trailguard collect-script",\n    "ToolVersion": "",\n'
	printf '    "CollectedBy": %s,\n' "$(json_string "$ARN_OF_CALLER")"
	printf '    "StartTime": %s,\n    "EndTime": %s,\n' "$(json_string "$START")" "$(json_string "$END")"
	printf '    "CommandLine": [%s' "$(json_string "$0")"
	for ARG in "$@"; do
		printf ', %s' "$(json_string "$ARG")"
	done
	printf '],\n    "RunId": %s,\n    "Files": {' "$(json_string "$RUN")"
	SEP=""
	for FILE in ${WRITTEN[@]+"${WRITTEN[@]}"}; do
		[ -f "$FILE" ] || continue
		SUM="$(sha256 "$FILE")"
		SUM="${SUM%% *}"
		printf '%s\n        %s: %s' "$SEP" "$(json_string "${FILE#"$DIR"/}")" "$(json_string "$SUM")"
		SEP=","
	done
	printf '\n    }\n}\n'
} >"$DIR/manifest.json.tmp" && mv -f -- "$DIR/manifest.json.tmp" "$DIR/manifest.json" ||
	echo "collect: cannot write $DIR/manifest.json" >&2

echo "collect: done; read it with: trailguard scan --evidence $OUT" >&2
