package aws_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/trailguard/trailguard"
	tgaws "github.com/trailguard/trailguard/aws"
)

// TestMemberRole proves that the organization scan and remediation reach a
// member account through the same assumed role: the role name defaults to
// OrganizationAccountAccessRole, and an external ID the role's trust
// policy requires is presented by both (a role that requires one refuses
// a caller without it).
func TestMemberRole(t *testing.T) {
	const role = "Audit"
	cases := []struct {
		name       string
		roleName   string // role created in the member
		optRole    string // OrgOptions.RoleName
		required   string // external ID the role requires
		externalID string // OrgOptions.ExternalID
		wantDenied bool
	}{
		{name: "default_role_name", roleName: tgaws.DefaultRoleName},
		{name: "named_role", roleName: role, optRole: role},
		{name: "external_id_presented", roleName: role, optRole: role, required: "secret-123", externalID: "secret-123"},
		{name: "external_id_missing", roleName: role, optRole: role, required: "secret-123", wantDenied: true},
		{name: "external_id_wrong", roleName: role, optRole: role, required: "secret-123", externalID: "other-456", wantDenied: true},
		{name: "role_absent", roleName: "Other", optRole: role, wantDenied: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.putTrail(t, mgmt, multiRegion("org", "us-east-1"))
			e.emu.AddAccount(member)
			e.emu.SetOrganization(mgmt, member)
			e.emu.AddRole(member, tc.roleName)
			if tc.required != "" {
				e.emu.RequireExternalID(member, tc.roleName, tc.required)
			}
			opts := tgaws.OrgOptions{RoleName: tc.optRole, ExternalID: tc.externalID}
			ctx := context.Background()

			// Scan: the member's account is read through the role.
			got, err := tgaws.NewScanner().ScanOrganization(ctx, e.config(mgmt, nil), opts)
			if err != nil {
				t.Fatal(err)
			}
			var scanned *trailguard.Account
			for i := range got.Accounts {
				if got.Accounts[i].ID == member {
					scanned = &got.Accounts[i]
				}
			}
			if scanned == nil {
				t.Fatalf("member %s not scanned: %+v", member, got.Accounts)
			}
			if denied := strings.Contains(scanned.Error, "AssumeRole"); denied != tc.wantDenied {
				t.Errorf("scan: member error %q, want denied=%v", scanned.Error, tc.wantDenied)
			}

			// Fix: MemberConfig's credentials are the member's.
			id, err := sts.NewFromConfig(tgaws.MemberConfig(e.config(mgmt, nil), member, opts)).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
			if tc.wantDenied {
				if err == nil || !strings.Contains(err.Error(), "AccessDenied") {
					t.Errorf("fix: GetCallerIdentity as member: %v, want AccessDenied", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("fix: GetCallerIdentity as member: %v", err)
			}
			if got := *id.Account; got != member {
				t.Errorf("fix: credentials of account %s, want %s", got, member)
			}
			if !strings.Contains(*id.Arn, "/"+tc.roleName+"/trailguard") {
				t.Errorf("fix: caller %s, want role %s with session name trailguard", *id.Arn, tc.roleName)
			}
		})
	}
}
