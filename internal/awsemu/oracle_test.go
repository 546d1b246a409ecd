package awsemu_test

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// The emulator is the test oracle: it must not share the product's model
// of AWS (domain types, evidence's AWS CLI JSON, fix's policies), or a
// mistake in that model would be made on both sides of every test. Only
// the generic wildcard matcher is shared.
func TestEmulator_imports_no_product_package(t *testing.T) {
	const module = "github.com/trailguard/trailguard"
	allowed := map[string]bool{module + "/internal/wildcard": true}
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), name, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		checked++
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			if (path == module || strings.HasPrefix(path, module+"/")) && !allowed[path] {
				t.Errorf("%s imports %s: the emulator keeps its own model of AWS", name, path)
			}
		}
	}
	if checked == 0 {
		t.Fatal("no source file checked")
	}
}
