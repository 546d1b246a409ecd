package logintegrity

import (
	"fmt"
	"regexp"
	"strings"
	"time"
)

// Chain names the digest files of one trail in one region: CloudTrail
// writes one chain per region a trail logs, under
//
//	[prefix/]AWSLogs/[o-id/]<account>/CloudTrail-Digest/<region>/YYYY/MM/DD/
//	  <account>_CloudTrail-Digest_<region>_<trail>_<home-region>_<YYYYMMDDTHHmmssZ>[_backfill].json.gz
//
// (CloudTrail User Guide, "CloudTrail digest file structure").
type Chain struct {
	Bucket     string
	Prefix     string // the trail's S3KeyPrefix, without a trailing slash
	OrgID      string // "o-…" for an organization trail, else ""
	Account    string // whose logs: the trail's account, or a member's
	Region     string // the region whose events the chain covers
	HomeRegion string
	TrailName  string
}

// keyTimeLayout is the time in digest key names.
const keyTimeLayout = "20060102T150405Z"

// ListPrefix is the prefix under which every digest of the chain lies.
func (c Chain) ListPrefix() string {
	p := "AWSLogs/"
	if c.OrgID != "" {
		p += c.OrgID + "/"
	}
	p += c.Account + "/CloudTrail-Digest/" + c.Region + "/"
	if c.Prefix != "" {
		p = c.Prefix + "/" + p
	}
	return p
}

// Key is the key of the chain's (standard) digest ending at t.
func (c Chain) Key(t time.Time) string {
	t = t.UTC()
	return c.ListPrefix() + t.Format("2006/01/02/") + c.Account + "_CloudTrail-Digest_" +
		c.Region + "_" + c.TrailName + "_" + c.HomeRegion + "_" + t.Format(keyTimeLayout) + ".json.gz"
}

// BackfillKey is the key of a backfill digest ending at t.
func (c Chain) BackfillKey(t time.Time) string {
	return strings.TrimSuffix(c.Key(t), ".json.gz") + "_backfill.json.gz"
}

// keyPattern matches the chain's digest keys (standard and backfill).
func (c Chain) keyPattern() *regexp.Regexp {
	q := regexp.QuoteMeta
	return regexp.MustCompile("^" + q(c.ListPrefix()) + `\d{4}/\d{2}/\d{2}/` + q(c.Account) +
		"_CloudTrail-Digest_" + q(c.Region) + "_" + q(c.TrailName) + "_" + q(c.HomeRegion) +
		`_(\d{8}T\d{6}Z)(_backfill)?\.json\.gz$`)
}

// DigestKey is a digest key of a chain, read from its name.
type DigestKey struct {
	Key      string
	End      time.Time
	Backfill bool
}

// ParseKey reads a key of the chain; ok is false for any other key (another
// trail's digests share the prefix when trail names share a stem).
func (c Chain) ParseKey(key string) (DigestKey, bool) {
	return parseKey(c.keyPattern(), key)
}

func parseKey(re *regexp.Regexp, key string) (DigestKey, bool) {
	m := re.FindStringSubmatch(key)
	if m == nil {
		return DigestKey{}, false
	}
	t, err := time.Parse(keyTimeLayout, m[1])
	if err != nil {
		return DigestKey{}, false
	}
	return DigestKey{Key: key, End: t, Backfill: m[2] != ""}, true
}

// KeyTime is the end time in a digest key's name, standard or backfill,
// whatever chain it belongs to.
func KeyTime(key string) (time.Time, bool) {
	s := strings.TrimSuffix(key, ".json.gz")
	s = strings.TrimSuffix(s, "_backfill")
	i := strings.LastIndexByte(s, '_')
	if i < 0 {
		return time.Time{}, false
	}
	t, err := time.Parse(keyTimeLayout, s[i+1:])
	return t, err == nil
}

// S3URL names an object as the AWS CLI prints it.
func S3URL(bucket, key string) string { return fmt.Sprintf("s3://%s/%s", bucket, key) }
