package aws_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"

	"github.com/trailguard/trailguard"
	tgaws "github.com/trailguard/trailguard/aws"
	"github.com/trailguard/trailguard/internal/awsemu"
)

// env is an emulator on a loopback HTTP server, reached by the real SDK.
type env struct {
	emu *awsemu.Emulator
	url string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	emu := awsemu.New()
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	return &env{emu: emu, url: srv.URL}
}

// scan scans one account with a fresh scanner and counter.
func (e *env) scan(t *testing.T, account string) (trailguard.Account, map[string]int) {
	t.Helper()
	counter := tgaws.NewCallCounter()
	acct := tgaws.NewScanner().ScanAccount(context.Background(), e.config(account, counter))
	return acct, counter.Counts()
}

func (e *env) config(account string, counter *tgaws.CallCounter) sdkaws.Config {
	c := e.emu.AddAccount(account)
	return tgaws.StaticConfig(e.url, "us-east-1", c.AccessKeyID, c.SecretAccessKey, c.SessionToken, counter)
}

func (e *env) putTrail(t *testing.T, account string, spec awsemu.TrailSpec) string {
	t.Helper()
	e.emu.AddAccount(account)
	arn, err := e.emu.PutTrail(account, spec)
	if err != nil {
		t.Fatalf("seed trail %s: %v", spec.Name, err)
	}
	return arn
}

func multiRegion(name, home string) awsemu.TrailSpec {
	return awsemu.TrailSpec{Name: name, HomeRegion: home, S3BucketName: "bucket-" + name,
		IsMultiRegion: true, IncludeGlobalServiceEvents: true, Logging: true}
}

const (
	acct   = "123456789012"
	mgmt   = "210987654321"
	member = "333344445555"
)

func TestScanAccount_one_multi_region_trail_costs_five_calls(t *testing.T) {
	e := newEnv(t)
	arn := e.putTrail(t, acct, multiRegion("main", "us-west-2"))
	// Asking anywhere but the home region would fail: the scan must go there.
	e.emu.InjectFault(awsemu.Fault{Service: "cloudtrail", Operation: "GetTrailStatus", Region: "us-east-1", Code: "InvalidHomeRegionException", Message: "wrong region", HTTPStatus: 400})
	e.emu.InjectFault(awsemu.Fault{Service: "cloudtrail", Operation: "GetEventSelectors", Region: "us-east-1", Code: "InvalidHomeRegionException", Message: "wrong region", HTTPStatus: 400})

	got, calls := e.scan(t, acct)
	want := map[string]int{
		"sts:GetCallerIdentity":        1,
		"ec2:DescribeRegions":          1,
		"cloudtrail:DescribeTrails":    1,
		"cloudtrail:GetTrailStatus":    1,
		"cloudtrail:GetEventSelectors": 1,
	}
	if len(calls) != len(want) {
		t.Errorf("calls %v, want %v", calls, want)
	}
	for k, n := range want {
		if calls[k] != n {
			t.Errorf("%s = %d, want %d (all: %v)", k, calls[k], n, calls)
		}
	}
	if got.ID != acct || len(got.Trails) != 1 || got.Trails[0].ARN != arn || got.Trails[0].HomeRegion != "us-west-2" {
		t.Fatalf("account %+v", got)
	}
	res := trailguard.Evaluate(got, trailguard.Options{})
	if res.Status != trailguard.StatusPass || res.CoveringTrail != arn {
		t.Fatalf("status %s covering %q reasons %q", res.Status, res.CoveringTrail, res.Reasons)
	}
	if len(res.Regions) == 0 || len(res.UncoveredRegions()) != 0 {
		t.Errorf("regions %+v", res.Regions)
	}
}

func TestScanAccount(t *testing.T) {
	basicRO := `{"EventSelectors":[{"ReadWriteType":"ReadOnly","IncludeManagementEvents":true}]}`
	advanced := `{"AdvancedEventSelectors":[{"Name":"m","FieldSelectors":[{"Field":"eventCategory","Equals":["Management"]}]}]}`
	tests := []struct {
		name      string
		seed      func(t *testing.T, e *env)
		want      trailguard.Status
		reasonHas string
		calls     map[string]int // checked when set
	}{
		{
			name: "no_trail",
			seed: func(t *testing.T, e *env) { e.emu.AddAccount(acct) },
			want: trailguard.StatusFail, reasonHas: "DescribeTrails lists no trail",
			calls: map[string]int{"cloudtrail:GetTrailStatus": 0, "cloudtrail:DescribeTrails": 1},
		},
		{
			name: "stopped_multi_region_trail",
			seed: func(t *testing.T, e *env) {
				s := multiRegion("main", "us-east-1")
				s.Logging = false
				e.putTrail(t, acct, s)
			},
			want: trailguard.StatusFail, reasonHas: "not logging",
		},
		{
			name: "read_only_selectors",
			seed: func(t *testing.T, e *env) {
				s := multiRegion("main", "eu-west-1")
				s.EventSelectorsJSON = basicRO
				e.putTrail(t, acct, s)
			},
			want: trailguard.StatusFail, reasonHas: "read-only",
		},
		{
			name: "advanced_selectors_all_management",
			seed: func(t *testing.T, e *env) {
				s := multiRegion("main", "eu-west-1")
				s.EventSelectorsJSON = advanced
				e.putTrail(t, acct, s)
			},
			want: trailguard.StatusPass,
		},
		{
			// DescribeTrails lists single-region trails of the region asked
			// only; one elsewhere is invisible and cannot pass anyway.
			name: "single_region_trail_in_another_region_is_not_listed",
			seed: func(t *testing.T, e *env) {
				s := multiRegion("local", "eu-west-1")
				s.IsMultiRegion = false
				e.putTrail(t, acct, s)
			},
			want: trailguard.StatusFail, reasonHas: "no multi-region trail",
		},
		{
			name: "single_region_trail_read_for_the_region_table",
			seed: func(t *testing.T, e *env) {
				s := multiRegion("local", "us-east-1")
				s.IsMultiRegion = false
				e.putTrail(t, acct, s)
			},
			want: trailguard.StatusFail, reasonHas: "no multi-region trail",
			calls: map[string]int{"cloudtrail:GetTrailStatus": 1, "cloudtrail:GetEventSelectors": 1},
		},
		{
			name: "single_region_trail_not_read_when_account_passes",
			seed: func(t *testing.T, e *env) {
				s := multiRegion("local", "eu-west-1")
				s.IsMultiRegion = false
				e.putTrail(t, acct, s)
				e.putTrail(t, acct, multiRegion("main", "us-east-1"))
			},
			want:  trailguard.StatusPass,
			calls: map[string]int{"cloudtrail:GetTrailStatus": 1, "cloudtrail:GetEventSelectors": 1},
		},
		{
			name: "access_denied_on_selectors_is_unknown",
			seed: func(t *testing.T, e *env) {
				e.putTrail(t, acct, multiRegion("main", "us-east-1"))
				e.emu.InjectFault(awsemu.Fault{Service: "cloudtrail", Operation: "GetEventSelectors", Code: "AccessDeniedException", Message: "User is not authorized", HTTPStatus: 400})
			},
			want: trailguard.StatusUnknown, reasonHas: "AccessDeniedException",
		},
		{
			name: "describe_trails_denied_is_error",
			seed: func(t *testing.T, e *env) {
				e.putTrail(t, acct, multiRegion("main", "us-east-1"))
				e.emu.InjectFault(awsemu.Fault{Service: "cloudtrail", Operation: "DescribeTrails", Code: "AccessDeniedException", Message: "User is not authorized", HTTPStatus: 400})
			},
			want: trailguard.StatusError, reasonHas: "iam-policy --audit",
		},
		{
			name: "regions_denied_still_passes_with_warning",
			seed: func(t *testing.T, e *env) {
				e.putTrail(t, acct, multiRegion("main", "us-east-1"))
				e.emu.InjectFault(awsemu.Fault{Service: "ec2", Operation: "DescribeRegions", Code: "UnauthorizedOperation", Message: "You are not authorized", HTTPStatus: 403})
			},
			want: trailguard.StatusPass,
		},
		{
			name: "opt_in_region_listed",
			seed: func(t *testing.T, e *env) {
				e.putTrail(t, acct, multiRegion("main", "us-east-1"))
				e.emu.SetOptIn(acct, "af-south-1", "opted-in")
			},
			want: trailguard.StatusPass,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			tc.seed(t, e)
			got, calls := e.scan(t, acct)
			res := trailguard.Evaluate(got, trailguard.Options{})
			if res.Status != tc.want {
				t.Fatalf("status %s, want %s; reasons %q; account %+v", res.Status, tc.want, res.Reasons, got)
			}
			if tc.reasonHas != "" && !strings.Contains(strings.Join(res.Reasons, "\n"), tc.reasonHas) {
				t.Errorf("reasons %q lack %q", res.Reasons, tc.reasonHas)
			}
			for k, n := range tc.calls {
				if calls[k] != n {
					t.Errorf("%s = %d, want %d (all: %v)", k, calls[k], n, calls)
				}
			}
		})
	}
}

func TestScanAccount_opt_in_regions(t *testing.T) {
	e := newEnv(t)
	e.putTrail(t, acct, multiRegion("main", "us-east-1"))
	e.emu.SetOptIn(acct, "af-south-1", "opted-in")
	got, _ := e.scan(t, acct)
	res := trailguard.Evaluate(got, trailguard.Options{})
	seen := map[string]trailguard.RegionCoverage{}
	for _, rc := range res.Regions {
		seen[rc.Region] = rc
	}
	if rc := seen["af-south-1"]; !rc.Enabled || rc.CoveredBy == "" {
		t.Errorf("af-south-1: %+v", rc)
	}
	if rc, ok := seen["me-south-1"]; !ok || rc.Enabled {
		t.Errorf("me-south-1 should be listed as not enabled: %+v (present %v)", rc, ok)
	}
}

func TestScanAccount_organization_trail(t *testing.T) {
	setup := func(t *testing.T, denied bool) (*env, string) {
		e := newEnv(t)
		s := multiRegion("org", "us-east-1")
		s.IsOrganizationTrail = true
		arn := e.putTrail(t, mgmt, s)
		e.emu.AddAccount(member)
		e.emu.SetOrganization(mgmt, member)
		e.emu.SetMemberOrgTrailAccess(denied)
		return e, arn
	}
	t.Run("member_reads_org_trail_by_arn", func(t *testing.T) {
		e, arn := setup(t, false)
		got, _ := e.scan(t, member)
		res := trailguard.Evaluate(got, trailguard.Options{})
		if res.Status != trailguard.StatusPass || res.CoveringTrail != arn {
			t.Fatalf("status %s covering %q reasons %q", res.Status, res.CoveringTrail, res.Reasons)
		}
		if !res.Trails[0].IsOrganizationTrail {
			t.Errorf("org trail flag lost")
		}
	})
	t.Run("member_denied_org_trail_is_unknown", func(t *testing.T) {
		e, _ := setup(t, true)
		got, _ := e.scan(t, member)
		res := trailguard.Evaluate(got, trailguard.Options{})
		if res.Status != trailguard.StatusUnknown {
			t.Fatalf("status %s, want UNKNOWN; reasons %q", res.Status, res.Reasons)
		}
	})
	t.Run("member_denied_but_management_read_it_in_the_same_scan", func(t *testing.T) {
		e, arn := setup(t, true)
		scanner := tgaws.NewScanner()
		mgmtCalls, memberCalls := tgaws.NewCallCounter(), tgaws.NewCallCounter()
		accounts := []trailguard.Account{
			scanner.ScanAccount(context.Background(), e.config(mgmt, mgmtCalls)),
			scanner.ScanAccount(context.Background(), e.config(member, memberCalls)),
		}
		for _, res := range trailguard.EvaluateAll(accounts, trailguard.Options{}) {
			if res.Status != trailguard.StatusPass || res.CoveringTrail != arn {
				t.Errorf("%s: %s reasons %q", res.Account, res.Status, res.Reasons)
			}
		}
		// The member costs no status or selectors call: facts are read once per ARN.
		m := memberCalls.Counts()
		if m["cloudtrail:GetTrailStatus"] != 0 || m["cloudtrail:GetEventSelectors"] != 0 || m["cloudtrail:DescribeTrails"] != 1 {
			t.Errorf("member calls %v", m)
		}
	})
}

func TestScanAccount_bad_credentials_and_endpoints(t *testing.T) {
	t.Run("expired_credentials", func(t *testing.T) {
		e := newEnv(t)
		c := e.emu.AddAccount(acct)
		e.emu.ExpireCredentials(c.AccessKeyID)
		got := tgaws.NewScanner().ScanAccount(context.Background(), tgaws.StaticConfig(e.url, "us-east-1", c.AccessKeyID, c.SecretAccessKey, "", nil))
		res := trailguard.Evaluate(got, trailguard.Options{})
		if res.Status != trailguard.StatusError || !strings.Contains(strings.Join(res.Reasons, " "), "expired") {
			t.Fatalf("status %s reasons %q", res.Status, res.Reasons)
		}
	})
	t.Run("unknown_access_key", func(t *testing.T) {
		e := newEnv(t)
		got := tgaws.NewScanner().ScanAccount(context.Background(), tgaws.StaticConfig(e.url, "us-east-1", "AKIANOTKNOWN", "x", "", nil))
		res := trailguard.Evaluate(got, trailguard.Options{})
		if res.Status != trailguard.StatusError || !strings.Contains(strings.Join(res.Reasons, " "), "not valid") {
			t.Fatalf("status %s reasons %q", res.Status, res.Reasons)
		}
	})
	t.Run("unreachable_endpoint", func(t *testing.T) {
		srv := httptest.NewServer(nil)
		url := srv.URL
		srv.Close() // nothing listens there any more
		cfg := tgaws.StaticConfig(url, "us-east-1", "AKIA", "x", "", nil)
		cfg.RetryMaxAttempts = 1
		got := tgaws.NewScanner().ScanAccount(context.Background(), cfg)
		res := trailguard.Evaluate(got, trailguard.Options{})
		if res.Status != trailguard.StatusError || !strings.Contains(strings.Join(res.Reasons, " "), "cannot reach") {
			t.Fatalf("status %s reasons %q", res.Status, res.Reasons)
		}
	})
}
