package aws

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go"
)

// describeErr turns an SDK error into one line a person can act on: the
// AWS error code and message, plus what to do next for the common causes.
func describeErr(op string, err error) string {
	if err == nil {
		return ""
	}
	var api smithy.APIError
	if errors.As(err, &api) {
		code := api.ErrorCode()
		msg := fmt.Sprintf("%s: %s: %s", op, code, api.ErrorMessage())
		if hint := hintFor(code); hint != "" {
			msg += " (" + hint + ")"
		}
		var maxAttempts *retry.MaxAttemptsError
		if errors.As(err, &maxAttempts) {
			msg += fmt.Sprintf(" [gave up after %d attempts; --max-attempts sets how many]", maxAttempts.Attempt)
		}
		return msg
	}
	var dnsErr *net.DNSError
	var opErr *net.OpError
	if errors.As(err, &dnsErr) || errors.As(err, &opErr) {
		return fmt.Sprintf("%s: cannot reach the AWS endpoint: %v (check the network, --endpoint-url and AWS_ENDPOINT_URL)", op, unwrapAll(err))
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return op + ": timed out (raise --account-timeout, or check the network)"
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
	case "AccessDenied", "AccessDeniedException", "UnauthorizedOperation":
		return "the caller lacks permission: see 'trailguard iam-policy --audit' for what the scan needs"
	case "ThrottlingException", "Throttling", "RequestLimitExceeded", "TooManyRequestsException":
		return "throttled by AWS after retries: try again, or lower --concurrency"
	}
	return ""
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
