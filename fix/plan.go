// Package fix plans and applies the smallest change that makes an account
// pass CIS 3.1. The planner is pure: from the scanned account, its verdict
// and a few facts about the destination bucket, it returns ordered steps,
// each with why, the API call and the equivalent AWS CLI command. It
// prefers fixing the trail that exists (start it, widen its selectors,
// make it multi-region) over creating one, keeps every data-event selector,
// merges into a bucket policy instead of replacing it, and never deletes.
package fix

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
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
}

// KMSAlias is the alias of a key the fix creates.
const KMSAlias = "alias/trailguard-cloudtrail"

// KeyFacts is what the applier learned about the KMS key a new trail
// would use.
type KeyFacts struct {
	Exists bool
	ARN    string
	Policy string
}

// DefaultTrailName is the name of a trail the fix creates.
const DefaultTrailName = "trailguard-management-events"

// BucketFacts is what the applier learned about the bucket a new trail
// would use, before planning.
type BucketFacts struct {
	Exists bool
	// Policy is the bucket's current policy document, "" if none.
	Policy string
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
// use (--kms-key, or the alias --create-kms-key would create).
func MakeWithKey(acct trailguard.Account, res trailguard.Result, bucket BucketFacts, key KeyFacts, o Options) Plan {
	p := Plan{Account: acct.ID, Steps: []Step{}}
	if o.Region == "" {
		o.Region = "us-east-1"
	}
	if o.TrailName == "" {
		o.TrailName = DefaultTrailName
	}
	if o.OrganizationTrail {
		return makeOrg(acct, res, bucket, key, o)
	}
	if res.Status == trailguard.StatusPass {
		return p
	}
	if res.Status == trailguard.StatusError {
		p.Notes = append(p.Notes, "the account could not be read; nothing is planned: "+strings.Join(res.Reasons, "; "))
		return p
	}
	// A trail whose facts could not be read is not changed blind.
	for _, v := range res.Trails {
		if v.Candidate && !v.Readable && v.OwnerAccount() == acct.ID {
			p.Notes = append(p.Notes, fmt.Sprintf("trail %s could not be read in full; nothing is planned until it can be", v.ARN))
			return p
		}
	}
	if t := best(acct.ID, res.Trails, true); t != nil && !o.NewTrail {
		p.Steps = append(p.Steps, repair(*t, o)...)
		p.Target = existingTarget(*t, o)
		return p
	}
	if t := best(acct.ID, res.Trails, false); t != nil && !o.NewTrail {
		home := t.HomeRegion
		p.Steps = append(p.Steps, Step{
			Action: "make-multi-region", Region: home, Trail: t.ARN,
			Why: fmt.Sprintf("trail %s records only %s; made multi-region it records every region, with its bucket and settings kept", t.Name, home),
			API: "cloudtrail:UpdateTrail", CLI: fmt.Sprintf("aws cloudtrail update-trail --name %s --is-multi-region-trail --include-global-service-events --region %s", t.ARN, home),
			Undo: fmt.Sprintf("aws cloudtrail update-trail --name %s --no-is-multi-region-trail --region %s", t.ARN, home),
		})
		multi := *t
		// The update turns on global service events too: AWS rejects a
		// multi-region trail without them.
		multi.IsMultiRegion, multi.IncludeGlobalServiceEvents = true, true
		p.Steps = append(p.Steps, repair(multi, o)...)
		p.Target = existingTarget(multi, o)
		return p
	}
	if res.Status == trailguard.StatusFail && memberOfOrgTrailOnly(acct.ID, res.Trails) {
		p.Notes = append(p.Notes, "the only multi-region trail is the organization's: fix it in the management account ('trailguard fix' there)")
	}
	steps, err := create(acct.ID, bucket, key, o)
	if err != nil {
		p.Notes = append(p.Notes, err.Error()+"; nothing is planned")
		return p
	}
	p.Steps = append(p.Steps, steps...)
	p.Target = &Target{Name: o.TrailName, ARN: fmt.Sprintf("arn:aws:cloudtrail:%s:%s:trail/%s", o.Region, acct.ID, o.TrailName), Region: o.Region,
		Selectors: *trailguard.DefaultSelectors(), NewBucket: !bucket.Exists, TransitionDays: o.TransitionDays, ExpireDays: o.ExpireDays}
	for _, st := range p.Steps {
		switch st.Action {
		case "create-kms-key":
			p.Target.NewKey, p.Target.KeyPolicy = true, st.Document
		case "create-trail":
			p.Target.Bucket, p.Target.KMSKey = st.Bucket, st.Key
		case "allow-cloudtrail-delivery":
			p.Target.BucketPolicy = st.Document
		}
	}
	if p.Target.BucketPolicy == "" {
		p.Target.BucketPolicy = bucket.Policy
	}
	return p
}

// makeOrg plans an organization trail in the management account: none
// when one already satisfies 3.1, the repair of one that does not, else a
// new one.
func makeOrg(acct trailguard.Account, res trailguard.Result, bucket BucketFacts, key KeyFacts, o Options) Plan {
	p := Plan{Account: acct.ID, Steps: []Step{}}
	if res.Status == trailguard.StatusError {
		p.Notes = append(p.Notes, "the management account could not be read; nothing is planned: "+strings.Join(res.Reasons, "; "))
		return p
	}
	var own []trailguard.TrailVerdict
	for _, v := range res.Trails {
		if v.IsOrganizationTrail && v.OwnerAccount() == acct.ID {
			if v.Satisfies {
				return p
			}
			own = append(own, v)
		}
	}
	if t := best(acct.ID, own, true); t != nil {
		p.Steps = append(p.Steps, repair(*t, o)...)
		p.Target = existingTarget(*t, o)
		return p
	}
	steps, err := create(acct.ID, bucket, key, o)
	if err != nil {
		p.Notes = append(p.Notes, err.Error()+"; nothing is planned")
		return p
	}
	p.Steps = steps
	p.Target = &Target{Name: o.TrailName, ARN: fmt.Sprintf("arn:aws:cloudtrail:%s:%s:trail/%s", o.Region, acct.ID, o.TrailName), Region: o.Region,
		Selectors: *trailguard.DefaultSelectors(), NewBucket: !bucket.Exists}
	for _, st := range steps {
		if st.Action == "create-trail" {
			p.Target.Bucket = st.Bucket
		}
	}
	return p
}

func existingTarget(t trailguard.Trail, o Options) *Target {
	sel, _ := widen(*t.Selectors, o.Strict)
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
// events, then by ARN.
func best(account string, vs []trailguard.TrailVerdict, multi bool) *trailguard.Trail {
	var cands []trailguard.TrailVerdict
	for _, v := range vs {
		if v.IsMultiRegion == multi && v.OwnerAccount() == account && v.Status != nil && v.Selectors != nil {
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
func repair(t trailguard.Trail, o Options) []Step {
	var steps []Step
	home := t.HomeRegion
	if sel, changed := widen(*t.Selectors, o.Strict); changed {
		doc := selectorsJSON(sel)
		flag := "--event-selectors"
		if len(sel.Advanced) > 0 {
			flag = "--advanced-event-selectors"
		}
		before := selectorsJSON(*t.Selectors)
		steps = append(steps, Step{
			Action: "record-all-management-events", Region: home, Trail: t.ARN, Selectors: &sel,
			Why: fmt.Sprintf("trail %s does not record all management events, read and write; every data-event selector is kept", t.Name),
			API: "cloudtrail:PutEventSelectors", CLI: fmt.Sprintf("aws cloudtrail put-event-selectors --trail-name %s %s '%s' --region %s", t.ARN, flag, doc, home),
			Undo: fmt.Sprintf("aws cloudtrail put-event-selectors --trail-name %s %s '%s' --region %s", t.ARN, flag, before, home),
		})
	}
	if t.Status == nil || !t.Status.IsLogging {
		steps = append(steps, Step{
			Action: "start-logging", Region: home, Trail: t.ARN,
			Why: fmt.Sprintf("trail %s is not logging: nothing is recorded until it is started", t.Name),
			API: "cloudtrail:StartLogging", CLI: fmt.Sprintf("aws cloudtrail start-logging --name %s --region %s", t.ARN, home),
			Undo: fmt.Sprintf("aws cloudtrail stop-logging --name %s --region %s", t.ARN, home),
		})
	}
	return steps
}

// widen returns selectors that record all management events, read and
// write, changing as little as it can: a basic selector that records some
// management events and no data events is set to All (and loses its
// exclusions under strict); one that also holds data resources keeps them
// and a separate management selector is added. Advanced selectors keep
// every data-event selector; restricted management selectors give way to
// one that records them all.
func widen(s trailguard.EventSelectors, strict bool) (trailguard.EventSelectors, bool) {
	if records(s, strict) {
		return s, false
	}
	if len(s.Advanced) > 0 {
		var out trailguard.EventSelectors
		for _, a := range s.Advanced {
			if !isManagement(a) {
				out.Advanced = append(out.Advanced, a)
			}
		}
		out.Advanced = append(out.Advanced, trailguard.AdvancedEventSelector{Name: "All management events",
			FieldSelectors: []trailguard.FieldSelector{{Field: "eventCategory", Equals: []string{"Management"}}}})
		return out, true
	}
	var out trailguard.EventSelectors
	fixed := false
	for _, b := range s.Basic {
		b.ExcludeManagementEventSources = append([]string(nil), b.ExcludeManagementEventSources...)
		if b.IncludeManagementEvents && !fixed && len(b.DataResources) == 0 {
			b.ReadWriteType = "All"
			if strict {
				b.ExcludeManagementEventSources = nil
			}
			fixed = true
		}
		out.Basic = append(out.Basic, b)
	}
	if !fixed {
		out.Basic = append(out.Basic, trailguard.EventSelector{ReadWriteType: "All", IncludeManagementEvents: true})
		// A data selector that also asked for some management events now
		// leaves them to the new selector.
		for i := range out.Basic[:len(out.Basic)-1] {
			if out.Basic[i].IncludeManagementEvents && len(out.Basic[i].DataResources) > 0 {
				out.Basic[i].IncludeManagementEvents = false
			}
		}
	}
	return out, true
}

func isManagement(a trailguard.AdvancedEventSelector) bool {
	for _, f := range a.FieldSelectors {
		if f.Field == "eventCategory" {
			for _, v := range f.Equals {
				if v == "Management" {
					return true
				}
			}
		}
	}
	return false
}

// records says whether the selectors satisfy 3.1, asking the evaluator
// itself with a trail that only these selectors could fail.
func records(s trailguard.EventSelectors, strict bool) bool {
	t := trailguard.Trail{Name: "probe", ARN: "arn:aws:cloudtrail:us-east-1:000000000000:trail/probe", HomeRegion: "us-east-1", IsMultiRegion: true,
		IncludeGlobalServiceEvents: true, // AWS rejects a multi-region trail without them
		Status:                     &trailguard.TrailStatus{IsLogging: true}, Selectors: &s}
	return trailguard.Evaluate(trailguard.Account{ID: "000000000000", Trails: []trailguard.Trail{t}, Regions: []trailguard.Region{}}, trailguard.Options{Strict: strict}).Status == trailguard.StatusPass
}

// create plans a new multi-region trail and its bucket.
func create(account string, facts BucketFacts, key KeyFacts, o Options) ([]Step, error) {
	bucket := o.Bucket
	if bucket == "" {
		bucket = BucketName(account)
	}
	region := o.Region
	trailARN := fmt.Sprintf("arn:aws:cloudtrail:%s:%s:trail/%s", region, account, o.TrailName)
	var steps []Step
	if !facts.Exists {
		loc := ""
		if region != "us-east-1" {
			loc = " --create-bucket-configuration LocationConstraint=" + region
		}
		steps = append(steps, Step{
			Action: "create-bucket", Region: region, Bucket: bucket,
			Why: "the new trail needs an S3 bucket for its log files",
			API: "s3:CreateBucket", CLI: fmt.Sprintf("aws s3api create-bucket --bucket %s --region %s%s", bucket, region, loc),
			Undo: fmt.Sprintf("aws s3 rb s3://%s (only once nothing in it is needed)", bucket),
		})
		steps = append(steps,
			Step{Action: "block-public-access", Region: region, Bucket: bucket,
				Why: "audit logs must never be public: all four public access block settings on",
				API: "s3:PutPublicAccessBlock", CLI: fmt.Sprintf("aws s3api put-public-access-block --bucket %s --public-access-block-configuration BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true --region %s", bucket, region)},
			Step{Action: "encrypt-bucket", Region: region, Bucket: bucket,
				Why: "log files are encrypted at rest by default",
				API: "s3:PutBucketEncryption", CLI: fmt.Sprintf(`aws s3api put-bucket-encryption --bucket %s --server-side-encryption-configuration '{"Rules":[{"ApplyServerSideEncryptionByDefault":{"SSEAlgorithm":"AES256"}}]}' --region %s`, bucket, region)},
		)
	}
	if !facts.Exists && (o.TransitionDays > 0 || o.ExpireDays > 0) {
		steps = append(steps, Step{Action: "set-lifecycle", Region: region, Bucket: bucket,
			TransitionDays: o.TransitionDays, ExpireDays: o.ExpireDays,
			Why: "log files are kept as the owner chose: " + lifecycleWords(o.TransitionDays, o.ExpireDays),
			API: "s3:PutBucketLifecycleConfiguration", CLI: fmt.Sprintf("aws s3api put-bucket-lifecycle-configuration --bucket %s --lifecycle-configuration '%s' --region %s", bucket, lifecycleJSON(o.TransitionDays, o.ExpireDays), region)})
	}
	orgID := ""
	if o.OrganizationTrail {
		orgID = o.OrgID
	}
	policy, changed, err := mergePolicy(facts.Policy, bucket, account, trailARN, orgID)
	if err != nil {
		return nil, err
	}
	if changed {
		steps = append(steps, Step{
			Action: "allow-cloudtrail-delivery", Region: region, Bucket: bucket, Document: policy,
			Why: "CloudTrail may write only where the bucket policy lets it (the ACL check and the write, limited to this trail by aws:SourceArn); existing statements are kept",
			API: "s3:PutBucketPolicy", CLI: fmt.Sprintf("aws s3api put-bucket-policy --bucket %s --policy '%s' --region %s", bucket, policy, region),
			Undo: undoPolicy(facts.Policy, bucket, region),
		})
	}
	keyID, keySteps, err := keyPlan(account, region, trailARN, key, o)
	if err != nil {
		return nil, err
	}
	steps = append(steps, keySteps...)
	kmsFlag := ""
	if keyID != "" {
		kmsFlag = " --kms-key-id " + keyID
	}
	why := "no trail of the account can be made to record every region: a multi-region trail with log file validation and global service events"
	if o.OrganizationTrail {
		kmsFlag += " --is-organization-trail"
		why = "one organization trail records every region of every account of the organization, members included"
	}
	steps = append(steps,
		Step{Action: "create-trail", Region: region, Bucket: bucket, Trail: o.TrailName, Key: keyID, Org: o.OrganizationTrail,
			Why: why,
			API: "cloudtrail:CreateTrail", CLI: fmt.Sprintf("aws cloudtrail create-trail --name %s --s3-bucket-name %s --is-multi-region-trail --include-global-service-events --enable-log-file-validation%s --region %s", o.TrailName, bucket, kmsFlag, region),
			Undo: fmt.Sprintf("aws cloudtrail delete-trail --name %s --region %s (this tool never deletes)", trailARN, region)},
		Step{Action: "start-logging", Region: region, Trail: trailARN,
			Why: "a new trail records nothing until it is started",
			API: "cloudtrail:StartLogging", CLI: fmt.Sprintf("aws cloudtrail start-logging --name %s --region %s", trailARN, region),
			Undo: fmt.Sprintf("aws cloudtrail stop-logging --name %s --region %s", trailARN, region)},
	)
	return steps, nil
}

func undoPolicy(before, bucket, region string) string {
	if before == "" {
		return fmt.Sprintf("aws s3api delete-bucket-policy --bucket %s --region %s", bucket, region)
	}
	return fmt.Sprintf("aws s3api put-bucket-policy --bucket %s --policy '%s' --region %s", bucket, before, region)
}

// Statement ids of the statements the fix adds to a bucket policy.
const (
	sidACL   = "TrailguardCloudTrailAclCheck"
	sidWrite = "TrailguardCloudTrailWrite"
)

// mergePolicy adds CloudTrail's two statements to a bucket policy,
// keeping every existing statement. It reports whether anything changed
// (a second run finds them by Sid and changes nothing).
func mergePolicy(existing, bucket, account, trailARN, orgID string) (string, bool, error) {
	doc := map[string]any{"Version": "2012-10-17", "Statement": []any{}}
	if existing != "" {
		// A policy this code cannot read is never replaced.
		if err := json.Unmarshal([]byte(existing), &doc); err != nil || doc == nil {
			return existing, false, fmt.Errorf("the bucket policy of %s is not a JSON object this tool can merge into: %v", bucket, err)
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
		return existing, false, fmt.Errorf("the bucket policy of %s has a Statement this tool cannot merge into", bucket)
	}
	have := map[string]bool{}
	for _, s := range stmts {
		if m, ok := s.(map[string]any); ok {
			if sid, _ := m["Sid"].(string); sid != "" {
				have[sid] = true
			}
		}
	}
	cond := map[string]any{"StringEquals": map[string]any{"aws:SourceArn": trailARN}}
	added := false
	if !have[sidACL] {
		stmts = append(stmts, map[string]any{"Sid": sidACL, "Effect": "Allow", "Principal": map[string]any{"Service": "cloudtrail.amazonaws.com"},
			"Action": "s3:GetBucketAcl", "Resource": "arn:aws:s3:::" + bucket, "Condition": cond})
		added = true
	}
	if !have[sidWrite] {
		var resource any = "arn:aws:s3:::" + bucket + "/AWSLogs/" + account + "/*"
		if orgID != "" {
			// An organization trail writes the members' logs under the
			// organization's id.
			resource = []any{resource, "arn:aws:s3:::" + bucket + "/AWSLogs/" + orgID + "/*"}
		}
		stmts = append(stmts, map[string]any{"Sid": sidWrite, "Effect": "Allow", "Principal": map[string]any{"Service": "cloudtrail.amazonaws.com"},
			"Action": "s3:PutObject", "Resource": resource,
			"Condition": map[string]any{"StringEquals": map[string]any{"s3:x-amz-acl": "bucket-owner-full-control", "aws:SourceArn": trailARN}}})
		added = true
	}
	if !added {
		return existing, false, nil
	}
	doc["Statement"] = stmts
	if doc["Version"] == nil {
		doc["Version"] = "2012-10-17"
	}
	b, _ := json.Marshal(doc)
	return string(b), true, nil
}

// selectorsJSON writes selectors in the shape the AWS CLI takes.
func selectorsJSON(s trailguard.EventSelectors) string {
	if len(s.Advanced) > 0 {
		var out []map[string]any
		for _, a := range s.Advanced {
			var fs []map[string]any
			for _, f := range a.FieldSelectors {
				m := map[string]any{"Field": f.Field}
				for k, v := range map[string][]string{"Equals": f.Equals, "NotEquals": f.NotEquals, "StartsWith": f.StartsWith,
					"NotStartsWith": f.NotStartsWith, "EndsWith": f.EndsWith, "NotEndsWith": f.NotEndsWith} {
					if len(v) > 0 {
						m[k] = v
					}
				}
				fs = append(fs, m)
			}
			sel := map[string]any{"FieldSelectors": fs}
			if a.Name != "" {
				sel["Name"] = a.Name
			}
			out = append(out, sel)
		}
		b, _ := json.Marshal(out)
		return string(b)
	}
	var out []map[string]any
	for _, e := range s.Basic {
		m := map[string]any{"ReadWriteType": e.ReadWriteType, "IncludeManagementEvents": e.IncludeManagementEvents}
		if len(e.ExcludeManagementEventSources) > 0 {
			m["ExcludeManagementEventSources"] = e.ExcludeManagementEventSources
		}
		var drs []map[string]any
		for _, d := range e.DataResources {
			drs = append(drs, map[string]any{"Type": d.Type, "Values": d.Values})
		}
		if drs != nil {
			m["DataResources"] = drs
		}
		out = append(out, m)
	}
	b, _ := json.Marshal(out)
	return string(b)
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
// steps that make it usable by CloudTrail.
func keyPlan(account, region, trailARN string, key KeyFacts, o Options) (string, []Step, error) {
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
			return "", nil, err
		}
		if !changed {
			return id, nil, nil
		}
		return id, []Step{{Action: "allow-cloudtrail-encryption", Region: region, Key: id, Document: policy,
			Why: "CloudTrail may encrypt log files with the key only when its key policy lets it; existing statements are kept",
			API: "kms:PutKeyPolicy", CLI: fmt.Sprintf("aws kms put-key-policy --key-id %s --policy-name default --policy '%s' --region %s", id, policy, region),
			Undo: fmt.Sprintf("aws kms put-key-policy --key-id %s --policy-name default --policy '%s' --region %s", id, key.Policy, region)}}, nil
	case o.CreateKMSKey:
		policy, _, _ := mergeKeyPolicy("", account, trailARN)
		return KMSAlias, []Step{
			{Action: "create-kms-key", Region: region, Document: policy,
				Why: "log files are encrypted with a customer managed key whose policy lets only this account administer it and CloudTrail use it",
				API: "kms:CreateKey", CLI: fmt.Sprintf("aws kms create-key --description 'trailguard: CloudTrail log files' --policy '%s' --region %s", policy, region),
				Undo: "aws kms schedule-key-deletion --key-id <the new key> (only once no log file needs it; this tool never deletes)"},
			{Action: "alias-kms-key", Region: region, Key: KMSAlias,
				Why: "the alias names the new key for the trail and for people",
				API: "kms:CreateAlias", CLI: fmt.Sprintf("aws kms create-alias --alias-name %s --target-key-id <KeyId printed by create-key> --region %s", KMSAlias, region)},
			{Action: "enable-key-rotation", Region: region, Key: KMSAlias,
				Why: "the key's material is rotated every year",
				API: "kms:EnableKeyRotation", CLI: fmt.Sprintf("aws kms enable-key-rotation --key-id %s --region %s", KMSAlias, region)},
		}, nil
	}
	return "", nil, nil
}

const sidKMS = "TrailguardCloudTrailEncrypt"

// mergeKeyPolicy adds CloudTrail's statement to a key policy (and, for a
// new key, the account's administration of it), keeping every existing
// statement.
func mergeKeyPolicy(existing, account, trailARN string) (string, bool, error) {
	doc := map[string]any{"Version": "2012-10-17", "Statement": []any{}}
	if existing != "" {
		if err := json.Unmarshal([]byte(existing), &doc); err != nil || doc == nil {
			return existing, false, fmt.Errorf("the key policy is not a JSON object this tool can merge into: %v", err)
		}
	}
	var stmts []any
	switch s := doc["Statement"].(type) {
	case []any:
		stmts = s
	case map[string]any:
		stmts = []any{s}
	}
	for _, s := range stmts {
		if m, ok := s.(map[string]any); ok && m["Sid"] == sidKMS {
			return existing, false, nil
		}
	}
	if existing == "" {
		stmts = append(stmts, map[string]any{"Sid": "AccountAdministers", "Effect": "Allow", "Principal": map[string]any{"AWS": "arn:aws:iam::" + account + ":root"},
			"Action": "kms:*", "Resource": "*"})
	}
	stmts = append(stmts, map[string]any{"Sid": sidKMS, "Effect": "Allow", "Principal": map[string]any{"Service": "cloudtrail.amazonaws.com"},
		"Action": []any{"kms:GenerateDataKey*", "kms:DescribeKey"}, "Resource": "*",
		"Condition": map[string]any{
			"StringEquals": map[string]any{"aws:SourceArn": trailARN},
			"StringLike":   map[string]any{"kms:EncryptionContext:aws:cloudtrail:arn": "arn:aws:cloudtrail:*:" + account + ":trail/*"},
		}})
	doc["Statement"] = stmts
	b, _ := json.Marshal(doc)
	return string(b), true, nil
}
