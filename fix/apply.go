package fix

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// PolicyRetryDelay is the first wait before CloudTrail is asked again
// after refusing a bucket policy that was just written; each retry waits
// one more of it (four retries).
var PolicyRetryDelay = time.Second

// Outcome is what applying a plan did.
type Outcome struct {
	Done    []Step
	Failed  *Step
	Err     error
	NotDone []Step
}

// Apply runs the steps in order through w and stops at the first that
// fails. Nothing is ever deleted. CloudTrail may refuse a bucket for a few
// seconds after its policy changed (InsufficientS3BucketPolicyException):
// that is retried with backoff.
//
// A write depends on a read: every step of a plan was planned from the
// state read in this run (the scan for trails, ReadBucket and ReadKey for
// the bucket and the key), and a plan that was stopped by a read that
// failed (Unreadable) is not run at all, even if steps were added to it
// by hand.
func Apply(ctx context.Context, w Writer, p Plan) Outcome {
	var out Outcome
	if len(p.Unreadable) > 0 {
		out.Err = fmt.Errorf("nothing was applied: %s could not be read in this run", p.Unreadable[0].Resource)
		out.NotDone = p.Steps
		return out
	}
	created := "" // the key ActionCreateKMSKey made, for the steps after it
	for i, st := range p.Steps {
		if st.Action == ActionAliasKMSKey && created != "" {
			st.Document = created // the key the alias names
		}
		id, err := write(ctx, w, st)
		for attempt := 1; err != nil && attempt <= 4 && refusedPolicy(err); attempt++ {
			select {
			case <-ctx.Done():
			case <-time.After(time.Duration(attempt) * PolicyRetryDelay):
			}
			id, err = write(ctx, w, st)
		}
		if err != nil {
			st := st
			out.Failed, out.Err = &st, err
			out.NotDone = p.Steps[i+1:]
			return out
		}
		if st.Action == ActionCreateKMSKey {
			created = id
			// The undo names the key that was made, not a shell variable.
			st.Undo = fmt.Sprintf("aws kms schedule-key-deletion --key-id %s --region %s  # the key did not exist before; only once no log file needs it", sh(id), sh(st.Region))
		}
		out.Done = append(out.Done, st)
	}
	return out
}

// write makes one step's call, its error named by the API call.
func write(ctx context.Context, w Writer, st Step) (string, error) {
	id, err := w.Write(ctx, st)
	if err != nil {
		return "", fmt.Errorf("%s: %w", st.API, err)
	}
	return id, nil
}

// refusedPolicy reports whether CloudTrail refused a bucket policy, which
// it may do for a few seconds after the policy was written.
func refusedPolicy(err error) bool {
	code, _ := awsError(err)
	return code == "InsufficientS3BucketPolicyException" || strings.Contains(err.Error(), "InsufficientS3BucketPolicyException")
}

// apiError is what the SDK's errors for an AWS answer carry
// (smithy.APIError); it is matched by its methods so that this package
// stays free of the SDK.
type apiError interface {
	ErrorCode() string
	ErrorMessage() string
}

// awsError is the error code and message AWS answered with, "" when the
// failure was not an answer from AWS.
func awsError(err error) (code, msg string) {
	var ae apiError
	if errors.As(err, &ae) {
		return ae.ErrorCode(), ae.ErrorMessage()
	}
	return "", ""
}

// explain says in words why a step failed: the AWS error code and its
// message, with what it usually means for the codes a fix meets; or that
// no answer came (the timeout, a cancellation, the network).
func explain(err error) (code, words string) {
	code, msg := awsError(err)
	switch {
	case code != "":
		words = "AWS refused it with " + code
		if msg != "" {
			words += ": " + msg
		}
		switch hint := codeHints[code]; {
		case strings.Contains(msg, "service control policy"):
			// No IAM policy of the account lifts it.
			words += " (a service control policy of the organization denies it, which no IAM policy of the account can lift: ask the organization's administrators)"
		case hint != "":
			words += " (" + hint + ")"
		}
	case errors.Is(err, context.DeadlineExceeded):
		words = "no answer before the time ran out (raise --timeout): " + err.Error()
	case errors.Is(err, context.Canceled):
		words = "the run was cancelled before AWS answered: " + err.Error()
	default:
		words = "no answer from AWS (network or endpoint): " + err.Error()
	}
	return code, words
}

// codeHints say what the error codes a fix meets usually mean.
var codeHints = map[string]string{
	"AccessDenied":                           "the credentials lack this permission, or a service control policy denies it: see 'trailguard iam-policy --fix'",
	"AccessDeniedException":                  "the credentials lack this permission, or a service control policy denies it: see 'trailguard iam-policy --fix'",
	"InsufficientS3BucketPolicyException":    "the bucket policy does not let CloudTrail write to the bucket",
	"InsufficientEncryptionPolicyException":  "the KMS key policy does not let CloudTrail use the key",
	"CloudTrailAccessNotEnabledException":    "CloudTrail has no trusted access to the organization",
	"BucketAlreadyExists":                    "another AWS account owns a bucket of that name: choose one with --bucket",
	"TrailAlreadyExistsException":            "a trail of that name exists: choose another with --trail-name",
	"MaximumNumberOfTrailsExceededException": "the region already has the most trails CloudTrail allows",
}

// summarize says in one sentence what applying did: how many of the
// steps were done, and which failed.
func summarize(a *Applied, total int) string {
	if a.Error == "" {
		return fmt.Sprintf("all %d steps were done", total)
	}
	done := "nothing was changed"
	if n := len(a.Done); n > 0 {
		done = fmt.Sprintf("%d of %d steps were done (%s)", n, total, joinActions(a.Done))
	}
	s := fmt.Sprintf("%s; step %d, %s", done, len(a.Done)+1, a.Failed)
	if a.FailedAPI != "" {
		s += " (" + a.FailedAPI + ")"
	}
	// The error code says it in short; the words are in Error.
	if a.ErrorCode != "" {
		s += ", failed: AWS refused it with " + a.ErrorCode
	} else {
		s += ", failed: " + a.Error
	}
	if n := len(a.NotDone); n > 0 {
		s += fmt.Sprintf("; %d not tried (%s)", n, joinActions(a.NotDone))
	}
	return s
}

func joinActions(as []Action) string {
	s := make([]string, len(as))
	for i, a := range as {
		s[i] = string(a)
	}
	return strings.Join(s, ", ")
}
