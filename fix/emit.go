package fix

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/trailguard/trailguard"
	"github.com/trailguard/trailguard/awscli"
)

// Terraform writes the plan's end state as Terraform (AWS provider v5
// resources), for teams that manage the trail as code. An existing trail
// comes with the import command that brings it under Terraform.
func Terraform(p Plan) string {
	t := p.Target
	if t == nil {
		return nothingEmitted(p)
	}
	var b strings.Builder
	id := tfIdent(t.Name)
	fmt.Fprintf(&b, "# CIS AWS 3.1 for account %s, written by trailguard fix --emit terraform\n", p.Account)
	if t.Existing {
		fmt.Fprintf(&b, "# The trail exists: bring it under Terraform first with\n#   terraform import aws_cloudtrail.%s %s\n", id, t.ARN)
	}
	if t.NewBucket {
		bid := tfIdent(t.Bucket)
		fmt.Fprintf(&b, "\nresource \"aws_s3_bucket\" %q {\n  bucket = %q\n}\n", bid, t.Bucket)
		fmt.Fprintf(&b, "\nresource \"aws_s3_bucket_public_access_block\" %q {\n  bucket                  = aws_s3_bucket.%s.id\n  block_public_acls       = true\n  ignore_public_acls      = true\n  block_public_policy     = true\n  restrict_public_buckets = true\n}\n", bid, bid)
		fmt.Fprintf(&b, "\nresource \"aws_s3_bucket_server_side_encryption_configuration\" %q {\n  bucket = aws_s3_bucket.%s.id\n  rule {\n    apply_server_side_encryption_by_default {\n      sse_algorithm = \"AES256\"\n    }\n  }\n}\n", bid, bid)
		if t.TransitionDays > 0 || t.ExpireDays > 0 {
			fmt.Fprintf(&b, "\nresource \"aws_s3_bucket_lifecycle_configuration\" %q {\n  bucket = aws_s3_bucket.%s.id\n  rule {\n    id     = \"trailguard-log-retention\"\n    status = \"Enabled\"\n    filter {\n      prefix = \"AWSLogs/\"\n    }\n", bid, bid)
			if t.TransitionDays > 0 {
				fmt.Fprintf(&b, "    transition {\n      days          = %d\n      storage_class = \"GLACIER\"\n    }\n", t.TransitionDays)
			}
			if t.ExpireDays > 0 {
				fmt.Fprintf(&b, "    expiration {\n      days = %d\n    }\n", t.ExpireDays)
			}
			b.WriteString("  }\n}\n")
		}
	}
	if t.BucketPolicy != "" && !t.Existing {
		fmt.Fprintf(&b, "\nresource \"aws_s3_bucket_policy\" %q {\n  bucket = %q\n  policy = jsonencode(%s)\n}\n", tfIdent(t.Bucket), t.Bucket, hclValue(t.BucketPolicy, "  "))
	}
	if t.NewKey {
		fmt.Fprintf(&b, "\nresource \"aws_kms_key\" \"cloudtrail\" {\n  description         = \"trailguard: CloudTrail log files\"\n  enable_key_rotation = true\n  policy              = jsonencode(%s)\n}\n", hclValue(t.KeyPolicy, "  "))
		fmt.Fprintf(&b, "\nresource \"aws_kms_alias\" \"cloudtrail\" {\n  name          = %q\n  target_key_id = aws_kms_key.cloudtrail.key_id\n}\n", t.KMSKey)
	}
	fmt.Fprintf(&b, "\nresource \"aws_cloudtrail\" %q {\n  name                          = %q\n  s3_bucket_name                = %q\n  is_multi_region_trail         = true\n  enable_logging                = true\n  include_global_service_events = true\n  enable_log_file_validation    = true\n", id, t.Name, t.Bucket)
	switch {
	case t.NewKey:
		b.WriteString("  kms_key_id                    = aws_kms_key.cloudtrail.arn\n")
	case t.KMSKey != "":
		fmt.Fprintf(&b, "  kms_key_id                    = %q\n", t.KMSKey)
	}
	if t.NewBucket || (!t.Existing && t.BucketPolicy != "") {
		fmt.Fprintf(&b, "  depends_on                    = [aws_s3_bucket_policy.%s]\n", tfIdent(t.Bucket))
	}
	for _, s := range t.Selectors.Basic {
		fmt.Fprintf(&b, "\n  event_selector {\n    read_write_type           = %q\n    include_management_events = %t\n", s.ReadWriteType, s.IncludeManagementEvents)
		if len(s.ExcludeManagementEventSources) > 0 {
			fmt.Fprintf(&b, "    exclude_management_event_sources = %s\n", hclList(s.ExcludeManagementEventSources))
		}
		for _, d := range s.DataResources {
			fmt.Fprintf(&b, "    data_resource {\n      type   = %q\n      values = %s\n    }\n", d.Type, hclList(d.Values))
		}
		b.WriteString("  }\n")
	}
	for _, a := range t.Selectors.Advanced {
		b.WriteString("\n  advanced_event_selector {\n")
		if a.Name != "" {
			fmt.Fprintf(&b, "    name = %q\n", a.Name)
		}
		for _, f := range a.FieldSelectors {
			fmt.Fprintf(&b, "    field_selector {\n      field = %q\n", f.Field)
			for _, kv := range []struct {
				k string
				v []string
			}{{"equals", f.Equals}, {"not_equals", f.NotEquals}, {"starts_with", f.StartsWith}, {"not_starts_with", f.NotStartsWith}, {"ends_with", f.EndsWith}, {"not_ends_with", f.NotEndsWith}} {
				if len(kv.v) > 0 {
					fmt.Fprintf(&b, "      %s = %s\n", kv.k, hclList(kv.v))
				}
			}
			b.WriteString("    }\n")
		}
		b.WriteString("  }\n")
	}
	b.WriteString("}\n")
	return b.String()
}

// CloudFormation writes the plan's end state as a CloudFormation template
// (YAML). An existing trail is to be imported into a stack
// (resource import), which the template's comment says.
func CloudFormation(p Plan) string {
	t := p.Target
	if t == nil {
		return nothingEmitted(p)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# CIS AWS 3.1 for account %s, written by trailguard fix --emit cloudformation\n", p.Account)
	if t.Existing {
		fmt.Fprintf(&b, "# The trail exists (%s): bring it into a stack with a resource import.\n", t.ARN)
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
		fmt.Fprintf(&b, "      Bucket: %s\n      PolicyDocument: %s\n", bucketRef, t.BucketPolicy)
	}
	keyRef := ""
	switch {
	case t.NewKey:
		b.WriteString("  TrailKey:\n    Type: AWS::KMS::Key\n    DeletionPolicy: Retain\n    Properties:\n      Description: \"trailguard: CloudTrail log files\"\n      EnableKeyRotation: true\n")
		fmt.Fprintf(&b, "      KeyPolicy: %s\n", t.KeyPolicy)
		fmt.Fprintf(&b, "  TrailKeyAlias:\n    Type: AWS::KMS::Alias\n    Properties:\n      AliasName: %s\n      TargetKeyId: !Ref TrailKey\n", jsonQuote(t.KMSKey))
		keyRef = "!GetAtt TrailKey.Arn"
	case t.KMSKey != "":
		keyRef = jsonQuote(t.KMSKey)
	}
	b.WriteString("  Trail:\n    Type: AWS::CloudTrail::Trail\n")
	if t.BucketPolicy != "" && !t.Existing {
		b.WriteString("    DependsOn: TrailBucketPolicy\n")
	}
	b.WriteString("    Properties:\n")
	fmt.Fprintf(&b, "      TrailName: %s\n      S3BucketName: %s\n      IsLogging: true\n      IsMultiRegionTrail: true\n      IncludeGlobalServiceEvents: true\n      EnableLogFileValidation: true\n", jsonQuote(t.Name), bucketRef)
	if keyRef != "" {
		fmt.Fprintf(&b, "      KMSKeyId: %s\n", keyRef)
	}
	if len(t.Selectors.Advanced) > 0 {
		fmt.Fprintf(&b, "      AdvancedEventSelectors: %s\n", cfnSelectors(t.Selectors))
	} else if len(t.Selectors.Basic) > 0 {
		fmt.Fprintf(&b, "      EventSelectors: %s\n", cfnSelectors(t.Selectors))
	}
	return b.String()
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

func hclList(v []string) string {
	q := make([]string, len(v))
	for i, s := range v {
		q[i] = strconv.Quote(s)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

func jsonQuote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// hclValue writes a JSON document as an HCL expression for jsonencode:
// JSON objects with quoted keys are valid HCL object expressions once
// colons become equals signs, which the encoder below does.
func hclValue(doc, indent string) string {
	var v any
	if json.Unmarshal([]byte(doc), &v) != nil {
		return strconv.Quote(doc)
	}
	return hclOf(v, indent)
}

func hclOf(v any, indent string) string {
	switch t := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var b strings.Builder
		b.WriteString("{\n")
		for _, k := range keys {
			fmt.Fprintf(&b, "%s  %s = %s\n", indent, strconv.Quote(k), hclOf(t[k], indent+"  "))
		}
		b.WriteString(indent + "}")
		return b.String()
	case []any:
		parts := make([]string, len(t))
		for i, e := range t {
			parts[i] = hclOf(e, indent)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case string:
		return strconv.Quote(t)
	case bool:
		return strconv.FormatBool(t)
	case nil:
		return "null"
	default:
		return fmt.Sprint(t)
	}
}

// nothingEmitted is the comment written for a plan with no end state: the
// account passes, or it was not read (or cannot be fixed) and the notes
// say why. Notes hold names read from the account, so each is escaped to
// stay one comment line (a line break in it could otherwise start code).
func nothingEmitted(p Plan) string {
	if len(p.Notes) == 0 && len(p.Unreadable) == 0 {
		return "# nothing to do: account " + commentSafe(p.Account) + " passes CIS 3.1\n"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# nothing emitted for account %s:\n", commentSafe(p.Account))
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
