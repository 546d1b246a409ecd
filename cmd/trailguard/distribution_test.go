package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// The pre-commit hook's entry is a trailguard command that exists and runs
// on the files pre-commit hands it: a compliant trail passes (exit 0) and a
// single-region one fails the commit (exit 1).
func TestPreCommitHook_entry_runs(t *testing.T) {
	var hooks []struct {
		ID, Entry, Language, Files string
	}
	readYAML(t, "../../.pre-commit-hooks.yaml", &hooks)
	if len(hooks) != 1 || hooks[0].Language != "golang" {
		t.Fatalf("hooks %+v, want one golang hook", hooks)
	}
	args := strings.Fields(hooks[0].Entry)
	if len(args) < 2 || args[0] != "trailguard" {
		t.Fatalf("entry %q does not run trailguard", hooks[0].Entry)
	}
	dir := t.TempDir()
	good := filepath.Join(dir, "good", "main.tf")
	bad := filepath.Join(dir, "bad", "main.tf")
	os.MkdirAll(filepath.Dir(good), 0o755)
	os.MkdirAll(filepath.Dir(bad), 0o755)
	os.WriteFile(good, []byte(goodTrail), 0o644)
	os.WriteFile(bad, []byte(strings.Replace(goodTrail, "true", "false", 1)), 0o644)
	for file, want := range map[string]int{good: 0, bad: 1} {
		if code, out, errOut := cli(t, append(args[1:], file)...); code != want {
			t.Errorf("%s %s: exit %d, want %d\n%s%s", hooks[0].Entry, file, code, want, out, errOut)
		}
	}
}

// The action's shell steps parse as bash, and the trailguard command they
// run takes the flags they give it and writes the files they read back.
func TestAction_steps_parse_and_call_what_exists(t *testing.T) {
	var action struct {
		Runs struct {
			Using string
			Steps []struct {
				ID, Run, Shell string
				Uses           string
			}
		}
	}
	readYAML(t, "../../action.yml", &action)
	if action.Runs.Using != "composite" {
		t.Fatalf("runs.using %q, want composite", action.Runs.Using)
	}
	var iacLine string
	for _, st := range action.Runs.Steps {
		if st.Run == "" {
			continue
		}
		if st.Shell != "bash" {
			t.Errorf("step %q: shell %q, want bash", st.ID, st.Shell)
		}
		if out, err := exec.Command("bash", "-n", "-c", st.Run).CombinedOutput(); err != nil {
			t.Errorf("step %q does not parse: %v\n%s", st.ID, err, out)
		}
		for _, line := range strings.Split(st.Run, "\n") {
			if strings.Contains(line, "/bin/trailguard\" iac") {
				iacLine = line
			}
		}
	}
	if iacLine == "" {
		t.Fatal("no step runs trailguard iac")
	}
	// The flags after the paths, as the step gives them.
	_, flags, _ := strings.Cut(iacLine, `"${extra[@]}" `)
	outDir := t.TempDir()
	flags = strings.ReplaceAll(flags, `"$RUNNER_TEMP/trailguard"`, outDir)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "main.tf"), []byte(goodTrail), 0o644)
	if code, out, errOut := cli(t, append([]string{"iac", dir}, strings.Fields(flags)...)...); code != 0 {
		t.Fatalf("trailguard iac %s %s: exit %d\n%s%s", dir, flags, code, out, errOut)
	}
	for _, f := range []string{"trailguard.txt", "trailguard.sarif"} {
		if _, err := os.Stat(filepath.Join(outDir, f)); err != nil {
			t.Errorf("the action reads %s back: %v", f, err)
		}
	}
}

// The release configuration builds the CLI's main package and stamps the
// variable that --version prints.
func TestGoreleaser_builds_what_exists(t *testing.T) {
	var cfg struct {
		Builds []struct {
			Main    string
			Ldflags []string
		}
	}
	readYAML(t, "../../.goreleaser.yaml", &cfg)
	if len(cfg.Builds) == 0 {
		t.Fatal("no builds")
	}
	for _, b := range cfg.Builds {
		if _, err := os.Stat(filepath.Join("../..", b.Main, "main.go")); err != nil {
			t.Errorf("build main %s: %v", b.Main, err)
		}
		if !strings.Contains(strings.Join(b.Ldflags, " "), "-X main.version=") {
			t.Errorf("ldflags %q do not stamp main.version", b.Ldflags)
		}
	}
	version = "v9.9.9"
	defer func() { version = "" }()
	if got := toolVersion(); got != "v9.9.9" {
		t.Errorf("toolVersion() = %q with main.version stamped", got)
	}
}

func readYAML(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func TestVersionOf(t *testing.T) {
	setting := func(kv ...string) []debug.BuildSetting {
		var out []debug.BuildSetting
		for i := 0; i < len(kv); i += 2 {
			out = append(out, debug.BuildSetting{Key: kv[i], Value: kv[i+1]})
		}
		return out
	}
	for _, c := range []struct {
		name, stamped string
		bi            *debug.BuildInfo
		want          string
	}{
		{"release_build_stamped", "v1.2.3", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, "v1.2.3"},
		{"go_install_at_a_version", "", &debug.BuildInfo{Main: debug.Module{Version: "v0.4.0"}}, "v0.4.0"},
		{"built_from_a_clean_checkout", "", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"},
			Settings: setting("vcs.revision", "0123456789abcdef0123", "vcs.modified", "false")}, "dev+0123456789ab"},
		{"built_from_a_changed_checkout", "", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"},
			Settings: setting("vcs.revision", "0123456789abcdef0123", "vcs.modified", "true")}, "dev+0123456789ab-dirty"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := versionOf(c.stamped, c.bi); got != c.want {
				t.Errorf("versionOf = %q, want %q", got, c.want)
			}
		})
	}
	// Without a commit it says so rather than a bare "dev".
	if got := versionOf("", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}); !strings.Contains(got, "commit unknown") {
		t.Errorf("no commit: %q", got)
	}
}
