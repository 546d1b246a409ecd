package terraform

import (
	"path/filepath"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// isOverrideFile reports whether Terraform treats the file as an override
// file: override.tf, override.tf.json, *_override.tf, *_override.tf.json.
// Terraform reads these after every other file of the module, in lexical
// order, and merges each of their top-level blocks into the block with the
// same header.
func isOverrideFile(path string) bool {
	base := filepath.Base(path)
	stem := strings.TrimSuffix(strings.TrimSuffix(base, ".json"), ".tf")
	return stem == "override" || strings.HasSuffix(stem, "_override")
}

// mergedBody is a block body with an override block merged into it, the
// way Terraform merges override files (its configs.MergeBodies, whose
// documented rules are: an attribute of the override replaces the
// attribute of the same name; any nested block of a type in the override
// — static or dynamic — replaces every block of that type, static or
// dynamic, in the base; the contents of nested blocks are not merged).
// Everything downstream (attributes, dynamic block expansion) reads the
// merged body as it would read a plain one.
type mergedBody struct {
	base, override hcl.Body
}

var _ hcl.Body = mergedBody{}

func (b mergedBody) Content(schema *hcl.BodySchema) (*hcl.BodyContent, hcl.Diagnostics) {
	c, _, diags := b.PartialContent(schema)
	return c, diags
}

func (b mergedBody) PartialContent(schema *hcl.BodySchema) (*hcl.BodyContent, hcl.Body, hcl.Diagnostics) {
	baseContent, baseRemain, diags := b.base.PartialContent(schema)
	overContent, overRemain, d := b.override.PartialContent(withoutRequired(schema))
	diags = append(diags, d...)
	content := &hcl.BodyContent{Attributes: hcl.Attributes{}, MissingItemRange: baseContent.MissingItemRange}
	for k, a := range baseContent.Attributes {
		content.Attributes[k] = a
	}
	for k, a := range overContent.Attributes {
		content.Attributes[k] = a
	}
	overridden := map[string]bool{}
	for _, blk := range overContent.Blocks {
		if blk.Type == "dynamic" && len(blk.Labels) > 0 {
			overridden[blk.Labels[0]] = true
			continue
		}
		overridden[blk.Type] = true
	}
	for _, blk := range baseContent.Blocks {
		if overridden[blk.Type] || (blk.Type == "dynamic" && len(blk.Labels) > 0 && overridden[blk.Labels[0]]) {
			continue
		}
		content.Blocks = append(content.Blocks, blk)
	}
	content.Blocks = append(content.Blocks, overContent.Blocks...)
	return content, mergedBody{base: baseRemain, override: overRemain}, diags
}

func (b mergedBody) JustAttributes() (hcl.Attributes, hcl.Diagnostics) {
	out := hcl.Attributes{}
	base, diags := b.base.JustAttributes()
	over, d := b.override.JustAttributes()
	diags = append(diags, d...)
	for k, a := range base {
		out[k] = a
	}
	for k, a := range over {
		out[k] = a
	}
	return out, diags
}

func (b mergedBody) MissingItemRange() hcl.Range { return b.base.MissingItemRange() }

// withoutRequired is the schema with no required attribute: an override
// block sets only what it changes.
func withoutRequired(s *hcl.BodySchema) *hcl.BodySchema {
	out := &hcl.BodySchema{Blocks: s.Blocks}
	for _, a := range s.Attributes {
		out.Attributes = append(out.Attributes, hcl.AttributeSchema{Name: a.Name})
	}
	return out
}
