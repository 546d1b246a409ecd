package fix

import (
	"context"

	"github.com/trailguard/trailguard"
)

// Operations are the few AWS calls a fix makes in one account. The
// package owns this interface, so that planning and orchestration stay
// free of the SDK and can be tested against a fake; aws.Fixer implements
// it over the SDK, bound to one account's configuration. A caller that is
// not the CLI (a Lambda, a test) hands its own implementation to Run.
type Operations interface {
	// ReadBucket reads, in this run, what a plan needs to know of the
	// bucket a new trail would use: whether it exists and, if it does,
	// its policy, public access block, default encryption and (when
	// lifecycle is true) whether it has a lifecycle configuration. A
	// read that does not answer definitely returns a *ReadError naming
	// the permission it needs; "does not exist" is an answer.
	ReadBucket(ctx context.Context, name string, lifecycle bool) (BucketFacts, error)
	// ReadKey reads, in this run, whether a KMS key exists in the
	// account's region, its ARN and its policy, with the same rule for
	// reads that do not answer.
	ReadKey(ctx context.Context, id string) (KeyFacts, error)
	// ReadTrustedAccess reads, in this run, whether CloudTrail
	// (CloudTrailPrincipal) has trusted access to the caller's
	// organization, which an organization trail needs; a read that does
	// not answer returns a *ReadError.
	ReadTrustedAccess(ctx context.Context) (bool, error)
	// Rescan reads the account again after the changes, as a scan does.
	Rescan(ctx context.Context) trailguard.Account
	Writer
}

// Writer makes one step's change, in the step's region. For
// ActionCreateKMSKey it returns the id of the key it made (the alias
// step that follows names that key); for every other step, "".
type Writer interface {
	Write(ctx context.Context, st Step) (string, error)
}
