package fix

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"

	"github.com/trailguard/trailguard"
)

// emitPlans are plans whose end state --emit terraform writes, among them
// values read from the account that HCL would take for templates or
// keywords if they were not quoted as HCL quotes them.
func emitPlans() map[string]Plan {
	none := trailguard.Account{ID: acct}
	noneRes := trailguard.Evaluate(none, trailguard.Options{})
	existing := func(sel *trailguard.EventSelectors) Plan {
		tr := trailguard.Trail{Name: "data.trail-1", ARN: "arn:aws:cloudtrail:eu-west-1:" + acct + ":trail/data.trail-1", HomeRegion: "eu-west-1", IsMultiRegion: true,
			IncludeGlobalServiceEvents: true, S3BucketName: "existing-logs", Status: &trailguard.TrailStatus{IsLogging: false}, Selectors: sel}
		a := trailguard.Account{ID: acct, Trails: []trailguard.Trail{tr}}
		return Make(a, trailguard.Evaluate(a, trailguard.Options{}), BucketFacts{}, Options{})
	}
	hostilePolicy := `{"Version":"2012-10-17","Statement":[{"Sid":"D","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::b/${aws:username}/%{x}",` +
		`"Condition":{"Bool":{"aws:SecureTransport":"false"},"NumericLessThan":{"s3:TlsVersion":1.2},"StringEquals":{"for":"a\"b\\c\nd","null":"true"}}}]}`
	return map[string]Plan{
		"new_trail_bucket_key_and_lifecycle": MakeWithKey(none, noneRes, BucketFacts{Read: true}, KeyFacts{Read: true},
			Options{CreateKMSKey: true, TransitionDays: 30, ExpireDays: 400}),
		"new_trail_plain": Make(none, noneRes, BucketFacts{Read: true}, Options{}),
		"existing_bucket_hostile_policy_and_key": MakeWithKey(none, noneRes,
			BucketFacts{Read: true, Exists: true, Policy: hostilePolicy, Encryption: "AES256", PublicAccessBlock: &PublicAccessBlock{true, true, true, true}},
			KeyFacts{Read: true, Exists: true, ARN: "arn:aws:kms:us-east-1:" + acct + ":key/k", Policy: `{"Statement":[]}`},
			Options{KMSKey: "arn:aws:kms:us-east-1:" + acct + ":key/k"}),
		"organization_trail": MakeWithKey(none, noneRes, BucketFacts{Read: true}, KeyFacts{}, Options{OrganizationTrail: true, OrgID: "o-abc"}),
		"organization_trail_without_trusted_access": func() Plan {
			p := MakeWithKey(none, noneRes, BucketFacts{Read: true}, KeyFacts{}, Options{OrganizationTrail: true, OrgID: "o-abc"})
			p.Target.EnableTrustedAccess = true
			return p
		}(),
		// A policy whose strings hold the bucket's ARN beside template
		// characters, and the ARN of another bucket whose name begins
		// with this one's: only this bucket's ARN becomes a reference.
		"existing_named_bucket_policy_with_templates_beside_references": MakeWithKey(none, noneRes,
			BucketFacts{Read: true, Exists: true, Encryption: "AES256", PublicAccessBlock: &PublicAccessBlock{true, true, true, true},
				Policy: `{"Version":"2012-10-17","Statement":[{"Sid":"U","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + acct + `:root"},"Action":"s3:GetObject",` +
					`"Resource":["arn:aws:s3:::team-logs/${aws:username}/*","arn:aws:s3:::team-logs2/%{x}","arn:aws:s3:::team-logs"]}]}`},
			KeyFacts{}, Options{Bucket: "team-logs", Region: "eu-west-1"}),
		"existing_trail_basic_data_selector_with_template_chars": existing(&trailguard.EventSelectors{Basic: []trailguard.EventSelector{
			{ReadWriteType: "All", DataResources: []trailguard.DataResource{{Type: "AWS::S3::Object", Values: []string{"arn:aws:s3:::pay${x}/", "arn:aws:s3:::%{if}/"}}}}}}),
		"existing_trail_advanced_selectors": existing(&trailguard.EventSelectors{Advanced: []trailguard.AdvancedEventSelector{{Name: "s3 ${x}", FieldSelectors: []trailguard.FieldSelector{
			{Field: "eventCategory", Equals: []string{"Data"}}, {Field: "resources.type", Equals: []string{"AWS::S3::Object"}},
			{Field: "resources.ARN", StartsWith: []string{"arn:aws:s3:::b/"}, NotEndsWith: []string{"x"}, NotStartsWith: []string{"arn:aws:s3:::b/tmp"}}}}}}),
		"existing_organization_trail_keeps_its_settings": func() Plan {
			tr := trailguard.Trail{Name: "org", ARN: "arn:aws:cloudtrail:us-east-1:" + acct + ":trail/org", HomeRegion: "us-east-1", IsMultiRegion: true, IsOrganizationTrail: true,
				IncludeGlobalServiceEvents: true, LogFileValidationEnabled: true, HasInsightSelectors: true, S3BucketName: "org-logs", S3KeyPrefix: "audit/${x}",
				SnsTopicName: "arn:aws:sns:us-east-1:" + acct + ":trail-delivery", SnsTopicARN: "arn:aws:sns:us-east-1:" + acct + ":trail-delivery",
				CloudWatchLogsLogGroupARN: "arn:aws:logs:us-east-1:" + acct + ":log-group:trail:*", CloudWatchLogsRoleARN: "arn:aws:iam::" + acct + ":role/trail-to-logs",
				KMSKeyID: "arn:aws:kms:us-east-1:" + acct + ":key/1234", Status: &trailguard.TrailStatus{IsLogging: false}, Selectors: trailguard.DefaultSelectors()}
			a := trailguard.Account{ID: acct, Trails: []trailguard.Trail{tr}}
			return Make(a, trailguard.Evaluate(a, trailguard.Options{}), BucketFacts{}, Options{})
		}(),
		"existing_trail_kms_excluded_strict": func() Plan {
			tr := trailguard.Trail{Name: "kms", ARN: "arn:aws:cloudtrail:us-east-1:" + acct + ":trail/kms", HomeRegion: "us-east-1", IsMultiRegion: true, IncludeGlobalServiceEvents: true,
				S3BucketName: "b", Status: &trailguard.TrailStatus{IsLogging: true}, Selectors: &trailguard.EventSelectors{Basic: []trailguard.EventSelector{
					{ReadWriteType: "All", IncludeManagementEvents: true, ExcludeManagementEventSources: []string{"kms.amazonaws.com"}},
					{ReadWriteType: "ReadOnly", DataResources: []trailguard.DataResource{{Type: "AWS::Lambda::Function", Values: []string{"arn:aws:lambda"}}}}}}}
			a := trailguard.Account{ID: acct, Trails: []trailguard.Trail{tr}}
			p := Make(a, trailguard.Evaluate(a, trailguard.Options{Strict: true}), BucketFacts{}, Options{Strict: true})
			// What the plan keeps of the exclusion's selector is written too.
			p.Target.Selectors.Basic = append(p.Target.Selectors.Basic, tr.Selectors.Basic[0])
			return p
		}(),
	}
}

// TestTerraform reads the emitted code back with the HCL parser and
// proves it says what the plan's end state says: the trail's settings,
// every selector value for value, each policy (jsonencode of the written
// value gives back the same JSON document), the lifecycle, and references
// between the resources.
func TestTerraform(t *testing.T) {
	for name, p := range emitPlans() {
		t.Run(name, func(t *testing.T) {
			if p.Target == nil {
				t.Fatalf("the plan has no end state: %+v", p)
			}
			src := Terraform(p)
			f, diags := hclsyntax.ParseConfig([]byte(src), "main.tf", hcl.InitialPos)
			if diags.HasErrors() {
				t.Fatalf("emitted code does not parse: %s\n%s", diags, src)
			}
			res := map[string]*hclsyntax.Body{}
			data := map[string]bool{}
			for _, b := range f.Body.(*hclsyntax.Body).Blocks {
				if b.Type == "data" && len(b.Labels) == 2 && b.Labels[1] == "current" && len(b.Body.Attributes)+len(b.Body.Blocks) == 0 {
					data[b.Labels[0]] = true
					continue
				}
				if b.Type != "resource" || len(b.Labels) != 2 {
					t.Fatalf("unexpected block %s %v", b.Type, b.Labels)
				}
				res[b.Labels[0]] = b.Body
			}
			tg := p.Target
			// Every reference the code makes resolves to a resource or data
			// source it declares; evaluated with the values those have once
			// applied in the plan's account and region, the code gives the
			// plan's values.
			for _, v := range variables(f.Body.(*hclsyntax.Body)) {
				switch root := v.RootName(); root {
				case "data":
					if name := v[1].(hcl.TraverseAttr).Name; !data[name] {
						t.Errorf("data.%s is used but not declared:\n%s", name, src)
					}
				default:
					if res[root] == nil {
						t.Errorf("%s is used but not declared:\n%s", root, src)
					}
				}
			}
			evalCtx = applied(p)
			defer func() { evalCtx = funcs }()
			trail := res["aws_cloudtrail"]
			if trail == nil {
				t.Fatalf("no aws_cloudtrail:\n%s", src)
			}
			if got := value(t, trail, "name").AsString(); got != tg.Name {
				t.Errorf("name %q, want %q", got, tg.Name)
			}
			if got := value(t, trail, "s3_bucket_name").AsString(); got != tg.Bucket {
				t.Errorf("s3_bucket_name %q, want %q", got, tg.Bucket)
			}
			for _, a := range []string{"is_multi_region_trail", "enable_logging", "include_global_service_events"} {
				if !value(t, trail, a).True() {
					t.Errorf("%s is not true", a)
				}
			}
			if got := value(t, trail, "enable_log_file_validation").True(); got != tg.LogFileValidation {
				t.Errorf("enable_log_file_validation %v, want %v", got, tg.LogFileValidation)
			}
			if got := trail.Attributes["is_organization_trail"] != nil && value(t, trail, "is_organization_trail").True(); got != tg.Org {
				t.Errorf("is_organization_trail %v, want %v", got, tg.Org)
			}
			// What the fix does not change is kept, or applying the code
			// would remove it.
			for a, want := range map[string]string{"s3_key_prefix": tg.S3KeyPrefix, "sns_topic_name": tg.SNSTopic,
				"cloud_watch_logs_group_arn": tg.CloudWatchLogsGroupARN, "cloud_watch_logs_role_arn": tg.CloudWatchLogsRoleARN} {
				got := ""
				if trail.Attributes[a] != nil {
					got = value(t, trail, a).AsString()
				}
				if got != want {
					t.Errorf("%s %q, want %q", a, got, want)
				}
			}
			if tg.InsightSelectors != strings.Contains(src, "insight selectors") {
				t.Errorf("insight selectors %v, said %v:\n%s", tg.InsightSelectors, !tg.InsightSelectors, src)
			}
			if got := selectorsOf(t, trail); !reflect.DeepEqual(got, tg.Selectors) {
				t.Errorf("selectors\n got %+v\nwant %+v\n%s", got, tg.Selectors, src)
			}
			if (res["aws_s3_bucket"] != nil) != tg.NewBucket {
				t.Errorf("bucket resource written: %v, new bucket: %v", res["aws_s3_bucket"] != nil, tg.NewBucket)
			}
			if pol := res["aws_s3_bucket_policy"]; pol != nil {
				samePolicy(t, value(t, pol, "policy"), tg.BucketPolicy)
				if got := value(t, pol, "bucket").AsString(); got != tg.Bucket {
					t.Errorf("policy of bucket %q, want %q", got, tg.Bucket)
				}
				// A bucket the code creates is referenced, so that Terraform
				// orders the policy after it; so is the trail's, in the
				// same way.
				if tg.NewBucket {
					if got := traversal(t, pol, "bucket"); got != "aws_s3_bucket."+tfIdent(tg.Bucket)+".id" {
						t.Errorf("policy of %s, want a reference to the bucket", got)
					}
					if got := traversal(t, trail, "s3_bucket_name"); got != "aws_s3_bucket."+tfIdent(tg.Bucket)+".id" {
						t.Errorf("trail writes to %s, want a reference to the bucket", got)
					}
				}
				// No literal account, region or bucket ARN is left in the
				// policy of code that creates the trail.
				polSrc := string(pol.Attributes["policy"].Expr.Range().SliceBytes([]byte(src)))
				for _, lit := range []string{"arn:aws:cloudtrail:" + tg.Region + ":" + p.Account, "/AWSLogs/" + p.Account + "/", `"arn:aws:s3:::` + tg.Bucket + `"`, `"arn:aws:s3:::` + tg.Bucket + `/`} {
					if !tg.Existing && strings.Contains(polSrc, lit) {
						t.Errorf("the policy hard-codes %q:\n%s", lit, polSrc)
					}
				}
				if deps := trail.Attributes["depends_on"]; deps == nil || !strings.Contains(string(deps.Expr.Range().SliceBytes([]byte(src))), "aws_s3_bucket_policy."+tfIdent(tg.Bucket)) {
					t.Errorf("the trail does not depend on the bucket policy")
				}
			} else if tg.BucketPolicy != "" && !tg.Existing {
				t.Errorf("bucket policy not written")
			}
			if tg.NewKey {
				samePolicy(t, value(t, res["aws_kms_key"], "policy"), tg.KeyPolicy)
				if keySrc := string(res["aws_kms_key"].Attributes["policy"].Expr.Range().SliceBytes([]byte(src))); strings.Contains(keySrc, p.Account) {
					t.Errorf("the key policy hard-codes the account:\n%s", keySrc)
				}
				if got := value(t, res["aws_kms_alias"], "name").AsString(); got != tg.KMSKey {
					t.Errorf("alias %q, want %q", got, tg.KMSKey)
				}
				if got := traversal(t, trail, "kms_key_id"); got != "aws_kms_key.cloudtrail.arn" {
					t.Errorf("kms_key_id refers to %s", got)
				}
			} else if tg.KMSKey != "" {
				if got := value(t, trail, "kms_key_id").AsString(); got != tg.KMSKey {
					t.Errorf("kms_key_id %q, want %q", got, tg.KMSKey)
				}
			} else if trail.Attributes["kms_key_id"] != nil {
				t.Errorf("a kms_key_id with no key")
			}
			if lc := res["aws_s3_bucket_lifecycle_configuration"]; lc != nil {
				if got := traversal(t, lc, "bucket"); got != "aws_s3_bucket."+tfIdent(tg.Bucket)+".id" {
					t.Errorf("lifecycle of %s", got)
				}
				rule := lc.Blocks[0].Body
				days := func(block string) int64 {
					for _, b := range rule.Blocks {
						if b.Type == block {
							n, _ := value(t, b.Body, "days").AsBigFloat().Int64()
							return n
						}
					}
					return 0
				}
				if days("transition") != int64(tg.TransitionDays) || days("expiration") != int64(tg.ExpireDays) {
					t.Errorf("lifecycle days %d/%d, want %d/%d", days("transition"), days("expiration"), tg.TransitionDays, tg.ExpireDays)
				}
			} else if tg.NewBucket && (tg.TransitionDays > 0 || tg.ExpireDays > 0) {
				t.Errorf("no lifecycle rule")
			}
			if tg.EnableTrustedAccess != strings.Contains(src, "# "+trustedAccessWarning+"\n#   aws organizations enable-aws-service-access --service-principal cloudtrail.amazonaws.com\n") {
				t.Errorf("trusted access off: %v, said: %v\n%s", tg.EnableTrustedAccess, !tg.EnableTrustedAccess, src)
			}
			if tg.Existing && !strings.Contains(src, "#   terraform import aws_cloudtrail."+tfIdent(tg.Name)+" "+tg.ARN+"\n") {
				t.Errorf("no import command for the existing trail:\n%s", src)
			}
		})
	}
}

// TestTerraform_comments_stay_comments: names read from the account are
// written into comments; a line break in one must not start code.
func TestTerraform_comments_stay_comments(t *testing.T) {
	p := emitPlans()["existing_trail_advanced_selectors"]
	p.Account = "123456789012\nresource \"x\" \"y\" {}"
	p.Target.ARN = "arn\n}\nresource \"aws_s3_bucket\" \"z\" {"
	src := Terraform(p)
	f, diags := hclsyntax.ParseConfig([]byte(src), "main.tf", hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatalf("%s\n%s", diags, src)
	}
	if n := len(f.Body.(*hclsyntax.Body).Blocks); n != 1 {
		t.Errorf("%d blocks, want the trail only:\n%s", n, src)
	}
}

// TestTerraform_fmt runs `terraform fmt -check` on the emitted code: it
// is laid out as Terraform lays it out.
func TestTerraform_fmt(t *testing.T) {
	tf, err := exec.LookPath("terraform")
	if err != nil {
		t.Skip("terraform is not on PATH")
	}
	for name, p := range emitPlans() {
		t.Run(name, func(t *testing.T) {
			cmd := exec.Command(tf, "fmt", "-check", "-")
			cmd.Stdin = strings.NewReader(Terraform(p))
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("terraform fmt -check: %v %s\n%s", err, out, Terraform(p))
			}
		})
	}
}

var funcs = &hcl.EvalContext{Functions: map[string]function.Function{"jsonencode": stdlib.JSONEncodeFunc}}

// variables are the references made anywhere in a body.
func variables(b *hclsyntax.Body) []hcl.Traversal {
	var out []hcl.Traversal
	for _, a := range b.Attributes {
		out = append(out, a.Expr.Variables()...)
	}
	for _, blk := range b.Blocks {
		out = append(out, variables(blk.Body)...)
	}
	return out
}

// evalCtx is what value evaluates in: funcs, or applied(plan).
var evalCtx = funcs

// applied is the context in which the emitted code of a plan is
// evaluated as Terraform would once applied in the plan's account and
// region: the data sources and the bucket's attributes.
func applied(p Plan) *hcl.EvalContext {
	obj := func(kv map[string]string) cty.Value {
		m := map[string]cty.Value{}
		for k, v := range kv {
			m[k] = cty.StringVal(v)
		}
		return cty.ObjectVal(m)
	}
	t := p.Target
	return &hcl.EvalContext{Functions: funcs.Functions, Variables: map[string]cty.Value{
		"data": cty.ObjectVal(map[string]cty.Value{
			"aws_partition":       cty.ObjectVal(map[string]cty.Value{"current": obj(map[string]string{"partition": "aws"})}),
			"aws_region":          cty.ObjectVal(map[string]cty.Value{"current": obj(map[string]string{"name": t.Region})}),
			"aws_caller_identity": cty.ObjectVal(map[string]cty.Value{"current": obj(map[string]string{"account_id": p.Account})}),
		}),
		"aws_s3_bucket": cty.ObjectVal(map[string]cty.Value{tfIdent(t.Bucket): obj(map[string]string{"id": t.Bucket, "arn": "arn:aws:s3:::" + t.Bucket})}),
	}}
}

func value(t *testing.T, b *hclsyntax.Body, name string) cty.Value {
	t.Helper()
	if b == nil {
		t.Fatalf("no block holding %s", name)
	}
	a := b.Attributes[name]
	if a == nil {
		t.Fatalf("no attribute %s", name)
	}
	v, diags := a.Expr.Value(evalCtx)
	if diags.HasErrors() {
		t.Fatalf("%s: %s", name, diags)
	}
	return v
}

func traversal(t *testing.T, b *hclsyntax.Body, name string) string {
	t.Helper()
	a := b.Attributes[name]
	if a == nil {
		t.Fatalf("no attribute %s", name)
	}
	tr, diags := hcl.AbsTraversalForExpr(a.Expr)
	if diags.HasErrors() {
		t.Fatalf("%s is not a reference: %s", name, diags)
	}
	parts := []string{tr.RootName()}
	for _, s := range tr[1:] {
		parts = append(parts, s.(hcl.TraverseAttr).Name)
	}
	return strings.Join(parts, ".")
}

func strs(t *testing.T, b *hclsyntax.Body, name string) []string {
	t.Helper()
	if b.Attributes[name] == nil {
		return nil
	}
	var out []string
	for it := value(t, b, name).ElementIterator(); it.Next(); {
		_, e := it.Element()
		out = append(out, e.AsString())
	}
	return out
}

// selectorsOf reads the selector blocks of an aws_cloudtrail back into
// the domain's shape.
func selectorsOf(t *testing.T, trail *hclsyntax.Body) trailguard.EventSelectors {
	var s trailguard.EventSelectors
	for _, b := range trail.Blocks {
		switch b.Type {
		case "event_selector":
			e := trailguard.EventSelector{ReadWriteType: value(t, b.Body, "read_write_type").AsString(),
				IncludeManagementEvents:       value(t, b.Body, "include_management_events").True(),
				ExcludeManagementEventSources: strs(t, b.Body, "exclude_management_event_sources")}
			for _, d := range b.Body.Blocks {
				e.DataResources = append(e.DataResources, trailguard.DataResource{Type: value(t, d.Body, "type").AsString(), Values: strs(t, d.Body, "values")})
			}
			s.Basic = append(s.Basic, e)
		case "advanced_event_selector":
			a := trailguard.AdvancedEventSelector{}
			if b.Body.Attributes["name"] != nil {
				a.Name = value(t, b.Body, "name").AsString()
			}
			for _, fb := range b.Body.Blocks {
				a.FieldSelectors = append(a.FieldSelectors, trailguard.FieldSelector{Field: value(t, fb.Body, "field").AsString(),
					Equals: strs(t, fb.Body, "equals"), NotEquals: strs(t, fb.Body, "not_equals"), StartsWith: strs(t, fb.Body, "starts_with"),
					NotStartsWith: strs(t, fb.Body, "not_starts_with"), EndsWith: strs(t, fb.Body, "ends_with"), NotEndsWith: strs(t, fb.Body, "not_ends_with")})
			}
			s.Advanced = append(s.Advanced, a)
		}
	}
	return s
}

// samePolicy says whether jsonencode of the written value is the document.
func samePolicy(t *testing.T, got cty.Value, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal([]byte(got.AsString()), &g); err != nil {
		t.Fatalf("jsonencode gave %q: %v", got.AsString(), err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("the plan's policy %q: %v", want, err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("policy\n got %s\nwant %s", got.AsString(), want)
	}
}

// FuzzTerraform: whatever names and values the account holds, and
// whatever a bucket policy says, the emitted code parses and reads back
// to the same trail name, bucket, selector values and policy.
func FuzzTerraform(f *testing.F) {
	values, _ := filepath.Glob(filepath.Join("testdata", "emit", "*.txt"))
	policies, _ := filepath.Glob(filepath.Join("testdata", "*.json"))
	for i, v := range values {
		b, _ := os.ReadFile(v)
		p, _ := os.ReadFile(policies[i%len(policies)])
		f.Add(string(b), string(p))
	}
	// A policy that names the bucket, beside template characters and a
	// bucket whose name begins with this one's.
	f.Add("team-logs", `{"Statement":[{"Resource":["arn:aws:s3:::team-logs/${x}/%{y}","arn:aws:s3:::team-logs","arn:aws:s3:::team-logs2"]}]}`)
	f.Fuzz(func(t *testing.T, s, policy string) {
		// Strings from AWS come through JSON, so they are UTF-8; HCL reads
		// every string as NFC, as Terraform would read what it is given. An
		// empty name is not a trail.
		if s == "" || !utf8.ValidString(s) || !utf8.ValidString(policy) || cty.StringVal(s).AsString() != s || cty.StringVal(policy).AsString() != policy {
			t.Skip("not a value AWS could return: empty, invalid UTF-8 or not in NFC")
		}
		sel := trailguard.EventSelectors{Advanced: []trailguard.AdvancedEventSelector{{Name: s, FieldSelectors: []trailguard.FieldSelector{
			{Field: "eventCategory", Equals: []string{"Data"}}, {Field: "resources.ARN", StartsWith: []string{s, "x"}}}}}}
		p := Plan{Account: s, Target: &Target{Name: s, ARN: s, Region: "us-east-1", Bucket: s, Selectors: sel, BucketPolicy: policy, KMSKey: s}}
		src := Terraform(p)
		// A policy naming the bucket references it: evaluated as applied.
		evalCtx = applied(p)
		defer func() { evalCtx = funcs }()
		file, diags := hclsyntax.ParseConfig([]byte(src), "main.tf", hcl.InitialPos)
		if diags.HasErrors() {
			t.Fatalf("%s\n%s", diags, src)
		}
		for _, b := range file.Body.(*hclsyntax.Body).Blocks {
			switch b.Labels[0] {
			case "aws_cloudtrail":
				if value(t, b.Body, "name").AsString() != s || value(t, b.Body, "kms_key_id").AsString() != s {
					t.Errorf("name or key changed:\n%s", src)
				}
				if got := selectorsOf(t, b.Body); !reflect.DeepEqual(got, sel) {
					t.Errorf("selectors %+v, want %+v", got, sel)
				}
			case "aws_s3_bucket_policy":
				got := value(t, b.Body, "policy").AsString()
				var doc any
				if json.Unmarshal([]byte(policy), &doc) != nil {
					// Not JSON: kept as one string, which jsonencode quotes.
					want, _ := json.Marshal(policy)
					var g string
					if json.Unmarshal([]byte(got), &g) != nil || g != policy {
						t.Errorf("policy %s, want %s", got, want)
					}
					continue
				}
				samePolicy(t, cty.StringVal(got), policy)
			}
		}
	})
}

// TestCloudFormation_comments_stay_comments: the account and the trail's
// ARN written into the template's comments cannot start YAML with a line
// break.
func TestCloudFormation_comments_stay_comments(t *testing.T) {
	p := emitPlans()["existing_trail_advanced_selectors"]
	p.Account = "123456789012\nResources: {}"
	p.Target.ARN = "arn\nAWSTemplateFormatVersion: x"
	src := CloudFormation(p)
	head, _, ok := strings.Cut(src, "AWSTemplateFormatVersion: \"2010-09-09\"\n")
	if !ok {
		t.Fatalf("no template:\n%s", src)
	}
	for _, line := range strings.Split(strings.TrimSuffix(head, "\n"), "\n") {
		if !strings.HasPrefix(line, "#") {
			t.Errorf("a line before the template that is not a comment: %q", line)
		}
	}
}

// TestCloudFormation_keeps_what_the_fix_does_not_change: the template of
// an existing trail keeps its settings, and a new organization trail is
// one.
func TestCloudFormation_keeps_what_the_fix_does_not_change(t *testing.T) {
	plans := emitPlans()
	cases := map[string][]string{
		"existing_organization_trail_keeps_its_settings": {"IsOrganizationTrail: true", "EnableLogFileValidation: true", `S3KeyPrefix: "audit/${x}"`,
			`SnsTopicName: "arn:aws:sns:us-east-1:` + acct + `:trail-delivery"`, `CloudWatchLogsLogGroupArn: "arn:aws:logs:us-east-1:` + acct + `:log-group:trail:*"`,
			`CloudWatchLogsRoleArn: "arn:aws:iam::` + acct + `:role/trail-to-logs"`, `KMSKeyId: "arn:aws:kms:us-east-1:` + acct + `:key/1234"`, "# " + insightWarning},
		"organization_trail":                        {"IsOrganizationTrail: true", "EnableLogFileValidation: true"},
		"organization_trail_without_trusted_access": {"# " + trustedAccessWarning + "\n#   aws organizations enable-aws-service-access --service-principal cloudtrail.amazonaws.com\n"},
		"existing_trail_advanced_selectors":         {"EnableLogFileValidation: false"},
	}
	for name, wants := range cases {
		t.Run(name, func(t *testing.T) {
			src := CloudFormation(plans[name])
			for _, w := range wants {
				if !strings.Contains(src, w) {
					t.Errorf("no %q in\n%s", w, src)
				}
			}
		})
	}
}
