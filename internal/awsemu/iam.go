package awsemu

import "strings"

// AllowOnly gives every principal of an account exactly the listed IAM
// actions ("cloudtrail:DescribeTrails", wildcards like "cloudtrail:Get*"
// allowed); any other call fails with the service's access-denied error.
// sts:GetCallerIdentity is always allowed, as in AWS. With no actions the
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
	a.allowed = append([]string(nil), actions...)
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
	for _, p := range a.allowed {
		if p == action || p == "*" || (strings.HasSuffix(p, "*") && strings.HasPrefix(action, strings.TrimSuffix(p, "*"))) {
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
	"ListBuckets":                     "ListAllMyBuckets",
	"PutPublicAccessBlock":            "PutBucketPublicAccessBlock",
	"GetPublicAccessBlock":            "GetBucketPublicAccessBlock",
	"PutBucketEncryption":             "PutEncryptionConfiguration",
	"GetBucketEncryption":             "GetEncryptionConfiguration",
	"PutBucketLifecycleConfiguration": "PutLifecycleConfiguration",
	"GetBucketLifecycleConfiguration": "GetLifecycleConfiguration",
	"GetBucketLocation":               "GetBucketLocation",
}
