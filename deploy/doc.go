// Package deploy writes what it takes to keep CIS AWS Foundations 3.1 true
// between scans — the trailguard Lambda function as an AWS Config rule and
// as the target of the CloudTrail API calls that can switch logging off —
// as a CloudFormation template or a Terraform configuration, for one
// account or an organization, with an optional service control policy.
//
// The templates are built as data (maps for CloudFormation, marshalled with
// encoding/json; hclwrite for Terraform) so that every value a user gives
// reaches the output through that format's own escaping, never by string
// concatenation. The function's permissions come from the lists in
// actions.go, proved against the function in the emulator by this
// package's tests. The package imports neither the Config, SNS nor Lambda
// clients: the CLI that embeds it stays small.
package deploy
