package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/trailguard/trailguard/deploy"
)

func newDeployCmd() *cobra.Command {
	var o deploy.Options
	var output string
	cmd := &cobra.Command{
		Use:   "deploy",
		Short: "Write the template that keeps the control true: an AWS Config rule and a real-time responder on Lambda",
		Long: `deploy writes what it takes to run the trailguard Lambda function, as a
CloudFormation template (--emit cloudformation, the default) or a Terraform
configuration (--emit terraform). It deploys nothing itself.

Build the function first (Go, for Lambda's provided.al2023 runtime on arm64):

  GOOS=linux GOARCH=arm64 CGO_ENABLED=0 go build -tags lambda.norpc -o bootstrap ./cmd/trailguard-lambda && zip trailguard.zip bootstrap

CloudFormation reads it from S3 (--code-s3-bucket, --code-s3-key: upload it to
a bucket in the region you deploy to); Terraform from the local zip (--code-zip).

One account (the default): deploy in the region where your trails have their
home, in the account to watch. It holds the function (128 MB, arm64), its
execution role with exactly the calls the function makes, a custom AWS Config
rule (periodic at --period, and on every change of an AWS::CloudTrail::Trail;
AWS Config must be recording in that region), an EventBridge rule for the
CloudTrail calls that can switch logging off (StopLogging, DeleteTrail,
UpdateTrail, PutEventSelectors, CreateTrail, StartLogging), and an SNS alert
topic encrypted with SNS's AWS managed KMS key.

An organization (--org): deploy in the AWS Config delegated administrator
(or the management) account, in the region where the trails have their home.
It holds the function, an organization Config rule (AWS Config then runs it
in every account), the default event bus's permission for the organization
(--org-id), and a service-managed StackSet with automatic deployment that
puts in every account of --org-target, in that region, the member role the
function assumes (it trusts only the function's role) and an EventBridge rule
forwarding the account's CloudTrail calls to the central bus. StackSets never
reach the management account: write its part with --management-account (with
the same --auto-remediate and --member-role-name) and deploy that there as a
plain stack, unless the function runs there.

CloudTrail takes the calls that change a trail (StopLogging, UpdateTrail,
DeleteTrail, PutEventSelectors) only in the trail's home region, and they reach
EventBridge there. A trail homed in another region than the function's is
watched in real time only with --regions r1,r2: in each of those regions an
EventBridge rule with the same pattern forwards the calls to the default event
bus of the function's region, through a role allowed only events:PutEvents on
it. A CloudFormation stack is regional: for one account, write the second
template with --forwarder --regions r1,r2 and deploy one stack of it in each of
those regions, with the function stack's CentralEventBusArn output (the
template refuses any other region); with --org the member StackSet gets one
instance per region (the member role only in the function's region), and the
--management-account template is deployed in each region too, with
CentralRegion set. Terraform places the rules with the resources' region
argument (AWS provider 6).

--mutelist gives the rule the exceptions of scan --mutelist: a file, checked
now and embedded in the rule's input parameters (AWS Config takes at most 1024
characters of them, 2048 for an organization rule; a larger list is refused),
or s3://bucket/key, read by the function at each evaluation with s3:GetObject
on that one object, which its role is then allowed (a bucket in another
account must also allow the function's role in its bucket policy).

--scp adds a service control policy that denies cloudtrail:StopLogging,
DeleteTrail, UpdateTrail and PutEventSelectors to every principal whose ARN
matches no --break-glass-role-pattern (it never binds the management account);
--scp-only writes it alone (--emit json for the policy document itself).`,
		Example: `  trailguard deploy --code-s3-bucket my-artifacts --code-s3-key trailguard.zip > trailguard.json
  aws cloudformation deploy --template-file trailguard.json --stack-name trailguard --capabilities CAPABILITY_NAMED_IAM
  trailguard deploy --emit terraform --code-zip trailguard.zip --alert-email sec@example.com -o trailguard.tf
  trailguard deploy --org --org-id o-abcdefghij --org-target r-abcd --code-s3-bucket b --code-s3-key trailguard.zip
  trailguard deploy --code-s3-bucket b --code-s3-key trailguard.zip --mutelist s3://my-config/trailguard/mutelist.yaml
  trailguard deploy --org --management-account > trailguard-management.json
  trailguard deploy --code-s3-bucket b --code-s3-key trailguard.zip --regions us-west-2,eu-west-1 -o trailguard.json
  trailguard deploy --forwarder --regions us-west-2,eu-west-1 -o trailguard-forward.json
  trailguard deploy --scp-only --emit json --break-glass-role-pattern 'arn:aws:iam::*:role/BreakGlass'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.Format = strings.ToLower(strings.TrimSpace(o.Format))
			o.Defaults()
			if err := o.Validate(); err != nil {
				return usageErr("deploy: %v", err)
			}
			if output != "" {
				if err := checkWritableFile(output); err != nil {
					return usageErr("--output: %v", err)
				}
			}
			b, err := deploy.Emit(o)
			if err != nil {
				return err
			}
			if output == "" {
				_, err = cmd.OutOrStdout().Write(b)
				return err
			}
			if err := os.WriteFile(output, b, 0o644); err != nil {
				return fmt.Errorf("write %s: %w", output, err)
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "wrote %s: %s\n", output, deploy.Describe(o))
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Format, "emit", deploy.CloudFormation, "cloudformation or terraform (json: the policy document, with --scp-only)")
	f.StringVarP(&output, "output", "o", "", "write to `FILE` instead of standard output")
	f.StringVar(&o.FunctionName, "function-name", "trailguard", "the function's `NAME`; its roles, topic and rules are named after it")
	f.StringVar(&o.RuleName, "rule-name", "trailguard-cis-3-1", "the AWS Config rule's `NAME`")
	f.StringVar(&o.CodeS3Bucket, "code-s3-bucket", "", "CloudFormation: the S3 `BUCKET` holding the zipped bootstrap (same region as the stack)")
	f.StringVar(&o.CodeS3Key, "code-s3-key", "", "CloudFormation: the `KEY` of the zipped bootstrap in that bucket")
	f.StringVar(&o.CodeZip, "code-zip", "", "Terraform: the local `PATH` of the zipped bootstrap")
	f.StringVar(&o.Period, "period", deploy.DefaultPeriod, "how often AWS Config runs the rule: "+strings.Join(deploy.Periods, ", "))
	f.BoolVar(&o.Strict, "strict", false, "a trail that excludes management event sources (KMS, RDS Data API) does not count")
	f.StringVar(&o.AlertEmail, "alert-email", "", "subscribe this e-mail `ADDRESS` to the alert topic (AWS asks it to confirm)")
	f.StringVar(&o.AutoRemediate, "auto-remediate", "", "start-logging: the function restarts a stopped multi-region trail (its only write)")
	f.BoolVar(&o.Org, "org", false, "deploy for every account of the organization (see above)")
	f.StringVar(&o.OrgID, "org-id", "", "with --org: the organization `ID` (o-…) whose accounts may forward events")
	f.StringSliceVar(&o.OrgTargets, "org-target", nil, "with --org: root (r-…) or organizational unit (ou-…) `IDS` the member StackSet deploys to")
	f.StringVar(&o.MemberRoleName, "member-role-name", "trailguard-member", "with --org: the role `NAME` the function assumes in every account")
	f.BoolVar(&o.DelegatedAdmin, "delegated-admin", true, "with --org: the stack runs in a delegated administrator (StackSets called as DELEGATED_ADMIN); false for the management account")
	f.BoolVar(&o.ManagementAccount, "management-account", false, "with --org: write the member role and event forwarding for the management account, which StackSets never reach")
	f.StringVar(&o.Mutelist, "mutelist", "", "the rule's exceptions: a mutelist `FILE` embedded in the rule, or s3://bucket/key read by the function")
	f.StringSliceVar(&o.Regions, "regions", nil, "other `REGIONS` (comma-separated) whose CloudTrail calls are forwarded to the function's region")
	f.BoolVar(&o.Forwarder, "forwarder", false, "one account, CloudFormation: write the template that forwards from --regions, to deploy in each of them")
	f.BoolVar(&o.SCP, "scp", false, "add a service control policy that denies switching CloudTrail off")
	f.BoolVar(&o.SCPOnly, "scp-only", false, "write the service control policy alone")
	// An array, not a comma-separated list: IAM role names may hold commas.
	f.StringArrayVar(&o.BreakGlass, "break-glass-role-pattern", []string{deploy.DefaultBreakGlass}, "with --scp: aws:PrincipalARN `PATTERN` (ArnNotLike) the policy exempts; repeat for several")
	f.StringSliceVar(&o.SCPTargets, "scp-target", nil, "with --scp: root, OU or account `IDS` to attach the policy to (none: created, not attached)")
	return cmd
}
