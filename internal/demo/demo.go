// Package demo seeds the emulator with a small organization whose accounts
// show the states CIS 3.1 tells apart, for 'trailguard demo', the tests and
// the benchmarks.
package demo

import (
	"fmt"

	"github.com/trailguard/trailguard/internal/awsemu"
)

// Account is one seeded account: who it is, how to reach it, and what the
// scan should say of it.
type Account struct {
	ID          string
	Name        string
	Credentials awsemu.Credentials
	// Want is the verdict the account is built to get (without --strict).
	Want string
}

// Management is the demo organization's management account.
const Management = "111111111111"

type seed struct {
	id, name, want string
	member         bool // of the management account's organization
	trails         []awsemu.TrailSpec
}

func seeds() []seed {
	basic := func(rw string, mgmt bool) string {
		return fmt.Sprintf(`{"EventSelectors":[{"ReadWriteType":%q,"IncludeManagementEvents":%t}]}`, rw, mgmt)
	}
	return []seed{
		{Management, "management (organization trail)", "PASS", false, []awsemu.TrailSpec{{
			Name: "org-audit", HomeRegion: "us-east-1", S3BucketName: "demo-org-audit-logs",
			IsMultiRegion: true, IsOrganizationTrail: true, IncludeGlobalServiceEvents: true, LogFileValidation: true, Logging: true,
		}}},
		{"222222222222", "single-region trail only", "FAIL", false, []awsemu.TrailSpec{{
			Name: "local-only", HomeRegion: "us-east-1", S3BucketName: "demo-222-logs",
			IncludeGlobalServiceEvents: true, Logging: true,
		}}},
		{"333333333333", "multi-region trail, logging stopped", "FAIL", false, []awsemu.TrailSpec{{
			Name: "stopped", HomeRegion: "us-east-1", S3BucketName: "demo-333-logs",
			IsMultiRegion: true, IncludeGlobalServiceEvents: true, Logging: false,
		}}},
		{"444444444444", "read-only management events", "FAIL", false, []awsemu.TrailSpec{{
			Name: "reads-only", HomeRegion: "us-west-2", S3BucketName: "demo-444-logs",
			IsMultiRegion: true, IncludeGlobalServiceEvents: true, Logging: true,
			EventSelectorsJSON: basic("ReadOnly", true),
		}}},
		{"555555555555", "advanced selectors, KMS excluded, delivery failing", "PASS", false, []awsemu.TrailSpec{{
			Name: "advanced", HomeRegion: "eu-central-1", S3BucketName: "demo-555-logs",
			IsMultiRegion: true, IncludeGlobalServiceEvents: true, Logging: true,
			LatestDeliveryError: "AccessDenied",
			EventSelectorsJSON: `{"AdvancedEventSelectors":[` +
				`{"Name":"Management events except KMS","FieldSelectors":[{"Field":"eventCategory","Equals":["Management"]},{"Field":"eventSource","NotEquals":["kms.amazonaws.com"]}]},` +
				`{"Name":"S3 object writes","FieldSelectors":[{"Field":"eventCategory","Equals":["Data"]},{"Field":"resources.type","Equals":["AWS::S3::Object"]},{"Field":"readOnly","Equals":["false"]}]}]}`,
		}}},
		{"666666666666", "no trail at all", "FAIL", false, nil},
		{"777777777777", "member covered by the organization trail", "PASS", true, nil},
	}
}

// Seed builds the demo accounts in e and returns them, the management
// account first. Only the last one is a member of the management account's
// organization; the others stand alone so that each shows its own state.
func Seed(e *awsemu.Emulator) ([]Account, error) {
	var out []Account
	var members []string
	for _, s := range seeds() {
		creds := e.AddAccount(s.id)
		if s.member {
			members = append(members, s.id)
		}
		for _, t := range s.trails {
			if _, err := e.PutTrail(s.id, t); err != nil {
				return nil, fmt.Errorf("seed account %s trail %s: %w", s.id, t.Name, err)
			}
		}
		out = append(out, Account{ID: s.id, Name: s.name, Credentials: creds, Want: s.want})
	}
	e.SetOrganization(Management, members...)
	// One opted-in region, to show that opt-in regions are listed and covered.
	e.SetOptIn(Management, "af-south-1", "opted-in")
	return out, nil
}
