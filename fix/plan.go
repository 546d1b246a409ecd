// Package fix plans and applies the smallest change that makes an account
// pass CIS 3.1. The planner is pure: from the scanned account, its verdict
// and a few facts about the destination bucket, it returns ordered steps,
// each with why, the API call and the equivalent AWS CLI command. It
// prefers fixing the trail that exists (start it, widen its selectors,
// make it multi-region) over creating one, keeps every data-event selector,
// merges into a bucket policy instead of replacing it, and never deletes.
//
// A write depends on a read. No step writes a resource (bucket, bucket
// policy, public access block, encryption, lifecycle, key policy, trail,
// selectors) whose current state was not read in this run: a trail's
// status and selectors come from the scan, a bucket's and a key's from
// Bucket and Key, each marked Read. A read that did not answer definitely
// ("does not exist" is an answer; access denied, throttling and server
// errors are not) stops the plan for the account, and the plan names the
// permission that would let it read (Stopped). An account whose verdict is
// UNKNOWN gets no plan at all: creating a trail beside one that could not
// be read would pay for a second copy of every management event. Undo
// hints are computed from what was read: they restore the previous
// document, and never delete what existed before.
package fix

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/trailguard/trailguard"
	"github.com/trailguard/trailguard/awscli"
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
	Action string `json:"action"`
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
	Account string   `json:"account"`
	Steps   []Step   `json:"steps"`
	Notes   []string `json:"notes,omitempty"`
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
			Action: "make-multi-region", Region: home, Trail: t.ARN,
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
		Selectors: *trailguard.DefaultSelectors(), NewBucket: !bucket.Exists}
	if !o.OrganizationTrail {
		t.TransitionDays, t.ExpireDays = o.TransitionDays, o.ExpireDays
	}
	for _, st := range steps {
		switch st.Action {
		case "create-kms-key":
			t.NewKey, t.KeyPolicy = true, st.Document
		case "create-trail":
			t.Bucket, t.KMSKey = st.Bucket, st.Key
		case "allow-cloudtrail-delivery":
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
	return &Target{Name: t.Name, ARN: t.ARN, Region: t.HomeRegion, Bucket: t.S3BucketName, Selectors: sel, Existing: true}
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

// repair makes an existing multi-region trail satisfy 3.1: its selectors
// first (so that starting it records the right events), then logging.
// Both read in this run by the scan: the undo puts back the selectors read.
func repair(t trailguard.Trail, o Options) ([]Step, error) {
	var steps []Step
	home := t.HomeRegion
	sel, changed, err := widen(*t.Selectors, o.Strict)
	if err != nil {
		return nil, fmt.Errorf("trail %s: %w", t.Name, err)
	}
	if changed {
		flag, doc := awscli.PutEventSelectorsOf(t.ARN, sel).Arg()
		beforeFlag, before := awscli.PutEventSelectorsOf(t.ARN, *t.Selectors).Arg()
		undo := fmt.Sprintf("aws cloudtrail put-event-selectors --trail-name %s %s %s --region %s", sh(t.ARN), beforeFlag, sh(before), sh(home))
		if len(t.Selectors.Basic) == 0 && len(t.Selectors.Advanced) == 0 {
			undo = "" // no selectors were read to put back
		}
		steps = append(steps, Step{
			Action: "record-all-management-events", Region: home, Trail: t.ARN, Selectors: &sel,
			Why:  fmt.Sprintf("trail %s does not record all management events, read and write; every data-event selector is kept", t.Name),
			API:  "cloudtrail:PutEventSelectors",
			CLI:  fmt.Sprintf("aws cloudtrail put-event-selectors --trail-name %s %s %s --region %s", sh(t.ARN), flag, sh(doc), sh(home)),
			Undo: undo,
		})
	}
	if t.Status == nil || !t.Status.IsLogging {
		steps = append(steps, Step{
			Action: "start-logging", Region: home, Trail: t.ARN,
			Why: fmt.Sprintf("trail %s is not logging: nothing is recorded until it is started", t.Name),
			API: "cloudtrail:StartLogging", CLI: fmt.Sprintf("aws cloudtrail start-logging --name %s --region %s", sh(t.ARN), sh(home)),
			Undo: fmt.Sprintf("aws cloudtrail stop-logging --name %s --region %s", sh(t.ARN), sh(home)),
		})
	}
	return steps, nil
}

// Limits of PutEventSelectors (the CloudTrail API reference,
// InvalidEventSelectorsException): 1 to 5 basic selectors per trail, at
// most 250 data resources across them; advanced selectors at most 500
// values across all conditions of all selectors.
const (
	maxBasicSelectors = 5
	maxAdvancedValues = 500
)

// widen returns selectors that record all management events, read and
// write, changing as little as it can and staying within the limits AWS
// accepts:
//   - basic: a selector that records some management events and no data
//     events is set to All (and loses its exclusions under strict); else a
//     management selector is added while there is room for one (a data
//     selector that also asked for some management events leaves them to
//     it); with five selectors already, a ReadWriteType All selector gets
//     the management events (its data events stay as they are), else two
//     data selectors of the same ReadWriteType are merged into one to make
//     room;
//   - advanced: every data-event selector is kept; restricted management
//     selectors give way to one that records them all.
//
// It fails only when no change within the limits records everything.
func widen(s trailguard.EventSelectors, strict bool) (trailguard.EventSelectors, bool, error) {
	if s.RecordsAllManagementEvents(trailguard.Options{Strict: strict}) {
		return s, false, nil
	}
	if len(s.Advanced) > 0 {
		var out trailguard.EventSelectors
		for _, a := range s.Advanced {
			if !a.SelectsManagementEvents() {
				out.Advanced = append(out.Advanced, a)
			}
		}
		out.Advanced = append(out.Advanced, trailguard.AdvancedEventSelector{Name: "All management events",
			FieldSelectors: []trailguard.FieldSelector{{Field: "eventCategory", Equals: []string{"Management"}}}})
		if n := advancedValues(out); n > maxAdvancedValues {
			return s, false, fmt.Errorf("recording all management events needs %d advanced selector values, more than the %d AWS accepts", n, maxAdvancedValues)
		}
		return out, true, nil
	}
	out := trailguard.EventSelectors{Basic: copyBasic(s.Basic)}
	all := func(b *trailguard.EventSelector) {
		b.ReadWriteType, b.IncludeManagementEvents = "All", true
		if strict {
			b.ExcludeManagementEventSources = nil
		}
	}
	for i := range out.Basic {
		if b := &out.Basic[i]; b.IncludeManagementEvents && len(b.DataResources) == 0 {
			all(b)
			return out, true, nil
		}
	}
	if len(out.Basic) >= maxBasicSelectors {
		for i := range out.Basic {
			if b := &out.Basic[i]; b.ReadWriteType == "All" {
				all(b)
				return out, true, nil
			}
		}
		merged, ok := mergeSameType(out.Basic)
		if !ok {
			return s, false, fmt.Errorf("the trail has %d basic event selectors, the most AWS accepts, and none can record all management events", len(out.Basic))
		}
		out.Basic = merged
	}
	// A data selector that also asked for some management events now
	// leaves them to the new selector.
	for i := range out.Basic {
		if out.Basic[i].IncludeManagementEvents && len(out.Basic[i].DataResources) > 0 {
			out.Basic[i].IncludeManagementEvents = false
			out.Basic[i].ExcludeManagementEventSources = nil
		}
	}
	out.Basic = append(out.Basic, trailguard.EventSelector{ReadWriteType: "All", IncludeManagementEvents: true})
	return out, true, nil
}

func copyBasic(in []trailguard.EventSelector) []trailguard.EventSelector {
	out := make([]trailguard.EventSelector, len(in))
	for i, b := range in {
		b.ExcludeManagementEventSources = append([]string(nil), b.ExcludeManagementEventSources...)
		b.DataResources = append([]trailguard.DataResource(nil), b.DataResources...)
		out[i] = b
	}
	return out
}

// mergeSameType joins the data resources of the first two basic selectors
// with the same ReadWriteType into one, which records exactly the same
// data events. Values of one resource type are joined in one data
// resource, keeping their order and dropping repeats.
func mergeSameType(in []trailguard.EventSelector) ([]trailguard.EventSelector, bool) {
	for i := range in {
		for j := i + 1; j < len(in); j++ {
			if in[i].ReadWriteType != in[j].ReadWriteType {
				continue
			}
			m := in[i]
			m.IncludeManagementEvents, m.ExcludeManagementEventSources = false, nil
			m.DataResources = nil
			index := map[string]int{}
			for _, d := range append(append([]trailguard.DataResource(nil), in[i].DataResources...), in[j].DataResources...) {
				k, ok := index[d.Type]
				if !ok {
					index[d.Type] = len(m.DataResources)
					m.DataResources = append(m.DataResources, trailguard.DataResource{Type: d.Type})
					k = len(m.DataResources) - 1
				}
				for _, v := range d.Values {
					if !slices.Contains(m.DataResources[k].Values, v) {
						m.DataResources[k].Values = append(m.DataResources[k].Values, v)
					}
				}
			}
			out := append([]trailguard.EventSelector(nil), in[:j]...)
			out[i] = m
			return append(out, in[j+1:]...), true
		}
	}
	return nil, false
}

func advancedValues(s trailguard.EventSelectors) int {
	n := 0
	for _, a := range s.Advanced {
		for _, f := range a.FieldSelectors {
			n += len(f.Equals) + len(f.NotEquals) + len(f.StartsWith) + len(f.NotStartsWith) + len(f.EndsWith) + len(f.NotEndsWith)
		}
	}
	return n
}

// create plans a new multi-region trail and its bucket. The bucket (and
// key) must have been read in this run: a bucket that does not exist is
// created with public access blocked, encryption and the lifecycle rule
// asked for; an existing one keeps what it has, and only what it lacks is
// added (a partial public access block is completed, encryption set only
// where none is, a lifecycle rule only where there is no configuration),
// each undo putting back what was read.
func create(account string, facts BucketFacts, key KeyFacts, o Options) ([]Step, []string, error) {
	bucket := o.Bucket
	if bucket == "" {
		bucket = BucketName(account)
	}
	if !facts.Read {
		return nil, nil, fmt.Errorf("bucket %s was not read in this run, so nothing may be written to it", bucket)
	}
	if (o.KMSKey != "" || o.CreateKMSKey) && !key.Read {
		return nil, nil, fmt.Errorf("the KMS key was not read in this run, so nothing may be written to it")
	}
	region := o.Region
	trailARN := fmt.Sprintf("arn:aws:cloudtrail:%s:%s:trail/%s", region, account, o.TrailName)
	b, r := sh(bucket), sh(region)
	var steps []Step
	var notes []string
	pabCLI := fmt.Sprintf("aws s3api put-public-access-block --bucket %s --public-access-block-configuration 'BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true' --region %s", b, r)
	encCLI := fmt.Sprintf(`aws s3api put-bucket-encryption --bucket %s --server-side-encryption-configuration '{"Rules":[{"ApplyServerSideEncryptionByDefault":{"SSEAlgorithm":"AES256"}}]}' --region %s`, b, r)
	lifeCLI := fmt.Sprintf("aws s3api put-bucket-lifecycle-configuration --bucket %s --lifecycle-configuration %s --region %s", b, sh(lifecycleJSON(o.TransitionDays, o.ExpireDays)), r)
	lifecycle := o.TransitionDays > 0 || o.ExpireDays > 0
	if !facts.Exists {
		loc := ""
		if region != "us-east-1" {
			loc = " --create-bucket-configuration " + sh("LocationConstraint="+region)
		}
		steps = append(steps, Step{
			Action: "create-bucket", Region: region, Bucket: bucket,
			Why: "the new trail needs an S3 bucket for its log files",
			API: "s3:CreateBucket", CLI: fmt.Sprintf("aws s3api create-bucket --bucket %s --region %s%s", b, r, loc),
			Undo: fmt.Sprintf("aws s3 rb %s --region %s  # the bucket did not exist before; only once nothing in it is needed", sh("s3://"+bucket), r),
		})
		steps = append(steps,
			Step{Action: "block-public-access", Region: region, Bucket: bucket,
				Why: "audit logs must never be public: all four public access block settings on",
				API: "s3:PutPublicAccessBlock", CLI: pabCLI},
			Step{Action: "encrypt-bucket", Region: region, Bucket: bucket,
				Why: "log files are encrypted at rest by default",
				API: "s3:PutBucketEncryption", CLI: encCLI},
		)
		if lifecycle {
			steps = append(steps, Step{Action: "set-lifecycle", Region: region, Bucket: bucket,
				TransitionDays: o.TransitionDays, ExpireDays: o.ExpireDays,
				Why: "log files are kept as the owner chose: " + lifecycleWords(o.TransitionDays, o.ExpireDays),
				API: "s3:PutBucketLifecycleConfiguration", CLI: lifeCLI})
		}
	} else {
		if !facts.PublicAccessBlock.all() {
			undo := fmt.Sprintf("aws s3api delete-public-access-block --bucket %s --region %s  # the bucket had no public access block", b, r)
			if p := facts.PublicAccessBlock; p != nil {
				undo = fmt.Sprintf("aws s3api put-public-access-block --bucket %s --public-access-block-configuration 'BlockPublicAcls=%t,IgnorePublicAcls=%t,BlockPublicPolicy=%t,RestrictPublicBuckets=%t' --region %s",
					b, p.BlockPublicAcls, p.IgnorePublicAcls, p.BlockPublicPolicy, p.RestrictPublicBuckets, r)
			}
			steps = append(steps, Step{Action: "block-public-access", Region: region, Bucket: bucket,
				Why: "audit logs must never be public: the settings the bucket has are kept and the missing ones turned on",
				API: "s3:PutPublicAccessBlock", CLI: pabCLI, Undo: undo})
		}
		if facts.Encryption == "" {
			steps = append(steps, Step{Action: "encrypt-bucket", Region: region, Bucket: bucket,
				Why: "the bucket has no default encryption: log files are encrypted at rest by default",
				API: "s3:PutBucketEncryption", CLI: encCLI,
				Undo: fmt.Sprintf("aws s3api delete-bucket-encryption --bucket %s --region %s  # the bucket had no default encryption", b, r)})
		}
		if lifecycle && facts.Lifecycle {
			notes = append(notes, fmt.Sprintf("bucket %s already has a lifecycle configuration; it is kept as it is, without the rule asked for", bucket))
		} else if lifecycle {
			steps = append(steps, Step{Action: "set-lifecycle", Region: region, Bucket: bucket,
				TransitionDays: o.TransitionDays, ExpireDays: o.ExpireDays,
				Why: "log files are kept as the owner chose: " + lifecycleWords(o.TransitionDays, o.ExpireDays),
				API: "s3:PutBucketLifecycleConfiguration", CLI: lifeCLI,
				Undo: fmt.Sprintf("aws s3api delete-bucket-lifecycle --bucket %s --region %s  # the bucket had no lifecycle configuration", b, r)})
		}
	}
	orgID := ""
	if o.OrganizationTrail {
		orgID = o.OrgID
	}
	policy, changed, err := mergePolicy(facts.Policy, bucket, account, trailARN, orgID)
	if err != nil {
		return nil, nil, err
	}
	if changed {
		steps = append(steps, Step{
			Action: "allow-cloudtrail-delivery", Region: region, Bucket: bucket, Document: policy,
			Why:  "CloudTrail may write only where the bucket policy lets it (the ACL check and the write, limited to this trail by aws:SourceArn); existing statements are kept",
			API:  "s3:PutBucketPolicy",
			CLI:  fmt.Sprintf("aws s3api put-bucket-policy --bucket %s --policy %s --region %s", b, sh(policy), r),
			Undo: undoPolicy(facts.Policy, bucket, region),
		})
	}
	keyID, keySteps, err := keyPlan(account, region, trailARN, key, o)
	if err != nil {
		return nil, nil, err
	}
	steps = append(steps, keySteps...)
	kmsFlag := ""
	if keyID != "" {
		kmsFlag = " --kms-key-id " + sh(keyID)
	}
	why := "no trail of the account can be made to record every region: a multi-region trail with log file validation and global service events"
	if o.OrganizationTrail {
		kmsFlag += " --is-organization-trail"
		why = "one organization trail records every region of every account of the organization, members included"
	}
	steps = append(steps,
		Step{Action: "create-trail", Region: region, Bucket: bucket, Trail: o.TrailName, Key: keyID, Org: o.OrganizationTrail,
			Why: why,
			API: "cloudtrail:CreateTrail", CLI: fmt.Sprintf("aws cloudtrail create-trail --name %s --s3-bucket-name %s --is-multi-region-trail --include-global-service-events --enable-log-file-validation%s --region %s", sh(o.TrailName), b, kmsFlag, r),
			Undo: fmt.Sprintf("aws cloudtrail delete-trail --name %s --region %s  # the trail did not exist before; this tool never deletes", sh(trailARN), r)},
		Step{Action: "start-logging", Region: region, Trail: trailARN,
			Why: "a new trail records nothing until it is started",
			API: "cloudtrail:StartLogging", CLI: fmt.Sprintf("aws cloudtrail start-logging --name %s --region %s", sh(trailARN), r),
			Undo: fmt.Sprintf("aws cloudtrail stop-logging --name %s --region %s", sh(trailARN), r)},
	)
	return steps, notes, nil
}

// undoPolicy puts back the policy that was read; only a policy that did
// not exist before (NoSuchBucketPolicy, read in this run) is undone by
// deleting the one the fix wrote.
func undoPolicy(before, bucket, region string) string {
	if before == "" {
		return fmt.Sprintf("aws s3api delete-bucket-policy --bucket %s --region %s  # the bucket had no policy", sh(bucket), sh(region))
	}
	return fmt.Sprintf("aws s3api put-bucket-policy --bucket %s --policy %s --region %s", sh(bucket), sh(before), sh(region))
}

// Statement ids of the statements the fix adds to a bucket policy; each
// gets a suffix derived from the trail's ARN (statementID).
const (
	sidACL   = "TrailguardCloudTrailAclCheck"
	sidWrite = "TrailguardCloudTrailWrite"
)

// mergePolicy adds CloudTrail's two statements for this trail to a bucket
// policy, keeping every existing statement. Statements are matched by
// what they grant (principal, action, resource, conditions), never by
// Sid: a statement with the fix's Sid that serves another trail does not
// serve this one. It reports whether anything changed; a second run finds
// the statements and changes nothing.
func mergePolicy(existing, bucket, account, trailARN, orgID string) (string, bool, error) {
	cond := map[string]any{"StringEquals": map[string]any{"aws:SourceArn": trailARN}}
	var resource any = "arn:aws:s3:::" + bucket + "/AWSLogs/" + account + "/*"
	if orgID != "" {
		// An organization trail writes the members' logs under the
		// organization's id.
		resource = []any{resource, "arn:aws:s3:::" + bucket + "/AWSLogs/" + orgID + "/*"}
	}
	want := []map[string]any{
		{"Sid": sidACL, "Effect": "Allow", "Principal": map[string]any{"Service": "cloudtrail.amazonaws.com"},
			"Action": "s3:GetBucketAcl", "Resource": "arn:aws:s3:::" + bucket, "Condition": cond},
		{"Sid": sidWrite, "Effect": "Allow", "Principal": map[string]any{"Service": "cloudtrail.amazonaws.com"},
			"Action": "s3:PutObject", "Resource": resource,
			"Condition": map[string]any{"StringEquals": map[string]any{"s3:x-amz-acl": "bucket-owner-full-control", "aws:SourceArn": trailARN}}},
	}
	merged, changed, err := mergeStatements(existing, want, trailARN)
	if err != nil {
		return existing, false, fmt.Errorf("the bucket policy of %s %w", bucket, err)
	}
	if changed && len(merged) > maxBucketPolicy {
		return existing, false, fmt.Errorf("the bucket policy of %s would grow to %d bytes with CloudTrail's statements, more than the %d S3 accepts", bucket, len(merged), maxBucketPolicy)
	}
	return merged, changed, nil
}

// maxBucketPolicy is the largest bucket policy S3 accepts (20 KB).
const maxBucketPolicy = 20 << 10

// mergeStatements adds the wanted statements that the policy does not
// already hold (by content) to it, each under a Sid no other statement
// uses. A policy that is not a JSON object with a Statement this code
// understands is never replaced.
func mergeStatements(existing string, want []map[string]any, trailARN string) (string, bool, error) {
	doc := map[string]any{"Version": "2012-10-17", "Statement": []any{}}
	if existing != "" {
		if err := json.Unmarshal([]byte(existing), &doc); err != nil || doc == nil {
			return existing, false, fmt.Errorf("is not a JSON object this tool can merge into: %v", err)
		}
	}
	var stmts []any
	switch s := doc["Statement"].(type) {
	case []any:
		stmts = s
	case map[string]any:
		stmts = []any{s}
	case nil:
	default:
		return existing, false, errors.New("has a Statement this tool cannot merge into")
	}
	have, sids := map[string]bool{}, map[string]bool{}
	for _, s := range stmts {
		m, ok := s.(map[string]any)
		if !ok {
			return existing, false, errors.New("has a statement that is not a JSON object")
		}
		have[statementKey(m)] = true
		if sid, ok := m["Sid"].(string); ok {
			sids[sid] = true
		}
	}
	added := false
	for _, w := range want {
		if have[statementKey(w)] {
			continue
		}
		w["Sid"] = statementID(w["Sid"].(string), trailARN, sids)
		sids[w["Sid"].(string)] = true
		stmts = append(stmts, w)
		added = true
	}
	if !added {
		return existing, false, nil
	}
	doc["Statement"] = stmts
	if doc["Version"] == nil {
		doc["Version"] = "2012-10-17"
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return existing, false, fmt.Errorf("could not be written back: %w", err)
	}
	return string(b), true, nil
}

// statementID is, for the fix's per-trail statements, base followed by
// eight hex digits of the trail ARN, so that the statements of two trails
// in one policy never share a Sid; a Sid already taken gets a counter.
func statementID(base, trailARN string, taken map[string]bool) string {
	if strings.HasPrefix(base, "TrailguardCloudTrail") {
		sum := sha256.Sum256([]byte(trailARN))
		base += hex.EncodeToString(sum[:4])
	}
	id := base
	for n := 2; taken[id]; n++ {
		id = fmt.Sprintf("%s%d", base, n)
	}
	return id
}

// statementKey is what a statement grants, in a canonical form: Effect,
// Principal, (Not)Action, (Not)Resource and Condition, with single values
// and lists alike as sorted lists, action names and condition keys in
// lower case (IAM compares them case-insensitively). The Sid is left out.
func statementKey(m map[string]any) string {
	norm := map[string]any{}
	for k, v := range m {
		switch k {
		case "Sid":
		case "Action", "NotAction":
			norm[k] = set(v, strings.ToLower)
		case "Resource", "NotResource":
			norm[k] = set(v, nil)
		case "Principal", "NotPrincipal":
			if p, ok := v.(map[string]any); ok {
				q := map[string]any{}
				for pk, pv := range p {
					q[pk] = set(pv, nil)
				}
				norm[k] = q
			} else {
				norm[k] = v
			}
		case "Condition":
			c, ok := v.(map[string]any)
			if !ok {
				norm[k] = v
				break
			}
			q := map[string]any{}
			for op, body := range c {
				b, ok := body.(map[string]any)
				if !ok {
					q[op] = body
					continue
				}
				kv := map[string]any{}
				for ck, cv := range b {
					kv[strings.ToLower(ck)] = set(cv, nil)
				}
				q[op] = kv
			}
			norm[k] = q
		default:
			norm[k] = v
		}
	}
	b, _ := json.Marshal(norm)
	return string(b)
}

// set turns a policy value (a string or a list of them) into a sorted
// list; other values are kept as they are.
func set(v any, f func(string) string) any {
	var out []string
	switch x := v.(type) {
	case string:
		out = []string{x}
	case []any:
		for _, e := range x {
			s, ok := e.(string)
			if !ok {
				return v
			}
			out = append(out, s)
		}
	default:
		return v
	}
	if f != nil {
		for i := range out {
			out[i] = f(out[i])
		}
	}
	sort.Strings(out)
	return slices.Compact(out)
}

func lifecycleWords(transition, expire int) string {
	var parts []string
	if transition > 0 {
		parts = append(parts, fmt.Sprintf("to S3 Glacier after %d days", transition))
	}
	if expire > 0 {
		parts = append(parts, fmt.Sprintf("deleted after %d days", expire))
	}
	return strings.Join(parts, ", ")
}

// lifecycleJSON is the rule in the AWS CLI's shape.
func lifecycleJSON(transition, expire int) string {
	rule := map[string]any{"ID": "trailguard-log-retention", "Status": "Enabled", "Filter": map[string]any{"Prefix": "AWSLogs/"}}
	if transition > 0 {
		rule["Transitions"] = []any{map[string]any{"Days": transition, "StorageClass": "GLACIER"}}
	}
	if expire > 0 {
		rule["Expiration"] = map[string]any{"Days": expire}
	}
	b, _ := json.Marshal(map[string]any{"Rules": []any{rule}})
	return string(b)
}

// keyPlan returns the key a new trail encrypts with ("" for none) and the
// steps that make it usable by CloudTrail. The key was read in this run:
// its policy is merged into, and the undo puts back the policy read.
func keyPlan(account, region, trailARN string, key KeyFacts, o Options) (string, []Step, error) {
	r := sh(region)
	switch {
	case o.KMSKey != "" && !key.Exists:
		return "", nil, fmt.Errorf("KMS key %s was not found in %s", o.KMSKey, region)
	case o.KMSKey != "" || (o.CreateKMSKey && key.Exists):
		id := o.KMSKey
		if id == "" {
			id = KMSAlias
		}
		policy, changed, err := mergeKeyPolicy(key.Policy, account, trailARN)
		if err != nil {
			return "", nil, fmt.Errorf("KMS key %s: %w", id, err)
		}
		if !changed {
			return id, nil, nil
		}
		undo := ""
		if key.Policy != "" {
			undo = fmt.Sprintf("aws kms put-key-policy --key-id %s --policy-name 'default' --policy %s --region %s", sh(id), sh(key.Policy), r)
		}
		return id, []Step{{Action: "allow-cloudtrail-encryption", Region: region, Key: id, Document: policy,
			Why: fmt.Sprintf("CloudTrail may encrypt log files with KMS key %s only when its key policy lets it; existing statements are kept", id),
			API: "kms:PutKeyPolicy", CLI: fmt.Sprintf("aws kms put-key-policy --key-id %s --policy-name 'default' --policy %s --region %s", sh(id), sh(policy), r),
			Undo: undo}}, nil
	case o.CreateKMSKey:
		policy, _, _ := mergeKeyPolicy("", account, trailARN)
		return KMSAlias, []Step{
			{Action: "create-kms-key", Region: region, Document: policy,
				Why: "log files are encrypted with a customer managed key whose policy lets only this account administer it and CloudTrail use it; its id is kept in KEY_ID for the next step",
				API: "kms:CreateKey", CLI: fmt.Sprintf("KEY_ID=$(aws kms create-key --description 'trailguard: CloudTrail log files' --policy %s --region %s --query 'KeyMetadata.KeyId' --output 'text')", sh(policy), r),
				Undo: fmt.Sprintf(`aws kms schedule-key-deletion --key-id "$KEY_ID" --region %s  # the key did not exist before; only once no log file needs it`, r)},
			{Action: "alias-kms-key", Region: region, Key: KMSAlias,
				Why: "the alias names the new key for the trail and for people",
				API: "kms:CreateAlias", CLI: fmt.Sprintf(`aws kms create-alias --alias-name %s --target-key-id "$KEY_ID" --region %s`, sh(KMSAlias), r)},
			{Action: "enable-key-rotation", Region: region, Key: KMSAlias,
				Why: "the key's material is rotated every year",
				API: "kms:EnableKeyRotation", CLI: fmt.Sprintf(`aws kms enable-key-rotation --key-id "$KEY_ID" --region %s`, r)},
		}, nil
	}
	return "", nil, nil
}

const sidKMS = "TrailguardCloudTrailEncrypt"

// mergeKeyPolicy adds CloudTrail's statement for this trail to a key
// policy (and, for a new key, the account's administration of it),
// keeping every existing statement; statements are matched by content,
// as in mergePolicy.
func mergeKeyPolicy(existing, account, trailARN string) (string, bool, error) {
	var want []map[string]any
	if existing == "" {
		want = append(want, map[string]any{"Sid": "AccountAdministers", "Effect": "Allow", "Principal": map[string]any{"AWS": "arn:aws:iam::" + account + ":root"},
			"Action": "kms:*", "Resource": "*"})
	}
	want = append(want, map[string]any{"Sid": sidKMS, "Effect": "Allow", "Principal": map[string]any{"Service": "cloudtrail.amazonaws.com"},
		"Action": []any{"kms:GenerateDataKey*", "kms:DescribeKey"}, "Resource": "*",
		"Condition": map[string]any{
			"StringEquals": map[string]any{"aws:SourceArn": trailARN},
			"StringLike":   map[string]any{"kms:EncryptionContext:aws:cloudtrail:arn": "arn:aws:cloudtrail:*:" + account + ":trail/*"},
		}})
	merged, changed, err := mergeStatements(existing, want, trailARN)
	if err != nil {
		return existing, false, fmt.Errorf("the key policy %w", err)
	}
	if changed && len(merged) > maxKeyPolicy {
		return existing, false, fmt.Errorf("the key policy would grow to %d bytes with CloudTrail's statement, more than the %d KMS accepts", len(merged), maxKeyPolicy)
	}
	return merged, changed, nil
}

// maxKeyPolicy is the largest key policy KMS accepts (32 KB).
const maxKeyPolicy = 32 << 10
