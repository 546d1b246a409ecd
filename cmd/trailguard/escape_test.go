package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

// attack clears the screen, homes the cursor and paints a green "ALL
// PASS"; bidi reverses what follows.
const attack = "\x1b[2J\x1b[H\x1b[32mALL PASS\x1b[0m\u009b2J\u202e"

// ourColour matches the colour codes the text report writes itself.
var ourColour = regexp.MustCompile(`\x1b\[(0|1|2|31|32|33|35)m`)

// jsonAttack is attack as it is written inside a JSON string.
const jsonAttack = `\u001b[2J\u001b[H\u001b[32mALL PASS\u001b[0m\u009b2J\u202e`

// assertInert fails when out holds a control a terminal would obey: a C0
// control other than newline and tab, DEL, a C1 control, a bidi override.
func assertInert(t *testing.T, what, out string) {
	t.Helper()
	for i, r := range out {
		if (r < 0x20 && r != '\n' && r != '\t') || (r >= 0x7f && r <= 0x9f) || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) || (r == utf8.RuneError) {
			t.Errorf("%s holds %q at byte %d: …%q…", what, r, i, out[max(i-30, 0):min(i+30, len(out))])
			return
		}
	}
}

// TestCLI_input_cannot_control_the_terminal: whatever the input puts in
// a name, a file or a path, neither the text report nor an error or
// warning line on standard error carries it to the terminal as a control;
// it is shown escaped.
func TestCLI_input_cannot_control_the_terminal(t *testing.T) {
	const acct = "123456789012"
	trails := `{"trailList": [{"Name": "` + jsonAttack + `", "TrailARN": "arn:aws:cloudtrail:us-east-1:` + acct + `:trail/x", "HomeRegion": "us-east-1", "IsMultiRegionTrail": true, "IncludeGlobalServiceEvents": true, "IsOrganizationTrail": false}]}`
	for _, c := range []struct {
		name  string
		setup func(t *testing.T, dir string) []string
	}{
		{"scan_evidence_trail_name", func(t *testing.T, dir string) []string {
			write(t, filepath.Join(dir, acct, "describe-trails.json"), trails)
			return []string{"scan", "--evidence", dir}
		}},
		{"scan_evidence_err_file", func(t *testing.T, dir string) []string {
			write(t, filepath.Join(dir, acct, "describe-trails.err"), "An error occurred (AccessDenied): "+attack+"\n")
			return []string{"scan", "--evidence", dir}
		}},
		{"scan_evidence_dir_path", func(t *testing.T, dir string) []string {
			return []string{"scan", "--evidence", filepath.Join(dir, "missing"+attack)}
		}},
		{"mutelist_reason_in_an_expired_notice", func(t *testing.T, dir string) []string {
			write(t, filepath.Join(dir, acct, "describe-trails.json"), trails)
			ml := filepath.Join(dir, "mutes.yaml")
			write(t, ml, "mutes:\n  - accounts: [\"*\"]\n    reason: \""+jsonAttack+"\"\n    owner: x\n    expires: 2020-01-01\n")
			return []string{"scan", "--evidence", filepath.Join(dir), "--mutelist", ml}
		}},
		{"mutelist_reason_on_a_muted_result", func(t *testing.T, dir string) []string {
			write(t, filepath.Join(dir, acct, "describe-trails.json"), trails)
			ml := filepath.Join(dir, "mutes.yaml")
			write(t, ml, "mutes:\n  - accounts: [\"*\"]\n    reason: \""+jsonAttack+"\"\n    owner: x\n    expires: 2999-01-01\n")
			return []string{"scan", "--evidence", filepath.Join(dir), "--mutelist", ml}
		}},
		{"accounts_file_path", func(t *testing.T, dir string) []string {
			return []string{"scan", "--org", "--accounts-file", filepath.Join(dir, "ids"+attack)}
		}},
		{"iac_trail_name_and_file", func(t *testing.T, dir string) []string {
			write(t, filepath.Join(dir, "a"+attack+".tf"), "resource \"aws_cloudtrail\" \"t\" {\n  name = \""+jsonAttack+"\"\n  is_multi_region_trail = true\n}\n")
			return []string{"iac", dir}
		}},
		{"iac_missing_path", func(t *testing.T, dir string) []string {
			return []string{"iac", filepath.Join(dir, "nope"+attack)}
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			args := c.setup(t, dir)
			for _, colour := range []string{"never", "always"} {
				_, out, errOut := cli(t, append(args, "--color", colour)...)
				if colour == "never" {
					assertInert(t, "stdout", out)
				} else {
					assertInert(t, "stdout", ourColour.ReplaceAllString(out, ""))
				}
				assertInert(t, "stderr", errOut)
				if !strings.Contains(out+errOut, `\x1b[2J`) {
					t.Errorf("the input is not shown escaped:\nstdout %s\nstderr %s", out, errOut)
				}
			}
		})
	}
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestProgress_escapes_what_it_says: the progress line writes to the
// terminal raw, to redraw itself, so what it shows is escaped; its own
// redraw sequence is the only control left.
func TestProgress_escapes_what_it_says(t *testing.T) {
	var buf strings.Builder
	p := &progress{w: rawWriter(escapingWriter{w: &buf}), on: true}
	p.say("scanning the account of the current credentials (region %s)", attack)
	out := buf.String()
	if !strings.HasPrefix(out, "\r\x1b[K") {
		t.Fatalf("progress line %q does not redraw", out)
	}
	assertInert(t, "progress line", strings.TrimPrefix(out, "\r\x1b[K"))
	if !strings.Contains(out, `\x1b[2J`) {
		t.Errorf("progress line %q does not show the input escaped", out)
	}
}
