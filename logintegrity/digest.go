package logintegrity

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
)

// Limits on what is read from S3. A digest lists the log files of one hour
// of one region (a few hundred bytes each), so 64 MiB uncompressed is far
// above any real digest and still bounded; log files are hashed while they
// stream, so their cap only bounds the work a gzip bomb can cause.
const (
	MaxDigestCompressed   = 16 << 20
	MaxDigestUncompressed = 64 << 20
	DefaultMaxLogBytes    = 4 << 30
	maxJSONDepth          = 16
)

// Digest is one CloudTrail digest file, with exactly the keys AWS documents
// (CloudTrail User Guide, "CloudTrail digest file structure").
type Digest struct {
	AWSAccountID                string
	DigestStartTime             string
	DigestEndTime               string
	DigestS3Bucket              string
	DigestS3Object              string
	DigestPublicKeyFingerprint  string
	DigestSignatureAlgorithm    string
	PreviousDigestS3Bucket      *string
	PreviousDigestS3Object      *string
	PreviousDigestHashValue     *string
	PreviousDigestHashAlgorithm *string
	PreviousDigestSignature     *string // nil: JSON null, the first digest after a gap
	LogFiles                    []LogFile

	Start, End time.Time // DigestStartTime and DigestEndTime parsed
}

// LogFile is one entry of a digest's logFiles.
type LogFile struct {
	S3Bucket      string
	S3Object      string
	HashValue     string
	HashAlgorithm string
}

// ErrFormat marks a digest or log file that is not what CloudTrail writes:
// not gzip, not JSON, a required key missing or of the wrong type.
var ErrFormat = errors.New("invalid format")

// ErrTooLarge marks an object over the size limits.
var ErrTooLarge = errors.New("too large")

// requiredDigestKeys must be present for a digest to be checked at all, as
// in the AWS CLI; previousDigestSignature may be null but must be there.
var requiredDigestKeys = []string{
	"digestPublicKeyFingerprint", "digestS3Bucket", "digestS3Object",
	"previousDigestSignature", "digestEndTime", "digestStartTime",
}

// Gunzip inflates a gzip object of at most maxIn bytes into at most maxOut
// bytes; more is ErrTooLarge (a gzip bomb stops at the cap).
func Gunzip(r io.Reader, maxIn, maxOut int64) ([]byte, error) {
	in, err := io.ReadAll(io.LimitReader(r, maxIn+1))
	if err != nil {
		return nil, err
	}
	if int64(len(in)) > maxIn {
		return nil, fmt.Errorf("%w: more than %d bytes compressed", ErrTooLarge, maxIn)
	}
	zr, err := gzip.NewReader(bytes.NewReader(in))
	if err != nil {
		return nil, fmt.Errorf("%w: not gzip: %v", ErrFormat, err)
	}
	out, err := io.ReadAll(io.LimitReader(zr, maxOut+1))
	if err != nil {
		return nil, fmt.Errorf("%w: gzip: %v", ErrFormat, err)
	}
	if int64(len(out)) > maxOut {
		return nil, fmt.Errorf("%w: more than %d bytes uncompressed", ErrTooLarge, maxOut)
	}
	return out, nil
}

// ParseDigest parses an uncompressed digest. Keys are matched exactly (the
// JSON package alone would match them case-insensitively and keep the last
// of duplicates, so a forged key could shadow the signed one); duplicate
// keys and nesting deeper than maxJSONDepth are ErrFormat.
func ParseDigest(raw []byte) (*Digest, error) {
	if err := checkJSON(raw); err != nil {
		return nil, err
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(raw, &top); err != nil || top == nil {
		return nil, fmt.Errorf("%w: not a JSON object", ErrFormat)
	}
	d, err := digestFields(top)
	if err != nil {
		return nil, fieldError{err}
	}
	return d, nil
}

// fieldError is a digest that is a JSON object but lacks a key or has one
// of the wrong type. The AWS CLI checks the signature metadata before the
// keys, so a digest without both is an invalid signature there; the
// validator tells the two apart the same way.
type fieldError struct{ error }

func (e fieldError) Unwrap() error { return e.error }

func digestFields(top map[string]json.RawMessage) (*Digest, error) {
	for _, k := range requiredDigestKeys {
		if _, ok := top[k]; !ok {
			return nil, fmt.Errorf("%w: no %q", ErrFormat, k)
		}
	}
	d := &Digest{}
	str := func(key string, dst *string, required bool) error {
		v, ok := top[key]
		if !ok || string(v) == "null" {
			if required {
				return fmt.Errorf("%w: %q is missing or null", ErrFormat, key)
			}
			return nil
		}
		if err := json.Unmarshal(v, dst); err != nil {
			return fmt.Errorf("%w: %q is not a string", ErrFormat, key)
		}
		return nil
	}
	opt := func(key string, dst **string) error {
		v, ok := top[key]
		if !ok || string(v) == "null" {
			return nil
		}
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return fmt.Errorf("%w: %q is not a string", ErrFormat, key)
		}
		*dst = &s
		return nil
	}
	for _, f := range []struct {
		key string
		dst *string
		req bool
	}{
		{"awsAccountId", &d.AWSAccountID, false},
		{"digestStartTime", &d.DigestStartTime, true},
		{"digestEndTime", &d.DigestEndTime, true},
		{"digestS3Bucket", &d.DigestS3Bucket, true},
		{"digestS3Object", &d.DigestS3Object, true},
		{"digestPublicKeyFingerprint", &d.DigestPublicKeyFingerprint, true},
		{"digestSignatureAlgorithm", &d.DigestSignatureAlgorithm, false},
	} {
		if err := str(f.key, f.dst, f.req); err != nil {
			return nil, err
		}
	}
	for _, f := range []struct {
		key string
		dst **string
	}{
		{"previousDigestS3Bucket", &d.PreviousDigestS3Bucket},
		{"previousDigestS3Object", &d.PreviousDigestS3Object},
		{"previousDigestHashValue", &d.PreviousDigestHashValue},
		{"previousDigestHashAlgorithm", &d.PreviousDigestHashAlgorithm},
		{"previousDigestSignature", &d.PreviousDigestSignature},
	} {
		if err := opt(f.key, f.dst); err != nil {
			return nil, err
		}
	}
	var err error
	if d.Start, err = parseTime(d.DigestStartTime); err != nil {
		return nil, fmt.Errorf("%w: digestStartTime: %v", ErrFormat, err)
	}
	if d.End, err = parseTime(d.DigestEndTime); err != nil {
		return nil, fmt.Errorf("%w: digestEndTime: %v", ErrFormat, err)
	}
	if v, ok := top["logFiles"]; ok && string(v) != "null" {
		var entries []map[string]json.RawMessage
		if err := json.Unmarshal(v, &entries); err != nil {
			return nil, fmt.Errorf("%w: logFiles is not a list of objects", ErrFormat)
		}
		d.LogFiles = make([]LogFile, 0, len(entries))
		for i, e := range entries {
			var lf LogFile
			for _, f := range []struct {
				key string
				dst *string
				req bool
			}{
				{"s3Bucket", &lf.S3Bucket, true},
				{"s3Object", &lf.S3Object, true},
				{"hashValue", &lf.HashValue, true},
				{"hashAlgorithm", &lf.HashAlgorithm, false},
			} {
				raw, ok := e[f.key]
				if !ok || string(raw) == "null" {
					if f.req {
						return nil, fmt.Errorf("%w: logFiles[%d]: %q is missing or null", ErrFormat, i, f.key)
					}
					continue
				}
				if err := json.Unmarshal(raw, f.dst); err != nil {
					return nil, fmt.Errorf("%w: logFiles[%d]: %q is not a string", ErrFormat, i, f.key)
				}
			}
			d.LogFiles = append(d.LogFiles, lf)
		}
	}
	return d, nil
}

// parseTime reads CloudTrail's digest times ("2015-08-17T14:01:31Z").
func parseTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not an RFC 3339 time", s)
	}
	return t.UTC(), nil
}

// checkJSON walks the tokens once: one value, no duplicate key in any
// object, nesting at most maxJSONDepth.
func checkJSON(raw []byte) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	type frame struct {
		object bool
		keys   map[string]bool
		expKey bool
	}
	var stack []*frame
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("%w: JSON: %v", ErrFormat, err)
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if top != nil && top.object && top.expKey {
			if k, ok := tok.(string); ok {
				if top.keys[k] {
					return fmt.Errorf("%w: key %q appears twice", ErrFormat, k)
				}
				top.keys[k] = true
				top.expKey = false
				continue
			}
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			if len(stack) >= maxJSONDepth {
				return fmt.Errorf("%w: nested deeper than %d", ErrFormat, maxJSONDepth)
			}
			if top != nil && top.object {
				top.expKey = true
			}
			obj := tok == json.Delim('{')
			stack = append(stack, &frame{object: obj, keys: map[string]bool{}, expKey: obj})
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
		default:
			if top != nil && top.object {
				top.expKey = true
			}
		}
	}
	return nil
}
