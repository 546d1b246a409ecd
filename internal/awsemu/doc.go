// Package awsemu is a wire-level AWS emulator: an http.Handler that the
// unmodified aws-sdk-go-v2 and the unmodified AWS CLI talk to through their
// endpoint override (BaseEndpoint, --endpoint-url, AWS_ENDPOINT_URL).
//
// It speaks the protocols of the services trailguard reads and fixes —
// CloudTrail, Organizations, KMS, AWS Config and EventBridge (JSON 1.1),
// STS, EC2 and SNS (query), S3 (REST-XML), Security Hub (REST-JSON) — and
// holds many accounts and regions at once, so that a test
// can build an organization with shadow trails, organization trails,
// opted-out regions, expired keys and failing deliveries, and watch the real
// client libraries deal with them.
//
// Every mutating call is recorded as the CloudTrail event AWS would write
// (Events); EventBridge rules deliver matching events to Lambda targets
// over HTTP, and AWS Config custom rules invoke their function there too
// (SetLambdaEndpoint: an httptest server or the Lambda runtime interface
// emulator), so the continuous control runs end to end on one machine.
// CloudTrail LookupEvents serves that record back as event history (90
// days, two requests a second per account and region), and SeedHistory
// gives the accounts a past consistent with their trails now.
//
// Trails deliver to their S3 buckets as CloudTrail does when DeliverLogs
// is called (cmd/awsemu calls it every five minutes): gzipped log files of
// the recorded events and, with log file validation on, hourly digest
// files signed with a per-region RSA key that ListPublicKeys serves, in
// the documented key layout, so that `aws cloudtrail validate-logs` checks
// them as it checks AWS's. SeedDeliveries writes days of such files at
// once for benchmarks (EnsureTrailBuckets creates the buckets trails
// seeded with PutTrail name). S3 serves what reading and tampering with
// them needs: listing (V1 and V2), user metadata, copy with metadata
// replaced, ranges and deletes.
//
// Requests are routed by the SigV4 credential scope in the Authorization
// header (Credential=AKID/DATE/REGION/SERVICE/aws4_request): SERVICE picks
// the protocol, REGION the region, and the access key the account.
// Signatures are not verified; keys, session tokens, expiry and region
// opt-in are, and fail with the error each service returns for them.
//
// The emulator keeps its own model of AWS on purpose — its own request and
// response types, its own event-selector validation, its own policy
// evaluation — and imports none of the product's packages (the domain,
// the awscli package's AWS CLI JSON model, fix's policies; only the generic
// internal/wildcard matcher is shared). It is the test oracle:
// if it shared the product's model, a mistake in that model would be made
// twice and pass every test. The real AWS CLI, a client written by AWS,
// talks to it in the tests and keeps both honest.
package awsemu
