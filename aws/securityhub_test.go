package aws_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/securityhub"
	shtypes "github.com/aws/aws-sdk-go-v2/service/securityhub/types"

	tgaws "github.com/trailguard/trailguard/aws"
)

func finding(account, region, id string) shtypes.AwsSecurityFinding {
	s := sdkaws.String
	return shtypes.AwsSecurityFinding{
		SchemaVersion: s("2018-10-08"), Id: s(id), GeneratorId: s("trailguard-cis-aws-3.1"), AwsAccountId: s(account),
		ProductArn: s(fmt.Sprintf("arn:aws:securityhub:%s:%s:product/%s/default", region, account, account)),
		Types:      []string{"Software and Configuration Checks"}, CreatedAt: s("2026-11-25T08:00:00Z"), UpdatedAt: s("2026-11-25T08:00:00Z"),
		Severity: &shtypes.Severity{Label: shtypes.SeverityLabelHigh}, Title: s("t"), Description: s("d"),
		Resources: []shtypes.Resource{{Type: s("AwsAccount"), Id: s("AWS::::Account:" + account)}},
	}
}

func TestImportFindings_batches_of_100_from_the_account_they_are_about(t *testing.T) {
	e := newEnv(t)
	e.emu.AddAccount(mgmt)
	e.emu.AddAccount(member)
	e.emu.AddRole(member, tgaws.DefaultRoleName)
	var fs []shtypes.AwsSecurityFinding
	for i := range 250 {
		fs = append(fs, finding(mgmt, "us-east-1", fmt.Sprintf("f-%d", i)))
	}
	fs = append(fs, finding(member, "us-east-1", "member-finding"))
	sum, err := tgaws.ImportFindings(context.Background(), e.config(mgmt, nil), fs, tgaws.OrgOptions{})
	if err != nil || sum.Imported != 251 || len(sum.Failed) != 0 {
		t.Fatalf("imported %d, failed %q, err %v", sum.Imported, sum.Failed, err)
	}
	if got := e.emu.AccountCalls(mgmt)["securityhub:BatchImportFindings"]; got != 3 {
		t.Errorf("%d BatchImportFindings calls from the management account for 250 findings, want 3", got)
	}
	if len(e.emu.Findings(mgmt, "us-east-1")) != 250 || len(e.emu.Findings(member, "us-east-1")) != 1 {
		t.Errorf("stored %d and %d findings", len(e.emu.Findings(mgmt, "us-east-1")), len(e.emu.Findings(member, "us-east-1")))
	}
	// The same Ids again update, not add.
	if _, err := tgaws.ImportFindings(context.Background(), e.config(mgmt, nil), fs[:10], tgaws.OrgOptions{}); err != nil {
		t.Fatal(err)
	}
	if n := len(e.emu.Findings(mgmt, "us-east-1")); n != 250 {
		t.Errorf("%d findings after re-import, want 250", n)
	}
}

func TestImportFindings_refusals_are_reported(t *testing.T) {
	e := newEnv(t)
	e.emu.AddAccount(mgmt)
	e.emu.AddAccount(member) // no role to assume
	bad := finding(mgmt, "eu-west-1", "wrong-region")
	sum, err := tgaws.ImportFindings(context.Background(), e.config(mgmt, nil), []shtypes.AwsSecurityFinding{bad, finding(member, "us-east-1", "m")}, tgaws.OrgOptions{})
	if err != nil {
		t.Fatal(err)
	}
	joined := strings.Join(sum.Failed, "\n")
	if sum.Imported != 0 || !strings.Contains(joined, "wrong-region") || !strings.Contains(joined, "account "+member) {
		t.Errorf("imported %d, failed %q", sum.Imported, sum.Failed)
	}
}

// The emulator refuses what Security Hub refuses: more than 100 findings,
// another account's finding, a finding filed for another region.
func TestEmulator_BatchImportFindings_checks(t *testing.T) {
	e := newEnv(t)
	c := e.emu.AddAccount(mgmt)
	client := securityhub.NewFromConfig(tgaws.StaticConfig(e.url, "us-east-1", c.AccessKeyID, c.SecretAccessKey, "", nil))
	var many []shtypes.AwsSecurityFinding
	for i := range 101 {
		many = append(many, finding(mgmt, "us-east-1", fmt.Sprint(i)))
	}
	_, err := client.BatchImportFindings(context.Background(), &securityhub.BatchImportFindingsInput{Findings: many})
	var inv *shtypes.InvalidInputException
	if !errorsAs(err, &inv) {
		t.Errorf("101 findings: %v, want InvalidInputException", err)
	}
	// (The SDK itself refuses a finding without its required fields, so
	// that check of the emulator is for other clients.)
	out, err := client.BatchImportFindings(context.Background(), &securityhub.BatchImportFindingsInput{Findings: []shtypes.AwsSecurityFinding{
		finding(mgmt, "eu-west-1", "other-region"), finding(member, "us-east-1", "other-account"), finding(mgmt, "us-east-1", "good"),
	}})
	if err != nil {
		t.Fatal(err)
	}
	if sdkaws.ToInt32(out.SuccessCount) != 1 || sdkaws.ToInt32(out.FailedCount) != 2 {
		t.Errorf("success %d failed %d: %+v", sdkaws.ToInt32(out.SuccessCount), sdkaws.ToInt32(out.FailedCount), out.FailedFindings)
	}
}

func errorsAs[T error](err error, target *T) bool { return errors.As(err, target) }
