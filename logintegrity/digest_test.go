package logintegrity

import (
	"bytes"
	"compress/gzip"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const sampleDigest = `{"awsAccountId":"111122223333","digestStartTime":"2015-08-17T14:01:31Z","digestEndTime":"2015-08-17T15:01:31Z",
"digestS3Bucket":"amzn-s3-demo-bucket","digestS3Object":"AWSLogs/111122223333/CloudTrail-Digest/us-east-2/2015/08/17/111122223333_CloudTrail-Digest_us-east-2_your-trail-name_us-east-2_20150817T150131Z.json.gz",
"digestPublicKeyFingerprint":"31e8b5433410dfb61a9dc45cc65b22ff","digestSignatureAlgorithm":"SHA256withRSA",
"newestEventTime":"2015-08-17T14:52:27Z","oldestEventTime":"2015-08-17T14:42:27Z",
"previousDigestS3Bucket":"amzn-s3-demo-bucket","previousDigestS3Object":"AWSLogs/111122223333/CloudTrail-Digest/us-east-2/2015/08/17/111122223333_CloudTrail-Digest_us-east-2_your-trail-name_us-east-2_20150817T140131Z.json.gz",
"previousDigestHashValue":"97fb791cf91ffc440d274f8190dbdd9aa09c34432aba82739df18b6d3c13df2d","previousDigestHashAlgorithm":"SHA-256",
"previousDigestSignature":"50887ccffad4c002b97caa37cc9dc626e3c680207d41d27fa5835458e066e0d3652fc4dfc30937e4d5f4cc7f796e7a258fb50a43ac427f2237f6e505d4efaf373d156e15e3b68dea9f58111d395b62628d6bd367a9024d2183b57a8ab4b94de2d35d7e16b4aa88ee8b5f11dd8d9a97b31bd6c8e6d3ae08b5e7e9d4b5e7c5a1b2",
"logFiles":[{"s3Bucket":"amzn-s3-demo-bucket","s3Object":"AWSLogs/111122223333/CloudTrail/us-east-2/2015/08/17/111122223333_CloudTrail_us-east-2_20150817T1445Z_9nYN7gp2eWAJHIfT.json.gz",
"hashValue":"9bb6196fc6b84d6f075a56548feca262bd99ba3c2de41b618e5b6e22c1fc71f6","hashAlgorithm":"SHA-256","newestEventTime":"2015-08-17T14:52:27Z","oldestEventTime":"2015-08-17T14:42:27Z"}]}`

func TestParseDigest(t *testing.T) {
	tests := []struct {
		name string
		in   string
		// wantErr is a substring of the error; "" means it parses.
		wantErr string
	}{
		{"aws_documented_sample", sampleDigest, ""},
		{"first_digest_of_a_chain_has_null_previous", `{"digestStartTime":"2015-08-17T14:01:31Z","digestEndTime":"2015-08-17T15:01:31Z","digestS3Bucket":"b","digestS3Object":"k","digestPublicKeyFingerprint":"f","previousDigestSignature":null,"logFiles":[]}`, ""},
		{"previous_signature_absent", `{"digestStartTime":"2015-08-17T14:01:31Z","digestEndTime":"2015-08-17T15:01:31Z","digestS3Bucket":"b","digestS3Object":"k","digestPublicKeyFingerprint":"f"}`, `"previousDigestSignature"`},
		{"key_in_other_case_is_not_the_key", strings.Replace(sampleDigest, `"digestS3Bucket"`, `"DigestS3Bucket"`, 1), `"digestS3Bucket"`},
		{"duplicate_key", strings.Replace(sampleDigest, `"awsAccountId":"111122223333",`, `"digestS3Object":"x","awsAccountId":"111122223333",`, 1), "twice"},
		{"duplicate_key_in_a_log_file", strings.Replace(sampleDigest, `"hashAlgorithm":"SHA-256","newest`, `"hashValue":"00","newest`, 1), "twice"},
		{"end_time_not_a_time", strings.Replace(sampleDigest, `"digestEndTime":"2015-08-17T15:01:31Z"`, `"digestEndTime":"yesterday"`, 1), "digestEndTime"},
		{"bucket_not_a_string", strings.Replace(sampleDigest, `"digestS3Bucket":"amzn-s3-demo-bucket"`, `"digestS3Bucket":7`, 1), "not a string"},
		{"log_file_without_hash", strings.Replace(sampleDigest, `"hashValue":"9bb6196fc6b84d6f075a56548feca262bd99ba3c2de41b618e5b6e22c1fc71f6",`, ``, 1), `"hashValue"`},
		{"log_files_not_a_list", strings.Replace(sampleDigest, `"logFiles":[`, `"logFiles":{"a":[`, 1) + "}", "logFiles"},
		{"not_an_object", `[1,2]`, "object"},
		{"two_values", sampleDigest + sampleDigest, "object"},
		{"too_deep", `{"x":` + strings.Repeat("[", 40) + strings.Repeat("]", 40) + `}`, "deeper"},
		{"truncated", sampleDigest[:200], "JSON"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := ParseDigest([]byte(tc.in))
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("ParseDigest: %v", err)
				}
				if d.DigestEndTime == "" || d.End.IsZero() || d.DigestS3Object == "" {
					t.Errorf("parsed %+v", d)
				}
				return
			}
			if err == nil || !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("ParseDigest error = %v, want ErrFormat saying %q", err, tc.wantErr)
			}
		})
	}
	d, err := ParseDigest([]byte(sampleDigest))
	if err != nil {
		t.Fatal(err)
	}
	if len(d.LogFiles) != 1 || d.LogFiles[0].HashValue != "9bb6196fc6b84d6f075a56548feca262bd99ba3c2de41b618e5b6e22c1fc71f6" ||
		*d.PreviousDigestHashValue != "97fb791cf91ffc440d274f8190dbdd9aa09c34432aba82739df18b6d3c13df2d" {
		t.Errorf("sample parsed as %+v", d)
	}
}

func TestStringToSign(t *testing.T) {
	d, err := ParseDigest([]byte(sampleDigest))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		prev     *string
		wantLast string
	}{
		{"previous_signature_is_the_last_line", d.PreviousDigestSignature, *d.PreviousDigestSignature},
		{"first_of_a_chain_signs_the_word_null", nil, "null"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dd := *d
			dd.PreviousDigestSignature = tc.prev
			lines := strings.Split(string(StringToSign(&dd, []byte(sampleDigest))), "\n")
			if len(lines) != 4 || lines[0] != "2015-08-17T15:01:31Z" || lines[1] != "amzn-s3-demo-bucket/"+d.DigestS3Object ||
				len(lines[2]) != 64 || lines[3] != tc.wantLast {
				t.Errorf("string to sign = %q", lines)
			}
		})
	}
}

func TestGunzip_limits(t *testing.T) {
	var bomb bytes.Buffer
	zw := gzip.NewWriter(&bomb)
	zw.Write(bytes.Repeat([]byte{'a'}, 1<<20))
	zw.Close()
	tests := []struct {
		name          string
		in            []byte
		maxIn, maxOut int64
		want          error
	}{
		{"within_limits", bomb.Bytes(), 1 << 20, 2 << 20, nil},
		{"gzip_bomb_stops_at_the_uncompressed_cap", bomb.Bytes(), 1 << 20, 1 << 10, ErrTooLarge},
		{"compressed_over_the_cap", bomb.Bytes(), 10, 2 << 20, ErrTooLarge},
		{"not_gzip", []byte("{}"), 100, 100, ErrFormat},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Gunzip(bytes.NewReader(tc.in), tc.maxIn, tc.maxOut)
			if !errors.Is(err, tc.want) {
				t.Errorf("Gunzip error = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestChainKeys(t *testing.T) {
	end := time.Date(2015, 8, 17, 15, 1, 31, 0, time.UTC)
	tests := []struct {
		name  string
		chain Chain
		want  string
	}{
		{"account_trail", Chain{Bucket: "b", Account: "111122223333", Region: "us-east-2", HomeRegion: "us-east-2", TrailName: "your-trail-name"},
			"AWSLogs/111122223333/CloudTrail-Digest/us-east-2/2015/08/17/111122223333_CloudTrail-Digest_us-east-2_your-trail-name_us-east-2_20150817T150131Z.json.gz"},
		{"with_bucket_prefix", Chain{Bucket: "b", Prefix: "audit/ct", Account: "111122223333", Region: "eu-west-1", HomeRegion: "us-east-1", TrailName: "t"},
			"audit/ct/AWSLogs/111122223333/CloudTrail-Digest/eu-west-1/2015/08/17/111122223333_CloudTrail-Digest_eu-west-1_t_us-east-1_20150817T150131Z.json.gz"},
		{"organization_trail_member_logs", Chain{Bucket: "b", OrgID: "o-abc123defg", Account: "444455556666", Region: "us-east-1", HomeRegion: "us-east-1", TrailName: "org"},
			"AWSLogs/o-abc123defg/444455556666/CloudTrail-Digest/us-east-1/2015/08/17/444455556666_CloudTrail-Digest_us-east-1_org_us-east-1_20150817T150131Z.json.gz"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.chain.Key(end); got != tc.want {
				t.Errorf("Key = %q, want %q", got, tc.want)
			}
			if !strings.HasPrefix(tc.want, tc.chain.ListPrefix()) {
				t.Errorf("ListPrefix %q is not a prefix of %q", tc.chain.ListPrefix(), tc.want)
			}
			k, ok := tc.chain.ParseKey(tc.want)
			if !ok || !k.End.Equal(end) || k.Backfill {
				t.Errorf("ParseKey(%q) = %+v, %v", tc.want, k, ok)
			}
			bf := tc.chain.BackfillKey(end)
			if !strings.HasSuffix(bf, "_20150817T150131Z_backfill.json.gz") {
				t.Errorf("BackfillKey = %q", bf)
			}
			if k, ok := tc.chain.ParseKey(bf); !ok || !k.Backfill || !k.End.Equal(end) {
				t.Errorf("ParseKey(backfill) = %+v, %v", k, ok)
			}
			other := tc.chain
			other.TrailName += "-2"
			if _, ok := tc.chain.ParseKey(other.Key(end)); ok {
				t.Error("a trail whose name extends this one's matched its chain")
			}
		})
	}
}

// FuzzParseDigest: whatever the bytes, ParseDigest returns a digest or
// ErrFormat, never panics, and a parsed digest has its required fields.
func FuzzParseDigest(f *testing.F) {
	f.Add([]byte(sampleDigest))
	seeds, _ := filepath.Glob(filepath.Join("testdata", "digests", "*.json"))
	for _, p := range seeds {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := ParseDigest(b)
		if err != nil {
			if !errors.Is(err, ErrFormat) {
				t.Fatalf("error %v is not ErrFormat", err)
			}
			return
		}
		if d.DigestEndTime == "" || d.DigestStartTime == "" {
			t.Fatalf("parsed a digest without its required fields: %+v", d)
		}
		if len(d.LogFiles) > 0 && !bytes.Contains(b, []byte(`"hashValue"`)) {
			t.Fatalf("log files without hashValue parsed: %+v", d.LogFiles)
		}
		_ = StringToSign(d, b)
	})
}

// FuzzParseKey: listing keys come from the bucket; a key the chain takes
// is one whose name ends with the time it is read as.
func FuzzParseKey(f *testing.F) {
	c := Chain{Bucket: "b", Prefix: "p", Account: "111122223333", Region: "eu-west-1", HomeRegion: "us-east-1", TrailName: "t"}
	end := time.Date(2026, 11, 30, 13, 0, 5, 0, time.UTC)
	f.Add(c.Key(end))
	f.Add(c.BackfillKey(end))
	f.Add(strings.Replace(c.Key(end), "20261130T130005Z", "20261399T990099Z", 1))
	f.Add("p/AWSLogs/111122223333/CloudTrail-Digest/eu-west-1/2026/11/30/x.json.gz")
	f.Fuzz(func(t *testing.T, key string) {
		k, ok := c.ParseKey(key)
		kt, tok := KeyTime(key)
		if !ok {
			return
		}
		suffix := "_" + k.End.Format(keyTimeLayout) + ".json.gz"
		if k.Backfill {
			suffix = "_" + k.End.Format(keyTimeLayout) + "_backfill.json.gz"
		}
		if !strings.HasPrefix(key, c.ListPrefix()) || !strings.HasSuffix(key, suffix) {
			t.Fatalf("ParseKey(%q) = %+v", key, k)
		}
		if !tok || !kt.Equal(k.End) {
			t.Fatalf("KeyTime(%q) = %v, %v; ParseKey says %v", key, kt, tok, k.End)
		}
	})
}
