package main

import (
	"encoding/json"
	"fmt"
	"slices"

	"github.com/spf13/cobra"

	tgaws "github.com/trailguard/trailguard/aws"
)

// iamPolicy is an IAM policy document.
type iamPolicy struct {
	Version   string         `json:"Version"`
	Statement []iamStatement `json:"Statement"`
}

type iamStatement struct {
	Sid      string   `json:"Sid"`
	Effect   string   `json:"Effect"`
	Action   []string `json:"Action"`
	Resource any      `json:"Resource"`
}

func newIAMPolicyCmd() *cobra.Command {
	var org, memberRole, securityHub, fixMode, validateLogs bool
	logBucket := "*"
	roleName := tgaws.DefaultRoleName
	cmd := &cobra.Command{
		Use:   "iam-policy",
		Short: "Print the least-privilege IAM policy a scan needs",
		Long: `iam-policy prints the IAM policy document that lets 'trailguard scan' run
with nothing more: the read-only CloudTrail and EC2 calls of one account, plus,
with --org, listing the organization and assuming the member role, and with
--securityhub, importing findings. --member-role prints the policy of the role
assumed in each member account instead.`,
		Example: `  trailguard iam-policy > trailguard-audit.json
  trailguard iam-policy --org --role-name AuditRole
  trailguard iam-policy --member-role --securityhub
  trailguard iam-policy --fix`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			p := auditPolicy(org && !memberRole, securityHub, roleName)
			if fixMode {
				p.Statement = append(p.Statement, fixStatements(org && !memberRole)...)
			}
			if validateLogs {
				p.Statement = append(p.Statement, validateLogsStatements(logBucket)...)
			}
			b, err := json.MarshalIndent(p, "", "  ")
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), string(b))
			return nil
		},
	}
	f := cmd.Flags()
	f.Bool("audit", true, "the policy of a scan (the default)")
	f.BoolVar(&fixMode, "fix", false, "add what 'trailguard fix --apply' needs to change trails and create their bucket")
	f.BoolVar(&org, "org", false, "add what 'scan --org' needs in the management account")
	f.BoolVar(&memberRole, "member-role", false, "print the permissions of the role assumed in member accounts")
	f.BoolVar(&securityHub, "securityhub", false, "add securityhub:BatchImportFindings for 'scan --securityhub'")
	f.StringVar(&roleName, "role-name", roleName, "with --org: the member role `NAME` the caller may assume")
	f.BoolVar(&validateLogs, "validate-logs", false, "add what 'trailguard validate-logs' needs: cloudtrail:ListPublicKeys,\norganizations:DescribeOrganization, s3:ListBucket and s3:GetObject on the trail's bucket")
	f.StringVar(&logBucket, "log-bucket", logBucket, "with --validate-logs: the trail's `BUCKET` (default: every bucket)")
	return cmd
}

// auditPolicy builds the policy from the action lists package aws keeps
// beside the calls: the scan's own read calls, the organization calls when
// org, and the import when securityHub.
func auditPolicy(org, securityHub bool, roleName string) iamPolicy {
	p := iamPolicy{Version: "2012-10-17", Statement: []iamStatement{
		{Sid: "TrailguardReadTrails", Effect: "Allow", Action: slices.Clone(tgaws.ScanActions), Resource: "*"},
	}}
	// sts:GetCallerIdentity needs no permission: AWS always allows it.
	if org {
		p.Statement[0].Action = append(p.Statement[0].Action, tgaws.OrganizationActions...)
		p.Statement = append(p.Statement, iamStatement{Sid: "TrailguardAssumeMemberRole", Effect: "Allow",
			Action: slices.Clone(tgaws.AssumeRoleActions), Resource: "arn:aws:iam::*:role/" + roleName})
	}
	if securityHub {
		p.Statement = append(p.Statement, iamStatement{Sid: "TrailguardImportFindings", Effect: "Allow",
			Action: slices.Clone(tgaws.ImportActions), Resource: "*"})
	}
	return p
}

// fixStatements are what 'fix --apply' needs beyond a scan, from the lists
// beside the calls (aws/fixer.go); with org, also what
// --organization-trail calls in the management account.
func fixStatements(org bool) []iamStatement {
	st := []iamStatement{
		{Sid: "TrailguardFixTrails", Effect: "Allow", Action: slices.Clone(tgaws.FixTrailActions), Resource: "*"},
		{Sid: "TrailguardFixTrailBucket", Effect: "Allow", Action: slices.Clone(tgaws.FixBucketActions), Resource: "arn:aws:s3:::*"},
		{Sid: "TrailguardFixTrailKey", Effect: "Allow", Action: slices.Clone(tgaws.FixKeyActions), Resource: "*"},
	}
	if org {
		st = append(st, iamStatement{Sid: "TrailguardFixOrganizationTrail", Effect: "Allow", Action: append(slices.Clone(tgaws.DescribeOrganizationActions), tgaws.FixOrganizationTrailActions...), Resource: "*"})
	}
	return st
}
