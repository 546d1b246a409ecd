package awsemu

import (
	"slices"
	"strings"
)

// readableBucket returns the bucket a read by c may use: its owner's
// always; another account's when the bucket policy allows the caller
// action on resource and denies it nothing. That is how an auditor's or
// a member account reads an organization's log bucket: a statement with
// Principal {"AWS": account, root ARN or the caller's role} or "*",
// Action s3:GetObject / s3:ListBucket / s3:GetBucketLocation, conditions
// aws:PrincipalOrgID and aws:PrincipalAccount. A statement with any other
// condition key is not applied (the emulator cannot tell whether the
// request meets it), so it grants nothing. The caller's own IAM policies
// are not modelled: same-account callers are allowed, as the owner.
// Writes stay with the owner (ownBucket). Called with e.mu held.
func (e *Emulator) readableBucket(c *call, name, action, resource string) (*bucket, *apiError) {
	b, err := e.ownBucket(c, name)
	if err == nil || b != nil || err.Code != "AccessDenied" {
		return b, err
	}
	b = e.buckets[name]
	allowed := false
	for _, s := range parseBucketPolicy(b.policy).statements {
		if !e.principalMatches(s.Principal, c) || !anyAction(strs(s.Action), action) || !anyResource(strs(s.Resource), resource) ||
			!e.callerConditionsMet(s.Condition, c) {
			continue
		}
		switch s.Effect {
		case "Deny":
			return nil, err
		case "Allow":
			allowed = true
		}
	}
	if !allowed {
		return nil, err
	}
	return b, nil
}

// principalMatches reports whether a policy Principal names the caller:
// "*", its account id or root ARN, its ARN, or for a role session the
// role's ARN.
func (e *Emulator) principalMatches(p any, c *call) bool {
	var names []string
	switch v := p.(type) {
	case string:
		names = []string{v}
	case map[string]any:
		names = strs(v["AWS"])
	}
	acct := c.account()
	mine := []string{"*", acct, "arn:aws:iam::" + acct + ":root", c.cred.arn}
	if rest, ok := strings.CutPrefix(c.cred.arn, "arn:aws:sts::"+acct+":assumed-role/"); ok {
		role, _, _ := strings.Cut(rest, "/")
		mine = append(mine, "arn:aws:iam::"+acct+":role/"+role)
	}
	for _, n := range names {
		if slices.Contains(mine, n) {
			return true
		}
	}
	return false
}

// callerConditionsMet evaluates the condition keys a cross-account read
// grant uses; any other key makes the statement not apply.
func (e *Emulator) callerConditionsMet(cond map[string]map[string]any, c *call) bool {
	for op, kv := range cond {
		if op != "StringEquals" && op != "StringLike" {
			return false
		}
		for key, want := range kv {
			var got string
			switch strings.ToLower(key) {
			case "aws:principalorgid":
				if a := e.accounts[c.account()]; a != nil && a.org != "" && e.orgs[a.org] != nil {
					got = e.orgs[a.org].id
				}
			case "aws:principalaccount":
				got = c.account()
			default:
				return false
			}
			if got == "" || !anyResource(strs(want), got) {
				return false
			}
		}
	}
	return true
}
