package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/owenrumney/go-sarif/v2/sarif"

	"github.com/trailguard/trailguard/iac"
)

// An iac run given an absolute path writes SARIF URIs code scanning can
// map: relative to the git repository holding the path, else to the
// working directory, or to --sarif-base.
func TestIaC_sarif_uris_relative_to_the_repository(t *testing.T) {
	const trail = "resource \"aws_cloudtrail\" \"t\" {\n  name = \"t\"\n  s3_bucket_name = \"b\"\n}\n"
	tests := []struct {
		name    string
		git     string // where .git is, relative to the tree ("" for none)
		cwd     string // the working directory, relative to the tree
		base    string // --sarif-base, relative to the tree
		wantURI string
	}{
		{"git_repository_root_from_elsewhere", "repo", "elsewhere", "", "infra/main.tf"},
		{"git_work_tree_whose_git_is_a_file", "repo", "repo/infra", "", "infra/main.tf"},
		{"no_repository_the_working_directory", "", "repo", "", "infra/main.tf"},
		{"sarif_base_given", "repo", "elsewhere", "repo/infra", "main.tf"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root, err := filepath.EvalSymlinks(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range []string{"repo/infra", "elsewhere"} {
				os.MkdirAll(filepath.Join(root, d), 0o755)
			}
			os.WriteFile(filepath.Join(root, "repo/infra/main.tf"), []byte(trail), 0o644)
			if tt.git != "" {
				if strings.Contains(tt.name, "file") {
					os.WriteFile(filepath.Join(root, tt.git, ".git"), []byte("gitdir: /elsewhere/.git/worktrees/x\n"), 0o644)
				} else {
					os.Mkdir(filepath.Join(root, tt.git, ".git"), 0o755)
				}
			}
			if tt.git == "" {
				if above, _ := iac.RepositoryRoot(root); above != root {
					t.Skipf("the temporary directory is inside the repository %s", above)
				}
			}
			t.Chdir(filepath.Join(root, tt.cwd))
			args := []string{"iac", filepath.Join(root, "repo", "infra"), "--format", "sarif"}
			if tt.base != "" {
				args = append(args, "--sarif-base", filepath.Join(root, tt.base))
			}
			code, out, errOut := cli(t, args...)
			if code != 1 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			doc, err := sarif.FromBytes([]byte(out))
			if err != nil {
				t.Fatal(err)
			}
			loc := doc.Runs[0].Results[0].Locations[0].PhysicalLocation.ArtifactLocation
			if *loc.URI != tt.wantURI || loc.URIBaseId == nil || *loc.URIBaseId != "%SRCROOT%" {
				t.Errorf("uri %q base %v, want %q relative to %%SRCROOT%%", *loc.URI, loc.URIBaseId, tt.wantURI)
			}
		})
	}
	t.Run("sarif_base_that_is_not_a_directory", func(t *testing.T) {
		code, _, errOut := cli(t, "iac", t.TempDir(), "--sarif-base", "/no/such/dir")
		if code != 2 || !strings.Contains(errOut, "--sarif-base /no/such/dir: not a directory") {
			t.Errorf("exit %d: %s", code, errOut)
		}
	})
}

// iac on one .tf file says that its module directory was read with it,
// and reports that file only.
func TestIaC_named_tf_file_says_its_module_was_read(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.tf"), []byte("resource \"aws_cloudtrail\" \"a\" {\n  name = \"a\"\n  s3_bucket_name = \"b\"\n}\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "b.tf"), []byte("resource \"aws_cloudtrail\" \"b\" {\n  name = \"b\"\n  s3_bucket_name = \"b\"\n  is_multi_region_trail = true\n}\n"), 0o644)
	code, out, errOut := cli(t, "iac", filepath.Join(dir, "a.tf"), "--format", "json")
	r := parseIaC(t, out)
	if code != 1 || len(r.Results) != 1 || r.Results[0].File != filepath.Join(dir, "a.tf") {
		t.Errorf("exit %d results %+v", code, r.Results)
	}
	want := "Terraform reads the module directory " + dir + " as a whole"
	if len(r.Notices) != 1 || !strings.Contains(r.Notices[0], want) || !strings.Contains(errOut, want) {
		t.Errorf("notices %q stderr %q, want %q", r.Notices, errOut, want)
	}
}
