package report

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"encoding/xml"
	"strings"
	"testing"
	"time"

	shtypes "github.com/aws/aws-sdk-go-v2/service/securityhub/types"
	"github.com/owenrumney/go-sarif/v2/sarif"

	"github.com/trailguard/trailguard"
)

// mixedReport has one result of every kind: PASS, FAIL, UNKNOWN (a trail
// not readable), ERROR (account not readable), MUTED (a FAIL under an
// exception) and an IaC resource that fails.
func mixedReport(t *testing.T) *Report {
	t.Helper()
	regions := []trailguard.Region{{Name: "us-east-1", OptInStatus: "opt-in-not-required"}, {Name: "eu-west-1", OptInStatus: "opt-in-not-required"}, {Name: "me-south-1", OptInStatus: "not-opted-in"}}
	trail := func(acct string, logging bool) trailguard.Trail {
		return trailguard.Trail{Name: "main", ARN: "arn:aws:cloudtrail:us-east-1:" + acct + ":trail/main", HomeRegion: "us-east-1", IsMultiRegion: true, IncludeGlobalServiceEvents: true,
			Status:    &trailguard.TrailStatus{IsLogging: logging},
			Selectors: &trailguard.EventSelectors{Basic: []trailguard.EventSelector{{ReadWriteType: "All", IncludeManagementEvents: true}}}}
	}
	unreadable := trail("333333333333", true)
	unreadable.Status, unreadable.StatusError = nil, "cloudtrail:GetTrailStatus: AccessDeniedException: denied"
	results := trailguard.EvaluateAll([]trailguard.Account{
		{ID: "111111111111", Name: "prod|eu", Trails: []trailguard.Trail{trail("111111111111", true)}, Regions: regions},
		{ID: "222222222222", Trails: []trailguard.Trail{trail("222222222222", false)}, Regions: regions},
		{ID: "333333333333", Trails: []trailguard.Trail{unreadable}, Regions: regions},
		{ID: "444444444444", Error: "sts:AssumeRole: AccessDenied"},
		{ID: "555555555555", Trails: []trailguard.Trail{trail("555555555555", false)}, Regions: regions},
	}, trailguard.Options{})
	results[4].Mute("sandbox, closing in Q1 (owner: platform)")
	iac := trailguard.Evaluate(trailguard.Account{Trails: []trailguard.Trail{trail("000000000000", false)}}, trailguard.Options{})
	iac.Account, iac.File, iac.Line, iac.Resource = "", "infra/audit.tf", 12, "aws_cloudtrail.main"
	results = append(results, iac)
	want := []trailguard.Status{"PASS", "FAIL", "UNKNOWN", "ERROR", "MUTED", "FAIL"}
	for i, r := range results {
		if r.Status != want[i] {
			t.Fatalf("fixture %d is %s, want %s: %q", i, r.Status, want[i], r.Reasons)
		}
	}
	return New("1.2.3", Scan{Source: "aws", Region: "eu-west-1", StartedAt: time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC), DurationMS: 1500}, results, nil)
}

func render(t *testing.T, w Writer, r *Report) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := w.Write(&buf, r); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestCSV_one_row_per_account_and_region(t *testing.T) {
	rep := mixedReport(t)
	rows, err := csv.NewReader(bytes.NewReader(render(t, CSV{}, rep))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	want := 1 // header
	for _, r := range rep.Results {
		want += max(len(r.Regions), 1)
	}
	if len(rows) != want {
		t.Fatalf("%d rows, want %d", len(rows), want)
	}
	byKey := map[string][]string{}
	for _, row := range rows[1:] {
		byKey[row[col["account"]]+"/"+row[col["region"]]+"/"+row[col["resource"]]] = row
	}
	if r := byKey["111111111111/eu-west-1/"]; r[col["status"]] != "PASS" || !strings.HasSuffix(r[col["covered_by"]], ":trail/main") || r[col["account_name"]] != "prod|eu" {
		t.Errorf("passing region row %v", r)
	}
	if r := byKey["222222222222/us-east-1/"]; r[col["status"]] != "FAIL" || r[col["covered_by"]] != "" || !strings.Contains(r[col["reasons"]], "not logging") {
		t.Errorf("failing region row %v", r)
	}
	if r := byKey["222222222222/me-south-1/"]; r[col["region_enabled"]] != "false" {
		t.Errorf("region not enabled row %v", r)
	}
	if r := byKey["555555555555/us-east-1/"]; r[col["status"]] != "MUTED" || r[col["underlying_status"]] != "FAIL" || !strings.Contains(r[col["mute_reason"]], "sandbox") {
		t.Errorf("muted row %v", r)
	}
	if r := byKey["444444444444//"]; r[col["status"]] != "ERROR" || !strings.Contains(r[col["reasons"]], "AssumeRole") {
		t.Errorf("error row %v", r)
	}
	if r := byKey["//aws_cloudtrail.main"]; r[col["file"]] != "infra/audit.tf" || r[col["line"]] != "12" {
		t.Errorf("IaC row %v", r)
	}
}

func TestMarkdown_summary_and_what_needs_attention(t *testing.T) {
	out := string(render(t, Markdown{}, mixedReport(t)))
	for _, want := range []string{"| 6 | 1 | 2 | 1 | 1 | 1 |", "**FAIL** | 222222222222", "**ERROR** | 444444444444", "**MUTED** | 555555555555", "aws\\_cloudtrail.main (infra/audit.tf:12)"} {
		if !strings.Contains(out, want) {
			t.Errorf("markdown lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "111111111111") {
		t.Error("a passing account is listed")
	}
	// Every table row keeps its column count: no stray pipe from the data.
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "| **") && strings.Count(strings.ReplaceAll(line, `\|`, ""), "|") != 5 {
			t.Errorf("row with a broken cell: %q", line)
		}
	}
}

func TestJUnit_parses_with_one_case_per_result(t *testing.T) {
	var doc struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
		Errors   int `xml:"errors,attr"`
		Skipped  int `xml:"skipped,attr"`
		Suites   []struct {
			Cases []struct {
				Name    string `xml:"name,attr"`
				File    string `xml:"file,attr"`
				Failure *struct {
					Message string `xml:"message,attr"`
					Text    string `xml:",chardata"`
				} `xml:"failure"`
				Error *struct {
					Message string `xml:"message,attr"`
				} `xml:"error"`
				Skipped *struct {
					Message string `xml:"message,attr"`
				} `xml:"skipped"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(render(t, JUnit{}, mixedReport(t)), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Tests != 6 || doc.Failures != 2 || doc.Errors != 2 || doc.Skipped != 1 || len(doc.Suites) != 1 || len(doc.Suites[0].Cases) != 6 {
		t.Fatalf("counts %+v", doc)
	}
	cases := doc.Suites[0].Cases
	if cases[0].Failure != nil || cases[0].Error != nil {
		t.Errorf("PASS case has a failure: %+v", cases[0])
	}
	if cases[1].Failure == nil || !strings.Contains(cases[1].Failure.Text, "not logging") {
		t.Errorf("FAIL case %+v", cases[1])
	}
	if cases[3].Error == nil || !strings.Contains(cases[3].Error.Message, "AssumeRole") {
		t.Errorf("ERROR case %+v", cases[3])
	}
	if cases[4].Skipped == nil || !strings.Contains(cases[4].Skipped.Message, "sandbox") {
		t.Errorf("MUTED case %+v", cases[4])
	}
	if cases[5].File != "infra/audit.tf" || cases[5].Failure == nil {
		t.Errorf("IaC case %+v", cases[5])
	}
}

func TestSARIF_findings_locations_and_suppressions(t *testing.T) {
	raw := render(t, SARIF{}, mixedReport(t))
	doc, err := sarif.FromBytes(raw)
	if err != nil {
		t.Fatal(err)
	}
	if doc.Version != "2.1.0" || !strings.Contains(doc.Schema, "sarif-schema-2.1.0") || len(doc.Runs) != 1 {
		t.Fatalf("version %q schema %q runs %d", doc.Version, doc.Schema, len(doc.Runs))
	}
	run := doc.Runs[0]
	if len(run.Tool.Driver.Rules) != 1 || run.Tool.Driver.Rules[0].ID != SARIFRuleID || run.Tool.Driver.Rules[0].Properties["security-severity"] != securitySeverity {
		t.Fatalf("rules %+v", run.Tool.Driver.Rules)
	}
	if run.Tool.Driver.Rules[0].Help == nil || run.Tool.Driver.Rules[0].Help.Markdown == nil {
		t.Error("rule has no help text")
	}
	// Every result but the PASS.
	if len(run.Results) != 5 {
		t.Fatalf("%d results, want 5", len(run.Results))
	}
	fps := map[string]bool{}
	for _, r := range run.Results {
		if r.RuleID == nil || *r.RuleID != SARIFRuleID || r.Message.Text == nil || len(r.Locations) != 1 {
			t.Errorf("result %+v", r)
			continue
		}
		fp, _ := r.PartialFingerprints["trailguard/v1"].(string)
		if fp == "" || fps[fp] {
			t.Errorf("fingerprint %q missing or repeated", fp)
		}
		fps[fp] = true
		text := *r.Message.Text
		switch {
		case strings.Contains(text, "infra/audit.tf"):
			pl := r.Locations[0].PhysicalLocation
			if pl == nil || *pl.ArtifactLocation.URI != "infra/audit.tf" || *pl.Region.StartLine != 12 || *r.Level != "error" {
				t.Errorf("IaC result location %+v", r.Locations[0])
			}
		case strings.HasPrefix(text, "MUTED"):
			if len(r.Suppressions) != 1 || r.Suppressions[0].Kind != "external" || !strings.Contains(*r.Suppressions[0].Justification, "sandbox") {
				t.Errorf("muted result suppressions %+v", r.Suppressions)
			}
		case strings.Contains(text, "444444444444"):
			ll := r.Locations[0].LogicalLocations
			if len(ll) != 1 || *ll[0].Name != "444444444444" || *r.Level != "warning" {
				t.Errorf("account result %+v", r.Locations[0])
			}
		}
	}
	// The same finding in the next scan keeps its fingerprint.
	again, _ := sarif.FromBytes(render(t, SARIF{}, mixedReport(t)))
	if again.Runs[0].Results[0].PartialFingerprints["trailguard/v1"] != run.Results[0].PartialFingerprints["trailguard/v1"] {
		t.Error("fingerprints change between identical scans")
	}
}

func TestASFF_findings_read_back_as_security_hub_types(t *testing.T) {
	raw := render(t, ASFF{}, mixedReport(t))
	var findings []shtypes.AwsSecurityFinding
	if err := json.Unmarshal(raw, &findings); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, []byte("null")) {
		t.Error("unset fields written as null")
	}
	// Account results only: the IaC resource is not an account finding.
	if len(findings) != 5 {
		t.Fatalf("%d findings, want 5", len(findings))
	}
	wantCompliance := []shtypes.ComplianceStatus{"PASSED", "FAILED", "WARNING", "NOT_AVAILABLE", "FAILED"}
	for i, f := range findings {
		for name, v := range map[string]*string{"SchemaVersion": f.SchemaVersion, "Id": f.Id, "ProductArn": f.ProductArn, "GeneratorId": f.GeneratorId,
			"AwsAccountId": f.AwsAccountId, "CreatedAt": f.CreatedAt, "UpdatedAt": f.UpdatedAt, "Title": f.Title, "Description": f.Description} {
			if v == nil || *v == "" {
				t.Errorf("finding %d lacks required %s", i, name)
			}
		}
		if len(f.Types) == 0 || len(f.Resources) == 0 || f.Severity == nil || f.FindingProviderFields == nil {
			t.Errorf("finding %d lacks Types, Resources, Severity or FindingProviderFields", i)
		}
		if f.Compliance == nil || f.Compliance.Status != wantCompliance[i] {
			t.Errorf("finding %d compliance %+v, want %s", i, f.Compliance, wantCompliance[i])
		}
		if !strings.HasPrefix(*f.ProductArn, "arn:aws:securityhub:eu-west-1:"+*f.AwsAccountId+":product/"+*f.AwsAccountId+"/default") {
			t.Errorf("product ARN %s", *f.ProductArn)
		}
		if _, err := time.Parse(time.RFC3339, *f.UpdatedAt); err != nil {
			t.Errorf("UpdatedAt %q: %v", *f.UpdatedAt, err)
		}
	}
	if findings[4].Workflow == nil || findings[4].Workflow.Status != shtypes.WorkflowStatusSuppressed {
		t.Errorf("muted finding workflow %+v", findings[4].Workflow)
	}
	if *findings[1].Id != "trailguard/"+trailguard.ControlID+"/222222222222" {
		t.Errorf("id %s is not stable per account", *findings[1].Id)
	}
}

func TestOCSF_compliance_findings(t *testing.T) {
	var events []map[string]any
	if err := json.Unmarshal(render(t, OCSF{}, mixedReport(t)), &events); err != nil {
		t.Fatal(err)
	}
	if len(events) != 6 {
		t.Fatalf("%d events", len(events))
	}
	required := []string{"activity_id", "category_uid", "class_uid", "type_uid", "time", "severity_id", "metadata", "finding_info", "compliance"}
	wantStatus := []float64{1, 3, 2, 0, 3, 3}
	for i, e := range events {
		for _, k := range required {
			if _, ok := e[k]; !ok {
				t.Errorf("event %d lacks %s", i, k)
			}
		}
		if e["class_uid"] != float64(2003) || e["category_uid"] != float64(2) || e["type_uid"] != float64(200301) {
			t.Errorf("event %d class %v category %v type %v", i, e["class_uid"], e["category_uid"], e["type_uid"])
		}
		c := e["compliance"].(map[string]any)
		if c["status_id"] != wantStatus[i] || len(c["standards"].([]any)) == 0 || len(c["requirements"].([]any)) == 0 {
			t.Errorf("event %d compliance %v", i, c)
		}
		meta := e["metadata"].(map[string]any)
		if meta["version"] == "" || meta["product"].(map[string]any)["name"] != "trailguard" {
			t.Errorf("event %d metadata %v", i, meta)
		}
	}
	cloud := events[1]["cloud"].(map[string]any)
	if cloud["provider"] != "AWS" || cloud["account"].(map[string]any)["uid"] != "222222222222" {
		t.Errorf("cloud %v", cloud)
	}
}

// Regions of an account whose data could not be read are not counted as
// uncovered: whether a trail covers them is not known.
func TestSummary_keeps_unknown_coverage_apart(t *testing.T) {
	s := mixedReport(t).Summary
	// 222 (FAIL) and the MUTED FAIL leave us-east-1 and eu-west-1 uncovered;
	// 333 (UNKNOWN) could not be read.
	if s.UncoveredRegions != 4 || s.UnestablishedRegions != 2 {
		t.Errorf("uncovered %d, unestablished %d; want 4 and 2", s.UncoveredRegions, s.UnestablishedRegions)
	}
	out := string(render(t, Text{}, mixedReport(t)))
	if !strings.Contains(out, "4 enabled region(s) not covered; coverage not established in 2 UNKNOWN or ERROR result(s) (2 enabled region(s) no readable trail covers)") {
		t.Errorf("text summary:\n%s", out)
	}
}
