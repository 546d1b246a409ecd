package report

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"encoding/xml"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/trailguard/trailguard"
)

// hostilePieces are the strings an attacker reaches for; random strings
// are built from them and from random bytes.
var hostilePieces = []string{
	"\x1b[2J", "\x1b[H", "\x1b[32mALL PASS\x1b[0m", "\x1b]0;title\x07", "\r", "\n", "\t", "\x00", "\x7f",
	"\u009b31m", "\x9b", "\u0085", "\u202e", "\u2066", "\u200f", "\u2028", "\xff",
	"=HYPERLINK(\"http://e\")", "+1", "-1", "@SUM(A1)", "|", `\|`, `\`, "`", "<script>", "&#x202e;", "**", "[x](y)",
	"\"", "'", ",", "ok", "arn:aws:cloudtrail:us-east-1:111111111111:trail/main", "PASS", "FAIL",
}

func randomString(rnd *rand.Rand) string {
	var b strings.Builder
	for range rnd.IntN(6) {
		if rnd.IntN(3) == 0 {
			for range rnd.IntN(8) + 1 {
				b.WriteByte(byte(rnd.IntN(256)))
			}
		} else {
			b.WriteString(hostilePieces[rnd.IntN(len(hostilePieces))])
		}
	}
	return b.String()
}

// fill sets every string reachable from v to what gen returns, gives
// slices and maps one to three elements, and flips bools and statuses at
// random, so that every field of the model carries hostile input.
func fill(v reflect.Value, rnd *rand.Rand, gen func() string) {
	switch v.Kind() {
	case reflect.String:
		if v.Type() == reflect.TypeFor[trailguard.Status]() {
			all := []trailguard.Status{"PASS", "FAIL", "UNKNOWN", "ERROR", "MUTED"}
			v.SetString(string(all[rnd.IntN(len(all))]))
			return
		}
		v.SetString(gen())
	case reflect.Bool:
		v.SetBool(rnd.IntN(2) == 0)
	case reflect.Int, reflect.Int64:
		v.SetInt(int64(rnd.IntN(500)))
	case reflect.Pointer:
		if v.Type() == reflect.TypeFor[*Partial]() && rnd.IntN(2) == 0 {
			return
		}
		p := reflect.New(v.Type().Elem())
		fill(p.Elem(), rnd, gen)
		v.Set(p)
	case reflect.Slice:
		n := rnd.IntN(3) + 1
		s := reflect.MakeSlice(v.Type(), n, n)
		for i := range n {
			fill(s.Index(i), rnd, gen)
		}
		v.Set(s)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		for range rnd.IntN(3) + 1 {
			k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
			fill(k, rnd, gen)
			fill(e, rnd, gen)
			m.SetMapIndex(k, e)
		}
		v.Set(m)
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			v.Set(reflect.ValueOf(time.Unix(rnd.Int64N(2e9), 0).UTC()))
			return
		}
		for i := range v.NumField() {
			if v.Field(i).CanSet() {
				fill(v.Field(i), rnd, gen)
			}
		}
	}
}

// hostileReport is a report whose every string field comes from gen,
// with results up to more than compactAbove so that the text table is
// drawn too.
func hostileReport(rnd *rand.Rand, gen func() string) *Report {
	var results []trailguard.Result
	for range rnd.IntN(compactAbove+3) + 1 {
		var r trailguard.Result
		fill(reflect.ValueOf(&r).Elem(), rnd, gen)
		if rnd.IntN(3) == 0 {
			r.File = "" // an account result, not an IaC one
		}
		results = append(results, r)
	}
	rep := New(gen(), Scan{}, results, nil)
	fill(reflect.ValueOf(&rep.Scan).Elem(), rnd, gen)
	fill(reflect.ValueOf(&rep.Notices).Elem(), rnd, gen)
	fill(reflect.ValueOf(&rep.Skipped).Elem(), rnd, gen)
	fill(reflect.ValueOf(&rep.Partial).Elem(), rnd, gen)
	rep.Tool.Version, rep.Control.Title = gen(), gen()
	return rep
}

// ourColours are the only escape sequences the text writer may write, and
// only with colour on.
var ourColours = regexp.MustCompile(`\x1b\[(0|1|2|31|32|33|35)m`)

// checkRendered asserts what every rendering of hostile input promises.
// With machines false only the formats people read (text, Markdown, CSV)
// are checked, which keeps a fuzzing run fast.
func checkRendered(t *testing.T, rep *Report, machines bool) {
	t.Helper()
	text := string(render(t, Text{}, rep))
	checkSafe(t, "text", text, true)
	coloured := string(render(t, Text{Style: Style{Color: true, Verbose: true}}, rep))
	checkSafe(t, "text with colour", ourColours.ReplaceAllString(coloured, ""), true)

	md := string(render(t, Markdown{}, rep))
	checkSafe(t, "markdown", md, true)
	checkMarkdown(t, md, rep)

	checkCSV(t, string(render(t, CSV{}, rep)), rep)
	if !machines {
		return
	}

	for name, w := range map[string]Writer{"json": JSON{}, "sarif": SARIF{}, "asff": ASFF{}, "ocsf": OCSF{}, "html": HTML{}, "junit": JUnit{}} {
		out := render(t, w, rep)
		checkSafe(t, name, string(out), true)
		switch name {
		case "junit":
			var v junitSuites
			if err := xml.Unmarshal(out, &v); err != nil {
				t.Fatalf("junit does not parse: %v", err)
			}
			if v.Tests != len(rep.Results) {
				t.Fatalf("junit has %d test cases, want %d", v.Tests, len(rep.Results))
			}
		case "html":
			if strings.Contains(string(out), "<script>") {
				t.Fatal("html: raw <script> from input")
			}
		default:
			if !json.Valid(out) {
				t.Fatalf("%s is not valid JSON", name)
			}
		}
	}
}

// unescapedPipes counts the pipes of a Markdown table row that end a cell.
func unescapedPipes(line string) int {
	n := 0
	for i := 0; i < len(line); i++ {
		switch line[i] {
		case '\\':
			i++ // the next character is escaped
		case '|':
			n++
		}
	}
	return n
}

func checkMarkdown(t *testing.T, md string, rep *Report) {
	t.Helper()
	attention := 0
	for _, r := range rep.Results {
		if r.Status != trailguard.StatusPass {
			attention++
		}
	}
	rows := 0
	for _, line := range strings.Split(md, "\n") {
		if !strings.HasPrefix(line, "|") {
			continue
		}
		rows++
		if strings.HasPrefix(line, "| **") && unescapedPipes(line) != 5 {
			t.Fatalf("markdown row with %d cell borders, want 5: %q", unescapedPipes(line), line)
		}
	}
	want := 3 // the summary table
	if attention > 0 {
		want += 2 + attention
	}
	if rows != want {
		t.Fatalf("markdown has %d table lines, want %d:\n%s", rows, want, md)
	}
	rest := strings.NewReplacer("<br>", "", "<sub>", "", "</sub>", "").Replace(md)
	if strings.Contains(rest, "<") { // a tag needs one; the blockquote's ">" is ours
		t.Fatalf("markdown holds raw HTML from input:\n%s", md)
	}
}

func checkCSV(t *testing.T, out string, rep *Report) {
	t.Helper()
	checkSafe(t, "csv", out, true)
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatalf("csv does not parse: %v", err)
	}
	want := 1
	for _, r := range rep.Results {
		want += max(len(r.Regions), 1)
	}
	if len(rows) != want {
		t.Fatalf("csv has %d rows, want %d", len(rows), want)
	}
	for i, row := range rows {
		if len(row) != len(csvHeader) {
			t.Fatalf("csv row %d has %d cells, want %d", i, len(row), len(csvHeader))
		}
		for j, c := range row {
			if c != "" && strings.IndexByte("=+-@\t\r", c[0]) >= 0 {
				t.Fatalf("csv row %d cell %s starts with a formula character: %q", i, csvHeader[j], c)
			}
		}
	}
}

// TestRender_hostile_input: every human-facing format of a report whose
// every string is random hostile bytes holds no control a terminal would
// obey (colour codes of our own aside), Markdown tables keep their cells,
// CSV cells never start a formula, and the machine formats still parse.
func TestRender_hostile_input(t *testing.T) {
	rnd := rand.New(rand.NewPCG(31, 2026))
	for i := range 200 {
		rep := hostileReport(rnd, func() string { return randomString(rnd) })
		if t.Run("seeded_random", func(t *testing.T) { checkRendered(t, rep, true) }); t.Failed() {
			t.Fatalf("iteration %d", i)
		}
	}
}

// FuzzRender: the same promises for every string the fuzzer finds, used
// in every field of the report; seeds in testdata/hostile.
func FuzzRender(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("testdata", "hostile", "*"))
	for _, s := range seeds {
		b, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, uint64(len(b)))
	}
	f.Fuzz(func(t *testing.T, b []byte, seed uint64) {
		rnd := rand.New(rand.NewPCG(seed, 1))
		parts := bytes.Split(b, []byte{0})
		n := 0
		gen := func() string { n++; return string(parts[n%len(parts)]) }
		checkRendered(t, hostileReport(rnd, gen), false)
	})
}

// TestJSON_keeps_exact_values: the JSON formats write the value of a
// hostile name exactly (it decodes back the same) yet hold no raw
// control.
func TestJSON_keeps_exact_values(t *testing.T) {
	name := "\x1b[2J\u009b31m\u202eevil\x7f\u2028x"
	rep := mixedReport(t)
	rep.Results[1].AccountName = name
	out := render(t, JSON{}, rep)
	checkSafe(t, "json", string(out), true)
	var back struct {
		Results []trailguard.Result `json:"results"`
	}
	if err := json.Unmarshal(out, &back); err != nil {
		t.Fatal(err)
	}
	if back.Results[1].AccountName != name {
		t.Errorf("decoded %q, want %q exactly", back.Results[1].AccountName, name)
	}
	if rep.Results[1].AccountName != name {
		t.Error("a writer changed the report it was given")
	}
}
