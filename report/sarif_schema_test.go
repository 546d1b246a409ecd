package report

import (
	"bytes"
	"encoding/json"
	"os"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// TestSARIF_validates_against_the_schema checks the SARIF output against
// the SARIF 2.1.0 JSON schema. The schema is not in this repository: .ci/run
// fetches it from a published package and points TRAILGUARD_SARIF_SCHEMA at
// it; without it the test is skipped, or fails when
// TRAILGUARD_REQUIRE_SARIF_SCHEMA is set (as in CI).
func TestSARIF_validates_against_the_schema(t *testing.T) {
	path := os.Getenv("TRAILGUARD_SARIF_SCHEMA")
	if path == "" {
		if os.Getenv("TRAILGUARD_REQUIRE_SARIF_SCHEMA") != "" {
			t.Fatal("TRAILGUARD_SARIF_SCHEMA must name the SARIF 2.1.0 schema file here")
		}
		t.Skip("TRAILGUARD_SARIF_SCHEMA is not set (.ci/run fetches the SARIF 2.1.0 schema and sets it)")
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	schemaDoc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("sarif-2.1.0.json", schemaDoc); err != nil {
		t.Fatal(err)
	}
	schema, err := c.Compile("sarif-2.1.0.json")
	if err != nil {
		t.Fatal(err)
	}
	// With a base (URIs relative to it, %SRCROOT%, originalUriBaseIds)
	// and without.
	for _, w := range []SARIF{{Base: t.TempDir()}, {}} {
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(render(t, w, mixedReport(t))))
		if err != nil {
			t.Fatal(err)
		}
		if err := schema.Validate(doc); err != nil {
			t.Errorf("SARIF output (base %q) does not validate: %v", w.Base, err)
		}
	}
	out := render(t, SARIF{}, mixedReport(t))
	// The check can fail: a result without its required message does not
	// validate.
	var broken map[string]any
	json.Unmarshal(out, &broken)
	res := broken["runs"].([]any)[0].(map[string]any)["results"].([]any)[0].(map[string]any)
	delete(res, "message")
	b, _ := json.Marshal(broken)
	bad, _ := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if schema.Validate(bad) == nil {
		t.Error("a result without a message validates: the schema check proves nothing")
	}
}
