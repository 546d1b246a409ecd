package mutelist

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestLoad_limits: a file that is too large, too deep, multiplies itself
// through aliases or is not a regular file is refused with an error that
// names it, without being read in full or blocking.
func TestLoad_limits(t *testing.T) {
	laughs := "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
	prev := "a"
	for _, n := range []string{"b", "c", "d", "e", "f", "g", "h"} {
		laughs += n + ": &" + n + " [" + strings.TrimSuffix(strings.Repeat("*"+prev+", ", 10), ", ") + "]\n"
		prev = n
	}
	laughs += "mutes: [{accounts: *h, reason: r, owner: o, expires: 2027-01-01}]\n"
	for _, c := range []struct {
		name  string
		setup func(t *testing.T, path string)
		want  string
	}{
		{"larger_than_the_cap", func(t *testing.T, path string) {
			os.WriteFile(path, []byte("# "+strings.Repeat("x", MaxFileSize)+"\nmutes: []\n"), 0o644)
		}, "larger than"},
		{"billion_laughs_aliases", func(t *testing.T, path string) {
			os.WriteFile(path, []byte(laughs), 0o644)
		}, "aliases are expanded"},
		{"nested_too_deep", func(t *testing.T, path string) {
			os.WriteFile(path, []byte("mutes: "+strings.Repeat("[", 200)+strings.Repeat("]", 200)+"\n"), 0o644)
		}, "nested more than"},
		{"pattern_longer_than_an_arn", func(t *testing.T, path string) {
			os.WriteFile(path, []byte("mutes:\n  - trails: [\""+strings.Repeat("*a", 1100)+"\"]\n    reason: r\n    owner: o\n    expires: 2027-01-01\n"), 0o644)
		}, "longer than any ARN"},
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
		{"directory", func(t *testing.T, path string) {
			os.Mkdir(path, 0o755)
		}, "not a regular file"},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "mutes.yaml")
			c.setup(t, path)
			_, err := Load(path)
			var me *Error
			if !errors.As(err, &me) || me.File != path || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want a mutelist error naming %s and saying %q", err, path, c.want)
			}
		})
	}
}

// TestLoad_aliases_within_limits: an anchor shared between entries is
// ordinary YAML and still works.
func TestLoad_aliases_within_limits(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mutes.yaml")
	os.WriteFile(path, []byte(`
mutes:
  - accounts: &sandboxes ["2222*", "3333*"]
    regions: ["ap-*"]
    reason: sandbox gaps in Asia
    owner: platform
    expires: 2027-01-01
  - accounts: *sandboxes
    reason: sandbox
    owner: platform
    expires: 2027-01-01
`), 0o644)
	l, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	rs := results()
	l.Apply(rs, today)
	if got := statuses(rs); got != "PASS MUTED MUTED ERROR" {
		t.Errorf("statuses %s", got)
	}
}

// TestApply_pathological_trail_pattern: the pattern that once made a scan
// run for more than ten minutes is decided at once, and correctly.
func TestApply_pathological_trail_pattern(t *testing.T) {
	long := "arn:aws:cloudtrail:us-east-1:333333333333:trail/" + strings.Repeat("a", 10000)
	for _, c := range []struct {
		name, arn, want string
	}{
		{"no_match_on_a_long_arn", long, "PASS FAIL FAIL ERROR"},
		{"match_on_a_long_arn", long + "b", "PASS FAIL MUTED ERROR"},
	} {
		t.Run(c.name, func(t *testing.T) {
			l, err := Parse("mutes.yaml", []byte(`
mutes:
  - trails: ["*a*a*a*a*a*a*a*a*a*a*a*a*b"]
    reason: legacy
    owner: platform
    expires: 2027-01-01
`))
			if err != nil {
				t.Fatal(err)
			}
			rs := results()
			rs[2].Trails[0].ARN = c.arn
			l.Apply(rs, today)
			if got := statuses(rs); got != c.want {
				t.Errorf("statuses %s, want %s", got, c.want)
			}
		})
	}
}
