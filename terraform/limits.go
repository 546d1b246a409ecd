package terraform

import (
	"bytes"
	"encoding/json"
	"errors"
	"io/fs"

	"github.com/trailguard/trailguard"
	"github.com/trailguard/trailguard/internal/safefile"
)

// Limits on what one file may cost to read. Input is hostile: the HCL
// parser recurses once per nesting level (a 100,000-deep [[[...]]] ends
// the process with a stack overflow) and its lexer keeps every token of a
// file in memory (about a hundred bytes each), so a file is checked
// before it is parsed; a breach is an error for that file alone and the
// other files are still read.
const (
	// MaxFileSize caps every file the reader opens (.tf, .tf.json,
	// tfvars, plan JSON).
	MaxFileSize = 4 << 20
	// MaxNesting caps how deeply brackets, braces, parentheses, string
	// templates and heredocs may nest, and how many unary operators or
	// conditionals one expression may chain.
	MaxNesting = 256
	// MaxTokens caps the tokens of one file (the lexer holds them all).
	MaxTokens = 1 << 20
	// maxModuleBytes caps the bytes of all the files one root module
	// reads, its local modules and variable files included.
	maxModuleBytes = 32 << 20
	// maxInstances caps the count / for_each instances (resources and
	// module calls) one root module may expand into.
	maxInstances = 10000
)

// errNotRegular marks a path that is not a regular file (a FIFO, a
// device, a symbolic link to /dev/zero): it is skipped, never opened for
// reading, because reading it may never end.
var errNotRegular = errors.New("not a regular file")

// readFile reads a regular file of at most MaxFileSize bytes (a symbolic
// link is followed: the target decides), through the one reader of outside
// files, which also refuses a FIFO swapped in after the check.
func readFile(name string) ([]byte, error) {
	b, err := safefile.Read(name, MaxFileSize)
	var notRegular *safefile.NotRegularError
	var tooLarge *safefile.TooLargeError
	switch {
	case errors.As(err, &notRegular):
		return nil, trailguard.ErrorAt(name, 0, "%w (%s)", errNotRegular, safefile.Kind(notRegular.Mode))
	case errors.As(err, &tooLarge) && tooLarge.Size >= 0:
		return nil, trailguard.ErrorAt(name, 0, "%d bytes, more than the %d bytes this reader accepts", tooLarge.Size, MaxFileSize)
	case errors.As(err, &tooLarge):
		return nil, trailguard.ErrorAt(name, 0, "more than the %d bytes this reader accepts", MaxFileSize)
	case err != nil && !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, fs.ErrPermission):
		return nil, trailguard.ErrorAt(name, 0, "%w", err)
	}
	return b, err
}

// checkSource refuses HCL native syntax (main mode) that would nest
// deeper than MaxNesting or hold more than MaxTokens tokens once parsed.
func checkSource(name string, src []byte) error {
	s := scanner{src: src}
	if err := s.scan(false); err != nil {
		return trailguard.ErrorAt(name, s.line, "%w", err)
	}
	return nil
}

// checkTemplate does the same for a string that HCL parses as a
// template (a JSON string value of .tf.json).
func checkTemplate(src []byte) error {
	s := scanner{src: src}
	return s.scan(true)
}

// checkJSON refuses JSON that nests deeper than MaxNesting or holds
// more than MaxTokens values; with templates, every string that holds an
// interpolation is checked as the HCL template .tf.json makes of it.
func checkJSON(name string, src []byte, templates bool) error {
	depth, tokens, line := 0, 0, 1
	inLiteral := false // within a number or true/false/null: one token
	for i := 0; i < len(src); i++ {
		c := src[i]
		switch c {
		case '[', ']', '{', '}', ',', ':', '"', ' ', '\t', '\r', '\n':
			inLiteral = false
		default:
			if !inLiteral {
				tokens++
			}
			inLiteral = true
		}
		switch c {
		case '\n':
			line++
		case '[', '{':
			depth++
			tokens++
		case ']', '}':
			if depth > 0 {
				depth--
			}
		case ',', ':':
			tokens++
		case '"':
			start := i
			for i++; i < len(src) && src[i] != '"'; i++ {
				if src[i] == '\\' {
					i++
				} else if src[i] == '\n' {
					line++
				}
			}
			tokens++
			raw := src[start:min(i, len(src))]
			if templates && i < len(src) && (hasInterp(raw) || bytes.IndexByte(raw, '\\') >= 0) {
				// Escapes count: "\u0024\u007b" is an interpolation too.
				var str string
				if json.Unmarshal(src[start:i+1], &str) == nil && hasInterp([]byte(str)) {
					if err := checkTemplate([]byte(str)); err != nil {
						return trailguard.ErrorAt(name, line, "a string %w", err)
					}
				}
			}
		}
		if depth > MaxNesting {
			return trailguard.ErrorAt(name, line, "%w", errTooDeep)
		}
		if tokens > MaxTokens {
			return trailguard.ErrorAt(name, line, "%w", errTooManyTokens)
		}
	}
	return nil
}

func hasInterp(b []byte) bool {
	for i := 0; i+1 < len(b); i++ {
		if (b[i] == '$' || b[i] == '%') && b[i+1] == '{' {
			return true
		}
	}
	return false
}
