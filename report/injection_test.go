package report

import (
	"encoding/csv"
	"encoding/xml"
	"strings"
	"testing"

	"github.com/trailguard/trailguard"
)

// TestText_input_cannot_control_the_terminal: an escape sequence from any
// input a result carries shows as text in the text report, colour on or
// off, and cannot clear the screen and paint a green "ALL PASS".
func TestText_input_cannot_control_the_terminal(t *testing.T) {
	const attack = "\x1b[2J\x1b[H\x1b[32mALL PASS\x1b[0m"
	for _, c := range []struct {
		name string
		set  func(r *Report)
	}{
		{"trail_name", func(r *Report) { r.Results[1].Trails[0].Name = attack }},
		{"trail_arn", func(r *Report) { r.Results[0].Trails[0].ARN = attack; r.Results[0].CoveringTrail = attack }},
		{"account_name", func(r *Report) { r.Results[0].AccountName = attack }},
		{"reason_from_an_err_file", func(r *Report) {
			r.Results[3].Reasons = []string{"evidence/444444444444/describe-trails.err: " + attack}
		}},
		{"warning", func(r *Report) { r.Results[0].Warnings = []string{attack} }},
		{"iac_file_path", func(r *Report) { r.Results[5].File = "infra/" + attack + ".tf" }},
		{"mute_reason", func(r *Report) { r.Results[4].MuteReason = attack }},
		{"region_name", func(r *Report) { r.Results[1].Regions[0].Region = attack }},
		{"partial_reason_and_account", func(r *Report) { r.Partial = &Partial{Reason: attack, NotScanned: []string{attack}} }},
		{"skipped_account", func(r *Report) { r.Skipped = map[string]string{attack: attack} }},
		{"notice", func(r *Report) { r.Notices = []string{attack} }},
		{"carriage_return", func(r *Report) { r.Results[1].Reasons = []string{"not logging\rPASS        "} }},
		{"bidi_override", func(r *Report) { r.Results[1].AccountName = "prod\u202eSSAP" }},
		{"c1_csi", func(r *Report) { r.Results[1].AccountName = "prod\u009b2J" }},
		{"newline_forging_a_summary", func(r *Report) { r.Results[1].Reasons = []string{"x\nSummary: 6 result(s), 6 PASS"} }},
	} {
		t.Run(c.name, func(t *testing.T) {
			for _, colour := range []bool{false, true} {
				rep := mixedReport(t)
				c.set(rep)
				out := string(render(t, Text{Style: Style{Color: colour, Verbose: true}}, rep))
				checkSafe(t, "text", ourColours.ReplaceAllString(out, ""), true)
				plain := ourColours.ReplaceAllString(out, "")
				if strings.Count(plain, "\nSummary:")+strings.Count(plain, "\n  ✗ Summary:") != 1 {
					t.Errorf("a second summary line was forged:\n%s", out)
				}
				if strings.Contains(out, "ALL PASS") && !strings.Contains(out, `\x1b[32mALL PASS\x1b[0m`) {
					t.Errorf("the attack is not shown escaped:\n%s", out)
				}
			}
		})
	}
}

// TestCSV_formula_cells_are_neutralised: a cell that a spreadsheet would
// run as a formula gets a leading quote, in every column.
func TestCSV_formula_cells_are_neutralised(t *testing.T) {
	for _, c := range []struct {
		name, value, want string
	}{
		{"equals_hyperlink", `=HYPERLINK("http://evil.example","x")`, `'=HYPERLINK("http://evil.example","x")`},
		{"plus", "+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0"},
		{"minus", "-2+3", "'-2+3"},
		{"at", "@SUM(1)", "'@SUM(1)"},
		{"tab", "\t=1", "'\t=1"},
		{"carriage_return_is_escaped_first", "\r=1", `\x0d=1`},
		{"plain_value", "prod", "prod"},
		{"formula_character_later_in_the_cell", "a=1", "a=1"},
	} {
		t.Run(c.name, func(t *testing.T) {
			rep := mixedReport(t)
			r := &rep.Results[1]
			r.Account, r.AccountName, r.Reasons, r.Warnings, r.CoveringTrail = c.value, c.value, []string{c.value}, []string{c.value}, c.value
			r.Regions[0].Region, r.Regions[0].CoveredBy = c.value, c.value
			rep.Results[5].File, rep.Results[5].Resource = c.value, c.value
			rep.Results[4].MuteReason = c.value
			rows, err := csv.NewReader(strings.NewReader(string(render(t, CSV{}, rep)))).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			seen := map[string]bool{}
			for _, row := range rows[1:] {
				for j, v := range row {
					if v == c.want {
						seen[csvHeader[j]] = true
					}
					if v != "" && strings.IndexByte("=+-@\t\r", v[0]) >= 0 {
						t.Errorf("cell %s starts a formula: %q", csvHeader[j], v)
					}
				}
			}
			for _, col := range []string{"account", "account_name", "region", "covered_by", "covering_trail", "reasons", "warnings", "mute_reason", "file", "resource"} {
				if !seen[col] {
					t.Errorf("no %s cell is %q", col, c.want)
				}
			}
		})
	}
}

// TestMarkdown_cells_cannot_be_broken_out_of: a pipe, an escaped pipe, a
// newline or markup in a value stays inside its cell as text.
func TestMarkdown_cells_cannot_be_broken_out_of(t *testing.T) {
	for _, c := range []struct {
		name, value, want string
	}{
		{"pipe", "a|b", `a\|b`},
		{"escaped_pipe", `a\|b`, `a\\\|b`},
		{"trailing_backslash", `a\`, `a\\`},
		{"newline", "a\nb", "a<br>b"},
		{"html", "<img src=x onerror=alert(1)>", "&lt;img src=x onerror=alert(1)&gt;"},
		{"entity_that_decodes_to_a_bidi_override", "&#x202e;", `&amp;\#x202e;`},
		{"link", "[click](http://evil.example)", `\[click\](http://evil.example)`},
		{"code_span", "`x`", "\\`x\\`"},
		{"mention", "@org/security", `\@org/security`},
		{"escape_sequence", "\x1b[2J", `\\x1b\[2J`},
		{"bidi_override", "\u202e", `\\u202e`},
	} {
		t.Run(c.name, func(t *testing.T) {
			rep := mixedReport(t)
			rep.Results[1].Reasons = []string{c.value}
			md := string(render(t, Markdown{}, rep))
			checkMarkdown(t, md, rep)
			if !strings.Contains(md, "| "+c.want+" |") {
				t.Errorf("cell is not %q:\n%s", c.want, md)
			}
		})
	}
}

// TestJUnit_control_characters_keep_the_file_valid: characters XML 1.0
// forbids, and those it allows but a terminal obeys, cannot break or
// leave the JUnit file: they are shown escaped in attributes and text.
func TestJUnit_control_characters_keep_the_file_valid(t *testing.T) {
	for _, c := range []struct{ name, value, want string }{
		{"escape", "\x1b[2J", `\x1b[2J`},
		{"nul", "a\x00b", `a\x00b`},
		{"vertical_tab_and_form_feed", "\v\f", `\x0b\x0c`},
		{"c1_csi", "\u009b2J", `\u009b2J`},
		{"bidi_override", "\u202eevil", `\u202eevil`},
		{"invalid_utf8", "\xff", `\xff`},
		{"xml_markup", `"/><testcase name="forged`, `"/><testcase name="forged`},
		{"noncharacter_not_allowed_in_xml", "a\uffffb", "a\ufffdb"},
	} {
		t.Run(c.name, func(t *testing.T) {
			rep := mixedReport(t)
			rep.Results[1].Reasons = []string{c.value}
			rep.Results[1].AccountName = c.value
			out := render(t, JUnit{}, rep)
			checkSafe(t, "junit", string(out), true)
			var v junitSuites
			if err := xml.Unmarshal(out, &v); err != nil {
				t.Fatalf("does not parse: %v\n%s", err, out)
			}
			if len(v.Suites[0].Cases) != len(rep.Results) {
				t.Fatalf("%d test cases, want %d", len(v.Suites[0].Cases), len(rep.Results))
			}
			got := v.Suites[0].Cases[1]
			if got.Failure == nil || got.Failure.Message != c.want || got.Name != "222222222222 ("+c.want+")" {
				t.Errorf("case %q failure %+v, want %q in both", got.Name, got.Failure, c.want)
			}
		})
	}
}

// TestHTML_escapes_text_and_attributes: a value that closes an attribute
// or opens a tag is escaped by html/template wherever it lands (text,
// title and data- attributes, the href fragment), and controls are shown.
func TestHTML_escapes_text_and_attributes(t *testing.T) {
	const attack = `x" onmouseover="alert(1)"><script>alert(2)</script>` + "\x1b[2J\u202e"
	rep := mixedReport(t)
	rep.Results[1].Account = attack              // text, data-account, href="#acct-…", id
	rep.Results[1].AccountName = attack          // text
	rep.Results[0].Trails[0].ARN = attack        // title attribute
	rep.Results[0].Regions[0].CoveredBy = attack // grid cell title
	rep.Results[5].File = attack                 // IaC heading
	out := string(render(t, HTML{}, rep))
	checkSafe(t, "html", out, true)
	for _, bad := range []string{"<script>alert(2)", `" onmouseover="alert(1)"`, `onmouseover="alert`} {
		if strings.Contains(out, bad) {
			t.Errorf("html holds %q unescaped", bad)
		}
	}
	if !strings.Contains(out, `\x1b[2J\u202e`) {
		t.Error("controls are not shown escaped")
	}
	for _, r := range []trailguard.Result{rep.Results[1]} {
		if r.Account != attack {
			t.Error("the writer changed the report")
		}
	}
}
