package deploy_test

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// tfProvider is what the published Terraform AWS provider bindings
// (@cdktf/provider-aws, lib/<name>/index.js and index.d.ts) say exists:
// resource and data source types, and the arguments and nested blocks of
// each (camelCase, as the bindings name them), by interface, and the
// attributes each exports.
type tfProvider struct {
	resources, data map[string]string          // type → lib directory
	interfaces      map[string]map[string]bool // directory → interface → fields
	top             map[string]string          // directory → config interface
	getters         map[string]map[string]bool // directory → attributes the resource exports
}

var (
	tfOnce sync.Once
	tfProv *tfProvider
	tfErr  error
)

var (
	tfTypeRE    = regexp.MustCompile(`tfResourceType = "([a-z0-9_]+)"`)
	interfaceRE = regexp.MustCompile(`^export interface (\w+)( extends cdktf\.TerraformMetaArguments)? \{`)
	classRE     = regexp.MustCompile(`^export declare class \w+ extends cdktf\.Terraform(Resource|DataSource) \{`)
	getterRE    = regexp.MustCompile(`^    get (\w+)\(\)`)
	fieldRE     = regexp.MustCompile(`^\s+readonly (\w+)\??:`)
)

// loadProvider reads the provider bindings .ci/run unpacks
// (TRAILGUARD_TF_AWS_PROVIDER, the package directory), or a developer's
// copy in /tmp/trailguard-cdktf-aws/package; without them the test skips,
// unless TRAILGUARD_REQUIRE_TF_AWS_PROVIDER=1.
func loadProvider(t *testing.T) *tfProvider {
	t.Helper()
	tfOnce.Do(func() {
		dir := os.Getenv("TRAILGUARD_TF_AWS_PROVIDER")
		if dir == "" {
			dir = "/tmp/trailguard-cdktf-aws/package"
		}
		libs, err := filepath.Glob(filepath.Join(dir, "lib", "*", "index.js"))
		if err == nil && len(libs) == 0 {
			err = os.ErrNotExist
		}
		if err != nil {
			tfErr = err
			return
		}
		p := &tfProvider{resources: map[string]string{}, data: map[string]string{}, interfaces: map[string]map[string]bool{}, top: map[string]string{}, getters: map[string]map[string]bool{}}
		for _, js := range libs {
			b, err := os.ReadFile(js)
			if err != nil {
				tfErr = err
				return
			}
			m := tfTypeRE.FindSubmatch(b)
			if m == nil {
				continue
			}
			lib := filepath.Base(filepath.Dir(js))
			if strings.HasPrefix(lib, "data-aws-") {
				p.data[string(m[1])] = filepath.Dir(js)
			} else {
				p.resources[string(m[1])] = filepath.Dir(js)
			}
		}
		tfProv = p
	})
	if tfErr != nil {
		if os.Getenv("TRAILGUARD_REQUIRE_TF_AWS_PROVIDER") == "1" {
			t.Fatalf("Terraform AWS provider bindings: %v", tfErr)
		}
		t.Skipf("no Terraform AWS provider bindings (npm pack @cdktf/provider-aws@21.22.1; set TRAILGUARD_TF_AWS_PROVIDER): %v", tfErr)
	}
	return tfProv
}

// fields reads the interfaces of one binding's index.d.ts (once).
func (p *tfProvider) fields(t *testing.T, dir string) (map[string]map[string]bool, string) {
	t.Helper()
	key := dir
	if _, ok := p.top[key]; !ok {
		f, err := os.Open(filepath.Join(dir, "index.d.ts"))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		ifs := map[string]map[string]bool{}
		var cur string
		inClass := false
		p.getters[key] = map[string]bool{}
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			if classRE.MatchString(line) {
				inClass = true
				continue
			}
			if inClass {
				if line == "}" {
					inClass = false
				} else if m := getterRE.FindStringSubmatch(line); m != nil {
					p.getters[key][m[1]] = true
				}
				continue
			}
			if m := interfaceRE.FindStringSubmatch(line); m != nil {
				cur = m[1]
				ifs[cur] = map[string]bool{}
				if m[2] != "" {
					p.top[key] = cur
				}
				continue
			}
			if line == "}" {
				cur = ""
				continue
			}
			if m := fieldRE.FindStringSubmatch(line); m != nil && cur != "" {
				ifs[cur][m[1]] = true
			}
		}
		for name, fs := range ifs {
			p.interfaces[key+"#"+name] = fs
		}
	}
	return nil, p.top[key]
}

func camel(s string) string {
	parts := strings.Split(s, "_")
	for i := 1; i < len(parts); i++ {
		if parts[i] != "" {
			parts[i] = strings.ToUpper(parts[i][:1]) + parts[i][1:]
		}
	}
	return strings.Join(parts, "")
}

var metaArguments = map[string]bool{"depends_on": true, "count": true, "for_each": true, "provider": true, "lifecycle": true}

// checkBody checks the arguments and nested blocks of one block against
// the binding's interface iface.
func (p *tfProvider) checkBody(dir, iface string, body *hclsyntax.Body, where string, top bool) []string {
	fs, ok := p.interfaces[dir+"#"+iface]
	if !ok {
		return []string{where + ": no interface " + iface + " in the provider bindings"}
	}
	var errs []string
	for name, a := range body.Attributes {
		if top && metaArguments[name] {
			continue
		}
		if !fs[camel(name)] {
			errs = append(errs, a.SrcRange.String()+": "+where+": argument "+name+" is not one the provider knows")
		}
	}
	for _, b := range body.Blocks {
		if !fs[camel(b.Type)] {
			errs = append(errs, b.DefRange().String()+": "+where+": block "+b.Type+" is not one the provider knows")
			continue
		}
		// A nested block's interface is its parent's name (without the
		// top level's "Config") followed by the block's own.
		name := camel(b.Type)
		errs = append(errs, p.checkBody(dir, strings.TrimSuffix(iface, "Config")+strings.ToUpper(name[:1])+name[1:], b.Body, where+"."+b.Type, false)...)
	}
	return errs
}

// checkTerraform parses the configuration and checks every resource and
// data source against the provider bindings.
func checkTerraform(t *testing.T, p *tfProvider, src []byte) []string {
	t.Helper()
	f, diags := hclparse.NewParser().ParseHCL(src, "main.tf")
	if diags.HasErrors() {
		return []string{diags.Error()}
	}
	var errs []string
	body := f.Body.(*hclsyntax.Body)
	declared := map[string]string{} // "aws_x.name", "data.aws_x.name", "var.name" → lib directory ("" for variables)
	for _, b := range body.Blocks {
		switch b.Type {
		case "resource":
			declared[b.Labels[0]+"."+b.Labels[1]] = p.resources[b.Labels[0]]
		case "data":
			declared["data."+b.Labels[0]+"."+b.Labels[1]] = p.data[b.Labels[0]]
		case "variable":
			declared["var."+b.Labels[0]] = ""
		}
	}
	errs = append(errs, p.checkReferences(t, body, declared)...)
	for _, b := range body.Blocks {
		switch b.Type {
		case "resource", "data":
			kinds := p.resources
			if b.Type == "data" {
				kinds = p.data
			}
			dir, ok := kinds[b.Labels[0]]
			if !ok {
				errs = append(errs, b.DefRange().String()+": "+b.Type+" type "+b.Labels[0]+" is not in the AWS provider")
				continue
			}
			_, iface := p.fields(t, dir)
			errs = append(errs, p.checkBody(dir, iface, b.Body, b.Labels[0]+"."+b.Labels[1], true)...)
		case "terraform", "variable", "output", "locals":
		default:
			errs = append(errs, b.DefRange().String()+": unexpected block "+b.Type)
		}
	}
	return errs
}

// Every Terraform configuration deploy writes parses, names only resource
// and data source types of the AWS provider, and only their arguments and
// nested blocks.
func TestTerraform_names_only_real_resources_and_arguments(t *testing.T) {
	p := loadProvider(t)
	for _, tc := range cases() {
		t.Run(tc.name, func(t *testing.T) {
			src := emit(t, terraformOptions(tc.o))
			for _, e := range checkTerraform(t, p, src) {
				t.Error(e)
			}
			if t.Failed() {
				t.Logf("configuration:\n%s", src)
			}
		})
	}
}

// The check finds what it is there to find.
func TestTerraform_check_catches_mistakes(t *testing.T) {
	p := loadProvider(t)
	cases := []struct{ name, src, want string }{
		{"unknown_resource_type", `resource "aws_lambda_functions" "x" {}`, "not in the AWS provider"},
		{"unknown_argument", `resource "aws_sns_topic" "x" { kms_key_id = "k" }`, "argument kms_key_id"},
		{"unknown_nested_argument", `resource "aws_config_config_rule" "x" {
  name = "r"
  source {
    owner = "CUSTOM_LAMBDA"
    source_detail { message_typ = "ScheduledNotification" }
  }
}`, "source.source_detail: argument message_typ"},
		{"unknown_block", `resource "aws_lambda_function" "x" {
  environments {
    variables = {}
  }
}`, "block environments"},
		{"reference_to_nothing", `resource "aws_sns_topic_subscription" "x" {
  topic_arn = aws_sns_topic.missing.arn
}`, "aws_sns_topic.missing.arn names nothing"},
		{"attribute_not_exported", `resource "aws_sns_topic" "t" {}
resource "aws_sns_topic_subscription" "x" {
  topic_arn = aws_sns_topic.t.topic_arn
}`, "exports no attribute topic_arn"},
		{"not_hcl", `resource "aws_sns_topic" "x" {`, "Unclosed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			errs := strings.Join(checkTerraform(t, p, []byte(tc.src)), "\n")
			if !strings.Contains(errs, tc.want) {
				t.Errorf("errors %q, want one naming %q", errs, tc.want)
			}
		})
	}
}

// terraform fmt leaves the output as it is (when terraform is installed).
func TestTerraform_fmt_leaves_the_output_unchanged(t *testing.T) {
	tf, err := exec.LookPath("terraform")
	if err != nil {
		t.Skip("terraform is not on PATH")
	}
	for _, tc := range cases() {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "main.tf")
			if err := os.WriteFile(path, emit(t, terraformOptions(tc.o)), 0o644); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(tf, "fmt", "-check", "-diff", path)
			cmd.Env = append(os.Environ(), "TF_CLI_CONFIG_FILE=/dev/null", "CHECKPOINT_DISABLE=1")
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Run(); err != nil {
				t.Errorf("terraform fmt -check: %v\n%s", err, out.String())
			}
		})
	}
}

// checkReferences finds every reference of the configuration that names
// nothing: a resource, data source or variable not declared, or an
// attribute the provider does not export for that type.
func (p *tfProvider) checkReferences(t *testing.T, body *hclsyntax.Body, declared map[string]string) []string {
	var errs []string
	var visit func(b *hclsyntax.Body)
	visit = func(b *hclsyntax.Body) {
		for _, a := range b.Attributes {
			for _, tr := range a.Expr.Variables() {
				var parts []string
				for _, step := range tr {
					switch st := step.(type) {
					case hcl.TraverseRoot:
						parts = append(parts, st.Name)
					case hcl.TraverseAttr:
						parts = append(parts, st.Name)
					}
				}
				n := 2 // aws_x.name, var.name
				if parts[0] == "data" {
					n = 3
				}
				if len(parts) < n {
					errs = append(errs, a.SrcRange.String()+": reference "+strings.Join(parts, ".")+" is incomplete")
					continue
				}
				dir, ok := declared[strings.Join(parts[:n], ".")]
				switch {
				case !ok:
					errs = append(errs, a.SrcRange.String()+": reference "+strings.Join(parts, ".")+" names nothing declared")
				case dir != "" && len(parts) > n:
					p.fields(t, dir)
					if !p.getters[dir][camel(parts[n])] {
						errs = append(errs, a.SrcRange.String()+": "+strings.Join(parts[:n], ".")+" exports no attribute "+parts[n])
					}
				}
			}
		}
		for _, nb := range b.Blocks {
			visit(nb.Body)
		}
	}
	for _, b := range body.Blocks {
		if b.Type == "resource" || b.Type == "data" || b.Type == "output" || b.Type == "locals" {
			visit(b.Body) // a variable's type = string is a keyword, not a reference
		}
	}
	return errs
}
