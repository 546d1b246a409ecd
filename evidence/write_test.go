package evidence

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trailguard/trailguard"
)

func TestWrite_round_trip(t *testing.T) {
	full := trailguard.Account{
		ID: "123456789012", Name: "production", CallerARN: "arn:aws:sts::123456789012:assumed-role/Audit/scan",
		Regions: []trailguard.Region{{Name: "us-east-1", OptInStatus: "opt-in-not-required"}, {Name: "me-south-1", OptInStatus: "not-opted-in"}},
		Trails: []trailguard.Trail{
			{
				Name: "main", ARN: "arn:aws:cloudtrail:us-east-1:123456789012:trail/main", HomeRegion: "us-east-1",
				IsMultiRegion: true, IncludeGlobalServiceEvents: true, LogFileValidationEnabled: true,
				HasCustomEventSelectors: true, HasInsightSelectors: true,
				S3BucketName: "b", S3KeyPrefix: "p", SnsTopicName: "t", SnsTopicARN: "arn:aws:sns:us-east-1:123456789012:t",
				CloudWatchLogsLogGroupARN: "arn:aws:logs:us-east-1:123456789012:log-group:g:*", CloudWatchLogsRoleARN: "arn:aws:iam::123456789012:role/r",
				KMSKeyID: "arn:aws:kms:us-east-1:123456789012:key/k",
				Status: &trailguard.TrailStatus{
					IsLogging: true, LatestDeliveryError: "AccessDenied", LatestNotificationError: "NotFound",
					LatestDeliveryTime: at("2026-11-25T04:41:00.123Z"), LatestNotificationTime: at("2026-11-25T04:41:00.123456Z"),
					StartLoggingTime: at("2026-01-02T03:04:05Z"), StopLoggingTime: at("2025-01-02T03:04:05.123456789Z"),
					LatestCloudWatchLogsDeliveryError: "x", LatestCloudWatchLogsDeliveryTime: at("2026-11-25T04:41:01Z"),
					LatestDigestDeliveryTime: at("2026-11-25T04:00:00Z"), LatestDigestDeliveryError: "y",
					LatestDeliveryAttemptTime: "2026-11-25T04:41:00Z", LatestNotificationAttemptTime: "2026-11-25T04:41:00Z",
					LatestNotificationAttemptSucceeded: "2026-11-25T04:41:00Z", LatestDeliveryAttemptSucceeded: "2026-11-25T04:41:00Z",
					TimeLoggingStarted: "2026-01-02T03:04:05Z", TimeLoggingStopped: "2025-01-02T03:04:05Z",
				},
				Selectors: &trailguard.EventSelectors{Basic: []trailguard.EventSelector{
					{ReadWriteType: "All", IncludeManagementEvents: true, ExcludeManagementEventSources: []string{"kms.amazonaws.com", "rdsdata.amazonaws.com"}},
					{ReadWriteType: "ReadOnly", DataResources: []trailguard.DataResource{{Type: "AWS::S3::Object", Values: []string{"arn:aws:s3:::b/"}}, {Type: "AWS::Lambda::Function"}}},
					{ReadWriteType: ""},
				}},
			},
			{
				Name: "org", ARN: orgTrailARN, HomeRegion: "us-east-1", IsMultiRegion: true, IsOrganizationTrail: true,
				Status: &trailguard.TrailStatus{IsLogging: true},
				Selectors: &trailguard.EventSelectors{Advanced: []trailguard.AdvancedEventSelector{
					{Name: "mgmt", FieldSelectors: []trailguard.FieldSelector{{Field: "eventCategory", Equals: []string{"Management"}}, {Field: "eventSource", NotEquals: []string{"kms.amazonaws.com"}}}},
					{FieldSelectors: []trailguard.FieldSelector{{Field: "resources.ARN", StartsWith: []string{"a"}, EndsWith: []string{"b"}, NotStartsWith: []string{"c"}, NotEndsWith: []string{"d"}}}},
				}},
			},
			{
				Name: "eu", ARN: "arn:aws:cloudtrail:eu-west-1:123456789012:trail/eu", HomeRegion: "eu-west-1",
				StatusError:    "not read: a single-region trail cannot satisfy the control and a multi-region trail already does",
				SelectorsError: "not read: a single-region trail cannot satisfy the control and a multi-region trail already does",
			},
			{
				Name: "both", ARN: "arn:aws:cloudtrail:eu-west-1:123456789012:trail/both", HomeRegion: "eu-west-1",
				Status: &trailguard.TrailStatus{}, StatusError: "read after a retry",
				Selectors: &trailguard.EventSelectors{}, SelectorsError: "read after a retry",
			},
		},
	}
	tests := []struct {
		name     string
		accounts []trailguard.Account
	}{
		{name: "everything_read", accounts: []trailguard.Account{full}},
		{name: "account_not_readable", accounts: []trailguard.Account{{ID: "111111111111", Error: "sts:AssumeRole: AccessDenied: not authorized", RegionsError: "not read"}}},
		{name: "account_error_with_trails", accounts: []trailguard.Account{{ID: "111111111111", Error: "partial", Regions: []trailguard.Region{}, Trails: full.Trails[2:3]}}},
		{name: "no_trails_no_regions_listed", accounts: []trailguard.Account{{ID: "111111111111", Regions: []trailguard.Region{}}}},
		{name: "organization_sorted_by_id", accounts: []trailguard.Account{memberAccount(), managementAccount(), unreadableAccount()}},
		{name: "non_ascii_and_html_characters", accounts: []trailguard.Account{{ID: "111111111111", Name: "Équipe <prod> & co", Regions: []trailguard.Region{}, Error: "é \u2028 <>"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := Write(dir, tt.accounts); err != nil {
				t.Fatal(err)
			}
			got, err := Read(dir)
			if err != nil {
				t.Fatal(err)
			}
			sameAccounts(t, got, tt.accounts)
		})
	}
}

func TestWrite_read_of_hand_collected_evidence_survives_a_rewrite(t *testing.T) {
	first, err := Read("testdata/org")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := Write(dir, first); err != nil {
		t.Fatal(err)
	}
	second, err := Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	sameAccounts(t, second, first)
}

func TestWrite_prints_what_aws_cli_v2_prints(t *testing.T) {
	dir := t.TempDir()
	err := Write(dir, []trailguard.Account{{
		ID: "123456789012",
		Trails: []trailguard.Trail{{
			Name: "main", ARN: ownARN, HomeRegion: "us-east-1", IsMultiRegion: true, S3BucketName: "b",
			Status: &trailguard.TrailStatus{IsLogging: true, LatestDeliveryTime: at("2026-11-25T04:41:00.123Z"), StartLoggingTime: at("2026-01-02T03:04:05Z"),
				LatestDeliveryAttemptTime: "2026-11-25T04:41:00Z"},
			Selectors: &trailguard.EventSelectors{Basic: []trailguard.EventSelector{{ReadWriteType: "All", IncludeManagementEvents: true}}},
		}},
		Regions: []trailguard.Region{{Name: "us-east-1", OptInStatus: "opt-in-not-required"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"caller-identity.json": `{
    "Account": "123456789012"
}
`,
		"regions.json": `{
    "Regions": [
        {
            "RegionName": "us-east-1",
            "OptInStatus": "opt-in-not-required"
        }
    ]
}
`,
		"describe-trails.json": `{
    "trailList": [
        {
            "Name": "main",
            "S3BucketName": "b",
            "IncludeGlobalServiceEvents": false,
            "IsMultiRegionTrail": true,
            "HomeRegion": "us-east-1",
            "TrailARN": "arn:aws:cloudtrail:us-east-1:123456789012:trail/main",
            "LogFileValidationEnabled": false,
            "HasCustomEventSelectors": false,
            "HasInsightSelectors": false,
            "IsOrganizationTrail": false
        }
    ]
}
`,
		"trails/us-east-1/main/get-trail-status.json": `{
    "IsLogging": true,
    "LatestDeliveryTime": "2026-11-25T04:41:00.123000+00:00",
    "StartLoggingTime": "2026-01-02T03:04:05+00:00",
    "LatestDeliveryAttemptTime": "2026-11-25T04:41:00Z"
}
`,
		"trails/us-east-1/main/get-event-selectors.json": `{
    "TrailARN": "arn:aws:cloudtrail:us-east-1:123456789012:trail/main",
    "EventSelectors": [
        {
            "ReadWriteType": "All",
            "IncludeManagementEvents": true,
            "DataResources": [],
            "ExcludeManagementEventSources": []
        }
    ]
}
`,
	}
	adir := filepath.Join(dir, "123456789012")
	for name, w := range want {
		got, err := os.ReadFile(filepath.Join(adir, filepath.FromSlash(name)))
		if err != nil {
			t.Error(err)
			continue
		}
		if string(got) != w {
			t.Errorf("%s:\n%s\nwant:\n%s", name, got, w)
		}
	}
	if _, err := os.Stat(filepath.Join(adir, "errors.json")); !os.IsNotExist(err) {
		t.Errorf("errors.json written with nothing to record: %v", err)
	}
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			t.Fatal(err)
		}
		info, _ := d.Info()
		perm, wantPerm := info.Mode().Perm(), fs.FileMode(0o644)
		if d.IsDir() {
			wantPerm = 0o755
		}
		if p != dir && perm != wantPerm {
			t.Errorf("%s: mode %v, want %v", p, perm, wantPerm)
		}
		return nil
	})
}

func TestWrite_situations(t *testing.T) {
	own := trailguard.Trail{Name: "main", ARN: ownARN, HomeRegion: "us-east-1", IsMultiRegion: true,
		Status:    &trailguard.TrailStatus{IsLogging: true},
		Selectors: &trailguard.EventSelectors{Basic: []trailguard.EventSelector{{ReadWriteType: "All", IncludeManagementEvents: true}}}}
	orgSameName := trailguard.Trail{Name: "main", ARN: "arn:aws:cloudtrail:us-east-1:222222222222:trail/main", HomeRegion: "us-east-1",
		IsMultiRegion: true, IsOrganizationTrail: true,
		Status:    &trailguard.TrailStatus{IsLogging: false},
		Selectors: &trailguard.EventSelectors{}}
	tests := []struct {
		name  string
		in    trailguard.Account
		check func(t *testing.T, dir string, got trailguard.Account)
	}{
		{
			name: "same_name_and_region_own_trail_keeps_the_directory",
			in:   trailguard.Account{ID: "123456789012", Regions: []trailguard.Region{}, Trails: []trailguard.Trail{orgSameName, own}},
			check: func(t *testing.T, dir string, got trailguard.Account) {
				org, mine := got.Trails[0], got.Trails[1]
				if mine.Status == nil || !mine.Status.IsLogging || mine.Selectors == nil {
					t.Errorf("own trail: %s", asJSON(t, mine))
				}
				if org.Status != nil || org.Selectors != nil || !strings.Contains(org.StatusError, "read but not saved in the evidence") {
					t.Errorf("organization trail: %s", asJSON(t, org))
				}
			},
		},
		{
			name: "unsafe_trail_name_is_not_written_anywhere",
			in: trailguard.Account{ID: "123456789012", Regions: []trailguard.Region{}, Trails: []trailguard.Trail{
				{Name: "../../../evil", ARN: "arn:aws:cloudtrail:us-east-1:123456789012:trail/../../../evil", HomeRegion: "us-east-1", Status: &trailguard.TrailStatus{IsLogging: true}},
				{Name: "evil", ARN: "arn:aws:cloudtrail:../..:123456789012:trail/evil", HomeRegion: "../..", Selectors: &trailguard.EventSelectors{}},
			}},
			check: func(t *testing.T, dir string, got trailguard.Account) {
				for _, tr := range got.Trails {
					if tr.Status != nil || tr.Selectors != nil {
						t.Errorf("facts of an unsafe name read back: %s", asJSON(t, tr))
					}
				}
				if e := got.Trails[0].StatusError; !strings.Contains(e, "not saved in the evidence") || !strings.Contains(e, "not a safe directory name") {
					t.Errorf("status error %q", e)
				}
				if e := got.Trails[1].SelectorsError; !strings.Contains(e, "not a region name") {
					t.Errorf("selectors error %q", e)
				}
				filepath.WalkDir(filepath.Dir(dir), func(p string, d fs.DirEntry, err error) error {
					if err == nil && !d.IsDir() && !strings.HasPrefix(p, dir+string(filepath.Separator)) {
						t.Errorf("written outside the evidence directory: %s", p)
					}
					return nil
				})
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			parent := t.TempDir()
			dir := filepath.Join(parent, "evidence")
			if err := Write(dir, []trailguard.Account{tt.in}); err != nil {
				t.Fatal(err)
			}
			got, err := Read(dir)
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, dir, got[0])
		})
	}
}

func TestWrite_again_replaces_the_accounts_earlier_evidence(t *testing.T) {
	dir := t.TempDir()
	before := trailguard.Account{ID: "123456789012", Regions: []trailguard.Region{}, Trails: []trailguard.Trail{{
		Name: "main", ARN: ownARN, HomeRegion: "us-east-1", IsMultiRegion: true,
		Status:    &trailguard.TrailStatus{IsLogging: true},
		Selectors: &trailguard.EventSelectors{Basic: []trailguard.EventSelector{{ReadWriteType: "All", IncludeManagementEvents: true}}},
	}}}
	other := trailguard.Account{ID: "999999999999", Regions: []trailguard.Region{}}
	if err := Write(dir, []trailguard.Account{before, other}); err != nil {
		t.Fatal(err)
	}
	extra := filepath.Join(dir, "123456789012", "auditor-notes.txt")
	os.WriteFile(extra, []byte("kept"), 0o644)

	after := before
	after.Trails = []trailguard.Trail{before.Trails[0]}
	after.Trails[0].Status, after.Trails[0].StatusError = nil, "cloudtrail:GetTrailStatus: AccessDeniedException"
	after.Trails[0].Selectors, after.Trails[0].SelectorsError = nil, "cloudtrail:GetEventSelectors: AccessDeniedException"
	if err := Write(dir, []trailguard.Account{after}); err != nil {
		t.Fatal(err)
	}
	got, err := Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	sameAccounts(t, got, []trailguard.Account{after, other})
	if _, err := os.Stat(extra); err != nil {
		t.Errorf("a file Write does not own was removed: %v", err)
	}
}

func TestWrite_accounts_it_cannot_place(t *testing.T) {
	dir := t.TempDir()
	err := Write(dir, []trailguard.Account{
		{ID: "", Error: "sts:GetCallerIdentity: no credentials"},
		{ID: "../../etc"},
		{ID: "123456789012", Regions: []trailguard.Region{}},
		{ID: "123456789012", Regions: []trailguard.Region{}},
	})
	if err == nil {
		t.Fatal("no error")
	}
	for _, w := range []string{`account ""`, "no credentials", `account "../../etc"`, "given twice"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q lacks %q", err, w)
		}
	}
	got, rerr := Read(dir)
	if rerr != nil || len(got) != 1 || got[0].ID != "123456789012" {
		t.Errorf("the placeable account should still be written: %s %v", asJSON(t, got), rerr)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("entries in the evidence directory: %v", entries)
	}
}
