package awsemu

import (
	"strings"

	"github.com/trailguard/trailguard/internal/wildcard"
)

// AllowOnly gives every principal of an account exactly the listed IAM
// actions ("cloudtrail:DescribeTrails", wildcards like "cloudtrail:Get*"
// allowed); any other call fails with the service's access-denied error.
// Actions match as IAM matches them, as Deny does: * and ? wildcards
// anywhere, case-insensitive. sts:GetCallerIdentity is always allowed, as
// in AWS. With no actions the
// account is unrestricted again. It is a deliberately simple model —
// actions only, no resources or conditions — for proving that a tool
// works with the permissions it documents.
func (e *Emulator) AllowOnly(account string, actions ...string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	a := e.ensureAccount(account)
	if len(actions) == 0 {
		a.allowed = nil
		return
	}
	a.allowed = make([]string, 0, len(actions))
	for _, p := range actions {
		a.allowed = append(a.allowed, strings.ToLower(p))
	}
}

// checkPermission applies AllowOnly. Called with e.mu held.
func (e *Emulator) checkPermission(c *call) *apiError {
	a := e.accounts[c.account()]
	if a == nil || a.allowed == nil {
		return nil
	}
	action := c.action()
	if action == "sts:GetCallerIdentity" {
		return nil
	}
	lower := strings.ToLower(action)
	for _, p := range a.allowed {
		if wildcard.Match(p, lower) {
			return nil
		}
	}
	return accessDenied(c, action, "because no identity-based policy allows the "+action+" action")
}

// s3Actions names the IAM action of S3 operations whose action is not the
// operation's name.
var s3Actions = map[string]string{
	"HeadBucket":                      "ListBucket",
	"ListObjects":                     "ListBucket",
	"ListObjectsV2":                   "ListBucket",
	"ListBuckets":                     "ListAllMyBuckets",
	"PutPublicAccessBlock":            "PutBucketPublicAccessBlock",
	"GetPublicAccessBlock":            "GetBucketPublicAccessBlock",
	"PutBucketEncryption":             "PutEncryptionConfiguration",
	"GetBucketEncryption":             "GetEncryptionConfiguration",
	"PutBucketLifecycleConfiguration": "PutLifecycleConfiguration",
	"GetBucketLifecycleConfiguration": "GetLifecycleConfiguration",
	"GetBucketLocation":               "GetBucketLocation",
}
