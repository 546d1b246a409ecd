package awsemu

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"

	"github.com/trailguard/trailguard/internal/wildcard"
)

// checkTrailDestination is where CreateTrail and UpdateTrail validate the
// trail's destination, as AWS does: the S3 bucket must exist
// (S3BucketDoesNotExistException), and its policy must let
// cloudtrail.amazonaws.com read the bucket ACL and write the trail's log
// files (InsufficientS3BucketPolicyException); a KMS key must pass
// checkTrailKey. Called with e.mu held.
func (e *Emulator) checkTrailDestination(c *call, t *trail) *apiError {
	b := e.buckets[t.bucket]
	if b == nil {
		return errorf(http.StatusBadRequest, "S3BucketDoesNotExistException", "S3 bucket %s does not exist.", t.bucket)
	}
	key := "AWSLogs/" + t.account + "/CloudTrail/x"
	if t.prefix != "" {
		key = t.prefix + "/" + key
	}
	keys := []string{key}
	if t.org {
		if org := e.orgs[t.account]; org != nil {
			keys = append(keys, strings.Replace(key, "AWSLogs/"+t.account+"/", "AWSLogs/"+org.id+"/", 1))
		}
	}
	p := parseBucketPolicy(b.policy)
	ok := p.allows("s3:GetBucketAcl", "arn:aws:s3:::"+t.bucket, t)
	for _, k := range keys {
		ok = ok && p.allows("s3:PutObject", "arn:aws:s3:::"+t.bucket+"/"+k, t)
	}
	if !ok {
		return errorf(http.StatusBadRequest, "InsufficientS3BucketPolicyException", "Incorrect S3 bucket policy is detected for bucket: %s", t.bucket)
	}
	return e.checkTrailKey(t)
}

type policyStatement struct {
	Effect    string
	Principal any
	Action    any
	Resource  any
	Condition map[string]map[string]any
}

type bucketPolicy struct{ statements []policyStatement }

func parseBucketPolicy(doc string) bucketPolicy {
	var raw struct{ Statement json.RawMessage }
	if json.Unmarshal([]byte(doc), &raw) != nil || raw.Statement == nil {
		return bucketPolicy{}
	}
	var list []policyStatement
	if json.Unmarshal(raw.Statement, &list) != nil {
		var one policyStatement
		if json.Unmarshal(raw.Statement, &one) != nil {
			return bucketPolicy{}
		}
		list = []policyStatement{one}
	}
	return bucketPolicy{statements: list}
}

// allows reports whether an Allow statement for the CloudTrail service
// principal covers action on resource, with its aws:SourceArn and
// aws:SourceAccount conditions (if any) met by the trail. Other condition
// keys are taken as met: CloudTrail's request satisfies them (it writes
// with the bucket-owner-full-control ACL).
func (p bucketPolicy) allows(action, resource string, t *trail) bool {
	for _, s := range p.statements {
		if s.Effect != "Allow" || !cloudTrailPrincipal(s.Principal) || !anyAction(strs(s.Action), action) || !anyResource(strs(s.Resource), resource) {
			continue
		}
		if conditionsMet(s.Condition, t) {
			return true
		}
	}
	return false
}

func cloudTrailPrincipal(p any) bool {
	switch v := p.(type) {
	case string:
		return v == "*"
	case map[string]any:
		if aws, ok := v["AWS"]; ok && slices.Contains(strs(aws), "*") {
			return true
		}
		for _, s := range strs(v["Service"]) {
			if s == "cloudtrail.amazonaws.com" {
				return true
			}
		}
	}
	return false
}

func conditionsMet(cond map[string]map[string]any, t *trail) bool {
	for op, kv := range cond {
		for key, want := range kv {
			var got string
			switch strings.ToLower(key) {
			case "aws:sourcearn":
				got = t.arn
			case "aws:sourceaccount":
				got = t.account
			case "kms:encryptioncontext:aws:cloudtrail:arn":
				got = t.arn
			default:
				continue
			}
			like := strings.Contains(op, "Like")
			matched := false
			for _, w := range strs(want) {
				if w == got || (like && wildcard.Match(w, got)) {
					matched = true
				}
			}
			if !matched {
				return false
			}
		}
	}
	return true
}

func strs(v any) []string {
	switch t := v.(type) {
	case string:
		return []string{t}
	case []any:
		var out []string
		for _, e := range t {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// anyAction reports whether one of the patterns matches an IAM action.
// Action names are case-insensitive in IAM ("s3:putobject" is
// s3:PutObject).
func anyAction(patterns []string, action string) bool {
	for _, p := range patterns {
		if wildcard.Match(strings.ToLower(p), strings.ToLower(action)) {
			return true
		}
	}
	return false
}

// anyResource reports whether one of the patterns matches a resource ARN.
// Resource ARNs are case-sensitive in IAM: an object key prefix
// "awslogs/" does not cover CloudTrail's "AWSLogs/".
func anyResource(patterns []string, resource string) bool {
	for _, p := range patterns {
		if wildcard.Match(p, resource) {
			return true
		}
	}
	return false
}
