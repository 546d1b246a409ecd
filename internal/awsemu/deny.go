package awsemu

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/trailguard/trailguard/internal/wildcard"
)

// Deny makes every call whose IAM action matches one of the patterns
// ("s3:GetBucketPolicy", "kms:Get*", "*") fail with the service's
// access-denied error, for every caller of every account, as an explicit
// Deny in a service control policy would. Patterns match as IAM matches
// actions: * and ? wildcards, case-insensitive. sts:GetCallerIdentity is
// never denied, as in AWS. With no patterns, nothing is denied.
func (e *Emulator) Deny(patterns ...string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.denied = nil
	for _, p := range patterns {
		if p = strings.TrimSpace(p); p != "" {
			e.denied = append(e.denied, strings.ToLower(p))
		}
	}
}

// ValidAction reports whether pattern has the shape of an IAM action
// pattern: service:action, each part letters, digits, - and the * and ?
// wildcards, or * alone.
func ValidAction(pattern string) error {
	if pattern == "*" {
		return nil
	}
	svc, act, ok := strings.Cut(pattern, ":")
	if !ok || svc == "" || act == "" {
		return fmt.Errorf("%q is not an IAM action (service:Action, wildcards * and ? allowed)", pattern)
	}
	for _, r := range svc + act {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '*' || r == '?') {
			return fmt.Errorf("%q is not an IAM action: %q is not allowed", pattern, r)
		}
	}
	return nil
}

// action is the IAM action a call needs.
func (c *call) action() string {
	if a, ok := s3Actions[c.op]; ok && c.service == "s3" {
		return "s3:" + a
	}
	return c.service + ":" + c.op
}

// checkDeny applies Deny. Called with e.mu held.
func (e *Emulator) checkDeny(c *call) *apiError {
	action := c.action()
	if len(e.denied) == 0 || action == "sts:GetCallerIdentity" {
		return nil
	}
	lower := strings.ToLower(action)
	for _, p := range e.denied {
		if wildcard.Match(p, lower) {
			return accessDenied(c, action, "with an explicit deny in a service control policy")
		}
	}
	return nil
}

// accessDenied is the access-denied error of c's service: JSON services
// answer 400 AccessDeniedException, the query and REST ones 403 with
// their own code.
func accessDenied(c *call, action, why string) *apiError {
	status, code := http.StatusBadRequest, "AccessDeniedException"
	switch c.service {
	case "sts", "s3":
		status, code = http.StatusForbidden, "AccessDenied"
	case "ec2":
		status, code = http.StatusForbidden, "UnauthorizedOperation"
	}
	arn := ""
	if c.cred != nil {
		arn = c.cred.arn
	}
	return errorf(status, code, "User: %s is not authorized to perform: %s %s", arn, action, why)
}

// faultStatus is the HTTP status AWS answers an error code with, for a
// fault injected without one: server faults 5xx, access denied 403 in the
// REST and query protocols, "no such" answers of S3 404, the rest 400.
func faultStatus(service, code string) int {
	switch code {
	case "ServiceUnavailable", "ServiceUnavailableException", "SlowDown", "DependencyTimeoutException":
		return http.StatusServiceUnavailable
	case "InternalError", "InternalFailure", "InternalServerError", "InternalServerException", "KMSInternalException", "InternalException":
		return http.StatusInternalServerError
	case "AccessDenied", "UnauthorizedOperation", "InvalidAccessKeyId", "SignatureDoesNotMatch":
		if service != "cloudtrail" && service != "kms" && service != "organizations" && service != "securityhub" {
			return http.StatusForbidden
		}
	case "NotFound":
		return http.StatusNotFound
	}
	if service == "s3" && strings.HasPrefix(code, "NoSuch") {
		return http.StatusNotFound
	}
	return http.StatusBadRequest
}
