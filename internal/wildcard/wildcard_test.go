package wildcard

import "testing"

func TestMatch(t *testing.T) {
	for _, c := range []struct {
		p, s string
		want bool
	}{
		{"*", "", true},
		{"2222*", "222233334444", true},
		{"2222*", "122223333444", false},
		{"arn:aws:cloudtrail:*:trail/legacy-*", "arn:aws:cloudtrail:us-east-1:1:trail/legacy-x", true},
		{"ap-*", "eu-west-1", false},
		{"us-?ast-1", "us-east-1", true},
		{"us-?ast-1", "us-ast-1", false},
		{"a**b", "ab", true},
		{"", "", true},
		{"", "x", false},
	} {
		if got := Match(c.p, c.s); got != c.want {
			t.Errorf("Match(%q, %q) = %v, want %v", c.p, c.s, got, c.want)
		}
	}
}
