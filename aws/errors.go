package aws

import (
	"context"
	"errors"
	"fmt"
	"net"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go"
)

// principal is who made a call, so that a denied call can say where the
// missing permission must be granted: the caller's own identity, or the
// role assumed in a member account.
type principal struct {
	account string // the account the call was made in, when known
	role    string // the member role's ARN; "" for the caller's identity
}

// caller is the caller's own identity, in account (when known).
func caller(account string) principal { return principal{account: account} }

// memberRole is the role roleARN assumed in member account account.
func memberRole(account, roleARN string) principal {
	return principal{account: account, role: roleARN}
}

// describeErr turns an SDK error into one line a person can act on: the
// operation, the AWS error code and message, plus what to do next. op
// starts with the IAM action the call needs ("cloudtrail:DescribeTrails in
// us-east-1"); who says who made it; ctx is the context the call ran
// under, whose cause says which deadline ended it. It is the one place
// errors of AWS calls are worded, so that every access denial names the
// permission, where it must be granted and the iam-policy command that
// prints it.
func describeErr(ctx context.Context, op string, who principal, err error) string {
	if err == nil {
		return ""
	}
	// A deadline ends a dial or a read as a network error too: the
	// deadline, not the network, is then what to act on.
	if errors.Is(err, context.DeadlineExceeded) {
		return op + ": " + deadlineHint(ctx)
	}
	var api smithy.APIError
	if errors.As(err, &api) {
		code := api.ErrorCode()
		msg := fmt.Sprintf("%s: %s: %s", op, code, api.ErrorMessage())
		hint := hintFor(code)
		if isAccessDenied(code) {
			hint = deniedHint(op, who, api.ErrorMessage())
		}
		if hint != "" {
			msg += " (" + hint + ")"
		}
		var maxAttempts *retry.MaxAttemptsError
		if errors.As(err, &maxAttempts) {
			msg += fmt.Sprintf(" [gave up after %d attempts; --max-attempts sets how many]", maxAttempts.Attempt)
		}
		return msg
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		if region, ok := unknownRegionInHost(dnsErr.Name); ok {
			return fmt.Sprintf("%s: %s is not a known AWS region%s: %v (check --region, AWS_REGION and the profile's region)", op, region, didYouMean(region), unwrapAll(err))
		}
	}
	var opErr *net.OpError
	if dnsErr != nil || errors.As(err, &opErr) {
		return fmt.Sprintf("%s: cannot reach the AWS endpoint: %v (check the network, --endpoint-url and AWS_ENDPOINT_URL)", op, unwrapAll(err))
	}
	if errors.Is(err, context.Canceled) {
		return op + ": cancelled"
	}
	var maxAttempts *retry.MaxAttemptsError
	if errors.As(err, &maxAttempts) {
		return fmt.Sprintf("%s: gave up after %d attempts: %v", op, maxAttempts.Attempt, unwrapAll(err))
	}
	s := err.Error()
	if strings.Contains(s, "failed to retrieve credentials") || strings.Contains(s, "no EC2 IMDS role found") {
		return op + ": no AWS credentials found (set AWS_PROFILE or use --profile, run 'aws configure' or 'aws sso login')"
	}
	return fmt.Sprintf("%s: %v", op, err)
}

func hintFor(code string) string {
	switch code {
	case "ExpiredToken", "ExpiredTokenException", "RequestExpired":
		return "the credentials have expired: refresh them, for example with 'aws sso login'"
	case "InvalidClientTokenId", "UnrecognizedClientException", "InvalidAccessKeyId", "AuthFailure", "SignatureDoesNotMatch":
		return "the credentials are not valid for this endpoint: check the profile and keys"
	case "ThrottlingException", "Throttling", "RequestLimitExceeded", "TooManyRequestsException":
		return "throttled by AWS after retries: try again, or lower --concurrency"
	}
	return ""
}

// isAccessDenied reports whether code is one of the codes AWS services
// answer a denied call with (JSON services, query services, EC2).
func isAccessDenied(code string) bool {
	switch code {
	case "AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "UnauthorizedAccess", "AuthorizationError", "AccessDeniedFault":
		return true
	}
	return false
}

// deniedAction finds the action AWS names in an access-denied message
// ("... is not authorized to perform: cloudtrail:GetTrailStatus on ...").
var deniedAction = regexp.MustCompile(`perform: ([A-Za-z0-9-]+:[A-Za-z0-9]+)`)

// deniedHint says, for an access denial, which permission is missing, who
// must be granted it, and the 'trailguard iam-policy' command that prints
// the policy; for a denial no IAM policy can lift (a service or resource
// control policy), it says so and where it must change instead. AWS's
// messages say which kind of policy denied ("with an explicit deny in a
// service control policy", "because no identity-based policy allows ...").
func deniedHint(op string, who principal, message string) string {
	action, _, _ := strings.Cut(op, " ")
	if m := deniedAction.FindStringSubmatch(message); m != nil {
		action = m[1]
	}
	account := "the account"
	if who.account != "" {
		account = "account " + who.account
	}
	// An SCP limits the principal's account; assuming a member's role is
	// the caller's call, made from the caller's account. An RCP limits
	// the resource's account: for AssumeRole, the member's role.
	scpAccount, subject := account, grantee(who, account)
	if action == "sts:AssumeRole" {
		scpAccount, subject = "the caller's account", "the caller's identity"
	}
	lower := strings.ToLower(message)
	switch {
	case strings.Contains(lower, "service control policy"):
		return fmt.Sprintf("denied by a service control policy of AWS Organizations: no IAM policy lifts it; the service control policies over %s, attached to it, to its OUs or to the root, must allow %s: a change made in AWS Organizations from the management account", scpAccount, action)
	case strings.Contains(lower, "resource control policy"):
		return fmt.Sprintf("denied by a resource control policy of AWS Organizations: no IAM policy lifts it; the resource control policies over %s must allow %s: a change made in AWS Organizations from the management account", account, action)
	case strings.Contains(lower, "permissions boundary"):
		return fmt.Sprintf("denied by the permissions boundary of %s: the boundary must allow %s as well as its policy; see %s", subject, action, policyCommand(action, who))
	case strings.Contains(lower, "session policy"):
		return fmt.Sprintf("denied by the session policy of %s: the credentials were issued with a narrower policy than the role's; request them without it or with %s allowed", subject, action)
	case strings.Contains(lower, "explicit deny"):
		return fmt.Sprintf("an explicit Deny refuses %s to %s: remove it, since no Allow overrides it; see %s", action, subject, policyCommand(action, who))
	}
	if action == "sts:AssumeRole" {
		role := "the member role"
		if who.role != "" {
			role = who.role
		}
		return fmt.Sprintf("the caller's identity needs sts:AssumeRole on %s, and that role must exist and trust the caller's account (and --external-id, if its trust policy requires one); see %s", role, policyCommand(action, who))
	}
	return fmt.Sprintf("grant %s to %s; see %s", action, grantee(who, account), policyCommand(action, who))
}

// grantee names who a permission must be granted to.
func grantee(who principal, account string) string {
	if who.role != "" {
		return "role " + who.role
	}
	return "the caller's identity in " + account
}

// policyCommand is the 'trailguard iam-policy' command that prints the
// policy holding action for who: organization-wide calls are the
// caller's, in the management account (--org); a member role's are
// --member-role; writes are a fix's (--fix).
func policyCommand(action string, who principal) string {
	service, name, _ := strings.Cut(action, ":")
	var flags []string
	switch {
	case service == "organizations" || action == "sts:AssumeRole":
		flags = append(flags, "--org")
	case service == "securityhub":
		flags = append(flags, "--securityhub")
	case !strings.HasPrefix(name, "Describe") && !strings.HasPrefix(name, "Get") && !strings.HasPrefix(name, "List") && !strings.HasPrefix(name, "Lookup"):
		flags = append(flags, "--fix")
	default:
		flags = append(flags, "--audit")
	}
	if who.role != "" && flags[0] != "--org" {
		if flags[0] == "--audit" {
			flags = flags[:0]
		}
		flags = append([]string{"--member-role"}, flags...)
	}
	return "'trailguard iam-policy " + strings.Join(flags, " ") + "'"
}

// DeadlineError is the cause a deadline set by a flag ends its context
// with (context.WithTimeoutCause), so that a call it cut short names the
// flag that ran out rather than guessing: --timeout for the whole scan,
// --account-timeout for one account.
type DeadlineError struct {
	Flag  string        // "--timeout", "--account-timeout"
	After time.Duration // the flag's value
}

func (e *DeadlineError) Error() string {
	return fmt.Sprintf("timed out after %s, the %s limit (raise %s)", e.After, e.Flag, e.Flag)
}

// Is makes a DeadlineError a context.DeadlineExceeded, as the deadline it
// stands for.
func (e *DeadlineError) Is(target error) bool { return target == context.DeadlineExceeded }

// WithFlagTimeout is context.WithTimeout whose cause names flag.
func WithFlagTimeout(ctx context.Context, flag string, d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeoutCause(ctx, d, &DeadlineError{Flag: flag, After: d})
}

// deadlineHint says which deadline ended ctx.
func deadlineHint(ctx context.Context) string {
	var de *DeadlineError
	if ctx != nil && errors.As(context.Cause(ctx), &de) {
		return de.Error()
	}
	return "timed out (no answer in time: check the network and the endpoint)"
}

// unwrapAll returns the innermost error, whose message is usually the one
// that says what happened.
func unwrapAll(err error) error {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err
		}
		err = next
	}
}
