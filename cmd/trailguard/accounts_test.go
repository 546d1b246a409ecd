package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestScanOrg_requested_account_not_in_the_organization: an account asked
// for by --accounts or --accounts-file that the organization does not hold
// is an ERROR result with the reason, exit 2 — not "0 accounts", exit 0.
// One that is listed but SUSPENDED keeps its skipped reporting.
func TestScanOrg_requested_account_not_in_the_organization(t *testing.T) {
	emu, url, org := generatedOrg(t, 6, 3)
	const stranger = "999999999999"
	suspended := org.Accounts[2].ID
	emu.SetAccountState(suspended, "SUSPENDED")
	dir := t.TempDir()
	file := filepath.Join(dir, "accounts.txt")
	os.WriteFile(file, []byte(stranger+"\n"+org.Accounts[3].ID+"\n"), 0o644)
	fileCode := 2 // the stranger is an ERROR; a FAIL of the member would make it 1
	if org.Accounts[3].Want == "FAIL" {
		fileCode = 1
	}
	for _, c := range []struct {
		name       string
		args       []string
		wantErrors []string // accounts ERROR for not being in the organization
		wantOther  []string // accounts scanned
		wantCode   int
	}{
		{"accounts_flag_only_a_stranger", []string{"--accounts", stranger}, []string{stranger}, nil, 2},
		{"accounts_file_a_stranger_and_a_member", []string{"--accounts-file", file}, []string{stranger}, []string{org.Accounts[3].ID}, fileCode},
		{"suspended_account_is_skipped_not_an_error", []string{"--accounts", suspended}, nil, nil, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			args := append([]string{"scan", "--org", "--endpoint-url", url, "--format", "json"}, c.args...)
			code, out, errOut := cli(t, args...)
			r := parseReport(t, out)
			got := map[string]string{}
			for _, res := range r.Results {
				got[res.Account] = res.Status
				if slicesContains(c.wantErrors, res.Account) {
					if res.Status != "ERROR" || !strings.Contains(strings.Join(res.Reasons, " "), "not in the organization") {
						t.Errorf("%s: %s %q, want ERROR not in the organization", res.Account, res.Status, res.Reasons)
					}
				}
			}
			if len(got) != len(c.wantErrors)+len(c.wantOther) {
				t.Errorf("results %v, want %v and %v", got, c.wantErrors, c.wantOther)
			}
			for _, id := range c.wantOther {
				if got[id] == "" || got[id] == "ERROR" {
					t.Errorf("%s: %q, want it scanned", id, got[id])
				}
			}
			if code != c.wantCode {
				t.Errorf("exit %d, want %d (stderr %q)", code, c.wantCode, errOut)
			}
			// Requested accounts are described one by one; the
			// organization is not listed.
			var calls struct {
				APICalls map[string]int `json:"api_calls"`
			}
			if err := json.Unmarshal([]byte(out), &calls); err != nil {
				t.Fatal(err)
			}
			if want := len(c.wantErrors) + len(c.wantOther) + map[bool]int{true: 1}[c.name == "suspended_account_is_skipped_not_an_error"]; calls.APICalls["organizations:ListAccounts"] != 0 ||
				calls.APICalls["organizations:DescribeAccount"] != want {
				t.Errorf("api calls %v: want no ListAccounts and %d DescribeAccount", calls.APICalls, want)
			}
			if c.name == "suspended_account_is_skipped_not_an_error" && !strings.Contains(out, suspended) {
				t.Errorf("the suspended account is not reported as skipped:\n%s", out)
			}
		})
	}
	// The text report names the account and why.
	_, out, _ := cli(t, "scan", "--org", "--endpoint-url", url, "--accounts", stranger, "--color", "never")
	if !strings.Contains(out, "Account "+stranger) || !strings.Contains(out, "not in the organization") || !strings.Contains(out, "1 ERROR") {
		t.Errorf("text report:\n%s", out)
	}
	// A mistyped exclusion is told, since the account meant is scanned.
	_, out, _ = cli(t, "scan", "--org", "--endpoint-url", url, "--exclude-accounts", stranger, "--format", "json")
	var notices struct {
		Notices []string `json:"notices"`
	}
	json.Unmarshal([]byte(out), &notices)
	if len(notices.Notices) != 1 || !strings.Contains(notices.Notices[0], stranger) {
		t.Errorf("notices %q, want one naming the excluded id that is not in the organization", notices.Notices)
	}
}

// TestReadAccountsFile_limits: only a regular file is read, and not one
// larger than the cap; a bad line is named with its number.
func TestReadAccountsFile_limits(t *testing.T) {
	for _, c := range []struct {
		name  string
		setup func(t *testing.T, path string)
		want  string
	}{
		{"fifo", func(t *testing.T, path string) {
			if err := syscall.Mkfifo(path, 0o644); err != nil {
				t.Skip("no FIFOs here:", err)
			}
		}, "not a regular file"},
		{"symlink_to_dev_zero", func(t *testing.T, path string) {
			if _, err := os.Stat("/dev/zero"); err != nil {
				t.Skip("no /dev/zero")
			}
			os.Symlink("/dev/zero", path)
		}, "not a regular file"},
		{"too_large", func(t *testing.T, path string) {
			os.WriteFile(path, []byte(strings.Repeat("# padding\n", maxAccountsFile/10+1)+"123456789012\n"), 0o644)
		}, "larger than"},
		{"bad_line", func(t *testing.T, path string) {
			os.WriteFile(path, []byte("123456789012\n\n12345\n"), 0o644)
		}, "ids.txt:3"},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "ids.txt")
			c.setup(t, path)
			_, err := readAccountsFile(path)
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "ids.txt") {
				t.Errorf("err = %v, want one naming the file and saying %q", err, c.want)
			}
		})
	}
}

func slicesContains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// fix --org --accounts with an id the organization does not list reports
// it, as scan does, instead of planning for "0 accounts" and exiting 0.
func TestFixOrg_requested_account_not_in_the_organization(t *testing.T) {
	_, url, _ := generatedOrg(t, 4, 3)
	const stranger = "999999999999"
	code, out, errOut := cli(t, "fix", "--org", "--endpoint-url", url, "--format", "json", "--accounts", stranger)
	var r struct {
		Accounts          []json.RawMessage `json:"accounts"`
		NotInOrganization []string          `json:"not_in_organization"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("fix output: %v\n%s", err, out)
	}
	if code != 2 {
		t.Errorf("exit %d, want 2", code)
	}
	if len(r.NotInOrganization) != 1 || r.NotInOrganization[0] != stranger || len(r.Accounts) != 0 {
		t.Errorf("not_in_organization %q, %d accounts; want only %s reported", r.NotInOrganization, len(r.Accounts), stranger)
	}
	if !strings.Contains(errOut, "not in the organization") || !strings.Contains(errOut, stranger) {
		t.Errorf("stderr does not say it: %q", errOut)
	}
}
