// Package wildcard matches the * and ? patterns of IAM policies and of
// trailguard's mutelist: * is any run of characters, separators included
// (ARNs hold ':' and '/'), ? is exactly one.
package wildcard

// Match reports whether s matches pattern p.
func Match(p, s string) bool {
	for len(p) > 0 {
		switch p[0] {
		case '*':
			for len(p) > 0 && p[0] == '*' {
				p = p[1:]
			}
			if p == "" {
				return true
			}
			for i := 0; i <= len(s); i++ {
				if Match(p, s[i:]) {
					return true
				}
			}
			return false
		case '?':
			if s == "" {
				return false
			}
		default:
			if s == "" || p[0] != s[0] {
				return false
			}
		}
		p, s = p[1:], s[1:]
	}
	return s == ""
}
