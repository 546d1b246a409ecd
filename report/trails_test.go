package report

import (
	"strings"
	"testing"

	"github.com/trailguard/trailguard"
)

// A trail in code whose deciding value cannot be resolved is judged at its
// worst case; its trail table shows "?" and the expression, never the
// worst case's "no" or "single-region", in text and HTML.
func TestTrailTable_unknown_values_in_code(t *testing.T) {
	base := trailguard.Trail{Name: "audit", ARN: "aws_cloudtrail.audit", HomeRegion: "us-east-1", IsMultiRegion: true,
		IncludeGlobalServiceEvents: true, Status: &trailguard.TrailStatus{IsLogging: true}, Selectors: trailguard.DefaultSelectors()}
	cases := []struct {
		name   string
		set    func(*trailguard.IaCTrail)
		expr   string   // the HTML cell; the text table says "?" and this under it
		note   string   // the line under the text table
		absent []string // what the tables must not show
	}{
		{"multi_region_from_a_variable", func(it *trailguard.IaCTrail) {
			it.Trail.IsMultiRegion = false
			it.UnknownMultiRegion = "is_multi_region_trail = var.multi_region: no default and no value given"
		}, "<td>? (is_multi_region_trail = var.multi_region", "? audit multi-region: is_multi_region_trail = var.multi_region", []string{"single-region", "<td>no</td><td>no</td>"}},
		{"logging_from_a_variable", func(it *trailguard.IaCTrail) {
			it.UnknownLogging = "enable_logging = var.on: no default and no value given"
		}, "<td>? (enable_logging = var.on", "? audit logging: enable_logging = var.on", []string{"does not satisfy"}},
		{"selectors_from_a_variable", func(it *trailguard.IaCTrail) {
			it.UnknownSelectors = "event_selector read_write_type = var.rw"
		}, "<td>? (event_selector read_write_type = var.rw", "? audit management events: event_selector read_write_type = var.rw", []string{"does not satisfy", "none"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			it := trailguard.IaCTrail{File: "main.tf", Line: 3, Resource: "aws_cloudtrail.audit", Trail: base}
			tc.set(&it)
			res := trailguard.EvaluateIaC(it, trailguard.Options{})
			if res.Status != trailguard.StatusUnknown {
				t.Fatalf("fixture is %s, want UNKNOWN", res.Status)
			}
			rep := New("1.2.3", Scan{Source: "iac"}, []trailguard.Result{res}, nil)
			text := string(render(t, Text{}, rep))
			page := string(render(t, HTML{}, rep))
			// Only the trails table: the page's explanation speaks of
			// single-region trails in general.
			if i := strings.Index(page, `<table class="trails">`); i >= 0 {
				page = page[i:]
				page = page[:strings.Index(page, "</table>")]
			} else {
				t.Fatalf("html has no trails table for the resource")
			}
			if !strings.Contains(page, tc.expr) {
				t.Errorf("html lacks %q:\n%s", tc.expr, page)
			}
			if !strings.Contains(text, tc.note) || !strings.Contains(text, "  ?  ") {
				t.Errorf("text lacks ? in the table or %q under it:\n%s", tc.note, text)
			}
			for name, out := range map[string]string{"text": text, "html": page} {
				if !strings.Contains(out, "cannot be resolved statically") {
					t.Errorf("%s verdict column does not say the value is open", name)
				}
				for _, a := range tc.absent {
					if name == "text" && strings.HasPrefix(a, "<") {
						continue
					}
					if strings.Contains(out, a) {
						t.Errorf("%s shows %q:\n%s", name, a, out)
					}
				}
			}
		})
	}
}

// An expression from the code is input: it reaches the terminal and the
// page escaped, like every other string.
func TestTrailTable_expression_is_escaped(t *testing.T) {
	it := trailguard.IaCTrail{File: "main.tf", Line: 3, Resource: "aws_cloudtrail.audit", Trail: trailguard.Trail{Name: "audit", ARN: "aws_cloudtrail.audit",
		IncludeGlobalServiceEvents: true, Status: &trailguard.TrailStatus{IsLogging: true}, Selectors: trailguard.DefaultSelectors()},
		UnknownMultiRegion: "is_multi_region_trail = var.x\x1b[2J\u202e<script>"}
	rep := New("1.2.3", Scan{Source: "iac"}, []trailguard.Result{trailguard.EvaluateIaC(it, trailguard.Options{})}, nil)
	text := string(render(t, Text{}, rep))
	page := string(render(t, HTML{}, rep))
	if strings.ContainsAny(text, "\x1b\u202e") || !strings.Contains(text, `var.x\x1b[2J\u202e<script>`) {
		t.Errorf("text:\n%q", text)
	}
	if strings.ContainsAny(page, "\x1b\u202e") || strings.Contains(page, "<script>") {
		t.Errorf("html carries the expression raw")
	}
}
