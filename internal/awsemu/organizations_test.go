package awsemu_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"

	"github.com/trailguard/trailguard/internal/awsemu"
)

// TestTrustedAccess proves, through the SDK, the organization's trusted
// access as an organization trail depends on it: off in a new
// organization, listed once enabled, idempotent, refused to members and to
// accounts outside any organization, and on once an organization trail is
// seeded (no organization trail exists without it).
func TestTrustedAccess(t *testing.T) {
	const ct = "cloudtrail.amazonaws.com"
	list := func(t *testing.T, e *env, c awsemu.Credentials) ([]string, error) {
		t.Helper()
		out, err := e.org(c).ListAWSServiceAccessForOrganization(ctx, &organizations.ListAWSServiceAccessForOrganizationInput{})
		if err != nil {
			return nil, err
		}
		var got []string
		for _, p := range out.EnabledServicePrincipals {
			if p.DateEnabled == nil {
				t.Errorf("%s has no DateEnabled", aws.ToString(p.ServicePrincipal))
			}
			got = append(got, aws.ToString(p.ServicePrincipal))
		}
		return got, nil
	}
	enable := func(e *env, c awsemu.Credentials, p string) error {
		_, err := e.org(c).EnableAWSServiceAccess(ctx, &organizations.EnableAWSServiceAccessInput{ServicePrincipal: aws.String(p)})
		return err
	}
	t.Run("new_organization_has_none", func(t *testing.T) {
		e := newEnv(t)
		m := e.emu.AddAccount(mgmt)
		e.emu.SetOrganization(mgmt, member)
		got, err := list(t, e, m)
		must(t, err)
		if len(got) != 0 {
			t.Errorf("trusted access %v in a new organization, want none", got)
		}
	})
	t.Run("enabled_is_listed_once", func(t *testing.T) {
		e := newEnv(t)
		m := e.emu.AddAccount(mgmt)
		e.emu.SetOrganization(mgmt, member)
		must(t, enable(e, m, ct))
		must(t, enable(e, m, ct))
		got, err := list(t, e, m)
		must(t, err)
		if len(got) != 1 || got[0] != ct {
			t.Errorf("trusted access %v, want [%s]", got, ct)
		}
	})
	t.Run("member_may_neither_list_nor_enable", func(t *testing.T) {
		e := newEnv(t)
		e.emu.AddAccount(mgmt)
		mem := e.emu.AddAccount(member)
		e.emu.SetOrganization(mgmt, member)
		_, err := list(t, e, mem)
		wantErr[*orgtypes.AccessDeniedException](t, err)
		wantErr[*orgtypes.AccessDeniedException](t, enable(e, mem, ct))
	})
	t.Run("account_outside_any_organization", func(t *testing.T) {
		e := newEnv(t)
		alone := e.emu.AddAccount(acctA)
		_, err := list(t, e, alone)
		wantErr[*orgtypes.AWSOrganizationsNotInUseException](t, err)
	})
	t.Run("principal_that_is_not_a_service", func(t *testing.T) {
		e := newEnv(t)
		m := e.emu.AddAccount(mgmt)
		e.emu.SetOrganization(mgmt)
		wantErr[*orgtypes.InvalidInputException](t, enable(e, m, "not a principal"))
	})
	t.Run("seeded_organization_trail_implies_it", func(t *testing.T) {
		e := newEnv(t)
		m, _, _ := e.orgTrail(t, true)
		got, err := list(t, e, m)
		must(t, err)
		if len(got) != 1 || got[0] != ct {
			t.Errorf("trusted access %v beside an organization trail, want [%s]", got, ct)
		}
	})
	t.Run("disabled_by_the_test_hook", func(t *testing.T) {
		e := newEnv(t)
		m, _, _ := e.orgTrail(t, true)
		e.emu.SetTrustedAccess(mgmt, ct, false)
		got, err := list(t, e, m)
		must(t, err)
		if len(got) != 0 {
			t.Errorf("trusted access %v after it was turned off, want none", got)
		}
	})
}
