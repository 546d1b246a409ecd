package fix

import (
	"errors"
	"fmt"
)

// ReadError is a read a plan depends on that gave no definite answer:
// access denied, throttled beyond the retries, a server error, a network
// failure. Only a definite "does not exist" (NoSuchBucket, NoSuchBucketPolicy,
// a KMS NotFoundException, the "no such configuration" codes of S3) counts
// as an answer; anything else stops the plan for the account, because a
// write over a state that was not read could replace what it does not know
// (a bucket policy's Deny statements, an SSE-KMS default, a key policy).
type ReadError struct {
	// Action is the IAM action that would let the read succeed, e.g.
	// s3:GetBucketPolicy.
	Action string
	// Resource names what was read: a bucket, a KMS key, a trail ARN.
	Resource string
	Err      error
}

func (e *ReadError) Error() string {
	return fmt.Sprintf("could not read %s (%s): %v", e.Resource, e.Action, e.Err)
}

func (e *ReadError) Unwrap() error { return e.Err }

// Unread is one read that stopped a plan, as the report shows it.
type Unread struct {
	Resource   string `json:"resource"`
	Permission string `json:"permission"`
	Error      string `json:"error"`
}

// PublicAccessBlock is a bucket's public access block as read.
type PublicAccessBlock struct {
	BlockPublicAcls, IgnorePublicAcls, BlockPublicPolicy, RestrictPublicBuckets bool
}

// all reports whether every setting is on.
func (p *PublicAccessBlock) all() bool {
	return p != nil && p.BlockPublicAcls && p.IgnorePublicAcls && p.BlockPublicPolicy && p.RestrictPublicBuckets
}

// Stopped is the plan of an account whose state could not be read: no
// step, the reads that failed, and a note that says which permission would
// let them succeed. A dry run shows the same.
func Stopped(account string, errs ...error) Plan {
	p := Plan{Account: account, Steps: []Step{}}
	for _, err := range errs {
		var re *ReadError
		if errors.As(err, &re) {
			p.Unreadable = append(p.Unreadable, Unread{Resource: re.Resource, Permission: re.Action, Error: re.Err.Error()})
			p.Notes = append(p.Notes, fmt.Sprintf("%s: nothing is planned, because a change to what was not read could replace it; grant %s (see 'trailguard iam-policy --fix')", re.Error(), re.Action))
			continue
		}
		p.Unreadable = append(p.Unreadable, Unread{Error: err.Error()})
		p.Notes = append(p.Notes, err.Error()+": nothing is planned")
	}
	return p
}
