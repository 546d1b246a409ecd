package aws

import (
	"context"
	"slices"
	"sort"
	"time"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"

	"github.com/trailguard/trailguard"
	"github.com/trailguard/trailguard/evidence"
)

// ScanOptions say what one scan reads and how long it may take. The
// source is, by the first that is set: Evidence (a directory, offline),
// Organization (every ACTIVE account of cfg's organization), Targets
// (given accounts, each through its own configuration); else the account
// of cfg's credentials.
type ScanOptions struct {
	// Evidence is an evidence directory to read instead of calling AWS.
	Evidence string
	// Organization scans the organization of cfg's account with Org.
	Organization bool
	// Targets are accounts to scan one after another with one scanner, so
	// that trail facts read in one answer for the next (the demo's
	// emulator accounts, each reached with its own keys).
	Targets []Target
	// Org tunes an organization scan. Its AccountTimeout also bounds the
	// scan of a single account or target (DefaultAccountTimeout if <= 0).
	Org OrgOptions
	// Timeout bounds the whole live scan (0: no limit). An organization
	// scan that reaches it returns the accounts finished, Partial set.
	Timeout time.Duration
	// SaveEvidence, when set, is a directory the accounts are written to,
	// as read, before the evaluation shares facts between accounts.
	SaveEvidence string
	// Provenance is recorded in the saved evidence's manifests (tool
	// version, command line); the start is the scan's.
	Provenance evidence.Provenance
	// Evaluate are the options the accounts are judged with.
	Evaluate trailguard.Options
	// Account is the id of the account cfg's credentials act in, when the
	// caller already knows it (the Lambda function's own account, read
	// once per instance, or a member whose role it assumed: STS binds
	// the role's credentials to the role's account), so that the scan
	// does not ask sts:GetCallerIdentity again. Only for the default
	// source (the account of cfg's credentials).
	Account string
	// VerdictOnly reads what the verdict needs and nothing more: the
	// enabled regions (ec2:DescribeRegions) are asked only when the
	// account does not pass, so a passing account's result has an empty
	// region table. For a caller that reports only the verdict (the AWS
	// Config rule, once per account per period). Only for the default
	// source.
	VerdictOnly bool
}

// Target is one account of ScanOptions.Targets.
type Target struct {
	Name   string // shown in the report; the id comes from the scan
	Config sdkaws.Config
}

// Outcome is what a scan found: the accounts read, their verdicts, and
// what the scan could not cover.
type Outcome struct {
	StartedAt time.Time
	// Accounts are the accounts read, in the order the source gives them
	// (an organization's sorted by id), as the evaluation left them.
	Accounts []trailguard.Account
	// Results[i] is the verdict of Accounts[i]. ReportResults adds the
	// accounts asked for that the organization does not hold.
	Results []trailguard.Result
	// Calls counts the AWS requests sent, retries included, per
	// "service:Operation" (nil when no AWS call was made).
	Calls map[string]int
	// Skipped, Partial, NotScanned, ListingCutShort, AccountsListed,
	// NotInOrganization and ExcludedNotFound are those of an organization
	// scan (OrgScan).
	Skipped           map[string]string
	Partial           string
	NotScanned        []string
	ListingCutShort   bool
	AccountsListed    int
	NotInOrganization []string
	ExcludedNotFound  []string
	// EvidenceNotices are said once about an evidence directory read
	// (accounts without a manifest); files changed after collection are
	// warnings on the account's result.
	EvidenceNotices []string
	// SaveEvidenceErr is why ScanOptions.SaveEvidence could not be
	// written; the outcome is whole regardless.
	SaveEvidenceErr error
}

// Scan is the one scan pipeline every caller shares (the CLI's scan, demo
// and fix, and a scheduled scan): read the source, write the evidence if
// asked, judge every account. It never fails for one account: an account
// that cannot be read is an ERROR result with the reason. An error is
// returned only when the source itself cannot be read — an evidence
// directory that does not parse, an organization whose accounts cannot be
// listed at all.
func Scan(ctx context.Context, cfg sdkaws.Config, o ScanOptions) (Outcome, error) {
	out := Outcome{StartedAt: time.Now()}
	accountTimeout := o.Org.AccountTimeout
	if accountTimeout <= 0 {
		accountTimeout = DefaultAccountTimeout
	}
	var accounts []trailguard.Account
	var integrity evidence.Integrity
	if o.Evidence != "" {
		var err error
		if accounts, integrity, err = evidence.ReadVerified(o.Evidence); err != nil {
			return Outcome{}, err
		}
		out.EvidenceNotices = integrity.Notices
	} else {
		if o.Timeout > 0 {
			var cancel context.CancelFunc
			ctx, cancel = WithFlagTimeout(ctx, "--timeout", o.Timeout)
			defer cancel()
		}
		counter := NewCallCounter()
		counted := func(c sdkaws.Config) sdkaws.Config {
			// Config.Copy is shallow: clipping keeps the counter's
			// middleware out of the caller's APIOptions array.
			c = c.Copy()
			c.APIOptions = slices.Clip(c.APIOptions)
			counter.Attach(&c)
			return c
		}
		scanner := NewScanner()
		scanner.Evaluate = o.Evaluate
		one := func(c sdkaws.Config, id string, lazy []trailguard.Region) trailguard.Account {
			actx, cancel := WithFlagTimeout(ctx, "--account-timeout", accountTimeout)
			defer cancel()
			return scanner.scanAccount(actx, counted(c), id, caller(id), lazy)
		}
		switch {
		case o.Organization:
			org, err := scanner.ScanOrganization(ctx, counted(cfg), o.Org)
			if err != nil {
				return Outcome{}, err
			}
			accounts = org.Accounts
			out.Skipped, out.Partial, out.NotScanned = org.Skipped, org.Partial, org.NotScanned
			out.ListingCutShort, out.AccountsListed = org.ListingCutShort, org.AccountsListed
			out.NotInOrganization, out.ExcludedNotFound = org.NotInOrganization, org.ExcludedNotFound
		case len(o.Targets) > 0:
			for _, t := range o.Targets {
				acct := one(t.Config, "", nil)
				acct.Name = t.Name
				accounts = append(accounts, acct)
			}
		default:
			var lazy []trailguard.Region // nil: DescribeRegions with the other reads
			if o.VerdictOnly {
				lazy = []trailguard.Region{}
			}
			accounts = []trailguard.Account{one(cfg, o.Account, lazy)}
		}
		out.Calls = counter.Counts()
	}
	if o.SaveEvidence != "" {
		p := o.Provenance
		p.Start = out.StartedAt
		out.SaveEvidenceErr = evidence.WriteWith(o.SaveEvidence, accounts, p)
	}
	out.Results = trailguard.EvaluateAll(accounts, o.Evaluate)
	// Evidence changed after collection is still judged as it is now, and
	// the result says which files no longer match their manifest.
	for i := range out.Results {
		if w := integrity.Warnings[out.Results[i].Account]; len(w) > 0 {
			out.Results[i].Warnings = append(out.Results[i].Warnings, w...)
		}
	}
	out.Accounts = accounts
	return out, nil
}

// ReportResults are the results a report shows: every account's verdict
// and, sorted in by account, an ERROR for each account asked for that the
// organization's complete listing does not hold — a requested account
// that is not found is reported (and fails the run), never dropped from a
// clean-looking report.
func (o Outcome) ReportResults() []trailguard.Result {
	if len(o.NotInOrganization) == 0 {
		return o.Results
	}
	out := append(slices.Clip(o.Results), notInOrganization(o.NotInOrganization)...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Account < out[j].Account })
	return out
}

func notInOrganization(ids []string) []trailguard.Result {
	out := make([]trailguard.Result, 0, len(ids))
	for _, id := range ids {
		out = append(out, trailguard.Result{
			Account: id,
			Status:  trailguard.StatusError,
			Reasons: []string{"not in the organization: account " + id + " was asked for (--accounts or --accounts-file) but Organizations ListAccounts does not list it"},
		})
	}
	return out
}
