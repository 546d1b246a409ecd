package deploy

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/trailguard/trailguard/internal/safefile"
	"github.com/trailguard/trailguard/mutelist"
)

// AWS Config's limits on a rule's InputParameters, in characters: a
// ConfigRule takes 1024, an OrganizationCustomRuleMetadata 2048 (AWS
// Config API reference). The mutelist embedded inline counts against it.
const (
	maxRuleParameters    = 1024
	maxOrgRuleParameters = 2048
)

// FunctionMutelistActions read the mutelist the rule names in S3
// (control/mutelist.go, loadMutelist), with the function's own role, on
// that one object only: granted only with --mutelist s3://bucket/key.
var FunctionMutelistActions = []string{"s3:GetObject"}

// mutelistKeyRE is the object key of --mutelist s3://: S3's safe
// characters without '*'. The key becomes the Resource of an IAM
// statement, where '*' and '?' are wildcards and "${" starts a policy
// variable: such a key would grant more than the one object.
var mutelistKeyRE = regexp.MustCompile(`^[A-Za-z0-9!_.'()/-]+$`) // and at most 1024 bytes

// MutelistS3 returns the bucket and key of an s3:// --mutelist.
func (o *Options) MutelistS3() (bucket, key string, ok bool) {
	rest, ok := strings.CutPrefix(o.Mutelist, "s3://")
	if !ok {
		return "", "", false
	}
	bucket, key, _ = strings.Cut(rest, "/")
	return bucket, key, true
}

// mutelistObject is bucket/key, the tail of the object's ARN.
func (o *Options) mutelistObject() string {
	b, k, _ := o.MutelistS3()
	return b + "/" + k
}

// LoadMutelist reads the --mutelist file (not an s3:// URI) and checks it
// as the function will parse it, so that a mistake is named with its file
// and line now, not as an ERROR evaluation after deployment.
func (o *Options) LoadMutelist() error {
	if _, _, isS3 := o.MutelistS3(); isS3 || o.Mutelist == "" {
		return nil
	}
	b, err := safefile.Read(o.Mutelist, mutelist.MaxFileSize)
	var notRegular *safefile.NotRegularError
	var tooLarge *safefile.TooLargeError
	switch {
	case errors.As(err, &notRegular):
		return fmt.Errorf("--mutelist %s: not a regular file (%s): give a mutelist YAML file or s3://bucket/key", o.Mutelist, safefile.Kind(notRegular.Mode))
	case errors.As(err, &tooLarge):
		return fmt.Errorf("--mutelist %s: larger than %d bytes, far over AWS Config's input parameters: upload it to S3 and give --mutelist s3://bucket/key", o.Mutelist, mutelist.MaxFileSize)
	case err != nil:
		return fmt.Errorf("--mutelist: %w (give a mutelist file or s3://bucket/key)", err)
	}
	if !utf8.Valid(b) {
		return fmt.Errorf("--mutelist %s: not UTF-8 text", o.Mutelist)
	}
	if _, err := mutelist.Parse(o.Mutelist, b); err != nil {
		return fmt.Errorf("--mutelist: %w", err)
	}
	if strings.TrimSpace(string(b)) == "" {
		return fmt.Errorf("--mutelist %s: empty; leave --mutelist out for no mutelist", o.Mutelist)
	}
	o.MutelistDocument = string(b)
	return nil
}

// checkMutelist validates --mutelist: an S3 URI the function's role can be
// granted exactly, or a file whose content fits the rule's parameters.
func (o *Options) checkMutelist() error {
	if bucket, key, isS3 := o.MutelistS3(); isS3 {
		if !bucketRE.MatchString(bucket) || strings.Contains(bucket, "..") {
			return fmt.Errorf("--mutelist %q: %q is not an S3 bucket name (3 to 63 lower-case letters, digits, '.', '-')", o.Mutelist, bucket)
		}
		if !mutelistKeyRE.MatchString(key) || len(key) > 1024 {
			return fmt.Errorf("--mutelist %q: the object key must be 1 to 1024 of S3's safe characters (letters, digits, !-_.'()/) without '*', which IAM would read as a wildcard: rename the object", o.Mutelist)
		}
		return nil
	}
	if o.MutelistDocument == "" {
		if err := o.LoadMutelist(); err != nil {
			return err
		}
	}
	limit, what := maxRuleParameters, "a Config rule's"
	if o.Org {
		limit, what = maxOrgRuleParameters, "an organization Config rule's"
	}
	if n := utf8.RuneCountInString(o.ruleParametersJSON()); n > limit {
		return fmt.Errorf("--mutelist %s: the rule's input parameters with it inline are %d characters, over %s limit of %d: upload it to S3 and give --mutelist s3://bucket/key (the function's role is then allowed s3:GetObject on that object)", o.Mutelist, n, what, limit)
	}
	return nil
}

// mutelistParameter is the rule's mutelist parameter
// (control.MutelistParam): the URI, or the document as a string.
func (o *Options) mutelistParameter() string {
	if _, _, isS3 := o.MutelistS3(); isS3 {
		return o.Mutelist
	}
	return o.MutelistDocument
}

// FunctionActionsFor are every action the function's code calls with the
// given options: FunctionActions, and s3:GetObject with an S3 mutelist.
func FunctionActionsFor(o Options) []string {
	a := FunctionActions(o.AutoRemediate != "", o.Org)
	if _, _, isS3 := o.MutelistS3(); isS3 {
		a = append(a, FunctionMutelistActions...)
	}
	return a
}

// marshalParameters is the parameters as JSON. encoding/json escapes <, >
// and & as Terraform's jsonencode does, so the length checked is the
// longest either format writes.
func marshalParameters(p map[string]string) string {
	b, _ := json.Marshal(p) // a map of strings always marshals
	return string(b)
}
