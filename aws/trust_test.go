package aws_test

import (
	"context"
	"strings"
	"testing"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"

	"github.com/trailguard/trailguard"
	tgaws "github.com/trailguard/trailguard/aws"
	"github.com/trailguard/trailguard/internal/awsemu"
)

// Two reads of one trail in one scan that disagree (the member read the
// organization trail logging, then logging stopped and the management
// account read it stopped) never pass: the member is UNKNOWN, naming both
// reads; the management account, which owns the trail, keeps its own read
// (FAIL).
func TestScanOrganization_two_reads_that_disagree_are_unknown(t *testing.T) {
	e := newEnv(t)
	s := multiRegion("org", "us-east-1")
	s.IsOrganizationTrail = true
	arn := e.putTrail(t, mgmt, s)
	e.emu.AddAccount(member)
	e.emu.SetOrganization(mgmt, member)
	// The member may read the status but not the selectors: its read is
	// incomplete, so the management account reads the trail again.
	e.emu.InjectFault(awsemu.Fault{Account: member, Service: "cloudtrail", Operation: "GetEventSelectors", Code: "AccessDeniedException", Message: "User is not authorized", HTTPStatus: 400})

	scanner := tgaws.NewScanner()
	memberAcct := scanner.ScanAccount(context.Background(), e.config(member, nil))
	if memberAcct.Trails[0].Status == nil || !memberAcct.Trails[0].Status.IsLogging {
		t.Fatalf("member should have read the trail logging: %+v", memberAcct.Trails[0])
	}
	mcfg := e.config(mgmt, nil)
	if _, err := cloudtrail.NewFromConfig(mcfg).StopLogging(context.Background(), &cloudtrail.StopLoggingInput{Name: sdkaws.String(arn)}); err != nil {
		t.Fatal(err)
	}
	mgmtAcct := scanner.ScanAccount(context.Background(), mcfg)

	results := trailguard.EvaluateAll([]trailguard.Account{mgmtAcct, memberAcct}, trailguard.Options{})
	if results[0].Status != trailguard.StatusFail {
		t.Errorf("management: %s, want FAIL from its own read; reasons %q", results[0].Status, results[0].Reasons)
	}
	for _, res := range results[1:] {
		if res.Status != trailguard.StatusUnknown {
			t.Errorf("%s: %s, want UNKNOWN; reasons %q", res.Account, res.Status, res.Reasons)
			continue
		}
		all := strings.Join(res.Reasons, "\n")
		for _, want := range []string{"sources disagree about trail " + arn, "as account " + member, "as account " + mgmt} {
			if !strings.Contains(all, want) {
				t.Errorf("%s: reasons %q lack %q", res.Account, res.Reasons, want)
			}
		}
	}
}
