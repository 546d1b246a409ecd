// Package fix plans and applies the smallest change that makes an account
// pass CIS 3.1. The planner is pure: from the scanned account, its verdict
// and a few facts about the destination bucket, it returns ordered steps,
// each with why, the API call and the equivalent AWS CLI command. It
// prefers fixing the trail that exists (start it, widen its selectors,
// make it multi-region) over creating one, keeps every data-event selector,
// merges into a bucket policy instead of replacing it, and never deletes.
//
// The package does not talk to AWS itself: Run (plan, read, plan again,
// apply, rescan) reaches the account through Operations, the few calls a
// fix makes, which the package owns and aws.Fixer implements over the
// SDK. So the CLI and any other caller (a Lambda) run the same use case,
// and its rules are tested here against a fake.
//
// A write depends on a read. No step writes a resource (bucket, bucket
// policy, public access block, encryption, lifecycle, key policy, trail,
// selectors) whose current state was not read in this run: a trail's
// status and selectors come from the scan, a bucket's and a key's from
// Operations.ReadBucket and ReadKey, each marked Read. A read that did
// not answer definitely ("does not exist" is an answer; access denied,
// throttling and server errors are not) stops the plan for the account,
// and the plan names the permission that would let it read (Stopped).
// An account whose verdict is UNKNOWN gets no plan at all: creating a
// trail beside one that could not be read would pay for a second copy of
// every management event. Undo hints are computed from what was read:
// they restore the previous document, and never delete what existed
// before.
package fix
