package evidence

import (
	_ "embed"
	"io"
)

//go:embed collect.sh
var collectScript string

// CollectScript writes the bash script an auditor runs, with nothing but
// the AWS CLI and read-only credentials, to collect the evidence directory
// by hand: `bash collect.sh [OUTPUT-DIR]` for the account of AWS_PROFILE,
// asking in AWS_REGION (default us-east-1). Read reads what it writes. The
// script is commented for the auditor who has to trust it.
func CollectScript(w io.Writer) error {
	_, err := io.WriteString(w, collectScript)
	return err
}
