package terraform

import (
	"bytes"
	"encoding/json"
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

// ignoreReason is the reason of the trailguard:ignore directive that
// applies to a trail resource: in a comment on or right above its block
// in native syntax, or, in JSON syntax, in the resource's "//" property
// (Terraform's comment property: a string or a list of strings).
func (r *reader) ignoreReason(d *decl) string {
	line := d.block.DefRange.Start.Line
	if texts, ok := r.jsonComments[d.file][d.block.Labels[1]]; ok {
		cs := make([]ignore.Comment, 0, len(texts))
		for _, s := range texts {
			cs = append(cs, ignore.Comment{Line: line, Text: s})
		}
		return ignore.Find(cs, line)
	}
	return ignore.Find(r.comments[d.file], line)
}

// jsonComments are the "//" properties of the aws_cloudtrail resources
// of a .tf.json file, by resource name. Each level of the JSON syntax may
// be an object or an array of objects. A file that names no directive is
// not decoded again; it passed checkJSON's limits already.
func jsonComments(src []byte) map[string][]string {
	if !bytes.Contains(src, []byte("trailguard:ignore")) {
		return nil
	}
	var root any
	if json.Unmarshal(src, &root) != nil {
		return nil
	}
	objects := func(v any) []map[string]any {
		switch t := v.(type) {
		case map[string]any:
			return []map[string]any{t}
		case []any:
			var out []map[string]any
			for _, e := range t {
				if m, ok := e.(map[string]any); ok {
					out = append(out, m)
				}
			}
			return out
		}
		return nil
	}
	out := map[string][]string{}
	for _, f := range objects(root) {
		for _, res := range objects(f["resource"]) {
			for _, typ := range objects(res["aws_cloudtrail"]) {
				for name, v := range typ {
					for _, body := range objects(v) {
						switch c := body["//"].(type) {
						case string:
							out[name] = append(out[name], c)
						case []any:
							for _, e := range c {
								if s, ok := e.(string); ok {
									out[name] = append(out[name], s)
								}
							}
						}
					}
				}
			}
		}
	}
	return out
}
