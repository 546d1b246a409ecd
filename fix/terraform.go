package fix

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"
)

// Terraform writes the plan's end state as Terraform (AWS provider v5
// resources), for teams that manage the trail as code. An existing trail
// comes with the import command that brings it under Terraform.
//
// The code is built with hclwrite, so every string read from the account
// (names, selector values, policy documents) is written as HCL quotes it:
// a "${" or "%{" in a value stays text and never becomes a template, and
// the layout is the one `terraform fmt` gives.
func Terraform(p Plan) string {
	t := p.Target
	if t == nil {
		return nothingEmitted(p)
	}
	f := hclwrite.NewEmptyFile()
	root := f.Body()
	id := tfIdent(t.Name)
	comment(root, fmt.Sprintf("CIS AWS 3.1 for account %s, written by trailguard fix --emit terraform", p.Account))
	if t.EnableTrustedAccess {
		comment(root, trustedAccessWarning)
		comment(root, "  aws organizations enable-aws-service-access --service-principal "+CloudTrailPrincipal)
	}
	if t.Existing {
		comment(root, "The trail exists: bring it under Terraform first with")
		comment(root, fmt.Sprintf("  terraform import aws_cloudtrail.%s %s", id, t.ARN))
	}
	bid := tfIdent(t.Bucket)
	bucketID := ref("aws_s3_bucket", bid, "id")
	if t.NewBucket {
		b := resource(root, "aws_s3_bucket", bid)
		b.SetAttributeValue("bucket", cty.StringVal(t.Bucket))

		b = resource(root, "aws_s3_bucket_public_access_block", bid)
		b.SetAttributeTraversal("bucket", bucketID)
		for _, a := range []string{"block_public_acls", "ignore_public_acls", "block_public_policy", "restrict_public_buckets"} {
			b.SetAttributeValue(a, cty.True)
		}

		b = resource(root, "aws_s3_bucket_server_side_encryption_configuration", bid)
		b.SetAttributeTraversal("bucket", bucketID)
		b.AppendNewBlock("rule", nil).Body().
			AppendNewBlock("apply_server_side_encryption_by_default", nil).Body().
			SetAttributeValue("sse_algorithm", cty.StringVal("AES256"))

		if t.TransitionDays > 0 || t.ExpireDays > 0 {
			b = resource(root, "aws_s3_bucket_lifecycle_configuration", bid)
			b.SetAttributeTraversal("bucket", bucketID)
			rule := b.AppendNewBlock("rule", nil).Body()
			rule.SetAttributeValue("id", cty.StringVal("trailguard-log-retention"))
			rule.SetAttributeValue("status", cty.StringVal("Enabled"))
			rule.AppendNewBlock("filter", nil).Body().SetAttributeValue("prefix", cty.StringVal("AWSLogs/"))
			if t.TransitionDays > 0 {
				tr := rule.AppendNewBlock("transition", nil).Body()
				tr.SetAttributeValue("days", cty.NumberIntVal(int64(t.TransitionDays)))
				tr.SetAttributeValue("storage_class", cty.StringVal("GLACIER"))
			}
			if t.ExpireDays > 0 {
				rule.AppendNewBlock("expiration", nil).Body().SetAttributeValue("days", cty.NumberIntVal(int64(t.ExpireDays)))
			}
		}
	}
	// References are written only in code that creates what they name.
	refs, used := tfRefs{}, tfRefs{}
	if !t.Existing {
		refs = policyRefs(p.Account, t, bid)
	}
	if t.BucketPolicy != "" && !t.Existing {
		b := resource(root, "aws_s3_bucket_policy", bid)
		used = refs
		if t.NewBucket {
			b.SetAttributeTraversal("bucket", bucketID)
		} else {
			b.SetAttributeValue("bucket", cty.StringVal(t.Bucket))
		}
		b.SetAttributeRaw("policy", jsonencodeWith(t.BucketPolicy, refs))
	}
	if t.NewKey {
		b := resource(root, "aws_kms_key", "cloudtrail")
		b.SetAttributeValue("description", cty.StringVal("trailguard: CloudTrail log files"))
		b.SetAttributeValue("enable_key_rotation", cty.True)
		b.SetAttributeRaw("policy", jsonencodeWith(t.KeyPolicy, refs))
		used = refs

		b = resource(root, "aws_kms_alias", "cloudtrail")
		b.SetAttributeValue("name", cty.StringVal(t.KMSKey))
		b.SetAttributeTraversal("target_key_id", ref("aws_kms_key", "cloudtrail", "key_id"))
	}

	root.AppendNewline()
	if t.InsightSelectors {
		comment(root, insightWarning)
	}
	trail := root.AppendNewBlock("resource", []string{"aws_cloudtrail", id}).Body()
	trail.SetAttributeValue("name", cty.StringVal(t.Name))
	if t.NewBucket {
		// A reference, so that Terraform creates the bucket first.
		trail.SetAttributeTraversal("s3_bucket_name", bucketID)
	} else {
		trail.SetAttributeValue("s3_bucket_name", cty.StringVal(t.Bucket))
	}
	for _, a := range []string{"is_multi_region_trail", "enable_logging", "include_global_service_events"} {
		trail.SetAttributeValue(a, cty.True)
	}
	trail.SetAttributeValue("enable_log_file_validation", cty.BoolVal(t.LogFileValidation))
	if t.Org {
		trail.SetAttributeValue("is_organization_trail", cty.True)
	}
	for _, kv := range []struct{ k, v string }{{"s3_key_prefix", t.S3KeyPrefix}, {"sns_topic_name", t.SNSTopic},
		{"cloud_watch_logs_group_arn", t.CloudWatchLogsGroupARN}, {"cloud_watch_logs_role_arn", t.CloudWatchLogsRoleARN}} {
		if kv.v != "" {
			trail.SetAttributeValue(kv.k, cty.StringVal(kv.v))
		}
	}
	switch {
	case t.NewKey:
		trail.SetAttributeTraversal("kms_key_id", ref("aws_kms_key", "cloudtrail", "arn"))
	case t.KMSKey != "":
		trail.SetAttributeValue("kms_key_id", cty.StringVal(t.KMSKey))
	}
	if t.NewBucket || (!t.Existing && t.BucketPolicy != "") {
		trail.SetAttributeRaw("depends_on", hclwrite.TokensForTuple([]hclwrite.Tokens{
			hclwrite.TokensForTraversal(ref("aws_s3_bucket_policy", bid))}))
	}
	for _, s := range t.Selectors.Basic {
		trail.AppendNewline()
		sel := trail.AppendNewBlock("event_selector", nil).Body()
		sel.SetAttributeValue("read_write_type", cty.StringVal(s.ReadWriteType))
		sel.SetAttributeValue("include_management_events", cty.BoolVal(s.IncludeManagementEvents))
		if len(s.ExcludeManagementEventSources) > 0 {
			sel.SetAttributeValue("exclude_management_event_sources", stringList(s.ExcludeManagementEventSources))
		}
		for _, d := range s.DataResources {
			dr := sel.AppendNewBlock("data_resource", nil).Body()
			dr.SetAttributeValue("type", cty.StringVal(d.Type))
			dr.SetAttributeValue("values", stringList(d.Values))
		}
	}
	for _, a := range t.Selectors.Advanced {
		trail.AppendNewline()
		sel := trail.AppendNewBlock("advanced_event_selector", nil).Body()
		if a.Name != "" {
			sel.SetAttributeValue("name", cty.StringVal(a.Name))
		}
		for _, fs := range a.FieldSelectors {
			field := sel.AppendNewBlock("field_selector", nil).Body()
			field.SetAttributeValue("field", cty.StringVal(fs.Field))
			for _, kv := range []struct {
				k string
				v []string
			}{{"equals", fs.Equals}, {"not_equals", fs.NotEquals}, {"starts_with", fs.StartsWith}, {"not_starts_with", fs.NotStartsWith}, {"ends_with", fs.EndsWith}, {"not_ends_with", fs.NotEndsWith}} {
				if len(kv.v) > 0 {
					field.SetAttributeValue(kv.k, stringList(kv.v))
				}
			}
		}
	}
	for _, d := range used.data() {
		root.AppendNewline()
		root.AppendNewBlock("data", []string{d, "current"})
	}
	return string(hclwrite.Format(f.Bytes()))
}

// tfRef is a literal of the bucket policy and the HCL template text that
// stands for it.
type tfRef struct {
	literal, template string
	// parts are the template for CloudFormation: text, and cfnVar for a
	// pseudo parameter or an attribute of a resource of the template.
	parts []any
}

// tfRefs are the literals of the bucket policy written as references:
// the bucket's ARN as aws_s3_bucket.<name>.arn when the code creates the
// bucket, and the partition, region and account from data sources, so
// that the policy names what Terraform creates, in the account and region
// it applies to. The new trail's ARN is built the same way rather than
// taken from aws_cloudtrail.<name>.arn: the trail depends on the policy
// (CloudTrail checks it on creation), and the reverse reference would be a
// cycle; the AWS provider's own aws_cloudtrail example does the same.
type tfRefs []tfRef

const (
	tfPartition = "${data.aws_partition.current.partition}"
	tfRegion    = "${data.aws_region.current.name}"
	tfAccount   = "${data.aws_caller_identity.current.account_id}"
)

// data lists the data sources the references use.
func (r tfRefs) data() []string {
	var out []string
	for _, d := range []struct{ name, use string }{{"aws_caller_identity", tfAccount}, {"aws_partition", tfPartition}, {"aws_region", tfRegion}} {
		for _, ref := range r {
			if strings.Contains(ref.template, d.use) {
				out = append(out, d.name)
				break
			}
		}
	}
	return out
}

// policyRefs are the references of a new trail's bucket policy. Each
// literal is replaced only when it is exactly what the planner wrote (an
// account id of 12 digits, the ARN of the trail this code creates), so a
// value read from the account is never turned into code.
func policyRefs(account string, t *Target, bid string) tfRefs {
	var refs tfRefs
	if trailARN := fmt.Sprintf("arn:aws:cloudtrail:%s:%s:trail/%s", t.Region, account, t.Name); t.ARN == trailARN && accountID(account) {
		refs = append(refs, tfRef{literal: trailARN, template: "arn:" + tfPartition + ":cloudtrail:" + tfRegion + ":" + tfAccount + ":trail/" + hclQuoted(t.Name)})
	}
	bucketARN := "arn:" + tfPartition + ":s3:::" + hclQuoted(t.Bucket)
	if t.NewBucket {
		bucketARN = "${aws_s3_bucket." + bid + ".arn}"
	}
	refs = append(refs, tfRef{literal: "arn:aws:s3:::" + t.Bucket, template: bucketARN})
	if accountID(account) {
		refs = append(refs, tfRef{literal: "/AWSLogs/" + account + "/", template: "/AWSLogs/" + tfAccount + "/"},
			// The key policy's: the account that administers the key, and
			// the trails that may use it.
			tfRef{literal: "arn:aws:iam::" + account + ":root", template: "arn:" + tfPartition + ":iam::" + tfAccount + ":root"},
			tfRef{literal: "arn:aws:cloudtrail:*:" + account + ":trail/*", template: "arn:" + tfPartition + ":cloudtrail:*:" + tfAccount + ":trail/*"})
	}
	return refs
}

// accountID reports whether s is an AWS account id: 12 digits.
func accountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// template writes s as the text of an HCL quoted template: each literal
// of refs becomes its template, and the text between is escaped as HCL
// escapes it.
func (r tfRefs) template(s string) (string, bool) {
	segs, used := r.split(s)
	var b strings.Builder
	for _, seg := range segs {
		if seg.ref != nil {
			b.WriteString(seg.ref.template)
		} else {
			b.WriteString(hclQuoted(seg.text))
		}
	}
	return b.String(), used
}

// segment is a piece of a string: text, or a literal of a ref.
type segment struct {
	text string
	ref  *tfRef
}

// split cuts s at each literal of refs (the first that matches at a
// position wins; a bucket ARN only where it ends or a path follows) and
// reports whether any matched.
func (r tfRefs) split(s string) ([]segment, bool) {
	var segs []segment
	used := false
	from := 0
	for i := 0; i < len(s); {
		matched := false
		for k := range r {
			ref := &r[k]
			if !strings.HasPrefix(s[i:], ref.literal) {
				continue
			}
			end := i + len(ref.literal)
			if strings.HasPrefix(ref.literal, "arn:aws:s3:::") && end < len(s) && s[end] != '/' {
				continue // another bucket whose name begins with this one's
			}
			if from < i {
				segs = append(segs, segment{text: s[from:i]})
			}
			segs = append(segs, segment{ref: ref})
			i, from, matched, used = end, end, true, true
			break
		}
		if !matched {
			i++
		}
	}
	if from < len(s) {
		segs = append(segs, segment{text: s[from:]})
	}
	return segs, used
}

// hclQuoted is s escaped as the inside of an HCL quoted string (with
// "${" and "%{" escaped, so that it stays text), as hclwrite writes it.
func hclQuoted(s string) string {
	var b strings.Builder
	for _, t := range hclwrite.TokensForValue(cty.StringVal(s)) {
		if t.Type == hclsyntax.TokenQuotedLit {
			b.Write(t.Bytes)
		}
	}
	return b.String()
}

// trustedAccessWarning is written at the top of code for an organization
// trail when CloudTrail was read to have no trusted access to the
// organization. The code does not manage it: the organization's resource
// (aws_organizations_organization) holds every service's access, and code
// that declared only CloudTrail's would remove the others.
const trustedAccessWarning = "CloudTrail has no trusted access to the organization, and the trail cannot be created without it: enable it first with"

// insightWarning is written above an existing trail that has insight
// selectors: the scan does not read them, so the code cannot keep them.
const insightWarning = "The trail has insight selectors, which trailguard does not read: add them here before applying, or applying removes them."

// resource appends a resource block after a blank line and returns its
// body.
func resource(root *hclwrite.Body, typ, name string) *hclwrite.Body {
	root.AppendNewline()
	return root.AppendNewBlock("resource", []string{typ, name}).Body()
}

// comment appends one comment line. hclwrite has no comment builder, so
// the token is made here; the text is escaped to stay on its line (names
// come from the account, and a line break in one could start code).
func comment(body *hclwrite.Body, text string) {
	body.AppendUnstructuredTokens(hclwrite.Tokens{{Type: hclsyntax.TokenComment, Bytes: []byte("# " + commentSafe(text) + "\n")}})
}

// ref is a reference to another resource's attribute, e.g.
// aws_s3_bucket.logs.id.
func ref(root string, attrs ...string) hcl.Traversal {
	tr := hcl.Traversal{hcl.TraverseRoot{Name: root}}
	for _, a := range attrs {
		tr = append(tr, hcl.TraverseAttr{Name: a})
	}
	return tr
}

// stringList is a list of strings as an HCL value.
func stringList(v []string) cty.Value {
	vals := make([]cty.Value, len(v))
	for i, s := range v {
		vals[i] = cty.StringVal(s)
	}
	return cty.TupleVal(vals)
}

// jsonencode writes a JSON document as jsonencode(<HCL value>), which
// Terraform turns back into the same JSON. A document that is not JSON
// (never the case for the policies the planner writes) is kept as one
// string.
func jsonencode(doc string) hclwrite.Tokens { return jsonencodeWith(doc, nil) }

// jsonencodeWith is jsonencode with the string values that hold a
// literal of refs written as templates that reference it.
func jsonencodeWith(doc string, refs tfRefs) hclwrite.Tokens {
	dec := json.NewDecoder(strings.NewReader(doc))
	dec.UseNumber()
	var v any
	if !json.Valid([]byte(doc)) || dec.Decode(&v) != nil {
		return hclwrite.TokensForFunctionCall("jsonencode", hclwrite.TokensForValue(cty.StringVal(doc)))
	}
	return hclwrite.TokensForFunctionCall("jsonencode", jsonTokens(v, refs))
}

// jsonTokens writes a value decoded by encoding/json as an HCL
// expression. It walks the value itself rather than going through go-cty
// and hclwrite.TokensForValue for two reasons: TokensForValue writes an
// object key that looks like an identifier bare, and a bare key such as
// "for" or "null" is read back as a keyword; and a number goes through a
// big float whose decimal text can be enormous (1e999999999), where the
// number as written is a valid HCL literal already. Leaves are written by
// hclwrite, so strings are escaped as HCL escapes them.
func jsonTokens(v any, refs tfRefs) hclwrite.Tokens {
	switch t := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		attrs := make([]hclwrite.ObjectAttrTokens, 0, len(keys))
		for _, k := range keys {
			attrs = append(attrs, hclwrite.ObjectAttrTokens{Name: hclwrite.TokensForValue(cty.StringVal(k)), Value: jsonTokens(t[k], refs)})
		}
		return hclwrite.TokensForObject(attrs)
	case []any:
		elems := make([]hclwrite.Tokens, 0, len(t))
		for _, e := range t {
			elems = append(elems, jsonTokens(e, refs))
		}
		return hclwrite.TokensForTuple(elems)
	case json.Number:
		toks := hclwrite.Tokens{}
		n := string(t)
		if strings.HasPrefix(n, "-") {
			toks = append(toks, &hclwrite.Token{Type: hclsyntax.TokenMinus, Bytes: []byte("-")})
			n = n[1:]
		}
		return append(toks, &hclwrite.Token{Type: hclsyntax.TokenNumberLit, Bytes: []byte(n)})
	case string:
		if tmpl, ok := refs.template(t); ok {
			// The whole quoted template as one token: the file is lexed
			// again by hclwrite.Format before it is written.
			return hclwrite.Tokens{{Type: hclsyntax.TokenOQuote, Bytes: []byte(`"`)}, {Type: hclsyntax.TokenQuotedLit, Bytes: []byte(tmpl)}, {Type: hclsyntax.TokenCQuote, Bytes: []byte(`"`)}}
		}
		return hclwrite.TokensForValue(cty.StringVal(t))
	case bool:
		return hclwrite.TokensForValue(cty.BoolVal(t))
	default: // nil: JSON null
		return hclwrite.TokensForValue(cty.NullVal(cty.DynamicPseudoType))
	}
}
