package fix

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/trailguard/trailguard"
)

// Options tune the plan.
type Options struct {
	// Strict makes a trail that excludes management event sources count as
	// failing, so the plan removes the exclusion.
	Strict bool
	// NewTrail creates a multi-region trail even when a single-region one
	// could be converted.
	NewTrail bool
	// Bucket names the bucket a new trail writes to (default: one named
	// like the console's, aws-cloudtrail-logs-<account>-<8 hex>, the hex
	// derived from the account so that a second run finds the same one).
	Bucket string
	// TrailName names a new trail (default "trailguard-management-events").
	TrailName string
	// Region is where a new trail and bucket are created.
	Region string
	// TransitionDays moves a new bucket's log files to S3 Glacier after
	// that many days, ExpireDays deletes them after that many (both 0:
	// no lifecycle rule). Retention is the owner's choice; the fix only
	// writes the rule it is asked for.
	TransitionDays, ExpireDays int
	// KMSKey encrypts a new trail's log files with this key (id, ARN or
	// alias); its policy gets CloudTrail's statement if it lacks one.
	// CreateKMSKey creates a key (rotation on, alias KMSAlias) instead.
	KMSKey       string
	CreateKMSKey bool
	// OrganizationTrail plans one organization trail in the management
	// account (OrgID its organization) instead of trails per account: it
	// records every member too.
	OrganizationTrail bool
	OrgID             string
	// LogFileValidation adds, after the 3.1 steps, the CIS 3.2 step that
	// turns on log file validation for each multi-region trail the
	// account owns that has it off (a trail the plan creates has it on
	// already). Off by default: 3.1 does not ask for it, and a plan
	// changes only what it is asked to.
	LogFileValidation bool
}

// KMSAlias is the alias of a key the fix creates.
const KMSAlias = "alias/trailguard-cloudtrail"

// KeyFacts is what the applier learned about the KMS key a new trail
// would use.
type KeyFacts struct {
	// Read is true when the key was read in this run (Key); without it
	// no step uses or changes the key.
	Read   bool
	Exists bool
	ARN    string
	Policy string
}

// DefaultTrailName is the name of a trail the fix creates.
const DefaultTrailName = "trailguard-management-events"

// BucketFacts is what the applier learned about the bucket a new trail
// would use, before planning.
type BucketFacts struct {
	// Read is true when the bucket was read in this run (Bucket); without
	// it no step creates or changes the bucket.
	Read   bool
	Exists bool
	// Policy is the bucket's current policy document, "" if none.
	Policy string
	// PublicAccessBlock is the bucket's block as read, nil if none is set.
	PublicAccessBlock *PublicAccessBlock
	// Encryption is the default encryption algorithm as read (AES256,
	// aws:kms, ...), "" if none is configured.
	Encryption string
	// Lifecycle is true when the bucket has a lifecycle configuration
	// (read only when a rule is asked for).
	Lifecycle bool
}

// Step is one change. Action, Why, API and CLI are for people and
// scripts; the rest is what the applier needs.
type Step struct {
	Action Action `json:"action"`
	Why    string `json:"why"`
	API    string `json:"api"`
	CLI    string `json:"cli"`

	Region    string                     `json:"-"`
	Trail     string                     `json:"-"` // ARN or name
	Bucket    string                     `json:"-"`
	Document  string                     `json:"-"` // a policy, JSON
	Selectors *trailguard.EventSelectors `json:"-"`
	// Key is the KMS key a step works on, or a new trail encrypts with.
	Key string `json:"-"`
	// Org makes create-trail create an organization trail.
	Org bool `json:"-"`
	// TransitionDays and ExpireDays are the lifecycle rule of set-lifecycle.
	TransitionDays, ExpireDays int `json:"-"`
	// Undo says how to reverse the step by hand, if it must be.
	Undo string `json:"-"`
}

// Plan is the steps for one account.
type Plan struct {
	Account string `json:"account"`
	// Status is the account's verdict before the fix: with no steps, it
	// tells an account that passes from one that cannot be planned
	// (UNKNOWN, ERROR: Unreadable names the facts missing) or cannot be
	// fixed from here (FAIL: Notes say why).
	Status trailguard.Status `json:"status"`
	Steps  []Step            `json:"steps"`
	Notes  []string          `json:"notes,omitempty"`
	// Unreadable lists the reads that stopped the plan: while it is not
	// empty there are no steps, and the account does not pass.
	Unreadable []Unread `json:"unreadable,omitempty"`
	// Target is the trail as it stands once the steps are done (nil when
	// there is nothing to do): what --emit writes as code.
	Target *Target `json:"-"`
}

// Target is the end state of the trail a plan fixes or creates.
type Target struct {
	Name, ARN, Region, Bucket string
	Selectors                 trailguard.EventSelectors
	Existing                  bool // an existing trail, changed in place
	NewBucket                 bool // the plan creates the bucket
	BucketPolicy              string
	TransitionDays            int
	ExpireDays                int
	// KMSKey is the key the trail encrypts with ("" for none); NewKey
	// says the plan creates it, with KeyPolicy.
	KMSKey    string
	NewKey    bool
	KeyPolicy string
	// Org says the trail is an organization trail (a new one made with
	// --organization-trail, or an existing one that is).
	Org bool
	// EnableTrustedAccess says CloudTrail's trusted access to the
	// organization was read as off and the plan enables it first.
	EnableTrustedAccess bool
	// LogFileValidation is on for a new trail; an existing trail keeps
	// what it has.
	LogFileValidation bool
	// The settings of an existing trail that the fix does not change.
	// Code that left them out would remove them once applied (after the
	// import): log files would move (S3KeyPrefix), notifications and
	// CloudWatch Logs delivery would stop.
	S3KeyPrefix, SNSTopic, CloudWatchLogsGroupARN, CloudWatchLogsRoleARN string
	// InsightSelectors says the existing trail has insight selectors,
	// which the scan does not read: the code cannot keep them, and says
	// so.
	InsightSelectors bool
}

// BucketName is the default bucket of a new trail for an account.
func BucketName(account string) string {
	sum := sha256.Sum256([]byte("trailguard/" + account))
	return "aws-cloudtrail-logs-" + account + "-" + hex.EncodeToString(sum[:4])
}

// Make plans the fix of one account from its scan and verdict, with no
// KMS key facts (see MakeWithKey).
func Make(acct trailguard.Account, res trailguard.Result, bucket BucketFacts, o Options) Plan {
	return MakeWithKey(acct, res, bucket, KeyFacts{}, o)
}

// MakeWithKey is Make with what is known of the KMS key a new trail would
// use (--kms-key, or the alias --create-kms-key would create). Bucket and
// key facts that were not read (Read false) never lead to a step that
// touches them: the plan stops and says so.
func MakeWithKey(acct trailguard.Account, res trailguard.Result, bucket BucketFacts, key KeyFacts, o Options) Plan {
	p := makeWithKey(acct, res, bucket, key, o)
	p.Status = res.Status
	if o.LogFileValidation && len(p.Unreadable) == 0 {
		addValidationSteps(acct.ID, res, &p)
	}
	return p
}

// addValidationSteps plans update-trail --enable-log-file-validation for
// the trail the plan fixes and for every multi-region trail of the
// account (never another account's: an organization trail is changed in
// the management account) whose validation is off. Only the flag is
// changed; the trail's other settings stay as they are.
func addValidationSteps(account string, res trailguard.Result, p *Plan) {
	seen := map[string]bool{}
	add := func(arn, region, name string) {
		if arn == "" || seen[arn] || trailguard.ARNAccount(arn) != account {
			return
		}
		seen[arn] = true
		p.Steps = append(p.Steps, Step{
			Action: ActionEnableLogFileValidation, Region: region, Trail: arn,
			Why: fmt.Sprintf("trail %s delivers no signed digest files, so nobody can prove its log files were not deleted or edited (CIS 3.2; 'trailguard validate-logs' checks them once it is on)", name),
			API: "cloudtrail:UpdateTrail", CLI: fmt.Sprintf("aws cloudtrail update-trail --name %s --enable-log-file-validation --region %s", sh(arn), sh(region)),
			Undo: fmt.Sprintf("aws cloudtrail update-trail --name %s --no-enable-log-file-validation --region %s", sh(arn), sh(region)),
		})
	}
	if t := p.Target; t != nil && t.Existing && !t.LogFileValidation {
		add(t.ARN, t.Region, t.Name)
		t.LogFileValidation = true
	}
	for _, v := range res.Trails {
		if v.IsMultiRegion && !v.LogFileValidationEnabled {
			add(v.ARN, v.HomeRegion, v.Name)
		}
	}
}

func makeWithKey(acct trailguard.Account, res trailguard.Result, bucket BucketFacts, key KeyFacts, o Options) Plan {
	p := Plan{Account: acct.ID, Steps: []Step{}}
	if o.Region == "" {
		o.Region = "us-east-1"
	}
	if o.TrailName == "" {
		o.TrailName = DefaultTrailName
	}
	if stop := unknown(acct.ID, res); stop != nil {
		return *stop
	}
	if o.OrganizationTrail {
		return makeOrg(acct, res, bucket, key, o)
	}
	if res.Status == trailguard.StatusPass {
		return p
	}
	// A trail whose facts could not be read is not changed blind.
	for _, v := range res.Trails {
		if v.Candidate && !v.Readable && v.OwnerAccount() == acct.ID {
			return stopTrail(acct.ID, v)
		}
	}
	if t := best(acct.ID, res.Trails, true); t != nil && !o.NewTrail {
		steps, err := repair(*t, o)
		if err != nil {
			p.Notes = append(p.Notes, err.Error()+"; nothing is planned")
			return p
		}
		p.Steps = append(p.Steps, steps...)
		p.Target = existingTarget(*t, o)
		return p
	}
	// Converting a single-region trail or creating one beside the trails
	// of the account is chosen only once every trail of the account was
	// read: the one that could not be read may be the trail to convert,
	// and a new trail beside it a paid second copy of its region's events.
	for _, v := range res.Trails {
		if !v.Readable && v.OwnerAccount() == acct.ID {
			return stopTrail(acct.ID, v)
		}
	}
	if t := best(acct.ID, res.Trails, false); t != nil && !o.NewTrail {
		home := t.HomeRegion
		p.Steps = append(p.Steps, Step{
			Action: ActionMakeMultiRegion, Region: home, Trail: t.ARN,
			Why: fmt.Sprintf("trail %s records only %s; made multi-region it records every region, with its bucket and settings kept", t.Name, home),
			API: "cloudtrail:UpdateTrail", CLI: fmt.Sprintf("aws cloudtrail update-trail --name %s --is-multi-region-trail --include-global-service-events --region %s", sh(t.ARN), sh(home)),
			Undo: fmt.Sprintf("aws cloudtrail update-trail --name %s --no-is-multi-region-trail --region %s", sh(t.ARN), sh(home)),
		})
		multi := *t
		// The update turns on global service events too: AWS rejects a
		// multi-region trail without them.
		multi.IsMultiRegion, multi.IncludeGlobalServiceEvents = true, true
		steps, err := repair(multi, o)
		if err != nil {
			return Plan{Account: acct.ID, Steps: []Step{}, Notes: []string{err.Error() + "; nothing is planned"}}
		}
		p.Steps = append(p.Steps, steps...)
		p.Target = existingTarget(multi, o)
		return p
	}
	if res.Status == trailguard.StatusFail && memberOfOrgTrailOnly(acct.ID, res.Trails) {
		p.Notes = append(p.Notes, "the only multi-region trail is the organization's: fix it in the management account ('trailguard fix' there)")
	}
	steps, notes, err := create(acct.ID, bucket, key, o)
	if err != nil {
		p.Notes = append(p.Notes, err.Error()+"; nothing is planned")
		return p
	}
	p.Notes = append(p.Notes, notes...)
	p.Steps = append(p.Steps, steps...)
	p.Target = newTarget(acct.ID, bucket, o, steps)
	return p
}

// newTarget is the end state of a plan that creates a trail.
func newTarget(account string, bucket BucketFacts, o Options, steps []Step) *Target {
	t := &Target{Name: o.TrailName, ARN: fmt.Sprintf("arn:aws:cloudtrail:%s:%s:trail/%s", o.Region, account, o.TrailName), Region: o.Region,
		Selectors: *trailguard.DefaultSelectors(), NewBucket: !bucket.Exists, Org: o.OrganizationTrail, LogFileValidation: true}
	if !o.OrganizationTrail {
		t.TransitionDays, t.ExpireDays = o.TransitionDays, o.ExpireDays
	}
	for _, st := range steps {
		switch st.Action {
		case ActionCreateKMSKey:
			t.NewKey, t.KeyPolicy = true, st.Document
		case ActionCreateTrail:
			t.Bucket, t.KMSKey = st.Bucket, st.Key
		case ActionAllowCloudTrailDelivery:
			t.BucketPolicy = st.Document
		}
	}
	if t.BucketPolicy == "" && !o.OrganizationTrail {
		t.BucketPolicy = bucket.Policy
	}
	return t
}

// unknown stops the plan of an account whose verdict is UNKNOWN or ERROR:
// what could not be read may be a trail that already records everything
// (an organization trail a member may not read), and a new trail beside
// it would be a paid duplicate. The plan names each unread fact and the
// permission that reads it.
func unknown(account string, res trailguard.Result) *Plan {
	if res.Status != trailguard.StatusUnknown && res.Status != trailguard.StatusError {
		return nil
	}
	p := Plan{Account: account, Steps: []Step{}}
	if res.Status == trailguard.StatusError {
		p.Notes = append(p.Notes, "the account could not be read; nothing is planned: "+strings.Join(res.Reasons, "; "))
		p.Unreadable = append(p.Unreadable, Unread{Resource: "account " + account, Permission: actionIn(res.Reasons), Error: strings.Join(res.Reasons, "; ")})
		return &p
	}
	for _, v := range res.Trails {
		if v.Candidate && !v.Readable {
			q := stopTrail(account, v)
			p.Notes = append(p.Notes, q.Notes...)
			p.Unreadable = append(p.Unreadable, q.Unreadable...)
		}
	}
	if len(p.Unreadable) == 0 {
		p.Unreadable = append(p.Unreadable, Unread{Resource: "account " + account, Permission: actionIn(res.Reasons), Error: strings.Join(res.Reasons, "; ")})
	}
	p.Notes = append(p.Notes, "the verdict is UNKNOWN, so nothing is planned: a trail that could not be read may already record every region, and a second one would be a paid duplicate ("+strings.Join(res.Reasons, "; ")+")")
	return &p
}

// actionPattern finds an IAM action (cloudtrail:DescribeTrails) in the
// scan's reasons, which name the call that failed.
var actionPattern = regexp.MustCompile(`\b(?:cloudtrail|ec2|sts|organizations|s3|kms):[A-Z][A-Za-z]+\b`)

// actionIn is the first IAM action the reasons name, "" if none.
func actionIn(reasons []string) string {
	for _, r := range reasons {
		if m := actionPattern.FindString(r); m != "" {
			return m
		}
	}
	return ""
}

// stopTrail is the stopped plan for a trail whose status or selectors
// could not be read.
func stopTrail(account string, v trailguard.TrailVerdict) Plan {
	var errs []error
	if v.Status == nil {
		errs = append(errs, &ReadError{Action: "cloudtrail:GetTrailStatus", Resource: "trail " + v.ARN, Err: errors.New(orUnknown(v.StatusError))})
	}
	if v.Selectors == nil {
		errs = append(errs, &ReadError{Action: "cloudtrail:GetEventSelectors", Resource: "trail " + v.ARN, Err: errors.New(orUnknown(v.SelectorsError))})
	}
	if len(errs) == 0 {
		errs = append(errs, &ReadError{Action: "cloudtrail:GetTrailStatus", Resource: "trail " + v.ARN, Err: errors.New("not read")})
	}
	return Stopped(account, errs...)
}

func orUnknown(s string) string {
	if s == "" {
		return "not read"
	}
	return s
}

// makeOrg plans an organization trail in the management account: none
// when one already satisfies 3.1, the repair of one that does not, else a
// new one.
func makeOrg(acct trailguard.Account, res trailguard.Result, bucket BucketFacts, key KeyFacts, o Options) Plan {
	p := Plan{Account: acct.ID, Steps: []Step{}}
	var own []trailguard.TrailVerdict
	for _, v := range res.Trails {
		if v.IsOrganizationTrail && v.OwnerAccount() == acct.ID {
			if v.Satisfies {
				return p
			}
			if v.Candidate && !v.Readable {
				return stopTrail(acct.ID, v)
			}
			own = append(own, v)
		}
	}
	if t := best(acct.ID, own, true); t != nil {
		steps, err := repair(*t, o)
		if err != nil {
			p.Notes = append(p.Notes, err.Error()+"; nothing is planned")
			return p
		}
		p.Steps = append(p.Steps, steps...)
		p.Target = existingTarget(*t, o)
		return p
	}
	// As in MakeWithKey: nothing is created beside a trail not read.
	for _, v := range res.Trails {
		if !v.Readable && v.OwnerAccount() == acct.ID {
			return stopTrail(acct.ID, v)
		}
	}
	steps, notes, err := create(acct.ID, bucket, key, o)
	if err != nil {
		p.Notes = append(p.Notes, err.Error()+"; nothing is planned")
		return p
	}
	p.Notes = append(p.Notes, notes...)
	p.Steps = steps
	p.Target = newTarget(acct.ID, bucket, o, steps)
	return p
}

func existingTarget(t trailguard.Trail, o Options) *Target {
	sel, _, _ := widen(*t.Selectors, o.Strict)
	return &Target{Name: t.Name, ARN: t.ARN, Region: t.HomeRegion, Bucket: t.S3BucketName, Selectors: sel, Existing: true,
		KMSKey: t.KMSKeyID, Org: t.IsOrganizationTrail, LogFileValidation: t.LogFileValidationEnabled,
		S3KeyPrefix: t.S3KeyPrefix, SNSTopic: orElse(t.SnsTopicARN, t.SnsTopicName),
		CloudWatchLogsGroupARN: t.CloudWatchLogsLogGroupARN, CloudWatchLogsRoleARN: t.CloudWatchLogsRoleARN,
		InsightSelectors: t.HasInsightSelectors}
}

// orElse is a, or b when a is empty.
func orElse(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func memberOfOrgTrailOnly(account string, vs []trailguard.TrailVerdict) bool {
	for _, v := range vs {
		if v.Candidate && v.OwnerAccount() == account {
			return false
		}
	}
	for _, v := range vs {
		if v.Candidate && v.IsOrganizationTrail {
			return true
		}
	}
	return false
}

// best picks the account's own trail to fix: multi-region ones when multi,
// else single-region ones; logging first, then recording management
// events, then by ARN. Only trails whose status and selectors were read
// are picked.
func best(account string, vs []trailguard.TrailVerdict, multi bool) *trailguard.Trail {
	var cands []trailguard.TrailVerdict
	for _, v := range vs {
		if v.IsMultiRegion == multi && v.ARN != "" && v.OwnerAccount() == account && v.Status != nil && v.Selectors != nil {
			cands = append(cands, v)
		}
	}
	if len(cands) == 0 {
		return nil
	}
	sort.SliceStable(cands, func(i, j int) bool {
		a, b := cands[i], cands[j]
		if a.Status.IsLogging != b.Status.IsLogging {
			return a.Status.IsLogging
		}
		return a.ARN < b.ARN
	})
	t := cands[0].Trail
	return &t
}
