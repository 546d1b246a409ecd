// Package awscli is the JSON of the AWS CLI for the commands trailguard
// reads and the one it writes: what `aws sts get-caller-identity`,
// `aws organizations describe-account`, `aws ec2 describe-regions`,
// `aws cloudtrail describe-trails`, `get-trail-status`,
// `get-event-selectors` and `lookup-events` print, and what `aws cloudtrail
// put-event-selectors` takes. It is the one model of that JSON in the
// product, with its conversions to and from the domain types:
//
//   - evidence/ reads and writes the evidence directory, whose files are
//     exactly this output (Decode, Marshal);
//   - fix/ prints AWS CLI commands, and emits CloudFormation, whose
//     selector property names are the CLI's (PutEventSelectors).
//
// It is a package of its own, not part of evidence/, because the planner
// needs the shape and nothing of the evidence directory's file handling;
// it does no I/O and imports only the domain.
//
// Reading is exact (see Decode): keys are matched as the CLI prints them,
// never twice, and a member the CLI always prints and on which the verdict
// depends (tagged `cli:"required"`) must be there and not null. The
// emulator in internal/awsemu keeps a model of its own on purpose: it is
// the test oracle, and the real AWS CLI, talking to both, keeps the two
// honest.
package awscli
