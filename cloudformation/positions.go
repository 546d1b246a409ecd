package cloudformation

import (
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/trailguard/trailguard"
	"github.com/trailguard/trailguard/internal/ignore"
)

// pos is where a node is written in the template.
func (t *tmpl) pos(n *yaml.Node) trailguard.Position {
	return trailguard.Position{File: t.file, Line: n.Line, Column: n.Column}
}

// keyPos is where the key name is written in the mapping m (a resource's
// Properties), or the zero Position when m does not hold it: the
// property's default then decides, and a report points at the resource.
func (t *tmpl) keyPos(m *yaml.Node, name string) trailguard.Position {
	m = deref(m)
	if m == nil || m.Kind != yaml.MappingNode {
		return trailguard.Position{}
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == name {
			return t.pos(m.Content[i])
		}
	}
	return trailguard.Position{}
}

// ignoreReason is the reason of the trailguard:ignore directive that
// applies to the resource whose logical id is key (see package ignore).
// The YAML parser attaches comments to nodes but does not say on which
// line each comment stands, so a whole-line comment is a line of the
// file that starts with # and whose text the parser read as a comment:
// a line of a block scalar (Description: |) that starts with # is text,
// not a comment, and mutes nothing.
func (t *tmpl) ignoreReason(root, key *yaml.Node) string {
	if !t.mayIgnore {
		return ""
	}
	if t.commentText == nil {
		t.commentText = map[string]bool{}
		stack := []*yaml.Node{root}
		for len(stack) > 0 {
			n := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			for _, c := range []string{n.HeadComment, n.LineComment, n.FootComment} {
				for _, l := range strings.Split(c, "\n") {
					if l = strings.TrimSpace(l); l != "" {
						t.commentText[l] = true
					}
				}
			}
			stack = append(stack, n.Content...)
		}
	}
	var cs []ignore.Comment
	if key.LineComment != "" {
		cs = append(cs, ignore.Comment{Line: key.Line, Text: key.LineComment})
	}
	for i := key.Line - 2; i >= 0 && i < len(t.lines); i-- {
		s := strings.TrimSpace(t.lines[i])
		if !strings.HasPrefix(s, "#") || !t.commentText[s] {
			break
		}
		cs = append(cs, ignore.Comment{Line: i + 1, Text: s, Alone: true})
	}
	return ignore.Find(cs, key.Line)
}
