package fix

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
)

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
