package fix

import (
	"encoding/json"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// TestCloudFormation_bucket_policy_references: the bucket policy of a
// template that creates the trail names the partition, region, account,
// the bucket the template creates and the new trail through Fn::Sub, and
// resolved as CloudFormation would in the plan's account and region it is
// the plan's policy, template characters in the account's own
// statements kept as text.
func TestCloudFormation_bucket_policy_references(t *testing.T) {
	for name, p := range emitPlans() {
		tg := p.Target
		if tg.BucketPolicy == "" || tg.Existing {
			continue
		}
		t.Run(name, func(t *testing.T) {
			src := CloudFormation(p)
			var tmpl struct {
				Resources map[string]struct {
					Properties map[string]any `yaml:"Properties"`
				} `yaml:"Resources"`
			}
			if err := yaml.Unmarshal([]byte(src), &tmpl); err != nil {
				t.Fatalf("template does not parse: %v\n%s", err, src)
			}
			doc := tmpl.Resources["TrailBucketPolicy"].Properties["PolicyDocument"]
			if doc == nil {
				t.Fatalf("no bucket policy:\n%s", src)
			}
			vars := map[string]string{"AWS::Partition": "aws", "AWS::Region": tg.Region, "AWS::AccountId": p.Account}
			if tg.NewBucket {
				vars["TrailBucket.Arn"] = "arn:aws:s3:::" + tg.Bucket
				if _, ok := tmpl.Resources["TrailBucket"]; !ok {
					t.Fatalf("no TrailBucket beside a reference to it:\n%s", src)
				}
			}
			samePolicyDoc(t, resolveSub(t, doc, vars), tg.BucketPolicy)
			if tg.NewKey {
				key := tmpl.Resources["TrailKey"].Properties["KeyPolicy"]
				samePolicyDoc(t, resolveSub(t, key, vars), tg.KeyPolicy)
				if line := src[strings.Index(src, "KeyPolicy:"):]; strings.Contains(line[:strings.IndexByte(line, '\n')], p.Account) {
					t.Errorf("the key policy hard-codes the account:\n%s", line)
				}
			}
			line := src[strings.Index(src, "PolicyDocument:"):]
			line = line[:strings.IndexByte(line, '\n')]
			for _, lit := range []string{"arn:aws:cloudtrail:" + tg.Region + ":" + p.Account, "/AWSLogs/" + p.Account + "/", `"arn:aws:s3:::` + tg.Bucket + `"`, `"arn:aws:s3:::` + tg.Bucket + `/`} {
				if strings.Contains(line, lit) {
					t.Errorf("the policy hard-codes %q:\n%s", lit, line)
				}
			}
		})
	}
}

// samePolicyDoc says whether a resolved policy is the document.
func samePolicyDoc(t *testing.T, got any, doc string) {
	t.Helper()
	var want any
	if err := json.Unmarshal([]byte(doc), &want); err != nil {
		t.Fatal(err)
	}
	gb, _ := json.Marshal(got)
	wb, _ := json.Marshal(want)
	var g, w any
	json.Unmarshal(gb, &g)
	json.Unmarshal(wb, &w)
	if !reflect.DeepEqual(g, w) {
		t.Errorf("policy resolved\n got %s\nwant %s", gb, wb)
	}
}

var subVar = regexp.MustCompile(`\$\{([^}]*)\}`)

// resolveSub evaluates the Fn::Sub and Fn::Join of a policy as
// CloudFormation does: ${Name}, Ref and Fn::GetAtt from vars (any other is
// an error), ${!x} is the text ${x}.
func resolveSub(t *testing.T, v any, vars map[string]string) any {
	t.Helper()
	switch x := v.(type) {
	case map[string]any:
		lookup := func(name string) string {
			val, ok := vars[name]
			if !ok {
				t.Errorf("the policy names %s, which the template does not define", name)
			}
			return val
		}
		if j, ok := x["Fn::Join"].([]any); ok && len(x) == 1 {
			if len(j) != 2 || j[0] != "" {
				t.Fatalf("Fn::Join %v", j)
			}
			var b strings.Builder
			for _, part := range j[1].([]any) {
				switch p := part.(type) {
				case string:
					b.WriteString(p)
				case map[string]any:
					if r, ok := p["Ref"].(string); ok {
						b.WriteString(lookup(r))
					} else if g, ok := p["Fn::GetAtt"].([]any); ok && len(g) == 2 {
						b.WriteString(lookup(g[0].(string) + "." + g[1].(string)))
					} else {
						t.Fatalf("Fn::Join part %v", p)
					}
				}
			}
			return b.String()
		}
		if s, ok := x["Fn::Sub"].(string); ok && len(x) == 1 {
			return subVar.ReplaceAllStringFunc(s, func(m string) string {
				name := m[2 : len(m)-1]
				if strings.HasPrefix(name, "!") {
					return "${" + name[1:] + "}"
				}
				val, ok := vars[name]
				if !ok {
					t.Errorf("Fn::Sub names %s, which the template does not define", name)
				}
				return val
			})
		}
		out := map[string]any{}
		for k, e := range x {
			out[k] = resolveSub(t, e, vars)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = resolveSub(t, e, vars)
		}
		return out
	}
	return v
}

// FuzzCloudFormationPolicy: whatever a bucket policy says and whatever the
// bucket is named, the policy written for CloudFormation, its Fn::Sub
// resolved as CloudFormation would, is the policy: "${" in the account's
// own text stays text.
func FuzzCloudFormationPolicy(f *testing.F) {
	f.Add("team-logs", `{"Statement":[{"Resource":["arn:aws:s3:::team-logs/${x}/${!y}","arn:aws:s3:::team-logs","arn:aws:s3:::team-logs2"]}]}`)
	f.Add("b", `{"Statement":[{"Resource":"arn:aws:s3:::b/AWSLogs/123456789012/*","Condition":{"StringEquals":{"aws:SourceArn":"arn:aws:cloudtrail:us-east-1:123456789012:trail/t"}}}]}`)
	f.Fuzz(func(t *testing.T, bucket, policy string) {
		var want any
		if json.Unmarshal([]byte(policy), &want) != nil {
			t.Skip("not JSON: a bucket policy read from S3 always is")
		}
		const account = "123456789012"
		tg := &Target{Name: "t", ARN: "arn:aws:cloudtrail:us-east-1:" + account + ":trail/t", Region: "us-east-1", Bucket: bucket}
		out := cfnPolicy(policy, cfnRefs(account, tg))
		var doc any
		if err := json.Unmarshal([]byte(out), &doc); err != nil {
			t.Fatalf("written policy is not JSON: %v\n%s", err, out)
		}
		got := resolveSub(t, doc, map[string]string{"AWS::Partition": "aws", "AWS::Region": "us-east-1", "AWS::AccountId": account})
		gb, _ := json.Marshal(got)
		wb, _ := json.Marshal(want)
		var g, w any
		json.Unmarshal(gb, &g)
		json.Unmarshal(wb, &w)
		if !reflect.DeepEqual(g, w) {
			t.Errorf("resolved\n got %s\nwant %s", gb, wb)
		}
	})
}
