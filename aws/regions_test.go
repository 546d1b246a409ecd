package aws_test

import (
	"context"
	"errors"
	"reflect"
	"sort"
	"strings"
	"testing"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/smithy-go"

	"github.com/trailguard/trailguard"
	tgaws "github.com/trailguard/trailguard/aws"
	"github.com/trailguard/trailguard/internal/awsemu"
)

// DescribeRegions without the generated EC2 client answers exactly what
// the generated client answers, over the same wire, regions opted in and
// out included. (The generated client is the oracle here, in a test only:
// the product does not compile it.)
func TestDescribeRegions_matches_the_generated_client(t *testing.T) {
	e := newEnv(t)
	const acct = "123456789012"
	e.emu.SetOptIn(acct, "af-south-1", "opted-in")
	counter := tgaws.NewCallCounter()
	cfg := e.config(acct, counter)

	got, err := tgaws.DescribeRegions(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	out, err := ec2.NewFromConfig(cfg).DescribeRegions(context.Background(), &ec2.DescribeRegionsInput{AllRegions: sdkaws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	var want []trailguard.Region
	for _, r := range out.Regions {
		want = append(want, trailguard.Region{Name: sdkaws.ToString(r.RegionName), OptInStatus: sdkaws.ToString(r.OptInStatus)})
	}
	sort.Slice(want, func(i, j int) bool { return want[i].Name < want[j].Name })
	if !reflect.DeepEqual(got, want) {
		t.Errorf("regions\n got %v\nwant %v", got, want)
	}
	if len(got) < 20 {
		t.Errorf("only %d regions", len(got))
	}
	// Counted under the operation's IAM name, as every other call.
	if n := counter.Counts()["ec2:DescribeRegions"]; n != 2 {
		t.Errorf("ec2:DescribeRegions counted %d times, want 2 (ours and the oracle's)", n)
	}
}

// The SDK's retryer retries a throttled or failing DescribeRegions as it
// does any generated operation, and a denied one surfaces the AWS error
// code, so that the scan says which permission is missing.
func TestDescribeRegions_errors_and_retries(t *testing.T) {
	for _, c := range []struct {
		name     string
		fault    awsemu.Fault
		wantCode string // "" succeeds after retries
		attempts int
	}{
		{"throttled_twice_then_answered", awsemu.Fault{Operation: "DescribeRegions", Code: "RequestLimitExceeded", Times: 2}, "", 3},
		{"server_error_once_then_answered", awsemu.Fault{Operation: "DescribeRegions", Code: "InternalError", Times: 1}, "", 2},
		{"unauthorized_is_not_retried", awsemu.Fault{Operation: "DescribeRegions", Code: "UnauthorizedOperation", Message: "You are not authorized to perform this operation."}, "UnauthorizedOperation", 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t)
			e.emu.InjectFault(c.fault)
			counter := tgaws.NewCallCounter()
			regions, err := tgaws.DescribeRegions(context.Background(), e.config("123456789012", counter))
			var apiErr smithy.APIError
			switch {
			case c.wantCode == "" && err != nil:
				t.Fatalf("error after retries: %v", err)
			case c.wantCode == "" && len(regions) == 0:
				t.Fatal("no regions")
			case c.wantCode != "" && (!errors.As(err, &apiErr) || apiErr.ErrorCode() != c.wantCode):
				t.Fatalf("error %v, want code %s", err, c.wantCode)
			}
			if n := counter.Counts()["ec2:DescribeRegions"]; n != c.attempts {
				t.Errorf("%d attempts, want %d", n, c.attempts)
			}
		})
	}
	t.Run("denied_by_policy_names_the_permission_in_the_scan", func(t *testing.T) {
		e := newEnv(t)
		e.emu.Deny("ec2:DescribeRegions")
		acct, _ := e.scan(t, "123456789012")
		if acct.Regions != nil || !strings.Contains(acct.RegionsError, "ec2:DescribeRegions") {
			t.Errorf("regions %v, error %q: want none, naming ec2:DescribeRegions", acct.Regions, acct.RegionsError)
		}
	})
}
