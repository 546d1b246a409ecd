// Package textpos turns a byte offset into a file into the line and column
// a person looks for in an editor. Parsers of outside input (plan JSON,
// evidence files) report errors as byte offsets (encoding/json's
// SyntaxError.Offset, Decoder.InputOffset); every message that names a
// place in a file goes through this one conversion, so that the same
// offset is the same line everywhere.
package textpos

import "bytes"

// LineCol returns the 1-based line and column of byte offset off in data.
// The column counts bytes from the start of the line, as the offsets
// encoding/json reports do. An offset outside data is clamped to its
// start or end, so that a position taken from an error never panics.
func LineCol(data []byte, off int64) (line, col int) {
	off = max(0, min(off, int64(len(data))))
	before := data[:off]
	line = bytes.Count(before, []byte{'\n'}) + 1
	col = int(off) - (bytes.LastIndexByte(before, '\n') + 1) + 1
	return line, col
}

// Line returns the 1-based line of byte offset off in data (clamped as
// LineCol clamps it).
func Line(data []byte, off int64) int {
	line, _ := LineCol(data, off)
	return line
}
