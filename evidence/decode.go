package evidence

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/trailguard/trailguard/awscli"
	"github.com/trailguard/trailguard/internal/safefile"
	"github.com/trailguard/trailguard/internal/textpos"
)

// maxFileSize bounds what is read of one evidence file. The largest real
// one, describe-trails.json of an account with every trail it may have, is
// a few hundred kilobytes. A variable so that tests can breach it cheaply.
var maxFileSize = 32 << 20

// FileError is an evidence file that could not be read or understood. Line
// and Column (both from 1) locate a JSON syntax or type error; they are 0
// when the problem is not at one place in the file.
type FileError struct {
	Path   string
	Line   int
	Column int
	Err    error
}

func (e *FileError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s: line %d, column %d: %v", e.Path, e.Line, e.Column, e.Err)
	}
	return fmt.Sprintf("%s: %v", e.Path, e.Err)
}

func (e *FileError) Unwrap() error { return e.Err }

// readFile reads an evidence file. A file that does not exist is reported
// as (nil, false, nil). Only regular files are read: a FIFO would block the
// scan and a device (a link to /dev/zero) never ends, so anything else is
// an error naming the file, and the rest of the directory is still read.
// What is read is capped at maxFileSize.
func readFile(path string) ([]byte, bool, error) {
	data, err := safefile.Read(path, int64(maxFileSize))
	var notRegular *safefile.NotRegularError
	var tooLarge *safefile.TooLargeError
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil, false, nil
	case errors.As(err, &notRegular):
		return nil, true, &FileError{Path: path, Err: fmt.Errorf("not a regular file (%s): skipped", safefile.Kind(notRegular.Mode))}
	case errors.As(err, &tooLarge):
		return nil, true, &FileError{Path: path, Err: fmt.Errorf("larger than %d bytes: not AWS CLI output", maxFileSize)}
	case err != nil:
		return nil, true, &FileError{Path: path, Err: unwrapPathErr(err)}
	}
	return data, true, nil
}

// unwrapPathErr drops the path an *os.PathError repeats, since FileError
// names the file already.
func unwrapPathErr(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// decodeJSON unmarshals CLI output into v, exactly as awscli.Decode reads
// it. Errors name the file and, where the problem is at one place, the
// line and column. Text saved by Windows PowerShell's `>` (UTF-16 with a
// byte order mark) and UTF-8 with a byte order mark are accepted: both are
// what an auditor's shell may produce.
func decodeJSON(path string, data []byte, v any) error {
	data = toUTF8(data)
	err := awscli.Decode(data, v)
	if err == nil {
		return nil
	}
	fe := &FileError{Path: path, Err: err}
	var de *awscli.DecodeError
	if errors.As(err, &de) {
		fe.Err = de.Err
		if de.Offset >= 0 {
			fe.Line, fe.Column = textpos.LineCol(data, de.Offset)
		}
	}
	return fe
}

// toUTF8 strips a UTF-8 byte order mark and decodes UTF-16 text that starts
// with one.
func toUTF8(data []byte) []byte {
	switch {
	case bytes.HasPrefix(data, []byte{0xEF, 0xBB, 0xBF}):
		return data[3:]
	case len(data) >= 2 && (data[0] == 0xFF && data[1] == 0xFE || data[0] == 0xFE && data[1] == 0xFF):
		little := data[0] == 0xFF
		body := data[2:]
		u := make([]uint16, 0, len(body)/2)
		for i := 0; i+1 < len(body); i += 2 {
			if little {
				u = append(u, uint16(body[i])|uint16(body[i+1])<<8)
			} else {
				u = append(u, uint16(body[i])<<8|uint16(body[i+1]))
			}
		}
		out := make([]byte, 0, len(u))
		for _, r := range utf16.Decode(u) {
			out = utf8.AppendRune(out, r)
		}
		return out
	}
	return data
}
