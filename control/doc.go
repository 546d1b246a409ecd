// Package control keeps CIS AWS Foundations 3.1 true between scans: it is
// the logic of the trailguard Lambda function, kept out of cmd/ so that it
// is tested in-process against the emulator, through the SDK, exactly as
// the function runs.
//
// One handler serves two kinds of event:
//
//   - an AWS Config custom rule event (periodic, or a configuration change
//     of an AWS::CloudTrail::Trail): the account is scanned and the verdict
//     reported with PutEvaluations on the AWS::::Account resource. Only
//     PASS is COMPLIANT: UNKNOWN and ERROR are NON_COMPLIANT with the
//     reason, since a rule that says COMPLIANT when it could not read is a
//     false pass. An organization custom rule runs as a member rule in every account
//     and invokes this one function with the member's account and a token
//     of the member's rule: the member is read through the member role
//     (executionRoleName), and its evaluation is written through the same
//     role, since a token is good only in its rule's account. The rule's
//     mutelist parameter mutes an account to NOT_APPLICABLE with who and
//     why (a MUTED result is not a pass); a mutelist that cannot be read
//     is an ERROR;
//   - an EventBridge "AWS API Call via CloudTrail" event for a call that can
//     change the control (StopLogging, DeleteTrail, ...): the account is
//     scanned at once and, when it no longer passes, one SNS alert says who
//     did what, when and from where, with the verdict and the fix command;
//     the Config rule is asked to evaluate again (an organization rule's
//     member rule in that account, found by its generated name through
//     the member role). With auto-remediation on,
//     the one write it may make is StartLogging on the multi-region trail
//     the event stopped, after reading that it is not logging.
//
// The configservice, sns and s3 clients live here, not in packages the CLI
// imports, so that the CLI's binary does not carry them.
package control
