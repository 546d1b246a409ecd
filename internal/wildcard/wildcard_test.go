package wildcard

import (
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

// oracle is what Match must agree with: the pattern as an RE2 regular
// expression, which matches in linear time by construction.
func oracle(p, s string) bool {
	var b strings.Builder
	b.WriteString(`(?s)\A`)
	for _, r := range p {
		switch r {
		case '*':
			b.WriteString(`.*`)
		case '?':
			b.WriteString(`.`)
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	b.WriteString(`\z`)
	return regexp.MustCompile(b.String()).MatchString(s)
}

func TestMatch(t *testing.T) {
	long := strings.Repeat("a", 10000)
	for _, c := range []struct {
		name string
		p, s string
		want bool
	}{
		{"star_matches_empty", "*", "", true},
		{"prefix_star", "2222*", "222233334444", true},
		{"prefix_star_wrong_prefix", "2222*", "122223333444", false},
		{"star_crosses_separators", "arn:aws:cloudtrail:*:trail/legacy-*", "arn:aws:cloudtrail:us-east-1:1:trail/legacy-x", true},
		{"prefix_mismatch", "ap-*", "eu-west-1", false},
		{"question_is_one_character", "us-?ast-1", "us-east-1", true},
		{"question_needs_a_character", "us-?ast-1", "us-ast-1", false},
		{"question_is_one_rune_not_one_byte", "trail-?", "trail-é", true},
		{"double_star", "a**b", "ab", true},
		{"empty_pattern_empty_string", "", "", true},
		{"empty_pattern_nonempty_string", "", "x", false},
		{"star_then_suffix_backtracks", "*ab", "aab", true},
		{"last_star_takes_the_rest", "a*b*c", "abcbcbc", true},
		{"suffix_missing", "a*b*c", "abcbcb", false},
		{"trailing_stars", "abc***", "abc", true},
		{"pattern_longer_than_string", "abcd", "abc", false},
		{"pathological_pattern_long_string_no_match", "*a*a*a*a*a*a*a*a*a*a*a*a*b", long, false},
		{"pathological_pattern_long_string_match", "*a*a*a*a*a*a*a*a*a*a*a*a*b", long + "b", true},
		{"pathological_arn", "*a*a*a*a*a*a*a*a*a*a*a*a*b", "arn:aws:cloudtrail:us-east-1:111111111111:trail/" + long, false},
		{"many_questions_long_string", strings.Repeat("?*", 50) + "b", long, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := Match(c.p, c.s); got != c.want {
				t.Errorf("Match(%.40q, %.40q) = %v, want %v", c.p, c.s, got, c.want)
			}
			if len(c.s) < 200 {
				if o := oracle(c.p, c.s); o != c.want {
					t.Fatalf("test case disagrees with the regexp oracle: %v", o)
				}
			}
		})
	}
}

// FuzzMatch: Match agrees with the regular-expression oracle on every
// pattern and string.
func FuzzMatch(f *testing.F) {
	for _, s := range [][2]string{
		{"*", ""}, {"a*b?c", "axxbyc"}, {"*a*a*b", "aaaaaaa"}, {"arn:*:trail/?", "arn:aws:x:trail/é"}, {"\xff?", "\xff\xfe"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, p, s string) {
		if len(p) > 64 || len(s) > 256 {
			return // the oracle compiles p; keep it small
		}
		got := Match(p, s)
		if !utf8.ValidString(p) || !utf8.ValidString(s) {
			return // the oracle reads invalid bytes as U+FFFD; Match compares bytes
		}
		if want := oracle(p, s); got != want {
			t.Fatalf("Match(%q, %q) = %v, oracle says %v", p, s, got, want)
		}
	})
}

// BenchmarkMatch_pathological measures the pattern that once ran for
// minutes against an ARN-sized string.
func BenchmarkMatch_pathological(b *testing.B) {
	p := "*a*a*a*a*a*a*a*a*a*a*a*a*b"
	s := strings.Repeat("a", 10000)
	for b.Loop() {
		Match(p, s)
	}
}
