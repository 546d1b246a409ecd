package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// An ERROR account loaded from evidence (its regions.json read, its
// describe-trails.json damaged or missing) has its regions "not
// established": the summary counts none as not covered, the JSON says so,
// the CSV marks every region.
func TestScanEvidence_error_account_regions_not_established(t *testing.T) {
	regions := `{"Regions":[{"RegionName":"us-east-1","Endpoint":"ec2.us-east-1.amazonaws.com","OptInStatus":"opt-in-not-required"},` +
		`{"RegionName":"eu-west-1","Endpoint":"ec2.eu-west-1.amazonaws.com","OptInStatus":"opt-in-not-required"}]}`
	for _, c := range []struct {
		name   string
		trails string // describe-trails.json; "" for none
	}{
		{"describe_trails_damaged", `{"trailList": [`},
		{"describe_trails_missing", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			acct := filepath.Join(dir, "111111111111")
			if err := os.MkdirAll(acct, 0o755); err != nil {
				t.Fatal(err)
			}
			os.WriteFile(filepath.Join(acct, "regions.json"), []byte(regions), 0o644)
			if c.trails != "" {
				os.WriteFile(filepath.Join(acct, "describe-trails.json"), []byte(c.trails), 0o644)
			}
			code, out, errOut := cli(t, "scan", "--evidence", dir, "--color", "never")
			if code != 2 {
				t.Fatalf("exit %d, want 2 (stderr %q)", code, errOut)
			}
			if !strings.Contains(out, "1 ERROR; 0 enabled region(s) not covered; coverage not established in 1 UNKNOWN or ERROR account(s)") ||
				!strings.Contains(out, "not established  eu-west-1 us-east-1") || strings.Contains(out, "not covered  ") {
				t.Errorf("text report:\n%s", out)
			}
			_, out, _ = cli(t, "scan", "--evidence", dir, "--format", "json")
			if !strings.Contains(out, `"uncovered_regions": 0`) || !strings.Contains(out, `"unestablished_results": 1`) || !strings.Contains(out, `"coverage_established": false`) {
				t.Errorf("json report:\n%s", out)
			}
			_, out, _ = cli(t, "scan", "--evidence", dir, "--format", "csv")
			if strings.Count(out, ",not established,") != 2 || strings.Contains(out, "not covered") {
				t.Errorf("csv report:\n%s", out)
			}
		})
	}
}

// A Terraform trail whose multi-region setting is a variable without a
// value is UNKNOWN; its trail table shows "?" and the expression, not
// "no … single-region", in text and HTML; JSON carries the expression.
func TestIaC_unknown_multi_region_shows_the_expression(t *testing.T) {
	dir := t.TempDir()
	tf := `variable "multi_region" {
  type = bool
}

resource "aws_cloudtrail" "audit" {
  name                  = "audit"
  s3_bucket_name        = "audit-logs"
  is_multi_region_trail = var.multi_region
}
`
	if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte(tf), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := cli(t, "iac", dir, "--color", "never")
	if code != 2 {
		t.Fatalf("exit %d, want 2 (UNKNOWN); stderr %q\n%s", code, errOut, out)
	}
	if !strings.Contains(out, "  ?  ") || !strings.Contains(out, "? audit multi-region: is_multi_region_trail = var.multi_region") || strings.Contains(out, "single-region") {
		t.Errorf("text report:\n%s", out)
	}
	_, out, _ = cli(t, "iac", dir, "--format", "html")
	if !strings.Contains(out, "<td>? (") || strings.Contains(out, "<td>single-region</td>") {
		t.Errorf("html trail table does not show ?")
	}
	_, out, _ = cli(t, "iac", dir, "--format", "json")
	if !strings.Contains(out, `"unknown_multi_region": "`) {
		t.Errorf("json lacks unknown_multi_region:\n%s", out)
	}
}
