package iac

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"

	"github.com/trailguard/trailguard/report"
)

const (
	singleRegionTF = "resource \"aws_cloudtrail\" \"a\" {\n  name = \"a\"\n  s3_bucket_name = \"b\"\n}\n"
	multiRegionTF  = "resource \"aws_cloudtrail\" \"b\" {\n  name = \"b\"\n  s3_bucket_name = var.bucket\n  is_multi_region_trail = true\n}\n"
	variablesTF    = "variable \"bucket\" {\n  default = \"logs\"\n}\n"
	moduleCallTF   = "module \"remote\" {\n  source = \"terraform-aws-modules/cloudtrail/aws\"\n}\n"
)

// A .tf file named alone is read with its module directory (Terraform
// reads a directory as one module), but only its own results are shown,
// with a notice naming the directory; naming the directory, or every file,
// shows everything with no notice.
func TestCheck_named_terraform_file(t *testing.T) {
	dir := tree(t, map[string]string{
		"m/a.tf":         singleRegionTF,
		"m/b.tf":         multiRegionTF,
		"m/variables.tf": variablesTF,
		"m/remote.tf":    moduleCallTF,
		"solo/only.tf":   multiRegionTF + variablesTF,
	})
	at := func(p string) string { return filepath.Join(dir, p) }
	tests := []struct {
		name       string
		paths      []string
		wantFiles  []string // files of the results, sorted
		wantTrails int
		notice     []string // all in one notice; none when empty
	}{
		{"file_alone_is_reported_alone", []string{at("m/a.tf")}, []string{at("m/a.tf")}, 1,
			[]string{at("m/a.tf") + ": Terraform reads the module directory " + at("m"), "3 other .tf file(s)", "2 trail(s) or module call(s) of the other files left out", "name the directory"}},
		{"file_reading_a_variable_of_another_file_gets_its_value", []string{at("m/b.tf")}, []string{at("m/b.tf")}, 1,
			[]string{"module directory " + at("m")}},
		{"two_files_named", []string{at("m/a.tf"), at("m/b.tf")}, []string{at("m/a.tf"), at("m/b.tf")}, 2,
			[]string{at("m/a.tf") + ", " + at("m/b.tf") + ": Terraform reads", "2 other .tf file(s)", "1 trail(s) or module call(s)"}},
		{"module_call_file_named_shows_the_unread_module", []string{at("m/remote.tf")}, []string{at("m/remote.tf")}, 0,
			[]string{"module directory " + at("m")}},
		{"file_and_its_directory_show_everything", []string{at("m/a.tf"), at("m")}, []string{at("m/a.tf"), at("m/b.tf"), at("m/remote.tf")}, 2, nil},
		{"only_file_of_its_directory_needs_no_notice", []string{at("solo/only.tf")}, []string{at("solo/only.tf")}, 1, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := Check(context.Background(), tt.paths, Options{})
			if err != nil {
				t.Fatal(err)
			}
			var files []string
			for _, r := range out.Results {
				if r.Resource == "(no trail)" {
					continue
				}
				files = append(files, r.File)
				if strings.HasSuffix(r.File, "b.tf") && r.Status != "PASS" {
					t.Errorf("%s: %s %q: the variable of another file of the module was not read", r.File, r.Status, r.Reasons)
				}
			}
			sort.Strings(files)
			if strings.Join(files, "\n") != strings.Join(tt.wantFiles, "\n") {
				t.Errorf("result files:\n%s\nwant:\n%s", strings.Join(files, "\n"), strings.Join(tt.wantFiles, "\n"))
			}
			if out.Trails != tt.wantTrails {
				t.Errorf("%d trails, want %d", out.Trails, tt.wantTrails)
			}
			notices := strings.Join(out.Notices, "\n")
			if len(tt.notice) == 0 && notices != "" {
				t.Errorf("notices %q", out.Notices)
			}
			if len(tt.notice) > 0 && len(out.Notices) != 1 {
				t.Errorf("notices %q, want one", out.Notices)
			}
			for _, n := range tt.notice {
				if !strings.Contains(notices, n) {
					t.Errorf("notice lacks %q:\n%s", n, notices)
				}
			}
		})
	}
}

// A directory the walk cannot list is an ERROR whose file is the
// directory and whose reason is the error; the rest of the tree is still
// checked.
func TestCheck_directory_that_cannot_be_listed(t *testing.T) {
	tests := []struct {
		name   string
		make   func(t *testing.T, root string) string // returns the directory that fails
		reason string
	}{
		{"name_too_long", longPath, "file name too long"},
		{"permission_denied", func(t *testing.T, root string) string {
			if os.Geteuid() == 0 {
				t.Skip("root lists any directory; name_too_long covers the walk error as root")
			}
			p := filepath.Join(root, "locked")
			os.Mkdir(p, 0o755)
			os.WriteFile(filepath.Join(p, "x.tf"), []byte(singleRegionTF), 0o644)
			os.Chmod(p, 0)
			t.Cleanup(func() { os.Chmod(p, 0o755) })
			return p
		}, "permission denied"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := tree(t, map[string]string{"ok/main.tf": multiRegionTF + variablesTF})
			bad := tt.make(t, root)
			out, err := Check(context.Background(), []string{root}, Options{})
			if err != nil {
				t.Fatalf("the run stopped: %v", err)
			}
			var sawBad, sawOK bool
			for _, r := range out.Results {
				switch {
				case r.File == bad:
					sawBad = r.Status == "ERROR" && len(r.Reasons) == 1 && strings.Contains(r.Reasons[0], tt.reason) && strings.Contains(r.Reasons[0], "may declare a trail")
					if !sawBad {
						t.Errorf("unlistable directory: %s %q", r.Status, r.Reasons)
					}
				case r.File == filepath.Join(root, "ok", "main.tf"):
					sawOK = r.Status == "PASS"
				}
			}
			if !sawBad || !sawOK {
				t.Errorf("bad directory reported %v, rest checked %v: %+v", sawBad, sawOK, out.Results)
			}
		})
	}
}

// longPath makes, under root, a chain of directories whose full path is
// longer than the system allows a path to be (PATH_MAX, 4096 on Linux), so
// that listing its deepest directory fails whoever runs the test. It is
// built one level at a time relative to an open directory.
func longPath(t *testing.T, root string) string {
	t.Helper()
	name := strings.Repeat("d", 200)
	fd, err := syscall.Open(root, syscall.O_RDONLY|syscall.O_DIRECTORY, 0)
	if err != nil {
		t.Skip(err)
	}
	p := root
	for len(p) < 4200 {
		if err := syscall.Mkdirat(fd, name, 0o755); err != nil {
			syscall.Close(fd)
			t.Skipf("cannot build a long path here: %v", err)
		}
		next, err := syscall.Openat(fd, name, syscall.O_RDONLY|syscall.O_DIRECTORY, 0)
		syscall.Close(fd)
		if err != nil {
			t.Skipf("cannot build a long path here: %v", err)
		}
		fd = next
		p = filepath.Join(p, name)
	}
	syscall.Close(fd)
	// The walk fails at the first directory whose path is too long.
	for q := root; ; {
		q = filepath.Join(q, name)
		if len(q) >= 4096 {
			return q
		}
	}
}

// unopenable writes a file that the walk lists but that cannot be opened,
// whoever runs the test: its directory's path is within PATH_MAX, its own
// path is not (ENAMETOOLONG).
// extra, when set, is a file of a short name written beside it, which
// can be opened.
func unopenable(t *testing.T, root, base, content string, extra [2]string) string {
	t.Helper()
	fd, err := syscall.Open(root, syscall.O_RDONLY|syscall.O_DIRECTORY, 0)
	if err != nil {
		t.Skip(err)
	}
	// The directory's path ends target long: with base it reaches 4096
	// (too long), with a short extra name it stays below.
	target := 4096 - len(base)
	p := root
	for len(p) < target-1 {
		name := strings.Repeat("e", min(200, target-len(p)-1))
		if err := syscall.Mkdirat(fd, name, 0o755); err != nil {
			syscall.Close(fd)
			t.Skipf("cannot build a long path here: %v", err)
		}
		next, err := syscall.Openat(fd, name, syscall.O_RDONLY|syscall.O_DIRECTORY, 0)
		syscall.Close(fd)
		if err != nil {
			t.Skipf("cannot build a long path here: %v", err)
		}
		fd = next
		p = filepath.Join(p, name)
	}
	defer syscall.Close(fd)
	for _, file := range [][2]string{{base, content}, extra} {
		if file[0] == "" {
			continue
		}
		f, err := syscall.Openat(fd, file[0], syscall.O_WRONLY|syscall.O_CREAT, 0o644)
		if err != nil {
			t.Skipf("cannot build a long path here: %v", err)
		}
		syscall.Write(f, []byte(file[1]))
		syscall.Close(f)
	}
	return filepath.Join(p, base)
}

// A file that cannot be read is an ERROR whose file is its path and whose
// reason is the error (never a summary such as "Failed to read file" in
// the file field); the other files are still checked.
func TestCheck_file_that_cannot_be_read(t *testing.T) {
	base := strings.Repeat("f", 40)
	for _, tt := range []struct {
		name, file, content string
		extra               [2]string
	}{
		{"cloudformation_template", base + ".yaml", "Resources:\n  T:\n    Type: AWS::CloudTrail::Trail\n", [2]string{}},
		{"terraform_file", base + ".tf", singleRegionTF, [2]string{}},
		{"terraform_json", base + ".tf.json", `{"resource": {}}`, [2]string{}},
		{"terraform_variables_of_a_module", "terraform.tfvars", "x = 1\n", [2]string{"m.tf", singleRegionTF}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			root := tree(t, map[string]string{"ok/main.tf": multiRegionTF + variablesTF})
			bad := unopenable(t, root, tt.file, tt.content, tt.extra)
			if _, err := os.Stat(bad); err == nil {
				t.Skip("this system opens paths longer than PATH_MAX")
			}
			out, err := Check(context.Background(), []string{root}, Options{})
			if err != nil {
				t.Fatalf("the run stopped: %v", err)
			}
			var sawBad, sawOK bool
			for _, r := range out.Results {
				if r.File == filepath.Join(root, "ok", "main.tf") {
					sawOK = r.Status == "PASS"
					continue
				}
				if r.Status != "ERROR" {
					continue
				}
				if r.File != bad {
					t.Errorf("ERROR placed at %q, want the file's path; reasons %q", r.File, r.Reasons)
					continue
				}
				reasons := strings.Join(r.Reasons, "; ")
				sawBad = strings.Contains(reasons, "file name too long") && r.Line >= 1
				if !sawBad {
					t.Errorf("reason %q lacks the error", reasons)
				}
			}
			if !sawBad || !sawOK {
				t.Errorf("unreadable file reported %v, rest checked %v: %+v", sawBad, sawOK, out.Results)
			}
			// JSON and SARIF place it at the path too.
			rep := report.New("test", report.Scan{Source: "iac"}, out.Results, nil)
			var js, sf bytes.Buffer
			if err := (report.JSON{}).Write(&js, rep); err != nil {
				t.Fatal(err)
			}
			if err := (report.SARIF{}).Write(&sf, rep); err != nil {
				t.Fatal(err)
			}
			quoted, _ := json.Marshal(bad)
			if !strings.Contains(js.String(), `"file": `+string(quoted)) || !strings.Contains(sf.String(), `"uri": `+string(quoted)) {
				t.Errorf("JSON or SARIF does not place the error at %s", bad)
			}
		})
	}
}
