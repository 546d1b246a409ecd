package report

import (
	"encoding/json"
	"io"
)

// JSON writes the report as one indented JSON object (DESIGN section 4).
type JSON struct{}

// Write implements Writer.
func (JSON) Write(w io.Writer, r *Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}
