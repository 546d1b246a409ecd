package control_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/trailguard/trailguard"
	"github.com/trailguard/trailguard/control"
	"github.com/trailguard/trailguard/mutelist"
)

// Rule parameters come from whoever can put the Config rule: they parse
// or are refused, and what parses holds only a valid role name.
func FuzzRuleParameters(f *testing.F) {
	for _, s := range []string{`{}`, `{"strict":"true"}`, `{"strict":true,"executionRoleName":"Auditor"}`, `{"alertTopicArn":"arn:aws:sns:us-east-1:111111111111:a"}`, `{"x":1}`, `[]`, ``} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := control.ParseRuleParameters(s)
		if err != nil {
			return
		}
		if strings.ContainsAny(p.ExecutionRoleName, " ;&|$`'\"\n") {
			t.Errorf("role name %q accepted", p.ExecutionRoleName)
		}
		m := p.Mutelist
		if m.Bucket != "" && (m.Inline != "" || m.Key == "" || strings.ContainsAny(m.Bucket, "/?#% ") || len(m.Key) > 1024) {
			t.Errorf("mutelist %+v accepted", m)
		}
		if m.Inline != "" {
			// Whatever the document, it parses or is refused, bounded.
			mutelist.Parse(m.Source(), []byte(m.Inline))
		}
	})
}

// Whatever the reasons hold, the annotation AWS Config gets starts with
// the status, is valid UTF-8 of at most 256 characters, and has no
// control character.
func FuzzAnnotation(f *testing.F) {
	for _, s := range []string{"no trail", "\x1b[31mred\n", strings.Repeat("é", 300), "\xff\xfe", "\u202eevil"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, reason string) {
		muted := trailguard.Result{Status: trailguard.StatusFail, Reasons: []string{reason}}
		muted.Mute(reason) // a mutelist's reason is outside input too
		for _, tc := range []struct {
			r      trailguard.Result
			prefix string
		}{
			{trailguard.Result{Status: trailguard.StatusUnknown, Reasons: []string{reason}}, "UNKNOWN"},
			{muted, "MUTED (FAIL)"},
		} {
			a := control.Annotation(tc.r)
			if !strings.HasPrefix(a, tc.prefix) || !utf8.ValidString(a) || utf8.RuneCountInString(a) > 256 {
				t.Errorf("annotation %q, want %s…", a, tc.prefix)
			}
			for _, r := range a {
				if r < 0x20 || r == 0x7f || r == 0x202e {
					t.Errorf("annotation %q holds %U", a, r)
				}
			}
		}
	})
}
