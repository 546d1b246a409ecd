package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/trailguard/trailguard/internal/awsemu"
)

// groupFlags are the flags of the AWS and organization groups.
func groupFlags() []string {
	var names []string
	fs := pflag.NewFlagSet("", pflag.ContinueOnError)
	(&awsFlags{}).register(fs)
	(&orgFlags{}).register(fs)
	fs.VisitAll(func(f *pflag.Flag) { names = append(names, f.Name) })
	return names
}

// TestFlagGroups_scan_and_fix_take_the_same_flags: every flag of a group
// exists in every command that takes the group, with one type and one
// default, so the commands cannot drift apart again.
func TestFlagGroups_scan_and_fix_take_the_same_flags(t *testing.T) {
	names := groupFlags()
	for _, want := range []string{"profile", "region", "endpoint-url", "max-attempts", "org", "role-name", "external-id",
		"accounts", "accounts-file", "exclude-accounts", "concurrency", "account-timeout", "member-regions"} {
		if !slicesContains(names, want) {
			t.Errorf("the flag groups lack --%s", want)
		}
	}
	cmds := map[string]*cobra.Command{"scan": newScanCmd(), "fix": newFixCmd(), "history": newHistoryCmd()}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			var first *pflag.Flag
			for cmdName, cmd := range cmds {
				f := cmd.Flags().Lookup(name)
				if f == nil {
					t.Fatalf("%s lacks --%s", cmdName, name)
				}
				if first == nil {
					first = f
					continue
				}
				if f.Value.Type() != first.Value.Type() || f.DefValue != first.DefValue {
					t.Errorf("--%s: %s %q in one command, %s %q in the other", name, f.Value.Type(), f.DefValue, first.Value.Type(), first.DefValue)
				}
			}
		})
	}
}

// TestFlagGroups_scan_and_fix_reject_the_same_input: bad organization and
// AWS flags are usage errors (exit 2) that name the flag, in scan as in
// fix, before any AWS call.
func TestFlagGroups_scan_and_fix_reject_the_same_input(t *testing.T) {
	isolateAWS(t, awsemu.Credentials{AccessKeyID: "AKIAEXAMPLE", SecretAccessKey: "x"})
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.txt")
	os.WriteFile(bad, []byte("123456789012\n12345\n"), 0o644)
	good := filepath.Join(dir, "good.txt")
	os.WriteFile(good, []byte("123456789012\n"), 0o644)
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"accounts_without_org", []string{"--accounts", "123456789012"}, "go with --org"},
		{"accounts_file_without_org", []string{"--accounts-file", good}, "go with --org"},
		{"exclude_without_org", []string{"--exclude-accounts", "123456789012"}, "go with --org"},
		{"account_id_not_12_digits", []string{"--org", "--accounts", "foo"}, `"foo" is not an account id`},
		{"excluded_id_not_12_digits", []string{"--org", "--exclude-accounts", "1234"}, `"1234" is not an account id`},
		{"accounts_file_bad_line", []string{"--org", "--accounts-file", bad}, "bad.txt:2"},
		{"accounts_file_missing", []string{"--org", "--accounts-file", filepath.Join(dir, "missing.txt")}, "missing.txt"},
		{"concurrency_zero", []string{"--org", "--concurrency", "0"}, "--concurrency"},
		{"account_timeout_zero", []string{"--org", "--account-timeout", "0s"}, "--account-timeout"},
		{"max_attempts_zero", []string{"--max-attempts", "0"}, "--max-attempts"},
	} {
		for _, command := range []string{"scan", "fix", "history"} {
			t.Run(c.name+"/"+command, func(t *testing.T) {
				// A closed port: a command that got past validation would
				// fail differently.
				args := append([]string{command, "--endpoint-url", "http://127.0.0.1:1"}, c.args...)
				code, out, errOut := cli(t, args...)
				if code != 2 || !strings.Contains(errOut, c.want) || out != "" {
					t.Errorf("exit %d stdout %q stderr %q, want a usage error saying %q", code, out, errOut, c.want)
				}
			})
		}
	}
}

// TestFix_org_takes_the_organization_flags_scan_takes: --accounts-file
// chooses the accounts planned for, as in scan.
func TestFix_org_takes_the_organization_flags_scan_takes(t *testing.T) {
	_, url, org := generatedOrg(t, 8, 3)
	file := filepath.Join(t.TempDir(), "accounts.txt")
	want := []string{org.Accounts[2].ID, org.Accounts[5].ID}
	os.WriteFile(file, []byte("# two\n"+want[0]+"\n"+want[1]+"\n"), 0o644)
	_, r, errOut := runFixCLI(t, url, "--org", "--accounts-file", file, "--concurrency", "1", "--max-attempts", "2", "--account-timeout", "1m")
	var got []string
	for _, a := range r.Accounts {
		got = append(got, a.Account)
	}
	if len(got) != 2 || !slicesContains(got, want[0]) || !slicesContains(got, want[1]) {
		t.Errorf("planned for %v, want exactly %v (stderr %q)", got, want, errOut)
	}
}

// TestFix_org_timeout_is_partial: an organization fix whose scan the
// timeout cut short says so and exits 2; the accounts it did not reach
// are not reported as fixed or passing.
func TestFix_org_timeout_is_partial(t *testing.T) {
	emu, url, org := generatedOrg(t, 60, 2)
	emu.SetLatency(40 * time.Millisecond)
	code, r, errOut := runFixCLI(t, url, "--org", "--concurrency", "2", "--timeout", "600ms")
	if code != 2 || !strings.Contains(errOut, "partial") || !strings.Contains(errOut, "timeout") {
		t.Errorf("exit %d stderr %q, want 2 and the partial scan named", code, errOut)
	}
	if len(r.Accounts) >= len(org.Accounts) {
		t.Errorf("%d plans for %d accounts: the timeout left some unscanned", len(r.Accounts), len(org.Accounts))
	}
	// The summary counts the accounts not reached as not planned, with
	// why, so its totals cover every account listed.
	notScanned := 0
	for _, n := range r.Summary.NotPlanned {
		if strings.HasPrefix(n.Why, "not scanned: ") {
			notScanned++
		}
	}
	if notScanned == 0 || r.Summary.Passing+r.Summary.WithSteps+len(r.Summary.NotPlanned) != r.Summary.Accounts {
		t.Errorf("summary %+v: want the accounts not scanned counted, and totals that add up", r.Summary)
	}
}

// TestFix_org_names_what_it_leaves_out: a suspended account and a
// mistyped exclusion are told, as scan tells them, not dropped silently.
func TestFix_org_names_what_it_leaves_out(t *testing.T) {
	emu, url, org := generatedOrg(t, 6, 3)
	suspended := org.Accounts[2].ID
	emu.SetAccountState(suspended, "SUSPENDED")
	const stranger = "999999999999"
	_, r, errOut := runFixCLI(t, url, "--org", "--exclude-accounts", stranger)
	if !strings.Contains(errOut, suspended) || !strings.Contains(errOut, "SUSPENDED") {
		t.Errorf("stderr %q does not name the suspended account", errOut)
	}
	if !strings.Contains(errOut, "--exclude-accounts "+stranger) {
		t.Errorf("stderr %q does not name the excluded id the organization does not hold", errOut)
	}
	for _, a := range r.Accounts {
		if a.Account == suspended {
			t.Errorf("a plan for the suspended account %s", suspended)
		}
	}
	// The summary counts it among the accounts not planned, with why.
	found := false
	for _, n := range r.Summary.NotPlanned {
		found = found || (n.Account == suspended && strings.Contains(n.Why, "SUSPENDED"))
	}
	if !found || r.Summary.Accounts != len(org.Accounts) {
		t.Errorf("summary %+v: want %d accounts, the suspended one not planned and why", r.Summary, len(org.Accounts))
	}
}
