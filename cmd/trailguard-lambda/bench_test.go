package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/trailguard/trailguard/internal/awsemu"
)

// memberRole is the role the function assumes in a member account.
const memberRole = "trailguard-member"

// orgStack is the function in the management account of an organization
// whose multi-region organization trail covers the member, which the
// function reaches through memberRole.
func orgStack(b testing.TB) (*awsemu.Emulator, *lambdaProcess, []byte) {
	b.Helper()
	emu, srv := awsemu.Start()
	b.Cleanup(srv.Close)
	creds := emu.AddAccount(acct)
	emu.SetOrganization(acct, member)
	emu.AddRole(member, memberRole)
	if _, err := emu.PutTrail(acct, awsemu.TrailSpec{Name: "org", S3BucketName: "org-logs", IsMultiRegion: true,
		IsOrganizationTrail: true, IncludeGlobalServiceEvents: true, Logging: true}); err != nil {
		b.Fatal(err)
	}
	fn := startFunction(b, lambdaEnv(srv.URL, creds, region))
	return emu, fn, memberEvent()
}

// The function evaluates a member of its organization through the
// member role: a member the organization trail covers passes, and a warm
// instance does it in the four calls the verdict and its report need
// (the role is assumed once per instance); a member the trail does not
// cover fails, and one whose role is missing is an ERROR, never a pass.
func TestMemberEvaluationThroughRIE(t *testing.T) {
	cases := []struct {
		name      string
		setup     func(emu *awsemu.Emulator)
		want      string
		wantCalls []string // of the second (warm) invocation, sorted
	}{
		{"covered_member_warm_in_four_calls", func(*awsemu.Emulator) {}, "PASS",
			[]string{"cloudtrail:DescribeTrails", "cloudtrail:GetEventSelectors", "cloudtrail:GetTrailStatus", "config:PutEvaluations"}},
		{"member_outside_the_org_trail_fails", func(emu *awsemu.Emulator) { emu.ExcludeFromOrgTrails(member) }, "FAIL",
			[]string{"cloudtrail:DescribeTrails", "config:PutEvaluations", "ec2:DescribeRegions"}},
		{"org_trail_unreadable_by_member_unknown", func(emu *awsemu.Emulator) { emu.SetMemberOrgTrailAccess(true) }, "UNKNOWN",
			[]string{"cloudtrail:DescribeTrails", "cloudtrail:GetEventSelectors", "cloudtrail:GetTrailStatus", "config:PutEvaluations", "ec2:DescribeRegions"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			emu, fn, event := orgStack(t)
			tc.setup(emu)
			emu.RecordCalls(true)
			first := invokeStatus(t, fn, event)
			if n := countAction(emu.CallLog(), "sts:AssumeRole"); first != tc.want || n != 1 {
				t.Fatalf("first invocation: %s with %d AssumeRole, want %s with one", first, n, tc.want)
			}
			emu.RecordCalls(true) // empties the log
			if got := invokeStatus(t, fn, event); got != tc.want {
				t.Fatalf("warm invocation: %s, want %s", got, tc.want)
			}
			var calls []string
			for _, c := range emu.CallLog() {
				calls = append(calls, c.Action)
			}
			sort.Strings(calls)
			if strings.Join(calls, " ") != strings.Join(tc.wantCalls, " ") {
				t.Errorf("warm invocation calls %v, want %v", calls, tc.wantCalls)
			}
		})
	}
	t.Run("member_role_missing_error", func(t *testing.T) {
		emu, srv := awsemu.Start()
		t.Cleanup(srv.Close)
		creds := emu.AddAccount(acct)
		emu.SetOrganization(acct, member)
		fn := startFunction(t, lambdaEnv(srv.URL, creds, region))
		if got := invokeStatus(t, fn, memberEvent()); got != "ERROR" {
			t.Errorf("member without the role: %s, want ERROR", got)
		}
	})
}

func countAction(log []awsemu.CallRecord, action string) int {
	n := 0
	for _, c := range log {
		if c.Action == action {
			n++
		}
	}
	return n
}

// invokeStatus invokes the function and returns the status it answered.
func invokeStatus(t testing.TB, fn *lambdaProcess, event []byte) string {
	t.Helper()
	status, out, err := fn.Invoke(context.Background(), event)
	if err != nil || status != 200 {
		t.Fatalf("invoke: HTTP %d, %v: %s\n%s", status, err, out, fn.Logs())
	}
	var resp struct{ Status string }
	if err := json.Unmarshal(out, &resp); err != nil {
		t.Fatalf("response %s: %v", out, err)
	}
	return resp.Status
}

// memberEvent is AWS Config's periodic event for the member, naming the
// role, in test mode (the emulator's rules evaluate the rule's own
// account; the function's work is the same).
func memberEvent() []byte {
	inv, _ := json.Marshal(map[string]any{"messageType": "ScheduledNotification", "awsAccountId": member,
		"notificationCreationTime": time.Now().UTC().Format(time.RFC3339), "recordVersion": "1.0"})
	ev, _ := json.Marshal(map[string]any{"version": "1.0", "invokingEvent": string(inv), "ruleParameters": `{"executionRoleName":"` + memberRole + `"}`,
		"resultToken": "TESTMODE", "eventLeftScope": false, "executionRoleArn": "arn:aws:iam::" + acct + ":role/config",
		"configRuleName": rule, "accountId": member})
	return ev
}

// invokePass invokes the function and fails unless it answered PASS.
func invokePass(b *testing.B, fn *lambdaProcess, event []byte) {
	b.Helper()
	if got := invokeStatus(b, fn, event); got != "PASS" {
		b.Fatalf("%s, want PASS for the member covered by the organization trail\n%s", got, fn.Logs())
	}
}

// BenchmarkColdStart is Lambda's cold start as the RIE gives it: from the
// start of the RIE process (which starts the bootstrap on the first
// invocation) to the first response, a member's evaluation. It reports
// ms/cold-start and the bootstrap's peak resident set after it.
func BenchmarkColdStart(b *testing.B) {
	bootstrap(b)
	var total time.Duration
	var rss int64
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		emu, fn, event := orgStack(b)
		_ = emu
		b.StartTimer()
		invokePass(b, fn, event)
		total += time.Since(fn.Started)
		b.StopTimer()
		if r := fn.PeakRSS(); r > rss {
			rss = r
		}
		fn.stop()
		b.StartTimer()
	}
	b.ReportMetric(float64(total.Microseconds())/1000/float64(b.N), "ms/cold-start")
	b.ReportMetric(float64(rss)/(1<<20), "MB-peak-RSS")
}

// BenchmarkWarmInvocation is one evaluation of the member by a warm
// function: wall time, the AWS API calls it made (from the emulator's call
// log) and the bootstrap's peak resident set.
func BenchmarkWarmInvocation(b *testing.B) {
	emu, fn, event := orgStack(b)
	invokePass(b, fn, event) // the cold start
	emu.RecordCalls(true)
	invokePass(b, fn, event)
	calls := emu.CallLog()
	var names []string
	for _, c := range calls {
		names = append(names, c.Action)
	}
	sort.Strings(names)
	b.Logf("one warm invocation: %d calls: %s", len(calls), strings.Join(names, ", "))
	emu.RecordCalls(false)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		invokePass(b, fn, event)
	}
	b.StopTimer()
	b.ReportMetric(float64(len(calls)), "calls/op")
	b.ReportMetric(float64(fn.PeakRSS())/(1<<20), "MB-peak-RSS")
}

// BenchmarkBinarySize builds the bootstrap as it is deployed (Linux arm64
// for provided.al2023, static, stripped, without aws-lambda-go's RPC mode,
// which only the retired go1.x runtime used) and reports its size.
func BenchmarkBinarySize(b *testing.B) {
	for _, tc := range []struct{ name, tags string }{{"norpc", "lambda.norpc"}, {"with_rpc", ""}} {
		b.Run(tc.name, func(b *testing.B) {
			out := filepath.Join(b.TempDir(), "bootstrap")
			var size int64
			for i := 0; i < b.N; i++ {
				args := []string{"build", "-trimpath", "-ldflags=-s -w", "-o", out}
				if tc.tags != "" {
					args = append(args, "-tags", tc.tags)
				}
				cmd := exec.Command(goTool(), append(args, ".")...)
				cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0")
				if o, err := cmd.CombinedOutput(); err != nil {
					b.Fatalf("go build: %v\n%s", err, o)
				}
				st, err := os.Stat(out)
				if err != nil {
					b.Fatal(err)
				}
				size = st.Size()
			}
			b.ReportMetric(float64(size)/(1<<20), "MB")
		})
	}
}

// The function as deployed stays well inside Lambda's limits: built with
// the deployment's flags (for the host architecture here; arm64 is within
// a few percent, BENCHMARKS.md) it is under 20 MB, and lambda.norpc does
// leave aws-lambda-go's RPC mode out — with it, net/rpc's html/template
// keeps every exported method alive and adds about half again.
func TestDeployedBinary(t *testing.T) {
	t.Run("under_20_MB", func(t *testing.T) {
		st, err := os.Stat(bootstrap(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("bootstrap for %s: %.1f MB", runtime.GOARCH, float64(st.Size())/(1<<20))
		if st.Size() >= 20<<20 {
			t.Errorf("bootstrap is %.1f MB, want under 20 MB", float64(st.Size())/(1<<20))
		}
	})
	t.Run("norpc_leaves_out_net_rpc", func(t *testing.T) {
		out, err := exec.Command(goTool(), "list", "-deps", "-tags", "lambda.norpc", ".").CombinedOutput()
		if err != nil {
			t.Fatalf("go list: %v\n%s", err, out)
		}
		deps := strings.Fields(string(out))
		if len(deps) < 10 || slices.Contains(deps, "net/rpc") || !slices.Contains(deps, "github.com/aws/aws-lambda-go/lambda") {
			t.Errorf("with lambda.norpc the function imports net/rpc or not aws-lambda-go: %v", deps)
		}
	})
}
