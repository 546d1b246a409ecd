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
			got := resolveSub(t, doc, vars)
			var want any
			if err := json.Unmarshal([]byte(tg.BucketPolicy), &want); err != nil {
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

var subVar = regexp.MustCompile(`\$\{([^}]*)\}`)

// resolveSub evaluates the Fn::Sub of a policy as CloudFormation does:
// ${Name} from vars (any other is an error), ${!x} is the text ${x}.
func resolveSub(t *testing.T, v any, vars map[string]string) any {
	t.Helper()
	switch x := v.(type) {
	case map[string]any:
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
