package report

import (
	"bytes"
	"encoding/json"
	"io"
)

// JSON writes the report as one indented JSON object (DESIGN section 4).
type JSON struct{}

// Write implements Writer. The values are exact; the characters a
// terminal would obey are written as JSON \u escapes (jsonTerminalSafe).
func (JSON) Write(w io.Writer, r *Report) error {
	return encodeJSON(w, r)
}

// encodeJSON writes v as indented JSON with every character a terminal
// would obey written as a \u escape, for every JSON format: the decoded
// values stay exact.
func encodeJSON(w io.Writer, v any) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return err
	}
	_, err := w.Write(jsonTerminalSafe(buf.Bytes()))
	return err
}
