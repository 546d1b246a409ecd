package fix

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/trailguard/trailguard"
	"github.com/trailguard/trailguard/awscli"
)

// CloudFormation writes the plan's end state as a CloudFormation template
// (YAML). An existing trail is to be imported into a stack
// (resource import), which the template's comment says.
func CloudFormation(p Plan) string {
	t := p.Target
	if t == nil {
		return nothingEmitted(p)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# CIS AWS 3.1 for account %s, written by trailguard fix --emit cloudformation\n", commentSafe(p.Account))
	if t.EnableTrustedAccess {
		fmt.Fprintf(&b, "# %s\n#   aws organizations enable-aws-service-access --service-principal %s\n", trustedAccessWarning, CloudTrailPrincipal)
	}
	if t.Existing {
		fmt.Fprintf(&b, "# The trail exists (%s): bring it into a stack with a resource import.\n", commentSafe(t.ARN))
	}
	b.WriteString("AWSTemplateFormatVersion: \"2010-09-09\"\nResources:\n")
	bucketRef := jsonQuote(t.Bucket)
	if t.NewBucket {
		b.WriteString("  TrailBucket:\n    Type: AWS::S3::Bucket\n    DeletionPolicy: Retain\n    Properties:\n")
		fmt.Fprintf(&b, "      BucketName: %s\n", jsonQuote(t.Bucket))
		b.WriteString("      PublicAccessBlockConfiguration:\n        BlockPublicAcls: true\n        IgnorePublicAcls: true\n        BlockPublicPolicy: true\n        RestrictPublicBuckets: true\n")
		b.WriteString("      BucketEncryption:\n        ServerSideEncryptionConfiguration:\n          - ServerSideEncryptionByDefault:\n              SSEAlgorithm: AES256\n")
		if t.TransitionDays > 0 || t.ExpireDays > 0 {
			b.WriteString("      LifecycleConfiguration:\n        Rules:\n          - Id: trailguard-log-retention\n            Status: Enabled\n            Prefix: AWSLogs/\n")
			if t.TransitionDays > 0 {
				fmt.Fprintf(&b, "            Transitions:\n              - TransitionInDays: %d\n                StorageClass: GLACIER\n", t.TransitionDays)
			}
			if t.ExpireDays > 0 {
				fmt.Fprintf(&b, "            ExpirationInDays: %d\n", t.ExpireDays)
			}
		}
		bucketRef = "!Ref TrailBucket"
	}
	if t.BucketPolicy != "" && !t.Existing {
		b.WriteString("  TrailBucketPolicy:\n    Type: AWS::S3::BucketPolicy\n    Properties:\n")
		fmt.Fprintf(&b, "      Bucket: %s\n      PolicyDocument: %s\n", bucketRef, cfnPolicy(t.BucketPolicy, cfnRefs(p.Account, t)))
	}
	keyRef := ""
	switch {
	case t.NewKey:
		b.WriteString("  TrailKey:\n    Type: AWS::KMS::Key\n    DeletionPolicy: Retain\n    Properties:\n      Description: \"trailguard: CloudTrail log files\"\n      EnableKeyRotation: true\n")
		fmt.Fprintf(&b, "      KeyPolicy: %s\n", cfnPolicy(t.KeyPolicy, cfnRefs(p.Account, t)))
		fmt.Fprintf(&b, "  TrailKeyAlias:\n    Type: AWS::KMS::Alias\n    Properties:\n      AliasName: %s\n      TargetKeyId: !Ref TrailKey\n", jsonQuote(t.KMSKey))
		keyRef = "!GetAtt TrailKey.Arn"
	case t.KMSKey != "":
		keyRef = jsonQuote(t.KMSKey)
	}
	if t.InsightSelectors {
		fmt.Fprintf(&b, "  # %s\n", insightWarning)
	}
	b.WriteString("  Trail:\n    Type: AWS::CloudTrail::Trail\n")
	if t.BucketPolicy != "" && !t.Existing {
		b.WriteString("    DependsOn: TrailBucketPolicy\n")
	}
	b.WriteString("    Properties:\n")
	fmt.Fprintf(&b, "      TrailName: %s\n      S3BucketName: %s\n      IsLogging: true\n      IsMultiRegionTrail: true\n      IncludeGlobalServiceEvents: true\n      EnableLogFileValidation: %t\n", jsonQuote(t.Name), bucketRef, t.LogFileValidation)
	if t.Org {
		b.WriteString("      IsOrganizationTrail: true\n")
	}
	if keyRef != "" {
		fmt.Fprintf(&b, "      KMSKeyId: %s\n", keyRef)
	}
	for _, kv := range []struct{ k, v string }{{"S3KeyPrefix", t.S3KeyPrefix}, {"SnsTopicName", t.SNSTopic},
		{"CloudWatchLogsLogGroupArn", t.CloudWatchLogsGroupARN}, {"CloudWatchLogsRoleArn", t.CloudWatchLogsRoleARN}} {
		if kv.v != "" {
			fmt.Fprintf(&b, "      %s: %s\n", kv.k, jsonQuote(kv.v))
		}
	}
	if len(t.Selectors.Advanced) > 0 {
		fmt.Fprintf(&b, "      AdvancedEventSelectors: %s\n", cfnSelectors(t.Selectors))
	} else if len(t.Selectors.Basic) > 0 {
		fmt.Fprintf(&b, "      EventSelectors: %s\n", cfnSelectors(t.Selectors))
	}
	return b.String()
}

// cfnVar names a pseudo parameter (AWS::Region) or an attribute of a
// resource of the template (TrailBucket.Arn).
type cfnVar string

// cfnRefs are the literals of a new trail's bucket policy that the
// template writes as references: the bucket's ARN from the bucket the
// template creates (TrailBucket.Arn), and the partition, region and
// account as pseudo parameters, so that the template fits the account and
// region its stack is created in. The trail's ARN is built the same way
// rather than taken with Fn::GetAtt: the trail depends on the policy
// (CloudTrail checks it on creation), and the reverse reference would be
// a circular dependency. As for Terraform, a literal is replaced only
// when it is exactly what the planner wrote.
func cfnRefs(account string, t *Target) tfRefs {
	var refs tfRefs
	if trailARN := fmt.Sprintf("arn:aws:cloudtrail:%s:%s:trail/%s", t.Region, account, t.Name); t.ARN == trailARN && accountID(account) {
		refs = append(refs, tfRef{literal: trailARN, parts: []any{"arn:", cfnVar("AWS::Partition"), ":cloudtrail:", cfnVar("AWS::Region"), ":", cfnVar("AWS::AccountId"), ":trail/" + t.Name}})
	}
	bucketARN := []any{"arn:", cfnVar("AWS::Partition"), ":s3:::" + t.Bucket}
	if t.NewBucket {
		bucketARN = []any{cfnVar("TrailBucket.Arn")}
	}
	refs = append(refs, tfRef{literal: "arn:aws:s3:::" + t.Bucket, parts: bucketARN})
	if accountID(account) {
		refs = append(refs, tfRef{literal: "/AWSLogs/" + account + "/", parts: []any{"/AWSLogs/", cfnVar("AWS::AccountId"), "/"}},
			// The key policy's: the account that administers the key, and
			// the trails that may use it.
			tfRef{literal: "arn:aws:iam::" + account + ":root", parts: []any{"arn:", cfnVar("AWS::Partition"), ":iam::", cfnVar("AWS::AccountId"), ":root"}},
			tfRef{literal: "arn:aws:cloudtrail:*:" + account + ":trail/*", parts: []any{"arn:", cfnVar("AWS::Partition"), ":cloudtrail:*:", cfnVar("AWS::AccountId"), ":trail/*"}})
	}
	return refs
}

// cfnString writes a string that holds literals of refs as an intrinsic
// function: Fn::Sub, which reads best, unless a text part holds "${",
// which Fn::Sub would take for a variable (its "${!" escape has no rule
// for an unclosed one); then Fn::Join, where text is only text.
func cfnString(s string, refs tfRefs) (any, bool) {
	segs, used := refs.split(s)
	if !used {
		return nil, false
	}
	var parts []any
	for _, seg := range segs {
		if seg.ref != nil {
			parts = append(parts, seg.ref.parts...)
		} else {
			parts = append(parts, seg.text)
		}
	}
	join, sub := make([]any, 0, len(parts)), ""
	plain := true
	for _, p := range parts {
		switch v := p.(type) {
		case string:
			plain = plain && !strings.Contains(v, "${")
			join, sub = append(join, v), sub+v
		case cfnVar:
			name, attr, ok := strings.Cut(string(v), ".")
			if ok {
				join = append(join, map[string]any{"Fn::GetAtt": []any{name, attr}})
			} else {
				join = append(join, map[string]any{"Ref": string(v)})
			}
			sub += "${" + string(v) + "}"
		}
	}
	if plain {
		return map[string]any{"Fn::Sub": sub}, true
	}
	return map[string]any{"Fn::Join": []any{"", join}}, true
}

// cfnPolicy writes a policy document as JSON (which YAML reads as flow
// style), each string that holds a literal of refs as an intrinsic
// function (cfnString). A document that is not JSON is written as it is
// (never the case for the policies the planner writes).
func cfnPolicy(doc string, refs tfRefs) string {
	dec := json.NewDecoder(strings.NewReader(doc))
	dec.UseNumber()
	var v any
	if dec.Decode(&v) != nil {
		return doc
	}
	var walk func(v any) any
	walk = func(v any) any {
		switch t := v.(type) {
		case map[string]any:
			for k, e := range t {
				t[k] = walk(e)
			}
		case []any:
			for i, e := range t {
				t[i] = walk(e)
			}
		case string:
			if fn, ok := cfnString(t, refs); ok {
				return fn
			}
		}
		return v
	}
	out, err := json.Marshal(walk(v))
	if err != nil {
		return doc
	}
	return string(out)
}

// cfnSelectors writes selectors as JSON flow YAML: CloudFormation's
// property names are the AWS CLI's, so the CLI's put-event-selectors
// shape serves.
func cfnSelectors(s trailguard.EventSelectors) string {
	_, v := awscli.PutEventSelectorsOf("", s).Arg()
	return v
}

// tfIdent turns a name into a Terraform identifier.
func tfIdent(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' {
			b.WriteRune(r)
		} else {
			b.WriteRune('_')
		}
	}
	id := b.String()
	if id == "" || (id[0] >= '0' && id[0] <= '9') {
		id = "t_" + id
	}
	return id
}

func jsonQuote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// nothingEmitted is the comment written for a plan with no end state: the
// account passes, or it was not read (or cannot be fixed) and the notes
// say why. Notes hold names read from the account, so each is escaped to
// stay one comment line (a line break in it could otherwise start code).
func nothingEmitted(p Plan) string {
	if len(p.Steps) > 0 {
		// Steps with no resource to write (enabling trusted access for a
		// trail that already passes): said as the commands they are.
		var b strings.Builder
		fmt.Fprintf(&b, "# no trail to write for account %s; what is left to do is not a resource of this code:\n", commentSafe(p.Account))
		for _, st := range p.Steps {
			fmt.Fprintf(&b, "#   %s  # %s\n", commentSafe(st.CLI), commentSafe(st.Why))
		}
		return b.String()
	}
	if p.Status == trailguard.StatusPass && len(p.Notes) == 0 && len(p.Unreadable) == 0 {
		return "# nothing to do: account " + commentSafe(p.Account) + " passes CIS 3.1\n"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# nothing emitted for account %s:\n", commentSafe(p.Account))
	if p.Status == trailguard.StatusUnknown || p.Status == trailguard.StatusError {
		fmt.Fprintf(&b, "#   the verdict is %s: no end state can be written without the facts that could not be read\n", p.Status)
	}
	for _, n := range p.Notes {
		fmt.Fprintf(&b, "#   %s\n", commentSafe(n))
	}
	return b.String()
}

// commentSafe escapes every character that is not printable (line breaks
// included) as Go would quote it.
func commentSafe(s string) string {
	q := strconv.Quote(s)
	return q[1 : len(q)-1]
}
