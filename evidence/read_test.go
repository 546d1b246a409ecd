package evidence

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trailguard/trailguard"
)

// asJSON is how tests compare accounts: the domain's own JSON form, which
// shows every field and compares times by instant.
func asJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func sameAccounts(t *testing.T, got, want []trailguard.Account) {
	t.Helper()
	if g, w := asJSON(t, got), asJSON(t, want); g != w {
		t.Errorf("accounts differ\n got: %s\nwant: %s", g, w)
	}
}

func at(s string) *time.Time {
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	v = v.UTC()
	return &v
}

// writeTree creates files (path → content) under a new temporary
// directory and returns it.
func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func findAccount(t *testing.T, accounts []trailguard.Account, id string) trailguard.Account {
	t.Helper()
	for _, a := range accounts {
		if a.ID == id {
			return a
		}
	}
	t.Fatalf("no account %s in %s", id, asJSON(t, accounts))
	return trailguard.Account{}
}

const (
	orgTrailARN   = "arn:aws:cloudtrail:us-east-1:222222222222:trail/org-trail"
	auditTrailARN = "arn:aws:cloudtrail:us-west-2:111111111111:trail/audit"
)

// memberAccount is testdata/org/111111111111 (CLI v1 output) as Read must
// give it.
func memberAccount() trailguard.Account {
	return trailguard.Account{
		ID:        "111111111111",
		CallerARN: "arn:aws:sts::111111111111:assumed-role/Audit/auditor",
		Regions: []trailguard.Region{
			{Name: "us-east-1", OptInStatus: "opt-in-not-required"},
			{Name: "us-west-2", OptInStatus: "opt-in-not-required"},
			{Name: "ap-east-1", OptInStatus: "opted-in"},
		},
		Trails: []trailguard.Trail{
			{
				Name: "org-trail", ARN: orgTrailARN, HomeRegion: "us-east-1",
				IsMultiRegion: true, IsOrganizationTrail: true, IncludeGlobalServiceEvents: true,
				LogFileValidationEnabled: true, HasCustomEventSelectors: true,
				S3BucketName: "example-org-cloudtrail",
				StatusError: "aws cloudtrail get-trail-status failed: An error occurred (AccessDeniedException) when calling the GetTrailStatus operation: " +
					"User: arn:aws:sts::111111111111:assumed-role/Audit/auditor is not authorized to perform: cloudtrail:GetTrailStatus on resource: " + orgTrailARN,
				SelectorsError: "aws cloudtrail get-event-selectors failed: An error occurred (AccessDeniedException) when calling the GetEventSelectors operation: " +
					"User: arn:aws:sts::111111111111:assumed-role/Audit/auditor is not authorized to perform: cloudtrail:GetEventSelectors on resource: " + orgTrailARN,
			},
			{
				Name: "audit", ARN: auditTrailARN, HomeRegion: "us-west-2",
				IsMultiRegion: true, IncludeGlobalServiceEvents: true, HasCustomEventSelectors: true,
				S3BucketName: "example-member-audit",
				Status: &trailguard.TrailStatus{
					IsLogging:                      true,
					LatestDeliveryTime:             at("2026-11-25T04:41:00.123Z"),
					StartLoggingTime:               at("2026-01-02T03:04:05Z"),
					LatestDeliveryAttemptTime:      "2026-11-25T04:41:00Z",
					LatestDeliveryAttemptSucceeded: "2026-11-25T04:41:00Z",
					TimeLoggingStarted:             "2026-01-02T03:04:05Z",
				},
				Selectors: &trailguard.EventSelectors{Basic: []trailguard.EventSelector{{
					ReadWriteType:                 "WriteOnly",
					IncludeManagementEvents:       true,
					ExcludeManagementEventSources: []string{"kms.amazonaws.com"},
					DataResources:                 []trailguard.DataResource{{Type: "AWS::S3::Object", Values: []string{"arn:aws:s3"}}},
				}}},
			},
		},
	}
}

// managementAccount is testdata/org/222222222222 (CLI v2 output).
func managementAccount() trailguard.Account {
	return trailguard.Account{
		ID:        "222222222222",
		Name:      "management",
		CallerARN: "arn:aws:sts::222222222222:assumed-role/Audit/auditor",
		Regions: []trailguard.Region{
			{Name: "af-south-1", OptInStatus: "not-opted-in"},
			{Name: "eu-west-1", OptInStatus: "opt-in-not-required"},
			{Name: "us-east-1", OptInStatus: "opt-in-not-required"},
		},
		Trails: []trailguard.Trail{
			{
				Name: "org-trail", ARN: orgTrailARN, HomeRegion: "us-east-1",
				IsMultiRegion: true, IsOrganizationTrail: true, IncludeGlobalServiceEvents: true,
				LogFileValidationEnabled: true, HasCustomEventSelectors: true,
				S3BucketName:              "example-org-cloudtrail",
				CloudWatchLogsLogGroupARN: "arn:aws:logs:us-east-1:222222222222:log-group:org-trail:*",
				CloudWatchLogsRoleARN:     "arn:aws:iam::222222222222:role/CloudTrailToLogs",
				KMSKeyID:                  "arn:aws:kms:us-east-1:222222222222:key/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0",
				Status: &trailguard.TrailStatus{
					IsLogging:                        true,
					LatestDeliveryTime:               at("2026-11-25T04:41:00.123Z"),
					StartLoggingTime:                 at("2026-01-02T03:04:05Z"),
					LatestCloudWatchLogsDeliveryTime: at("2026-11-25T04:41:01.5Z"),
					LatestDigestDeliveryTime:         at("2026-11-25T04:00:00Z"),
					LatestDeliveryAttemptTime:        "2026-11-25T04:41:00Z",
					LatestDeliveryAttemptSucceeded:   "2026-11-25T04:41:00Z",
					TimeLoggingStarted:               "2026-01-02T03:04:05Z",
				},
				Selectors: &trailguard.EventSelectors{Advanced: []trailguard.AdvancedEventSelector{
					{Name: "Management events", FieldSelectors: []trailguard.FieldSelector{
						{Field: "eventCategory", Equals: []string{"Management"}},
					}},
					{Name: "S3 data events", FieldSelectors: []trailguard.FieldSelector{
						{Field: "eventCategory", Equals: []string{"Data"}},
						{Field: "resources.type", Equals: []string{"AWS::S3::Object"}},
						{Field: "resources.ARN", StartsWith: []string{"arn:aws:s3:::example-bucket/"}, NotEndsWith: []string{".tmp"}},
					}},
				}},
			},
			{
				Name: "eu-local", ARN: "arn:aws:cloudtrail:eu-west-1:222222222222:trail/eu-local", HomeRegion: "eu-west-1",
				S3BucketName: "example-eu-local", S3KeyPrefix: "eu",
				SnsTopicName: "eu-local-topic", SnsTopicARN: "arn:aws:sns:eu-west-1:222222222222:eu-local-topic",
				Status: &trailguard.TrailStatus{
					LatestDeliveryError: "AccessDenied",
					StopLoggingTime:     at("2026-03-04T05:06:07Z"),
					TimeLoggingStopped:  "2026-03-04T05:06:07Z",
				},
				Selectors: &trailguard.EventSelectors{Basic: []trailguard.EventSelector{{ReadWriteType: "All", IncludeManagementEvents: true}}},
			},
		},
	}
}

// unreadableAccount is testdata/org/333333333333: the collect script could
// neither list its trails nor its regions.
func unreadableAccount() trailguard.Account {
	return trailguard.Account{
		ID: "333333333333",
		Error: "aws cloudtrail describe-trails failed: An error occurred (AccessDeniedException) when calling the DescribeTrails operation: " +
			"User: arn:aws:sts::333333333333:assumed-role/Audit/auditor is not authorized to perform: cloudtrail:DescribeTrails",
		RegionsError: "aws ec2 describe-regions failed: An error occurred (UnauthorizedOperation) when calling the DescribeRegions operation: You are not authorized to perform this operation.",
	}
}

func TestRead(t *testing.T) {
	single := func(id string) trailguard.Account {
		return trailguard.Account{
			ID:        id,
			CallerARN: map[string]string{"444444444444": "arn:aws:iam::444444444444:user/auditor"}[id],
			Trails: []trailguard.Trail{{
				Name: "main", ARN: "arn:aws:cloudtrail:us-east-1:" + id + ":trail/main", HomeRegion: "us-east-1",
				IsMultiRegion: true, IncludeGlobalServiceEvents: true, LogFileValidationEnabled: true,
				S3BucketName: "example-trail-" + id,
				Status: &trailguard.TrailStatus{
					IsLogging:                      true,
					LatestDeliveryTime:             at("2026-11-25T04:41:00.123Z"),
					StartLoggingTime:               at("2026-01-02T03:04:05Z"),
					LatestDeliveryAttemptTime:      "2026-11-25T04:41:00Z",
					LatestDeliveryAttemptSucceeded: "2026-11-25T04:41:00Z",
					TimeLoggingStarted:             "2026-01-02T03:04:05Z",
				},
				Selectors: &trailguard.EventSelectors{Basic: []trailguard.EventSelector{{ReadWriteType: "All", IncludeManagementEvents: true}}},
			}},
			RegionsError: "regions.json not found in " + filepath.Join("testdata", map[string]string{"444444444444": "single-caller", "555555555555": "single-arn"}[id]),
		}
	}
	tests := []struct {
		name string
		dir  string
		want []trailguard.Account
	}{
		{
			name: "organization_cli_v1_and_v2_with_errors_and_extra_files",
			dir:  "testdata/org",
			want: []trailguard.Account{memberAccount(), managementAccount(), unreadableAccount()},
		},
		{name: "single_account_id_from_caller_identity", dir: "testdata/single-caller", want: []trailguard.Account{single("444444444444")}},
		{name: "single_account_id_from_trail_arns", dir: "testdata/single-arn", want: []trailguard.Account{single("555555555555")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Read(filepath.FromSlash(tt.dir))
			if err != nil {
				t.Fatal(err)
			}
			sameAccounts(t, got, tt.want)
		})
	}
}

func TestRead_organization_trail_facts_shared_from_management_account(t *testing.T) {
	accounts, err := Read("testdata/org")
	if err != nil {
		t.Fatal(err)
	}
	trailguard.ShareTrailFacts(accounts)
	member := findAccount(t, accounts, "111111111111")
	org := member.Trails[0]
	if org.ARN != orgTrailARN || org.Status == nil || org.Selectors == nil || org.StatusError != "" {
		t.Errorf("member's organization trail after sharing: %s", asJSON(t, org))
	}
}

func TestRead_directory_errors(t *testing.T) {
	tests := []struct {
		name  string
		dir   func(t *testing.T) string
		wants []string // substrings of the error
	}{
		{
			name:  "missing_dir",
			dir:   func(t *testing.T) string { return filepath.Join(t.TempDir(), "nope") },
			wants: []string{"nope", "no such file"},
		},
		{
			name: "file_not_dir",
			dir: func(t *testing.T) string {
				return filepath.Join(writeTree(t, map[string]string{"evidence.json": "{}"}), "evidence.json")
			},
			wants: []string{"evidence.json", "not a directory"},
		},
		{
			name:  "empty_dir_holds_no_account",
			dir:   func(t *testing.T) string { return t.TempDir() },
			wants: []string{"holds no account"},
		},
		{
			name: "only_unknown_files_and_dirs",
			dir: func(t *testing.T) string {
				return writeTree(t, map[string]string{"README.md": "x", "12345/describe-trails.json": `{"trailList":[]}`, "notes/a.json": "{}"})
			},
			wants: []string{"holds no account"},
		},
		{
			name: "single_account_without_any_id",
			dir: func(t *testing.T) string {
				return writeTree(t, map[string]string{"describe-trails.json": `{"trailList":[]}`})
			},
			wants: []string{"cannot tell the account id", "caller-identity.json"},
		},
		{
			name: "single_account_seeing_only_an_organization_trail",
			dir: func(t *testing.T) string {
				return writeTree(t, map[string]string{"describe-trails.json": `{"trailList":[{"Name":"org","TrailARN":"arn:aws:cloudtrail:us-east-1:222222222222:trail/org","IsOrganizationTrail":true}]}`})
			},
			wants: []string{"cannot tell the account id"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := tt.dir(t)
			accounts, err := Read(dir)
			if err == nil {
				t.Fatalf("no error; accounts %s", asJSON(t, accounts))
			}
			for _, w := range tt.wants {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestRead_single_account_dir_named_after_the_account(t *testing.T) {
	root := writeTree(t, map[string]string{
		"123456789012/describe-trails.json": `{"trailList":[]}`,
	})
	got, err := Read(filepath.Join(root, "123456789012"))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].ID != "123456789012" || got[0].Error != "" {
		t.Errorf("got %s", asJSON(t, got))
	}
}

func TestRead_malformed_json_names_file_and_line_and_the_rest_is_read(t *testing.T) {
	accounts, err := Read("testdata/malformed")
	if err != nil {
		t.Fatal(err)
	}
	if len(accounts) != 2 {
		t.Fatalf("want both accounts, got %s", asJSON(t, accounts))
	}
	broken := findAccount(t, accounts, "666666666666")
	for _, w := range []string{filepath.Join("666666666666", "describe-trails.json"), "line 3, column 6", "invalid character ','"} {
		if !strings.Contains(broken.Error, w) {
			t.Errorf("account error %q lacks %q", broken.Error, w)
		}
	}
	if broken.Trails != nil {
		t.Errorf("trails of a malformed describe-trails.json: %s", asJSON(t, broken.Trails))
	}

	ok := findAccount(t, accounts, "777777777777")
	if ok.Error != "" || len(ok.Trails) != 1 {
		t.Fatalf("the well-formed account was not read: %s", asJSON(t, ok))
	}
	tr := ok.Trails[0]
	if tr.Status != nil {
		t.Errorf("status read from a file with a type error: %s", asJSON(t, tr.Status))
	}
	for _, w := range []string{"get-trail-status.json", "line 2", "IsLogging", "expected true or false, found string"} {
		if !strings.Contains(tr.StatusError, w) {
			t.Errorf("status error %q lacks %q", tr.StatusError, w)
		}
	}
	if tr.Selectors == nil || tr.SelectorsError != "" {
		t.Errorf("selectors of the same trail should still be read: %s", asJSON(t, tr))
	}
}

// account is a one-account evidence tree for the situations below.
func account(files map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range files {
		out["123456789012/"+k] = v
	}
	return out
}

const (
	ownARN   = "arn:aws:cloudtrail:us-east-1:123456789012:trail/main"
	oneTrail = `{"trailList":[{"Name":"main","TrailARN":"` + ownARN + `","HomeRegion":"us-east-1","IsMultiRegionTrail":true,"IncludeGlobalServiceEvents":true,"IsOrganizationTrail":false}]}`
	logging  = `{"IsLogging": true}`
	allMgmt  = `{"TrailARN":"` + ownARN + `","EventSelectors":[{"ReadWriteType":"All","IncludeManagementEvents":true}]}`
)

func TestRead_situations(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		check func(t *testing.T, a trailguard.Account)
	}{
		{
			name:  "missing_describe_trails_is_an_account_error_not_an_empty_list",
			files: account(map[string]string{"regions.json": `{"Regions":[]}`}),
			check: func(t *testing.T, a trailguard.Account) {
				if !strings.HasPrefix(a.Error, "describe-trails.json not found: ") || a.Trails != nil {
					t.Errorf("got %s", asJSON(t, a))
				}
				if a.Regions == nil || len(a.Regions) != 0 || a.RegionsError != "" {
					t.Errorf("an empty region list is still a list read: %s", asJSON(t, a))
				}
			},
		},
		{
			name:  "missing_regions_is_nil_with_reason",
			files: account(map[string]string{"describe-trails.json": `{"trailList":[]}`}),
			check: func(t *testing.T, a trailguard.Account) {
				if a.Regions != nil || !strings.HasPrefix(a.RegionsError, "regions.json not found in ") || a.Error != "" {
					t.Errorf("got %s", asJSON(t, a))
				}
			},
		},
		{
			name:  "missing_status_file_is_not_readable_with_reason",
			files: account(map[string]string{"describe-trails.json": oneTrail, "trails/us-east-1/main/get-event-selectors.json": allMgmt}),
			check: func(t *testing.T, a trailguard.Account) {
				tr := a.Trails[0]
				want := "get-trail-status.json not found in " + filepath.Join("123456789012", "trails", "us-east-1", "main")
				if tr.Status != nil || !strings.HasPrefix(tr.StatusError, "get-trail-status.json not found in ") || !strings.HasSuffix(tr.StatusError, want[len("get-trail-status.json not found in "):]) {
					t.Errorf("status error %q, want ...%q", tr.StatusError, want)
				}
				if tr.Selectors == nil {
					t.Error("selectors not read")
				}
			},
		},
		{
			name:  "missing_selectors_file_is_not_readable_with_reason",
			files: account(map[string]string{"describe-trails.json": oneTrail, "trails/us-east-1/main/get-trail-status.json": logging}),
			check: func(t *testing.T, a trailguard.Account) {
				tr := a.Trails[0]
				if tr.Selectors != nil || !strings.HasPrefix(tr.SelectorsError, "get-event-selectors.json not found in ") || tr.Status == nil {
					t.Errorf("got %s", asJSON(t, tr))
				}
			},
		},
		{
			name: "shadow_trails_folded_by_arn",
			files: account(map[string]string{"describe-trails.json": `{"trailList":[
				{"Name":"main","TrailARN":"` + ownARN + `","HomeRegion":"us-east-1","IsMultiRegionTrail":true,"IncludeGlobalServiceEvents":true,"IsOrganizationTrail":false},
				{"Name":"other","TrailARN":"arn:aws:cloudtrail:eu-west-1:123456789012:trail/other","HomeRegion":"eu-west-1","IsMultiRegionTrail":false,"IncludeGlobalServiceEvents":false,"IsOrganizationTrail":false},
				{"Name":"main","TrailARN":"` + ownARN + `","HomeRegion":"us-east-1","IsMultiRegionTrail":true,"IncludeGlobalServiceEvents":true,"IsOrganizationTrail":false},
				{"Name":"` + ownARN + `","TrailARN":"` + ownARN + `","HomeRegion":"us-east-1","IsMultiRegionTrail":true,"IncludeGlobalServiceEvents":true,"IsOrganizationTrail":false}]}`}),
			check: func(t *testing.T, a trailguard.Account) {
				if len(a.Trails) != 2 || a.Trails[0].ARN != ownARN || a.Trails[1].Name != "other" {
					t.Errorf("got %s", asJSON(t, a.Trails))
				}
			},
		},
		{
			// The CLI always prints both members of a basic selector, and
			// they decide the verdict: {} is not "All and true".
			name: "basic_selector_without_deciding_members_is_not_readable",
			files: account(map[string]string{"describe-trails.json": oneTrail, "trails/us-east-1/main/get-trail-status.json": logging,
				"trails/us-east-1/main/get-event-selectors.json": `{"TrailARN":"` + ownARN + `","EventSelectors":[{}]}`}),
			check: func(t *testing.T, a trailguard.Account) {
				tr := a.Trails[0]
				if tr.Selectors != nil || !strings.Contains(tr.SelectorsError, "get-event-selectors.json: line 1") ||
					!strings.Contains(tr.SelectorsError, "EventSelectors[0].IncludeManagementEvents, EventSelectors[0].ReadWriteType missing or null") {
					t.Errorf("got %s", asJSON(t, tr))
				}
			},
		},
		{
			name: "basic_selector_member_null_is_not_readable",
			files: account(map[string]string{"describe-trails.json": oneTrail, "trails/us-east-1/main/get-trail-status.json": logging,
				"trails/us-east-1/main/get-event-selectors.json": `{"TrailARN":"` + ownARN + `","EventSelectors":[{"ReadWriteType":null,"IncludeManagementEvents":true}]}`}),
			check: func(t *testing.T, a trailguard.Account) {
				tr := a.Trails[0]
				if tr.Selectors != nil || !strings.Contains(tr.SelectorsError, "EventSelectors[0].ReadWriteType missing or null") {
					t.Errorf("got %s", asJSON(t, tr))
				}
			},
		},
		{
			name: "home_region_from_arn_when_absent",
			files: account(map[string]string{"describe-trails.json": `{"trailList":[{"Name":"main","TrailARN":"` + ownARN + `","IsMultiRegionTrail":true,"IncludeGlobalServiceEvents":true,"IsOrganizationTrail":false}]}`,
				"trails/us-east-1/main/get-trail-status.json": logging, "trails/us-east-1/main/get-event-selectors.json": allMgmt}),
			check: func(t *testing.T, a trailguard.Account) {
				tr := a.Trails[0]
				if tr.HomeRegion != "us-east-1" || tr.Status == nil || tr.Selectors == nil {
					t.Errorf("got %s", asJSON(t, tr))
				}
			},
		},
		{
			name: "organization_trail_listed_under_its_arn_uses_the_name_in_the_arn",
			files: account(map[string]string{"describe-trails.json": `{"trailList":[{"Name":"` + orgTrailARN + `","TrailARN":"` + orgTrailARN + `","HomeRegion":"us-east-1","IsMultiRegionTrail":true,"IncludeGlobalServiceEvents":true,"IsOrganizationTrail":true}]}`,
				"trails/us-east-1/org-trail/get-trail-status.json":    logging,
				"trails/us-east-1/org-trail/get-event-selectors.json": `{"TrailARN":"` + orgTrailARN + `","EventSelectors":[]}`}),
			check: func(t *testing.T, a trailguard.Account) {
				tr := a.Trails[0]
				if tr.Status == nil || tr.Selectors == nil {
					t.Errorf("got %s", asJSON(t, tr))
				}
			},
		},
		{
			name: "errors_json_gives_the_reasons",
			files: account(map[string]string{"describe-trails.json": oneTrail, "errors.json": `{
				"regions": "ec2:DescribeRegions: UnauthorizedOperation",
				"trails": {"` + ownARN + `": {"get-trail-status": "cloudtrail:GetTrailStatus: AccessDeniedException", "get-event-selectors": "cloudtrail:GetEventSelectors: ThrottlingException"}}}`}),
			check: func(t *testing.T, a trailguard.Account) {
				tr := a.Trails[0]
				if a.RegionsError != "ec2:DescribeRegions: UnauthorizedOperation" || tr.StatusError != "cloudtrail:GetTrailStatus: AccessDeniedException" ||
					tr.SelectorsError != "cloudtrail:GetEventSelectors: ThrottlingException" || a.Error != "" {
					t.Errorf("got %s", asJSON(t, a))
				}
			},
		},
		{
			name:  "errors_json_describe_trails_is_the_account_error",
			files: account(map[string]string{"errors.json": `{"describe-trails": "sts:AssumeRole: AccessDenied"}`}),
			check: func(t *testing.T, a trailguard.Account) {
				if a.Error != "sts:AssumeRole: AccessDenied" || a.Trails != nil {
					t.Errorf("got %s", asJSON(t, a))
				}
			},
		},
		{
			name: "empty_err_file_still_says_the_command_failed",
			files: account(map[string]string{"describe-trails.json": oneTrail, "trails/us-east-1/main/get-trail-status.err": "\n",
				"trails/us-east-1/main/get-event-selectors.json": allMgmt}),
			check: func(t *testing.T, a trailguard.Account) {
				if e := a.Trails[0].StatusError; !strings.HasPrefix(e, "aws cloudtrail get-trail-status failed (no error message") {
					t.Errorf("status error %q", e)
				}
			},
		},
		{
			name: "selectors_file_of_another_trail_is_not_these_facts",
			files: account(map[string]string{"describe-trails.json": oneTrail, "trails/us-east-1/main/get-trail-status.json": logging,
				"trails/us-east-1/main/get-event-selectors.json": `{"TrailARN":"arn:aws:cloudtrail:us-east-1:999999999999:trail/main","EventSelectors":[]}`}),
			check: func(t *testing.T, a trailguard.Account) {
				tr := a.Trails[0]
				if tr.Status != nil || tr.Selectors != nil || !strings.Contains(tr.StatusError, "holds the facts of trail arn:aws:cloudtrail:us-east-1:999999999999:trail/main") {
					t.Errorf("got %s", asJSON(t, tr))
				}
			},
		},
		{
			name: "organization_and_own_trail_of_the_same_name_share_a_directory",
			files: account(map[string]string{"describe-trails.json": `{"trailList":[
				{"Name":"main","TrailARN":"arn:aws:cloudtrail:us-east-1:222222222222:trail/main","HomeRegion":"us-east-1","IsMultiRegionTrail":true,"IncludeGlobalServiceEvents":true,"IsOrganizationTrail":true},
				{"Name":"main","TrailARN":"` + ownARN + `","HomeRegion":"us-east-1","IsMultiRegionTrail":true,"IncludeGlobalServiceEvents":true,"IsOrganizationTrail":false}]}`,
				"trails/us-east-1/main/get-trail-status.json": logging, "trails/us-east-1/main/get-event-selectors.json": allMgmt}),
			check: func(t *testing.T, a trailguard.Account) {
				org, own := a.Trails[0], a.Trails[1]
				if org.Status != nil || org.Selectors != nil || !strings.Contains(org.StatusError, "holds the facts of trail "+ownARN) {
					t.Errorf("organization trail got the own trail's facts: %s", asJSON(t, org))
				}
				if own.Status == nil || own.Selectors == nil {
					t.Errorf("own trail lost its facts: %s", asJSON(t, own))
				}
			},
		},
		{
			name: "shared_directory_without_selectors_file_is_nobodys",
			files: account(map[string]string{"describe-trails.json": `{"trailList":[
				{"Name":"main","TrailARN":"arn:aws:cloudtrail:us-east-1:222222222222:trail/main","HomeRegion":"us-east-1","IsMultiRegionTrail":true,"IncludeGlobalServiceEvents":true,"IsOrganizationTrail":true},
				{"Name":"main","TrailARN":"` + ownARN + `","HomeRegion":"us-east-1","IsMultiRegionTrail":true,"IncludeGlobalServiceEvents":true,"IsOrganizationTrail":false}]}`,
				"trails/us-east-1/main/get-trail-status.json": logging}),
			check: func(t *testing.T, a trailguard.Account) {
				for _, tr := range a.Trails {
					if tr.Status != nil || !strings.Contains(tr.StatusError, "is shared by trails") {
						t.Errorf("got %s", asJSON(t, tr))
					}
				}
			},
		},
		{
			name: "caller_identity_of_another_account_is_an_error",
			files: account(map[string]string{"describe-trails.json": `{"trailList":[]}`,
				"caller-identity.json": `{"Account":"999999999999","Arn":"arn:aws:iam::999999999999:user/x"}`}),
			check: func(t *testing.T, a trailguard.Account) {
				if !strings.Contains(a.Error, "is for account 999999999999, not 123456789012") {
					t.Errorf("got %s", asJSON(t, a))
				}
			},
		},
		{
			name: "required_member_missing_is_not_the_commands_output",
			files: account(map[string]string{"describe-trails.json": `{"Trail": {"Name": "main"}}`,
				"regions.json": `{"AvailabilityZones": []}`}),
			check: func(t *testing.T, a trailguard.Account) {
				if !strings.Contains(a.Error, "trailList missing or null") {
					t.Errorf("error %q", a.Error)
				}
				if a.Regions != nil || !strings.Contains(a.RegionsError, "Regions missing or null") {
					t.Errorf("regions %s", asJSON(t, a))
				}
			},
		},
		{
			name: "status_without_is_logging_is_not_readable",
			files: account(map[string]string{"describe-trails.json": oneTrail, "trails/us-east-1/main/get-trail-status.json": `{}`,
				"trails/us-east-1/main/get-event-selectors.json": `{"TrailARN":"` + ownARN + `"}`}),
			check: func(t *testing.T, a trailguard.Account) {
				tr := a.Trails[0]
				if tr.Status != nil || !strings.Contains(tr.StatusError, "IsLogging missing or null") || tr.Selectors != nil || !strings.Contains(tr.SelectorsError, "no EventSelectors or AdvancedEventSelectors") {
					t.Errorf("got %s", asJSON(t, tr))
				}
			},
		},
		{
			name: "utf8_bom_and_utf16_from_powershell",
			files: account(map[string]string{"describe-trails.json": "\xEF\xBB\xBF" + oneTrail,
				"trails/us-east-1/main/get-trail-status.json":    utf16LE(logging),
				"trails/us-east-1/main/get-event-selectors.json": allMgmt}),
			check: func(t *testing.T, a trailguard.Account) {
				tr := a.Trails[0]
				if a.Error != "" || tr.Status == nil || !tr.Status.IsLogging {
					t.Errorf("got %s", asJSON(t, a))
				}
			},
		},
		{
			name: "bad_timestamp_names_the_line",
			files: account(map[string]string{"describe-trails.json": oneTrail,
				"trails/us-east-1/main/get-trail-status.json":    "{\n    \"IsLogging\": true,\n    \"StartLoggingTime\": \"yesterday\"\n}\n",
				"trails/us-east-1/main/get-event-selectors.json": allMgmt}),
			check: func(t *testing.T, a trailguard.Account) {
				e := a.Trails[0].StatusError
				if !strings.Contains(e, "line 3, column 25") || !strings.Contains(e, `"yesterday"`) {
					t.Errorf("status error %q", e)
				}
			},
		},
		{
			name:  "truncated_file_names_its_end",
			files: account(map[string]string{"describe-trails.json": "{\n    \"trailList\": [\n"}),
			check: func(t *testing.T, a trailguard.Account) {
				if !strings.Contains(a.Error, "line 2, column 19") || !strings.Contains(a.Error, "unexpected end of JSON input") {
					t.Errorf("error %q", a.Error)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			accounts, err := Read(writeTree(t, tt.files))
			if err != nil {
				t.Fatal(err)
			}
			if len(accounts) != 1 {
				t.Fatalf("want one account, got %s", asJSON(t, accounts))
			}
			tt.check(t, accounts[0])
		})
	}
}

func utf16LE(s string) string {
	b := []byte{0xFF, 0xFE}
	for _, r := range s {
		b = append(b, byte(r), byte(r>>8))
	}
	return string(b)
}

func TestRead_path_traversal_names_are_not_followed(t *testing.T) {
	// Each trail's name or region, used as a path, would reach a file
	// planted outside its trail directory; none may be read.
	planted := `{"IsLogging": true}`
	tests := []struct {
		name   string
		region string
		arn    string
		trail  string
	}{
		{name: "dot_dot_name", region: "us-east-1", arn: "arn:aws:cloudtrail:us-east-1:123456789012:trail/..", trail: ".."},
		{name: "slashes_in_name", region: "us-east-1", arn: "arn:aws:cloudtrail:us-east-1:123456789012:trail/../../../x", trail: "x"},
		{name: "dot_dot_region", region: "..", arn: "arn:aws:cloudtrail:..:123456789012:trail/main", trail: "main"},
		{name: "absolute_name", region: "us-east-1", arn: "", trail: "/tmp"},
		{name: "backslash_name", region: "us-east-1", arn: `arn:aws:cloudtrail:us-east-1:123456789012:trail/..\..`, trail: "x"},
		{name: "empty_name", region: "us-east-1", arn: "arn:aws:cloudtrail:us-east-1:123456789012:trail/", trail: "main"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			trails, _ := json.Marshal(map[string]any{"trailList": []map[string]any{{
				"Name": tt.trail, "TrailARN": tt.arn, "HomeRegion": tt.region, "IsMultiRegionTrail": true, "IncludeGlobalServiceEvents": true, "IsOrganizationTrail": false,
			}}})
			dir := writeTree(t, map[string]string{
				"123456789012/describe-trails.json":                     string(trails),
				"123456789012/trails/get-trail-status.json":             planted,
				"123456789012/get-trail-status.json":                    planted,
				"get-trail-status.json":                                 planted,
				"123456789012/trails/us-east-1/x/get-trail-status.json": planted,
			})
			accounts, err := Read(filepath.Join(dir, "123456789012"))
			if err != nil {
				t.Fatal(err)
			}
			tr := accounts[0].Trails[0]
			if tr.Status != nil || !strings.Contains(tr.StatusError, "not") {
				t.Errorf("got %s", asJSON(t, tr))
			}
		})
	}
}

func TestFileError(t *testing.T) {
	_, err := parseTrailStatus("s.json", []byte("{\n\"IsLogging\": tru\n}"))
	var fe *FileError
	if !errors.As(err, &fe) || fe.Path != "s.json" || fe.Line != 2 || fe.Column != 17 {
		t.Errorf("got %#v (%v)", fe, err)
	}
}

func TestRead_files_beside_account_directories(t *testing.T) {
	t.Run("stray_regions_file_is_ignored", func(t *testing.T) {
		dir := writeTree(t, map[string]string{
			"regions.json":                      `{"Regions":[]}`,
			"123456789012/describe-trails.json": `{"trailList":[]}`,
		})
		got, err := Read(dir)
		if err != nil || len(got) != 1 || got[0].ID != "123456789012" {
			t.Errorf("got %s, %v", asJSON(t, got), err)
		}
	})
	t.Run("same_account_at_both_levels_is_an_error", func(t *testing.T) {
		dir := writeTree(t, map[string]string{
			"caller-identity.json":              `{"Account":"123456789012"}`,
			"describe-trails.json":              `{"trailList":[]}`,
			"123456789012/describe-trails.json": `{"trailList":[]}`,
		})
		got, err := Read(dir)
		if err != nil || len(got) != 2 {
			t.Fatalf("got %s, %v", asJSON(t, got), err)
		}
		if !strings.Contains(got[0].Error+got[1].Error, "is both in") {
			t.Errorf("no account says it is there twice: %s", asJSON(t, got))
		}
	})
}
