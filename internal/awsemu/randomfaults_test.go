package awsemu_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"

	"github.com/trailguard/trailguard/internal/awsemu"
)

func TestFaultRate(t *testing.T) {
	t.Run("faults_reach_a_client_without_retries_at_about_the_rate", func(t *testing.T) {
		e := newEnv(t)
		c := e.emu.AddAccount(acctA)
		e.emu.SetFaultRate(0.3, 7)
		ct := e.ct(c, "us-east-1")
		const n = 300
		failed := 0
		for range n {
			if _, err := ct.DescribeTrails(ctx, &cloudtrail.DescribeTrailsInput{}); err != nil {
				failed++
			}
		}
		if failed != e.emu.FaultsDrawn() {
			t.Errorf("%d calls failed, emulator drew %d faults", failed, e.emu.FaultsDrawn())
		}
		// 30% of 300 is 90; a binomial draw stays well within 60..120.
		if failed < 60 || failed > 120 {
			t.Errorf("%d of %d calls failed at rate 0.3", failed, n)
		}
	})
	t.Run("the_sdk_retries_every_kind_of_fault", func(t *testing.T) {
		e := newEnv(t)
		c := e.emu.AddAccount(acctA)
		e.emu.SetFaultRate(0.5, 3)
		cfg := e.cfg(c, "us-east-1")
		cfg.Retryer = nil
		cfg.RetryMaxAttempts = 12
		ct := cloudtrail.NewFromConfig(cfg)
		for i := range 20 {
			if _, err := ct.DescribeTrails(ctx, &cloudtrail.DescribeTrailsInput{}); err != nil {
				t.Fatalf("call %d with retries: %v", i, err)
			}
		}
		if e.emu.FaultsDrawn() == 0 {
			t.Fatal("no fault drawn at rate 0.5")
		}
	})
	t.Run("connection_reset_is_a_transport_error", func(t *testing.T) {
		e := newEnv(t)
		c := e.emu.AddAccount(acctA)
		e.emu.SetFaultRate(1, 1)
		ct := e.ct(c, "us-east-1")
		var kinds = map[string]bool{}
		for range 30 {
			_, err := ct.DescribeTrails(ctx, &cloudtrail.DescribeTrailsInput{})
			if err == nil {
				t.Fatal("a call succeeded at fault rate 1")
			}
			var re interface{ HTTPStatusCode() int }
			if asHTTP(err, &re) && re.HTTPStatusCode() != 0 {
				kinds[statusName(re.HTTPStatusCode())] = true
			} else {
				kinds["transport"] = true
			}
		}
		for _, k := range []string{"500", "503", "transport"} {
			if !kinds[k] {
				t.Errorf("no %s fault in 30 draws; saw %v", k, kinds)
			}
		}
	})
	t.Run("off", func(t *testing.T) {
		e := newEnv(t)
		c := e.emu.AddAccount(acctA)
		e.emu.SetFaultRate(1, 1)
		e.emu.SetFaultRate(0, 1)
		if _, err := e.ct(c, "us-east-1").DescribeTrails(ctx, &cloudtrail.DescribeTrailsInput{}); err != nil {
			t.Fatal(err)
		}
	})
}

func statusName(code int) string {
	switch code {
	case 500:
		return "500"
	case 503:
		return "503"
	}
	return "other"
}

func TestRateLimitIsPerOperation(t *testing.T) {
	e := newEnv(t)
	c := e.emu.AddAccount(acctA)
	e.emu.PutTrail(acctA, awsemu.TrailSpec{Name: "trail", HomeRegion: "us-east-1", S3BucketName: "b", Logging: true})
	e.emu.SetRateLimit("cloudtrail", 0.001, 1)
	ct := e.ct(c, "us-east-1")
	if _, err := ct.DescribeTrails(ctx, &cloudtrail.DescribeTrailsInput{}); err != nil {
		t.Fatal(err)
	}
	_, err := ct.DescribeTrails(ctx, &cloudtrail.DescribeTrailsInput{})
	wantCode(t, err, "ThrottlingException")
	// Another operation has its own quota.
	if _, err := ct.GetTrailStatus(ctx, &cloudtrail.GetTrailStatusInput{Name: aws.String("trail")}); err != nil {
		t.Fatal(err)
	}
}

func TestExcludeFromOrgTrails(t *testing.T) {
	e := newEnv(t)
	e.emu.AddAccount(mgmt)
	in := e.emu.AddAccount(member)
	out := e.emu.AddAccount(acctA)
	e.emu.SetOrganization(mgmt, member, acctA)
	e.emu.PutTrail(mgmt, awsemu.TrailSpec{Name: "org", HomeRegion: "us-east-1", S3BucketName: "b", IsMultiRegion: true, IsOrganizationTrail: true, Logging: true})
	e.emu.ExcludeFromOrgTrails(acctA)
	count := func(c awsemu.Credentials) int {
		o, err := e.ct(c, "eu-west-1").DescribeTrails(ctx, &cloudtrail.DescribeTrailsInput{})
		if err != nil {
			t.Fatal(err)
		}
		return len(o.TrailList)
	}
	if n := count(in); n != 1 {
		t.Errorf("member sees %d trails, want the organization trail", n)
	}
	if n := count(out); n != 0 {
		t.Errorf("excluded member sees %d trails, want none", n)
	}
}
