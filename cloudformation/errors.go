package cloudformation

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/trailguard/trailguard"
)

// yamlLine is the place the YAML parser names in its messages ("yaml:
// line 5: did not find expected key"): the parser gives no position as
// data, so it is read from the message and the error placed there.
var yamlLine = regexp.MustCompile(`^line (\d+): `)

// yamlErr is a YAML parse error placed at its line in file.
func yamlErr(file string, err error) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 0
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = msg[len(m[0]):]
	}
	return trailguard.ErrorAt(file, line, "%s", msg)
}
