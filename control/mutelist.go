package control

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"unicode/utf8"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/trailguard/trailguard/mutelist"
)

// MutelistParam is the rule's mutelist parameter: the mutelist document of
// trailguard scan --mutelist given inline (YAML or JSON, as a string or as
// a JSON object), or an s3://bucket/key URI of one, read with
// s3:GetObject through the function's own role. AWS Config caps a rule's
// input parameters at 1024 characters (2048 for an organization rule), so
// any real list lives in S3.
type MutelistParam struct {
	// Inline is the document given in the parameter; "" when S3 names it.
	Inline string
	// Bucket and Key name the S3 object.
	Bucket, Key string
}

// Set reports whether the parameter was given.
func (m MutelistParam) Set() bool { return m.Inline != "" || m.Bucket != "" }

// Source names where the mutelist comes from, in annotations and errors.
func (m MutelistParam) Source() string {
	if m.Bucket != "" {
		return "s3://" + m.Bucket + "/" + m.Key
	}
	return "ruleParameters.mutelist"
}

func (m *MutelistParam) UnmarshalJSON(data []byte) error {
	*m = MutelistParam{}
	var s string
	switch {
	case string(data) == "null":
		return nil
	case len(data) > 0 && data[0] == '{':
		// A JSON object is the document itself (YAML reads JSON).
		m.Inline = string(data)
		return nil
	case json.Unmarshal(data, &s) != nil:
		return errors.New("mutelist: want an s3://bucket/key URI or the mutelist document (YAML or JSON)")
	}
	if strings.TrimSpace(s) == "" {
		return errors.New("mutelist: empty; leave the parameter out for no mutelist")
	}
	if rest, ok := strings.CutPrefix(strings.TrimSpace(s), "s3://"); ok {
		b, k, err := parseS3URI(rest)
		if err != nil {
			return fmt.Errorf("mutelist %s: %w", quote(s, 80), err)
		}
		m.Bucket, m.Key = b, k
		return nil
	}
	m.Inline = s
	return nil
}

var s3Bucket = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)

// parseS3URI splits bucket/key. It is hand-written rather than url.Parse
// because S3 keys may hold '?', '#' and '%', which a URL parser would take
// as query, fragment and escapes, reading another object than the one
// named.
func parseS3URI(rest string) (bucket, key string, err error) {
	bucket, key, _ = strings.Cut(rest, "/")
	switch {
	case !s3Bucket.MatchString(bucket) || strings.Contains(bucket, ".."):
		return "", "", errors.New("not an S3 bucket name (3-63 lower-case letters, digits, dots and hyphens)")
	case key == "":
		return "", "", errors.New("no object key: want s3://bucket/key")
	case len(key) > 1024 || !utf8.ValidString(key):
		return "", "", errors.New("the object key is not a valid S3 key (at most 1024 bytes of UTF-8)")
	}
	return bucket, key, nil
}

// loadMutelist reads and parses the mutelist the parameter names. The S3
// object is read through the function's own role (not a member role: the
// list is the organization's, kept with the function), at most
// mutelist.MaxFileSize bytes of it.
func (h *Handler) loadMutelist(ctx context.Context, m MutelistParam) (*mutelist.List, error) {
	if m.Bucket == "" {
		return mutelist.Parse(m.Source(), []byte(m.Inline))
	}
	client := s3.NewFromConfig(h.Config, func(o *s3.Options) {
		// A custom endpoint (the emulator, a VPC endpoint) is addressed by
		// path; AWS's own by virtual host.
		o.UsePathStyle = h.Config.BaseEndpoint != nil
	})
	out, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: sdkaws.String(m.Bucket), Key: sdkaws.String(m.Key)})
	if err != nil {
		// The API error's code and message, not the SDK's whole chain:
		// the annotation that carries it holds 256 characters.
		var api smithy.APIError
		if errors.As(err, &api) {
			return nil, fmt.Errorf("s3:GetObject %s: %s: %s (the function's role needs s3:GetObject on it)", m.Source(), api.ErrorCode(), api.ErrorMessage())
		}
		return nil, fmt.Errorf("s3:GetObject %s: %w (the function's role needs s3:GetObject on it)", m.Source(), err)
	}
	defer out.Body.Close()
	if n := sdkaws.ToInt64(out.ContentLength); n > mutelist.MaxFileSize {
		return nil, fmt.Errorf("%s: %d bytes, over the %d-byte limit of a mutelist: not read", m.Source(), n, mutelist.MaxFileSize)
	}
	b, err := io.ReadAll(io.LimitReader(out.Body, mutelist.MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("s3:GetObject %s: reading: %w", m.Source(), err)
	}
	return mutelist.Parse(m.Source(), b)
}
