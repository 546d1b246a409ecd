// Package wildcard matches the * and ? patterns of IAM policies and of
// trailguard's mutelist: * is any run of characters, separators included
// (ARNs hold ':' and '/'), ? is exactly one.
//
// Patterns come from input (a mutelist, a bucket or key policy), so the
// matcher must not let a pattern choose how long it runs: a recursive
// matcher tries every split for every '*' and takes exponential time on
// "*a*a*a*a*…b" against a long string. Match runs in O(len(p)·len(s))
// time and constant space, with no recursion.
package wildcard

import "unicode/utf8"

// Match reports whether s matches pattern p. '?' stands for one character
// (one UTF-8 encoded rune, as IAM counts characters); invalid UTF-8 bytes
// count as one character each.
//
// It is the greedy algorithm with one saved star: on a mismatch only the
// most recent '*' needs to absorb one more character, because whatever an
// earlier star could absorb the later one can absorb too. Each retry
// advances the saved position in s, so the work is bounded by
// len(p)·len(s).
func Match(p, s string) bool {
	pi, si := 0, 0
	star, mark := -1, 0 // index in p after the last '*', and the position in s it resumes from
	for si < len(s) {
		if pi < len(p) {
			switch c := p[pi]; c {
			case '*':
				pi++
				star, mark = pi, si
				continue
			case '?':
				_, n := utf8.DecodeRuneInString(s[si:])
				pi, si = pi+1, si+n
				continue
			default:
				if c == s[si] {
					pi, si = pi+1, si+1
					continue
				}
			}
		}
		if star < 0 {
			return false
		}
		// Let the last star take one more character and try again.
		_, n := utf8.DecodeRuneInString(s[mark:])
		mark += n
		pi, si = star, mark
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}
