// Package docs_test keeps the README and the documents in docs/ true to
// the repository they describe: the Go version go.mod requires, links that
// resolve inside the repository, the tests said to skip without a tool,
// and the IAM permission of every call the code makes.
package docs_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	tgaws "github.com/trailguard/trailguard/aws"
	"github.com/trailguard/trailguard/deploy"
	"github.com/trailguard/trailguard/logintegrity"
)

const root = ".."

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, path))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// The README states the Go version exactly as go.mod's go line requires.
// (One line of go.mod is read by hand: golang.org/x/mod is not a
// dependency of the product and this test does not warrant one.)
func TestREADME_go_version_is_go_mod_s(t *testing.T) {
	m := regexp.MustCompile(`(?m)^go (\S+)$`).FindStringSubmatch(read(t, "go.mod"))
	if m == nil {
		t.Fatal("go.mod has no go line")
	}
	readme := read(t, "README.md")
	if !strings.Contains(readme, "Requires Go "+m[1]+" or later") {
		t.Errorf("README does not say \"Requires Go %s or later\", as go.mod's go line requires", m[1])
	}
}

// Every relative link of the README and of docs/*.md names a file of the
// repository; none leads outside it (a reader of a clone or of the
// published module has nothing else).
func TestDocs_links_resolve_inside_the_repository(t *testing.T) {
	docs, _ := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	files := []string{"README.md"}
	for _, d := range docs {
		rel, _ := filepath.Rel(root, d)
		files = append(files, rel)
	}
	link := regexp.MustCompile(`\]\(([^)\s]+)\)`)
	for _, f := range files {
		t.Run(strings.ReplaceAll(f, "/", "_"), func(t *testing.T) {
			text := read(t, f)
			if strings.Contains(text, "../shared") {
				t.Errorf("%s points at ../shared, outside the repository", f)
			}
			for _, m := range link.FindAllStringSubmatch(text, -1) {
				target := m[1]
				if strings.Contains(target, "://") || strings.HasPrefix(target, "#") || strings.HasPrefix(target, "mailto:") {
					continue
				}
				target, _, _ = strings.Cut(target, "#")
				p := filepath.Clean(filepath.Join(root, filepath.Dir(f), target))
				if rel, err := filepath.Rel(root, p); err != nil || strings.HasPrefix(rel, "..") {
					t.Errorf("%s: link %q leads outside the repository", f, m[1])
					continue
				}
				if _, err := os.Stat(p); err != nil {
					t.Errorf("%s: link %q: %v", f, m[1], err)
				}
			}
		})
	}
	if !strings.Contains(read(t, "README.md"), "(docs/design.md)") {
		t.Error("README does not link docs/design.md")
	}
}

// testFuncs maps every function of the repository's test files to the
// names of the functions it calls directly (methods under their own name).
func testFuncs(t *testing.T) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && strings.HasPrefix(d.Name(), ".") && path != root {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
		if err != nil {
			return err
		}
		for _, decl := range f.Decls {
			fn, ok := decl.(*ast.FuncDecl)
			if !ok || fn.Body == nil {
				continue
			}
			var calls []string
			ast.Inspect(fn, func(n ast.Node) bool {
				if c, ok := n.(*ast.CallExpr); ok {
					switch f := c.Fun.(type) {
					case *ast.SelectorExpr:
						calls = append(calls, f.Sel.Name)
					case *ast.Ident:
						calls = append(calls, f.Name)
					}
				}
				return true
			})
			out[fn.Name.Name] = append(out[fn.Name.Name], calls...)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// The README's table of what the tests need beyond Go names tests that
// exist, and every test that asks for the AWS CLI is in it: a newcomer
// learns from it which tests skip on a machine without the tool.
func TestREADME_tests_that_skip_are_named(t *testing.T) {
	readme := read(t, "README.md")
	start := strings.Index(readme, "### What the tests need beyond Go")
	if start < 0 {
		t.Fatal(`README has no "What the tests need beyond Go" section`)
	}
	section := readme[start:]
	if end := strings.Index(section[1:], "\n#"); end >= 0 {
		section = section[:end+1]
	}
	funcs := testFuncs(t)
	for _, m := range regexp.MustCompile("`(Test[A-Za-z0-9_]+)`").FindAllStringSubmatch(section, -1) {
		if _, ok := funcs[m[1]]; !ok {
			t.Errorf("README names %s, which is not a test of the repository", m[1])
		}
	}
	// A test needs the AWS CLI when it calls awsemu.AWSCLI (or
	// awsvalidate.ValidateLogsCLI, the CLI validate-logs runs), directly or
	// through helpers (names are matched across packages: a helper's name
	// shared by two packages counts for both, which can only ask for more).
	needs := map[string]bool{"AWSCLI": true, "ValidateLogsCLI": true}
	for changed := true; changed; {
		changed = false
		for name, calls := range funcs {
			if !needs[name] && slices.ContainsFunc(calls, func(c string) bool { return needs[c] }) {
				needs[name], changed = true, true
			}
		}
	}
	for name := range needs {
		if strings.HasPrefix(name, "Test") && !strings.Contains(section, "`"+name+"`") {
			t.Errorf("%s uses the AWS CLI (skips without it) and the README's table does not name it", name)
		}
	}
}

// Every IAM action the code calls with (the lists iam-policy prints) is
// stated in the README's permissions table, with ec2:DescribeRegions for
// the region listing.
func TestREADME_states_every_IAM_permission(t *testing.T) {
	readme := read(t, "README.md")
	start := strings.Index(readme, "### The IAM permission each call needs")
	if start < 0 {
		t.Fatal(`README has no "The IAM permission each call needs" section`)
	}
	section := readme[start:]
	if end := strings.Index(section[1:], "\n#"); end >= 0 {
		section = section[:end+1]
	}
	for name, actions := range map[string][]string{
		"ScanActions": tgaws.ScanActions, "OrganizationActions": tgaws.OrganizationActions, "AssumeRoleActions": tgaws.AssumeRoleActions,
		"ImportActions": tgaws.ImportActions, "FixTrailActions": tgaws.FixTrailActions, "FixBucketActions": tgaws.FixBucketActions,
		"FixKeyActions": tgaws.FixKeyActions, "DescribeOrganizationActions": tgaws.DescribeOrganizationActions,
		"FixOrganizationTrailActions": tgaws.FixOrganizationTrailActions, "logintegrity.Actions": logintegrity.Actions,
		// The Lambda function's role, as trailguard deploy writes it.
		"deploy.FunctionActions": deploy.FunctionActions(true, true), "deploy.FunctionReevaluateActions": deploy.FunctionReevaluateActions,
		"deploy.MemberActions": deploy.MemberActions(true), "deploy.LogActions": deploy.LogActions,
	} {
		if len(actions) == 0 {
			t.Errorf("aws.%s is empty", name)
		}
		for _, a := range actions {
			if !strings.Contains(section, "`"+a+"`") {
				t.Errorf("aws.%s calls with %s; the README's permissions table does not state it", name, a)
			}
		}
	}
	if !strings.Contains(section, "`ec2:DescribeRegions`") || !strings.Contains(section, "without compiling the generated\nEC2 client") {
		t.Error("README does not say regions are listed with ec2:DescribeRegions, without the generated EC2 client")
	}
}
