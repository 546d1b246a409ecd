package terraform

import (
	"bytes"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/trailguard/trailguard/internal/ignore"
)

// comments are the comments of a native-syntax file as the HCL lexer finds
// them, line by line, for trailguard:ignore directives: what looks like a
// comment inside a string or a heredoc is not one. A file that names no
// directive is not lexed again. .tf.json files have no comments.
func comments(name string, src []byte) []ignore.Comment {
	if !bytes.Contains(src, []byte("trailguard:ignore")) {
		return nil
	}
	tokens, _ := hclsyntax.LexConfig(src, name, hcl.InitialPos)
	code := map[int]bool{} // lines holding something else than comments
	var out []ignore.Comment
	for _, t := range tokens {
		switch t.Type {
		case hclsyntax.TokenComment:
			text := strings.TrimRight(string(t.Bytes), "\r\n")
			for i, l := range strings.Split(text, "\n") {
				out = append(out, ignore.Comment{Line: t.Range.Start.Line + i, Text: l})
			}
		case hclsyntax.TokenNewline, hclsyntax.TokenEOF:
		default:
			end := t.Range.End.Line
			if t.Range.End.Column == 1 && end > t.Range.Start.Line {
				end-- // a token that ends with its line's newline
			}
			for l := t.Range.Start.Line; l <= end; l++ {
				code[l] = true
			}
		}
	}
	for i := range out {
		out[i].Alone = !code[out[i].Line]
	}
	return out
}
