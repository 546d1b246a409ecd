// Package awsvalidate runs AWS's own log file integrity check,
// `aws cloudtrail validate-logs`, against the emulator and reads what it
// prints, so that tests and the log benchmark can hold trailguard's
// validate-logs against the tool auditors already trust, file by file.
//
// What the AWS CLI does (read from awscli/customizations/cloudtrail/
// validation.py of aws-cli 1.45.11, and checked against the emulator):
//
//   - One region per run: the region of the run (--region) is the
//     "source region" whose digests are walked; the trail's home region
//     comes from the ARN. A multi-region trail takes one run per region.
//   - Calls, in order: cloudtrail:DescribeTrails (no parameters; the trail
//     is picked by TrailARN; skipped when --s3-bucket is given);
//     organizations:DescribeOrganization for an organization trail (then
//     --account-id is required); s3:GetBucketLocation from the run's
//     region; cloudtrail:ListPublicKeys once, with StartTime = --start-time
//     and EndTime = --end-time + 2 h (a run with no key in that range stops
//     with "No public keys found between ..."); s3:ListObjects (version 1)
//     with Prefix = [prefix/]AWSLogs/[o-id/]<account>/CloudTrail-Digest/
//     <region> and Marker = the digest key the start time minus one minute
//     would have, paged by Marker; keys later than --end-time + 1 h end the
//     listing; then s3:GetObject of each digest (signature and
//     signature-algorithm read from its metadata) and of each log file it
//     lists, one at a time.
//   - The chain is walked newest first through previousDigestS3Object; a
//     digest with no previous digest while older ones remain is a gap, not
//     an error; a digest that is invalid or missing is reported and the walk
//     resumes at the next older key of the listing. The log files of an
//     invalid digest are not checked.
//   - Output: "Validating log files for trail <arn> between <t> and <t>"
//     first; with --verbose a line "Digest file\ts3://b/k\tvalid" (or
//     "(backfill) Digest file", or "Log file") on stdout for every valid
//     file; on stderr, always, "... \tINVALID: <reason>" where the reason is
//     "not found", "signature verification failed", "invalid format", "has
//     been moved from its original location", "public key not found in
//     region ...", "Unable to load PKCS #1 key ...", or for a log file
//     "hash value doesn't match", "not found", "invalid format"; and "No log
//     files were delivered by CloudTrail between <t> and <t>" for a gap.
//     Then "Results requested for <t> to <t>", "No digests found" or
//     "Results found for <t> to <t>:" and ratios "N/M digest files valid[,
//     K/M digest files INVALID]" (backfill digest, log likewise). Times are
//     printed as 2006-01-02T15:04:05Z.
//   - Exit code 0 when nothing is invalid (gaps included), 1 when a digest
//     or log file is invalid, 255 when the run fails (an API error other
//     than NoSuchKey, no public keys, an unknown trail).
package awsvalidate

import (
	"bufio"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Class is the reason class of one outcome, named as trailguard's JSON
// names it so that the two tools compare directly.
type Class string

// Reason classes. Moved, KeyNotFound and Other are the AWS CLI's own
// verdicts that have no narrower class.
const (
	Valid            Class = "valid"
	NotFound         Class = "not_found"
	HashMismatch     Class = "hash_mismatch"
	InvalidSignature Class = "invalid_signature"
	InvalidFormat    Class = "invalid_format"
	ChainGap         Class = "gap"
	Moved            Class = "moved"
	KeyNotFound      Class = "public_key_not_found"
	Other            Class = "other"
)

// Kind is what a line is about.
type Kind string

// Kinds of file the AWS CLI reports on; a gap is about no file.
const (
	Digest         Kind = "digest"
	BackfillDigest Kind = "backfill_digest"
	LogFile        Kind = "log"
	Gap            Kind = "gap"
)

// Outcome is one line of the AWS CLI's verdict.
type Outcome struct {
	Kind   Kind
	Bucket string
	Key    string
	Class  Class
	// Message is the CLI's words after "INVALID: " (empty when valid).
	Message string
	// From and To bound a gap (ChainGap only).
	From, To time.Time
	// Stream and Line locate the line in the CLI's output.
	Stream string
	Line   int
}

// Ratio is one "N/M ... files valid" line of the summary.
type Ratio struct{ Valid, Total int }

// Report is a whole run's output.
type Report struct {
	TrailARN string
	// Start and End are the range the run validated, as it printed it.
	Start, End              time.Time
	Outcomes                []Outcome
	Digests, Backfill, Logs Ratio
	// NoDigests: "No digests found"; NoValidInRange: "No valid digests
	// found in range".
	NoDigests, NoValidInRange bool
	// FoundStart and FoundEnd: "Results found for <t> to <t>".
	FoundStart, FoundEnd time.Time
	// Unrecognized lists lines the parser does not know ("stream:line:
	// text"): a comparison that finds any has met output it cannot judge.
	Unrecognized []string
}

// MaxLine bounds one line of output; the CLI's longest lines name an S3
// key (at most 1,024 bytes) and a bucket.
const MaxLine = 64 << 10

const displayTime = "2006-01-02T15:04:05Z"

var (
	fileLine = regexp.MustCompile(`^(\(backfill\) )?(Digest file|Log file)\ts3://([^/\t]+)/([^\t]*)\t(valid|INVALID: (.*))$`)
	gapLine  = regexp.MustCompile(`^(\(backfill\) )?No log files were delivered by CloudTrail between (\S+) and (\S+)$`)
	startRe  = regexp.MustCompile(`^Validating log files for trail (\S+) between (\S+) and (\S+)$`)
	reqRe    = regexp.MustCompile(`^Results requested for (\S+) to (\S+)$`)
	foundRe  = regexp.MustCompile(`^Results found for (\S+) to (\S+):$`)
	ratioRe  = regexp.MustCompile(`^(\d+)/(\d+) (digest|backfill digest|log) files valid(?:, (\d+)/(\d+) (?:digest|backfill digest|log) files INVALID)?$`)
)

// Parse reads the AWS CLI's standard output and standard error. A line
// longer than MaxLine is an error naming the stream and line; a line it
// does not know is kept in Unrecognized.
func Parse(stdout, stderr io.Reader) (*Report, error) {
	r := &Report{}
	if err := r.read("stdout", stdout); err != nil {
		return nil, err
	}
	if err := r.read("stderr", stderr); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *Report) read(stream string, in io.Reader) error {
	if in == nil {
		return nil
	}
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 0, 4096), MaxLine)
	n := 0
	for sc.Scan() {
		n++
		if err := r.line(stream, n, sc.Text()); err != nil {
			return fmt.Errorf("aws cloudtrail validate-logs %s line %d: %w", stream, n, err)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("aws cloudtrail validate-logs %s after line %d: %w", stream, n, err)
	}
	return nil
}

func (r *Report) line(stream string, n int, s string) error {
	s = strings.TrimRight(s, "\r")
	if strings.TrimSpace(s) == "" {
		return nil
	}
	if m := fileLine.FindStringSubmatch(s); m != nil {
		o := Outcome{Kind: LogFile, Bucket: m[3], Key: m[4], Stream: stream, Line: n}
		if m[2] == "Digest file" {
			o.Kind = Digest
			if m[1] != "" {
				o.Kind = BackfillDigest
			}
		}
		if m[5] == "valid" {
			o.Class = Valid
		} else {
			o.Message = m[6]
			o.Class = classify(o.Kind, m[6])
		}
		r.Outcomes = append(r.Outcomes, o)
		return nil
	}
	if m := gapLine.FindStringSubmatch(s); m != nil {
		from, err1 := time.Parse(displayTime, m[2])
		to, err2 := time.Parse(displayTime, m[3])
		if err1 != nil || err2 != nil {
			return fmt.Errorf("gap with unreadable times: %q", s)
		}
		kind := Digest
		if m[1] != "" {
			kind = BackfillDigest
		}
		r.Outcomes = append(r.Outcomes, Outcome{Kind: Gap, Class: ChainGap, From: from, To: to, Message: string(kind), Stream: stream, Line: n})
		return nil
	}
	var err error
	switch {
	case startRe.MatchString(s):
		m := startRe.FindStringSubmatch(s)
		r.TrailARN = m[1]
		r.Start, r.End, err = times(m[2], m[3])
	case reqRe.MatchString(s):
		// The same range as the first line.
	case foundRe.MatchString(s):
		m := foundRe.FindStringSubmatch(s)
		r.FoundStart, r.FoundEnd, err = times(m[1], m[2])
	case s == "No digests found":
		r.NoDigests = true
	case s == "No valid digests found in range":
		r.NoValidInRange = true
	case ratioRe.MatchString(s):
		m := ratioRe.FindStringSubmatch(s)
		valid, _ := strconv.Atoi(m[1])
		total, _ := strconv.Atoi(m[2])
		ratio := Ratio{Valid: valid, Total: total}
		switch m[3] {
		case "digest":
			r.Digests = ratio
		case "backfill digest":
			r.Backfill = ratio
		default:
			r.Logs = ratio
		}
	default:
		r.Unrecognized = append(r.Unrecognized, fmt.Sprintf("%s:%d: %s", stream, n, s))
	}
	return err
}

func times(a, b string) (time.Time, time.Time, error) {
	x, err := time.Parse(displayTime, a)
	if err != nil {
		return x, x, err
	}
	y, err := time.Parse(displayTime, b)
	return x, y, err
}

// classify maps the words after "INVALID: " to a reason class.
func classify(kind Kind, msg string) Class {
	switch {
	case msg == "not found":
		return NotFound
	case msg == "hash value doesn't match":
		return HashMismatch
	case msg == "signature verification failed":
		return InvalidSignature
	case msg == "invalid format":
		return InvalidFormat
	case msg == "has been moved from its original location":
		return Moved
	case strings.HasPrefix(msg, "public key not found in region "):
		return KeyNotFound
	case strings.HasPrefix(msg, "Unable to load PKCS #1 key"):
		// The key CloudTrail served cannot verify anything: the
		// signature cannot be trusted.
		return InvalidSignature
	}
	return Other
}

// Invalid returns the outcomes that are neither valid nor a gap.
func (r *Report) Invalid() []Outcome {
	var out []Outcome
	for _, o := range r.Outcomes {
		if o.Class != Valid && o.Class != ChainGap {
			out = append(out, o)
		}
	}
	return out
}

// ByFile maps "kind s3://bucket/key" to the class the CLI gave the file.
func (r *Report) ByFile() map[string]Class {
	m := map[string]Class{}
	for _, o := range r.Outcomes {
		if o.Kind == Gap {
			continue
		}
		m[FileID(o.Kind, o.Bucket, o.Key)] = o.Class
	}
	return m
}

// FileID names a file the same way for both tools: backfill digests are
// digests, since the key says which they are.
func FileID(kind Kind, bucket, key string) string {
	if kind == BackfillDigest {
		kind = Digest
	}
	return string(kind) + " s3://" + bucket + "/" + key
}
