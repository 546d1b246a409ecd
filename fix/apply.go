package fix

import (
	"context"
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
		for attempt := 1; err != nil && attempt <= 4 && strings.Contains(err.Error(), "InsufficientS3BucketPolicyException"); attempt++ {
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
