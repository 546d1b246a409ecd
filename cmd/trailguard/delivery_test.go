package main

import (
	"encoding/json"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trailguard/trailguard/internal/awsemu"
)

const deliveryAcct = "123456789012"

// deliveryReport is the part of the JSON report the delivery tests read.
type deliveryReport struct {
	Scan struct {
		RequireDelivery bool   `json:"require_delivery"`
		MaxDeliveryAge  string `json:"max_delivery_age"`
	} `json:"scan"`
	Results []struct {
		Account  string   `json:"account"`
		Status   string   `json:"status"`
		Reasons  []string `json:"reasons"`
		Warnings []string `json:"warnings"`
		Covering string   `json:"covering_trail"`
		Delivery []struct {
			Trail          string  `json:"trail"`
			Latest         *string `json:"latest_delivery_time"`
			Age            *int64  `json:"age_seconds"`
			Stale          bool    `json:"stale"`
			NeverDelivered bool    `json:"never_delivered"`
			DeliveryError  string  `json:"delivery_error"`
			DigestError    string  `json:"digest_delivery_error"`
			CWLError       string  `json:"cloudwatch_logs_delivery_error"`
			Validation     bool    `json:"log_file_validation"`
			Healthy        bool    `json:"healthy"`
		} `json:"delivery"`
	} `json:"results"`
}

// deliveryCase is one delivery state of one trail in the emulator, and
// what a scan must say of it.
type deliveryCase struct {
	name       string
	validation bool
	cwl        bool // the trail sends to CloudWatch Logs
	state      awsemu.DeliveryState
	// warning must appear among the result's warnings, in text and JSON.
	warning string
	// failsWithRequire: --require-delivery makes the account FAIL.
	failsWithRequire bool
	check            func(t *testing.T, r deliveryReport)
}

func deliveryCases() []deliveryCase {
	now := time.Now()
	return []deliveryCase{
		{
			name: "s3_delivery_error", validation: true,
			state:   awsemu.DeliveryState{DeliveryError: "AccessDenied"},
			warning: `fails to deliver to S3 bucket "delivery-logs": AccessDenied`, failsWithRequire: true,
			check: func(t *testing.T, r deliveryReport) {
				if d := r.Results[0].Delivery; len(d) != 1 || d[0].DeliveryError != "AccessDenied" || d[0].Healthy {
					t.Errorf("delivery = %+v", d)
				}
			},
		},
		{
			name: "stale_delivery", validation: true,
			state:   awsemu.DeliveryState{LastDelivery: now.Add(-72 * time.Hour), LoggingSince: now.Add(-30 * 24 * time.Hour)},
			warning: "last delivered a log file to S3 bucket \"delivery-logs\" 3d ago", failsWithRequire: true,
			check: func(t *testing.T, r deliveryReport) {
				d := r.Results[0].Delivery
				if len(d) != 1 || !d[0].Stale || d[0].Latest == nil || d[0].Age == nil || *d[0].Age < 72*3600 {
					t.Errorf("delivery = %+v", d)
				}
			},
		},
		{
			name: "never_delivered", validation: true,
			state:   awsemu.DeliveryState{NeverDelivered: true, LoggingSince: now.Add(-50 * time.Hour)},
			warning: "has logged for 2d2h", failsWithRequire: true,
			check: func(t *testing.T, r deliveryReport) {
				if d := r.Results[0].Delivery; len(d) != 1 || !d[0].NeverDelivered || d[0].Latest != nil {
					t.Errorf("delivery = %+v", d)
				}
			},
		},
		{
			name: "cloudwatch_logs_error", validation: true, cwl: true,
			state:   awsemu.DeliveryState{CloudWatchLogsDeliveryError: "AccessDeniedException"},
			warning: "aws iam get-role --role-name CloudTrail_CloudWatchLogs_Role", failsWithRequire: true,
			check: func(t *testing.T, r deliveryReport) {
				if d := r.Results[0].Delivery; len(d) != 1 || d[0].CWLError != "AccessDeniedException" {
					t.Errorf("delivery = %+v", d)
				}
			},
		},
		{
			name: "digest_error", validation: true,
			state:   awsemu.DeliveryState{DigestDeliveryError: "AccessDenied"},
			warning: `fails to deliver digest files to S3 bucket "delivery-logs": AccessDenied`, failsWithRequire: true,
			check: func(t *testing.T, r deliveryReport) {
				if d := r.Results[0].Delivery; len(d) != 1 || d[0].DigestError != "AccessDenied" {
					t.Errorf("delivery = %+v", d)
				}
			},
		},
		{
			name: "validation_off", validation: false,
			warning: "--enable-log-file-validation --region us-east-1", failsWithRequire: false,
			check: func(t *testing.T, r deliveryReport) {
				if d := r.Results[0].Delivery; len(d) != 1 || d[0].Validation || !d[0].Healthy {
					t.Errorf("delivery = %+v", d)
				}
			},
		},
	}
}

// seedDeliveryTrail starts an emulator with one account whose one
// multi-region trail is logging in the given delivery state.
func seedDeliveryTrail(t *testing.T, tc deliveryCase) (*httptest.Server, awsemu.Credentials, string) {
	t.Helper()
	emu, srv := awsemu.Start()
	t.Cleanup(srv.Close)
	creds := emu.AddAccount(deliveryAcct)
	spec := awsemu.TrailSpec{Name: "audit", S3BucketName: "delivery-logs", IsMultiRegion: true, IncludeGlobalServiceEvents: true,
		LogFileValidation: tc.validation, Logging: true}
	if tc.cwl {
		spec.CloudWatchLogsLogGroupARN = "arn:aws:logs:us-east-1:" + deliveryAcct + ":log-group:audit:*"
		spec.CloudWatchLogsRoleARN = "arn:aws:iam::" + deliveryAcct + ":role/CloudTrail_CloudWatchLogs_Role"
	}
	state := tc.state
	spec.Delivery = &state
	arn, err := emu.PutTrail(deliveryAcct, spec)
	if err != nil {
		t.Fatal(err)
	}
	return srv, creds, arn
}

func parseDelivery(t *testing.T, out string) deliveryReport {
	t.Helper()
	var r deliveryReport
	if err := json.Unmarshal([]byte(out), &r); err != nil || len(r.Results) != 1 {
		t.Fatalf("JSON report: %v\n%s", err, out)
	}
	return r
}

// A scan over HTTP against the emulator reports each delivery state as a
// warning with its fix in text and JSON, with the account still PASS;
// --require-delivery turns each into FAIL but log file validation off.
func TestScanDelivery_live(t *testing.T) {
	for _, tc := range deliveryCases() {
		t.Run(tc.name, func(t *testing.T) {
			srv, creds, arn := seedDeliveryTrail(t, tc)
			isolateAWS(t, creds)

			code, out, stderr := cli(t, "scan", "--endpoint-url", srv.URL, "--format", "json")
			r := parseDelivery(t, out)
			res := r.Results[0]
			if code != 0 || res.Status != "PASS" || res.Covering != arn {
				t.Fatalf("exit %d, status %s, covering %q; reasons %q; stderr %s", code, res.Status, res.Covering, res.Reasons, stderr)
			}
			if !strings.Contains(strings.Join(res.Warnings, "\n"), tc.warning) {
				t.Errorf("warnings %q lack %q", res.Warnings, tc.warning)
			}
			tc.check(t, r)

			code, text, _ := cli(t, "scan", "--endpoint-url", srv.URL, "--color", "never")
			if code != 0 || !strings.Contains(text, tc.warning) {
				t.Errorf("text: exit %d, lacks %q:\n%s", code, tc.warning, text)
			}

			code, out, _ = cli(t, "scan", "--endpoint-url", srv.URL, "--format", "json", "--require-delivery")
			r = parseDelivery(t, out)
			res = r.Results[0]
			wantStatus, wantCode := "PASS", 0
			if tc.failsWithRequire {
				wantStatus, wantCode = "FAIL", 1
			}
			if code != wantCode || res.Status != wantStatus {
				t.Fatalf("--require-delivery: exit %d, status %s, want %d %s; reasons %q", code, res.Status, wantCode, wantStatus, res.Reasons)
			}
			if tc.failsWithRequire && !strings.Contains(strings.Join(res.Reasons, "\n"), "--require-delivery") {
				t.Errorf("reasons %q do not name --require-delivery", res.Reasons)
			}
			if !strings.Contains(strings.Join(res.Warnings, "\n"), tc.warning) {
				t.Errorf("--require-delivery: warnings %q lack the fix %q", res.Warnings, tc.warning)
			}
			if !r.Scan.RequireDelivery || r.Scan.MaxDeliveryAge != "24h0m0s" {
				t.Errorf("scan block %+v, want require_delivery and 24h", r.Scan)
			}
		})
	}
}

// A healthy trail gives no delivery warning, and a --max-delivery-age
// shorter than its last delivery makes it stale.
func TestScanDelivery_max_age(t *testing.T) {
	tc := deliveryCase{validation: true, state: awsemu.DeliveryState{LastDelivery: time.Now().Add(-3 * time.Hour)}}
	srv, creds, _ := seedDeliveryTrail(t, tc)
	isolateAWS(t, creds)
	code, out, _ := cli(t, "scan", "--endpoint-url", srv.URL, "--format", "json", "--require-delivery")
	if r := parseDelivery(t, out); code != 0 || len(r.Results[0].Warnings) != 0 {
		t.Fatalf("3 h old delivery, default age: exit %d, warnings %q", code, r.Results[0].Warnings)
	}
	code, out, _ = cli(t, "scan", "--endpoint-url", srv.URL, "--format", "json", "--require-delivery", "--max-delivery-age", "2h")
	if r := parseDelivery(t, out); code != 1 || r.Results[0].Status != "FAIL" || r.Scan.MaxDeliveryAge != "2h0m0s" {
		t.Fatalf("--max-delivery-age 2h: exit %d, %+v", code, r)
	}
}

// A status the scan may not read is UNKNOWN with --require-delivery,
// never PASS.
func TestScanDelivery_unreadable_status_is_unknown(t *testing.T) {
	emu, srv := awsemu.Start()
	t.Cleanup(srv.Close)
	creds := emu.AddAccount(deliveryAcct)
	if _, err := emu.PutTrail(deliveryAcct, awsemu.TrailSpec{Name: "audit", S3BucketName: "delivery-logs", IsMultiRegion: true,
		IncludeGlobalServiceEvents: true, LogFileValidation: true, Logging: true}); err != nil {
		t.Fatal(err)
	}
	emu.Deny("cloudtrail:GetTrailStatus")
	isolateAWS(t, creds)
	code, out, _ := cli(t, "scan", "--endpoint-url", srv.URL, "--format", "json", "--require-delivery")
	r := parseDelivery(t, out)
	if code != 2 || r.Results[0].Status != "UNKNOWN" {
		t.Fatalf("exit %d, status %s, want 2 UNKNOWN; reasons %q", code, r.Results[0].Status, r.Results[0].Reasons)
	}
}

// The same verdicts from an evidence directory: saved by the scan, and
// collected by hand with the real AWS CLI reading the emulator's
// GetTrailStatus (aws cloudtrail get-trail-status).
func TestScanDelivery_evidence(t *testing.T) {
	awsPath := awsemu.AWSCLI(t)
	for _, tc := range deliveryCases() {
		t.Run(tc.name, func(t *testing.T) {
			srv, creds, arn := seedDeliveryTrail(t, tc)
			isolateAWS(t, creds)
			work := t.TempDir()
			saved := filepath.Join(work, "saved")
			if code, _, stderr := cli(t, "scan", "--endpoint-url", srv.URL, "--save-evidence", saved, "--format", "json"); code != 0 {
				t.Fatalf("save evidence: exit %d: %s", code, stderr)
			}

			byHand := filepath.Join(work, "by-hand", deliveryAcct)
			trailDir := filepath.Join(byHand, "trails", "us-east-1", "audit")
			if err := os.MkdirAll(trailDir, 0o755); err != nil {
				t.Fatal(err)
			}
			awsCLI := func(file string, args ...string) {
				t.Helper()
				cmd := exec.Command(awsPath, append([]string{"--endpoint-url", srv.URL, "--region", "us-east-1", "--output", "json"}, args...)...)
				cmd.Env = append(envWithoutAWS(),
					"AWS_ACCESS_KEY_ID="+creds.AccessKeyID, "AWS_SECRET_ACCESS_KEY="+creds.SecretAccessKey, "AWS_SESSION_TOKEN="+creds.SessionToken,
					"AWS_CONFIG_FILE="+filepath.Join(work, "none"), "AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(work, "none"),
					"AWS_PAGER=", "AWS_EC2_METADATA_DISABLED=true")
				out, err := cmd.Output()
				if err != nil {
					t.Fatalf("aws %s: %v", strings.Join(args, " "), err)
				}
				if err := os.WriteFile(file, out, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			awsCLI(filepath.Join(byHand, "describe-trails.json"), "cloudtrail", "describe-trails")
			awsCLI(filepath.Join(trailDir, "get-trail-status.json"), "cloudtrail", "get-trail-status", "--name", arn)
			awsCLI(filepath.Join(trailDir, "get-event-selectors.json"), "cloudtrail", "get-event-selectors", "--trail-name", arn)

			for _, dir := range []string{saved, filepath.Join(work, "by-hand")} {
				code, out, stderr := cli(t, "scan", "--evidence", dir, "--format", "json")
				r := parseDelivery(t, out)
				res := r.Results[0]
				if code != 0 || res.Status != "PASS" || !strings.Contains(strings.Join(res.Warnings, "\n"), tc.warning) {
					t.Fatalf("%s: exit %d, status %s, warnings %q lack %q; stderr %s", dir, code, res.Status, res.Warnings, tc.warning, stderr)
				}
				tc.check(t, r)
				code, out, _ = cli(t, "scan", "--evidence", dir, "--format", "json", "--require-delivery")
				res = parseDelivery(t, out).Results[0]
				want := "PASS"
				if tc.failsWithRequire {
					want = "FAIL"
				}
				if res.Status != want {
					t.Errorf("%s --require-delivery: exit %d, status %s, want %s; reasons %q", dir, code, res.Status, want, res.Reasons)
				}
			}
		})
	}
}

// Bad --max-delivery-age values are usage errors that name the flag.
func TestScanDelivery_flag_validation(t *testing.T) {
	for _, tc := range []struct{ name, value string }{
		{"negative", "-1h"}, {"zero", "0s"}, {"unparsable", "soon"}, {"empty", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, cmd := range []string{"scan", "demo"} {
				code, _, stderr := cli(t, cmd, "--max-delivery-age="+tc.value)
				if code != 2 || !strings.Contains(stderr, "--max-delivery-age") {
					t.Errorf("%s --max-delivery-age=%q: exit %d, stderr %q; want 2 naming the flag", cmd, tc.value, code, stderr)
				}
			}
		})
	}
	for _, ok := range []string{"2d", "1d12h", "90m"} {
		v := new(ageValue)
		if err := v.Set(ok); err != nil || *v <= 0 {
			t.Errorf("--max-delivery-age %s: %v", ok, err)
		}
	}
}

// The demo under --require-delivery fails the account whose trail does not
// deliver, and keeps every other verdict.
func TestDemo_require_delivery(t *testing.T) {
	_, plain, _ := cli(t, "demo", "--format", "json")
	_, strict, _ := cli(t, "demo", "--format", "json", "--require-delivery")
	a, b := statuses(parseReport(t, plain)), statuses(parseReport(t, strict))
	for acct, st := range a {
		want := st
		if acct == "555555555555" {
			want = "FAIL"
		}
		if b[acct] != want {
			t.Errorf("demo --require-delivery: %s is %s, want %s", acct, b[acct], want)
		}
	}
}

// Evidence is judged at its collection: a trail that had delivered an hour
// before the collection is not stale when the evidence is read a month
// later, and the same files said to be collected now are.
func TestScanDelivery_evidence_judged_at_collection(t *testing.T) {
	collected := time.Now().Add(-40 * 24 * time.Hour).UTC().Truncate(time.Second)
	tc := deliveryCase{validation: true, state: awsemu.DeliveryState{
		LastDelivery: collected.Add(-time.Hour), LoggingSince: collected.Add(-90 * 24 * time.Hour)}}
	srv, creds, _ := seedDeliveryTrail(t, tc)
	isolateAWS(t, creds)
	dir := filepath.Join(t.TempDir(), "evidence")
	if code, _, stderr := cli(t, "scan", "--endpoint-url", srv.URL, "--save-evidence", dir, "--format", "json"); code != 0 {
		t.Fatalf("save evidence: exit %d: %s", code, stderr)
	}
	// As collected now, the last delivery is 40 days old.
	code, out, _ := cli(t, "scan", "--evidence", dir, "--format", "json", "--require-delivery")
	if r := parseDelivery(t, out); code != 1 || r.Results[0].Status != "FAIL" {
		t.Fatalf("collected now: exit %d, status %s, want FAIL; reasons %q", code, r.Results[0].Status, r.Results[0].Reasons)
	}
	// The run marker says when the collection began.
	marker := filepath.Join(dir, deliveryAcct, "collect-run.json")
	b, err := os.ReadFile(marker)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	m["StartTime"] = collected.Format(time.RFC3339)
	b, _ = json.Marshal(m)
	if err := os.WriteFile(marker, b, 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, _ = cli(t, "scan", "--evidence", dir, "--format", "json", "--require-delivery")
	r := parseDelivery(t, out)
	res := r.Results[0]
	if res.Status != "PASS" || len(res.Delivery) != 1 || res.Delivery[0].Stale || res.Delivery[0].Age == nil || *res.Delivery[0].Age != 3600 {
		t.Fatalf("collected 40 days ago: exit %d, status %s, delivery %+v; reasons %q", code, res.Status, res.Delivery, res.Reasons)
	}
}

// --max-delivery-age takes any text without panic; what it accepts is a
// duration that prints and parses back, and validation refuses any age
// that is not positive.
func FuzzAgeValue(f *testing.F) {
	for _, s := range []string{"24h", "2d", "1d12h", "90m", "-1h", "0s", "9999d", "d", "1d-25h", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var v ageValue
		if err := v.Set(s); err != nil {
			return
		}
		d := deliveryFlags{maxAge: v}
		if err := d.validate(); (err == nil) != (v > 0) {
			t.Fatalf("%q: age %s, validate %v", s, time.Duration(v), err)
		}
		back, err := time.ParseDuration(v.String())
		if err != nil || ageValue(back) != v {
			t.Fatalf("%q: %s does not parse back (%v)", s, v.String(), err)
		}
	})
}

// An organization trail read from a member account is judged on the status
// as the member reads it: its delivery error warns there, naming the
// management account where the fix runs, and fails under
// --require-delivery; when the member may not read the status, that is
// UNKNOWN under --require-delivery.
func TestScanDelivery_organization_trail_from_member(t *testing.T) {
	const mgmt, member = "111111111111", "222222222222"
	emu, srv := awsemu.Start()
	t.Cleanup(srv.Close)
	emu.AddAccount(mgmt)
	creds := emu.AddAccount(member)
	emu.SetOrganization(mgmt, member)
	if _, err := emu.PutTrail(mgmt, awsemu.TrailSpec{Name: "org-audit", S3BucketName: "org-logs", IsMultiRegion: true,
		IsOrganizationTrail: true, IncludeGlobalServiceEvents: true, LogFileValidation: true, Logging: true,
		Delivery: &awsemu.DeliveryState{DeliveryError: "AccessDenied"}}); err != nil {
		t.Fatal(err)
	}
	isolateAWS(t, creds)
	code, out, _ := cli(t, "scan", "--endpoint-url", srv.URL, "--format", "json")
	res := parseDelivery(t, out).Results[0]
	if code != 0 || res.Status != "PASS" || res.Account != member ||
		!strings.Contains(strings.Join(res.Warnings, "\n"), "organization trail of account "+mgmt+": run the fix there") {
		t.Fatalf("member: exit %d, %s %s, warnings %q", code, res.Account, res.Status, res.Warnings)
	}
	if code, out, _ = cli(t, "scan", "--endpoint-url", srv.URL, "--format", "json", "--require-delivery"); code != 1 {
		t.Fatalf("member --require-delivery: exit %d, %s", code, out)
	}
	emu.SetMemberOrgTrailAccess(true)
	code, out, _ = cli(t, "scan", "--endpoint-url", srv.URL, "--format", "json", "--require-delivery")
	if res := parseDelivery(t, out).Results[0]; code != 2 || res.Status != "UNKNOWN" {
		t.Fatalf("member denied the status: exit %d, status %s, reasons %q", code, res.Status, res.Reasons)
	}
}
