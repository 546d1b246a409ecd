package report

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trailguard/trailguard"
)

// update rewrites the golden files from the current output:
//
//	go test ./report -run TestGolden -update
//
// then review the diff of testdata/golden like any other change: other
// tools parse these outputs (SARIF viewers, Security Hub, OCSF lakes, CI
// test reporters, spreadsheets), so a changed byte there is a changed
// interface.
var update = flag.Bool("update", false, "rewrite testdata/golden from the current output")

// goldenStarted is the fixed start of the golden runs; every time a format
// prints (ASFF and OCSF timestamps, JUnit durations, the text footer)
// derives from it or from the fixed duration, never from the clock.
var goldenStarted = time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC)

// goldenLive is a live organization scan with one account of every kind:
// PASS with warnings (delivery error, an excluded event source), FAIL (a
// stopped trail beside a single-region one; read-only advanced
// selectors), UNKNOWN (status not readable), ERROR (role not assumable)
// and MUTED (no trail, under a mutelist exception), plus a partial run,
// a skipped account, a notice and API call counts.
func goldenLive(t *testing.T) *Report {
	t.Helper()
	regions := []trailguard.Region{
		{Name: "us-east-1", OptInStatus: "opt-in-not-required"},
		{Name: "eu-west-1", OptInStatus: "opt-in-not-required"},
		{Name: "af-south-1", OptInStatus: "opted-in"},
		{Name: "me-south-1", OptInStatus: "not-opted-in"},
	}
	started := goldenStarted.Add(-72 * time.Hour)
	all := &trailguard.EventSelectors{Basic: []trailguard.EventSelector{{ReadWriteType: "All", IncludeManagementEvents: true}}}
	trail := func(acct, name, home string, multi, logging bool) trailguard.Trail {
		return trailguard.Trail{
			Name: name, ARN: "arn:aws:cloudtrail:" + home + ":" + acct + ":trail/" + name, HomeRegion: home,
			IsMultiRegion: multi, IncludeGlobalServiceEvents: multi, S3BucketName: "audit-logs-" + acct,
			Status:    &trailguard.TrailStatus{IsLogging: logging, StartLoggingTime: &started},
			Selectors: all,
		}
	}
	warned := trail("111111111111", "org-audit", "us-east-1", true, true)
	warned.IsOrganizationTrail = true
	warned.Status.LatestDeliveryError = "AccessDenied"
	warned.Selectors = &trailguard.EventSelectors{Basic: []trailguard.EventSelector{{
		ReadWriteType: "All", IncludeManagementEvents: true, ExcludeManagementEventSources: []string{"kms.amazonaws.com"},
	}}}
	readOnly := trail("666666666666", "reads", "eu-west-1", true, true)
	readOnly.HasCustomEventSelectors = true
	readOnly.Selectors = &trailguard.EventSelectors{Advanced: []trailguard.AdvancedEventSelector{{
		Name: "management reads",
		FieldSelectors: []trailguard.FieldSelector{
			{Field: "eventCategory", Equals: []string{"Management"}},
			{Field: "readOnly", Equals: []string{"true"}},
		},
	}}}
	unreadable := trail("333333333333", "main", "us-east-1", true, true)
	unreadable.Status, unreadable.StatusError = nil, "cloudtrail:GetTrailStatus: AccessDeniedException: User is not authorized"

	results := trailguard.EvaluateAll([]trailguard.Account{
		{ID: "111111111111", Name: "management", Trails: []trailguard.Trail{warned}, Regions: regions},
		{ID: "222222222222", Name: "prod", Trails: []trailguard.Trail{
			trail("222222222222", "main", "us-east-1", true, false),
			trail("222222222222", "local", "eu-west-1", false, true),
		}, Regions: regions},
		{ID: "333333333333", Name: "staging", Trails: []trailguard.Trail{unreadable}, Regions: regions},
		{ID: "444444444444", Name: "legacy", Error: "sts:AssumeRole arn:aws:iam::444444444444:role/OrganizationAccountAccessRole: AccessDenied"},
		{ID: "555555555555", Name: "sandbox", Regions: regions},
		{ID: "666666666666", Name: "data", Trails: []trailguard.Trail{readOnly}, Regions: regions},
	}, trailguard.Options{Now: func() time.Time { return goldenStarted }})
	results[4].Mute("mutelist: sandbox, closed in Q1 (owner: platform, expires 2027-03-31)")
	want := []trailguard.Status{"PASS", "FAIL", "UNKNOWN", "ERROR", "MUTED", "FAIL"}
	checkFixture(t, results, want)

	rep := New("1.2.3", Scan{Source: "aws", Region: "us-east-1", StartedAt: goldenStarted, DurationMS: 4321}, results, map[string]int{
		"sts:GetCallerIdentity":           1,
		"organizations:ListAccounts":      1,
		"sts:AssumeRole":                  5,
		"cloudtrail:DescribeTrails":       5,
		"cloudtrail:GetTrailStatus":       5,
		"cloudtrail:GetEventSelectors":    4,
		"ec2:DescribeRegions":             5,
		"organizations:DescribeAccount":   0,
		"cloudtrail:ListTrails":           0,
		"securityhub:BatchImportFindings": 0,
	})
	rep.Partial = &Partial{Reason: "interrupted (Ctrl-C)", NotScanned: []string{"777777777777"}, ListingCutShort: true, AccountsListed: 8}
	rep.Skipped = map[string]string{"888888888888": "SUSPENDED"}
	rep.Notices = []string{"mutelist entry 999999999999 expired on 2026-01-01 and no longer mutes"}
	return rep
}

// goldenIaC is an IaC run over Terraform and CloudFormation with one
// resource of every kind: PASS, FAIL (not multi-region; not created),
// UNKNOWN (a value or an existence not known statically; a module not
// read) and MUTED (an ignore comment).
func goldenIaC(t *testing.T) *Report {
	t.Helper()
	good := trailguard.Trail{
		Name: "audit", HomeRegion: "us-east-1", IsMultiRegion: true, IncludeGlobalServiceEvents: true,
		S3BucketName: "audit-logs", Status: &trailguard.TrailStatus{IsLogging: true}, Selectors: trailguard.DefaultSelectors(),
	}
	single := good
	single.Name, single.IsMultiRegion = "regional", false
	var results []trailguard.Result
	for _, tr := range []trailguard.IaCTrail{
		{File: "infra/audit.tf", Line: 12, Resource: "aws_cloudtrail.audit", Trail: good},
		{File: "stacks/trail.yaml", Line: 40, Resource: "RegionalTrail", Trail: single,
			Positions: trailguard.IaCPositions{MultiRegion: trailguard.Position{File: "stacks/trail.yaml", Line: 44, Column: 7}}},
		{File: "infra/audit.tf", Line: 31, Resource: "aws_cloudtrail.optional[0]", Trail: good,
			UnknownExists: "count = var.create ? 1 : 0: create has no default and no value given"},
		{File: "infra/audit.tf", Line: 52, Resource: "aws_cloudtrail.multi", Trail: good,
			UnknownMultiRegion: "is_multi_region_trail = var.multi_region: no default and no value given"},
		{File: "infra/off.tf", Line: 3, Resource: "aws_cloudtrail.off", Trail: good, Absent: "count = 0"},
		{File: "stacks/sandbox.json", Line: 7, Resource: "SandboxTrail", Trail: single, Ignore: "sandbox stack, covered by the organization trail"},
	} {
		results = append(results, trailguard.EvaluateIaC(tr, trailguard.Options{}))
	}
	results = append(results, trailguard.UnreadResult("infra/main.tf", 5, "module.logging", `module source "git::https://example.com/logging.git" is not read`))
	want := []trailguard.Status{"PASS", "FAIL", "UNKNOWN", "UNKNOWN", "FAIL", "MUTED", "UNKNOWN"}
	checkFixture(t, results, want)
	return New("1.2.3", Scan{Source: "iac:infra,stacks", StartedAt: goldenStarted, DurationMS: 87}, results, nil)
}

func checkFixture(t *testing.T, results []trailguard.Result, want []trailguard.Status) {
	t.Helper()
	if len(results) != len(want) {
		t.Fatalf("fixture has %d results, want %d", len(results), len(want))
	}
	for i, r := range results {
		if r.Status != want[i] {
			t.Fatalf("fixture %d (%s%s) is %s, want %s: %q", i, r.Account, r.Resource, r.Status, want[i], r.Reasons)
		}
	}
}

// TestGolden renders the fixed live and IaC reports in every format and
// compares each byte with testdata/golden/<report>.<format>. A difference
// fails with the file to look at; -update rewrites the files.
func TestGolden(t *testing.T) {
	variants := map[string]Style{"": {}, "-verbose": {Verbose: true}, "-color": {Color: true}}
	reports := map[string]func(*testing.T) *Report{"live": goldenLive, "iac": goldenIaC}
	seen := map[string]bool{}
	for _, format := range Formats() {
		for suffix, style := range variants {
			if suffix != "" && format != "text" {
				continue // only text has styles
			}
			for name, build := range reports {
				file := name + suffix + "." + format
				seen[file] = true
				t.Run(name+"/"+format+suffix, func(t *testing.T) {
					w, err := ForFormat(format, style)
					if err != nil {
						t.Fatal(err)
					}
					got := render(t, w, build(t))
					// Rendering is deterministic: the same report twice gives
					// the same bytes (no map order, no clock).
					if again := render(t, w, build(t)); !bytes.Equal(got, again) {
						t.Fatalf("%s differs between two renderings of the same report", format)
					}
					checkGolden(t, filepath.Join("testdata", "golden", file), got)
				})
			}
		}
	}
	// A golden file that no format writes any more is stale: it would
	// hide that a format was dropped.
	entries, err := os.ReadDir(filepath.Join("testdata", "golden"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !seen[e.Name()] {
			if *update {
				os.Remove(filepath.Join("testdata", "golden", e.Name()))
				continue
			}
			t.Errorf("testdata/golden/%s is written by no format (run go test ./report -run TestGolden -update)", e.Name())
		}
	}
}

func checkGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./report -run TestGolden -update to create it)", err)
	}
	if bytes.Equal(got, want) {
		return
	}
	gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
	for i := 0; i < max(len(gl), len(wl)); i++ {
		var g, w string
		if i < len(gl) {
			g = gl[i]
		}
		if i < len(wl) {
			w = wl[i]
		}
		if g != w {
			t.Fatalf("output differs from %s, first at line %d:\n got: %q\nwant: %q\n(if the change is intended, run go test ./report -run TestGolden -update and review the diff)", path, i+1, g, w)
		}
	}
	t.Fatalf("output differs from %s (if intended, run go test ./report -run TestGolden -update)", path)
}
