package awsemu_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/trailguard/trailguard/internal/awsemu"
)

// listFixture is a bucket laid out as CloudTrail lays out its files.
var listFixture = []string{
	"AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2026/11/30/d1.json.gz",
	"AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2026/12/01/d2.json.gz",
	"AWSLogs/111122223333/CloudTrail/eu-west-1/2026/12/01/a.json.gz",
	"AWSLogs/111122223333/CloudTrail/us-east-1/2026/12/01/b.json.gz",
	"AWSLogs/111122223333/CloudTrail/us-east-1/2026/12/01/c d+e.json.gz",
	"top.txt",
}

func putFixture(t *testing.T, c *s3.Client, bucket string, keys []string) {
	t.Helper()
	for _, k := range keys {
		_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(k), Body: strings.NewReader("x")})
		must(t, err)
	}
}

// ListObjectsV2 and ListObjects page through a bucket as S3 does: keys
// in binary order, Prefix and Delimiter (each common prefix counts once),
// StartAfter/Marker exclusive, MaxKeys per page, the paginators of the SDK
// reaching every key exactly once.
func TestS3List(t *testing.T) {
	cases := []struct {
		name                  string
		prefix, delim, after  string
		max                   int32
		wantKeys, wantPrefixs []string
	}{
		{"everything", "", "", "", 0, listFixture, nil},
		{"one_per_page", "", "", "", 1, listFixture, nil},
		{"digest_prefix", "AWSLogs/111122223333/CloudTrail-Digest/us-east-1", "", "", 0, listFixture[:2], nil},
		{"start_after_is_exclusive", "AWSLogs/111122223333/CloudTrail-Digest/", "", listFixture[0], 0, listFixture[1:2], nil},
		{"start_after_between_keys", "AWSLogs/", "", "AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2026/12/00", 2, listFixture[1:5], nil},
		{"delimiter_rolls_up_regions", "AWSLogs/111122223333/CloudTrail/", "/", "", 0, nil,
			[]string{"AWSLogs/111122223333/CloudTrail/eu-west-1/", "AWSLogs/111122223333/CloudTrail/us-east-1/"}},
		{"delimiter_one_per_page", "AWSLogs/111122223333/", "/", "", 1, nil,
			[]string{"AWSLogs/111122223333/CloudTrail-Digest/", "AWSLogs/111122223333/CloudTrail/"}},
		{"delimiter_at_root", "", "/", "", 0, []string{"top.txt"}, []string{"AWSLogs/"}},
		{"prefix_matches_nothing", "AWSLogs/999999999999/", "", "", 0, nil, nil},
	}
	e := newEnv(t)
	c := e.s3(e.emu.AddAccount(acctA), "us-east-1")
	_, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("list-bucket")})
	must(t, err)
	putFixture(t, c, "list-bucket", listFixture)
	for _, tc := range cases {
		t.Run(tc.name+"/v2", func(t *testing.T) {
			in := &s3.ListObjectsV2Input{Bucket: aws.String("list-bucket"), Prefix: aws.String(tc.prefix), Delimiter: aws.String(tc.delim), StartAfter: aws.String(tc.after)}
			if tc.max > 0 {
				in.MaxKeys = aws.Int32(tc.max)
			}
			var keys, prefixes []string
			pages := 0
			p := s3.NewListObjectsV2Paginator(c, in)
			for p.HasMorePages() {
				out, err := p.NextPage(ctx)
				must(t, err)
				pages++
				if n := len(out.Contents) + len(out.CommonPrefixes); int(aws.ToInt32(out.KeyCount)) != n || (tc.max > 0 && n > int(tc.max)) {
					t.Fatalf("page %d: KeyCount %d for %d entries (MaxKeys %d)", pages, aws.ToInt32(out.KeyCount), n, tc.max)
				}
				for _, o := range out.Contents {
					keys = append(keys, aws.ToString(o.Key))
				}
				for _, cp := range out.CommonPrefixes {
					prefixes = append(prefixes, aws.ToString(cp.Prefix))
				}
				if pages > 20 {
					t.Fatal("the listing does not end")
				}
			}
			wantList(t, "keys", keys, tc.wantKeys)
			wantList(t, "common prefixes", prefixes, tc.wantPrefixs)
		})
		t.Run(tc.name+"/v1", func(t *testing.T) {
			in := &s3.ListObjectsInput{Bucket: aws.String("list-bucket"), Prefix: aws.String(tc.prefix), Delimiter: aws.String(tc.delim), Marker: aws.String(tc.after)}
			if tc.max > 0 {
				in.MaxKeys = aws.Int32(tc.max)
			}
			var keys, prefixes []string
			for pages := 0; ; pages++ {
				out, err := c.ListObjects(ctx, in)
				must(t, err)
				for _, o := range out.Contents {
					keys = append(keys, aws.ToString(o.Key))
					if o.Owner == nil || aws.ToString(o.Owner.ID) != acctA {
						t.Errorf("ListObjects entry %s has no owner", aws.ToString(o.Key))
					}
				}
				for _, cp := range out.CommonPrefixes {
					prefixes = append(prefixes, aws.ToString(cp.Prefix))
				}
				if !aws.ToBool(out.IsTruncated) {
					break
				}
				// NextMarker comes only with a delimiter; otherwise the
				// client resumes after the last key.
				next := aws.ToString(out.NextMarker)
				if (tc.delim != "") != (next != "") {
					t.Fatalf("NextMarker %q with delimiter %q", next, tc.delim)
				}
				if next == "" {
					next = keys[len(keys)-1]
				}
				in.Marker = aws.String(next)
				if pages > 20 {
					t.Fatal("the listing does not end")
				}
			}
			wantList(t, "keys", keys, tc.wantKeys)
			wantList(t, "common prefixes", prefixes, tc.wantPrefixs)
		})
	}
}

func wantList(t *testing.T, what string, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("%s:\n%s\nwant:\n%s", what, strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// Listing errors are S3's: another account's bucket is AccessDenied, a
// missing one NoSuchBucket, a bad token or encoding InvalidArgument.
func TestS3ListErrors(t *testing.T) {
	e := newEnv(t)
	owner := e.emu.AddAccount(acctA)
	other := e.emu.AddAccount(acctB)
	_, err := e.s3(owner, "us-east-1").CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("owned-bucket")})
	must(t, err)
	cases := []struct {
		name string
		in   s3.ListObjectsV2Input
		who  awsemu.Credentials
		code string
	}{
		{"other_account", s3.ListObjectsV2Input{Bucket: aws.String("owned-bucket")}, other, "AccessDenied"},
		{"no_such_bucket", s3.ListObjectsV2Input{Bucket: aws.String("absent-bucket")}, owner, "NoSuchBucket"},
		{"bad_continuation_token", s3.ListObjectsV2Input{Bucket: aws.String("owned-bucket"), ContinuationToken: aws.String("!!")}, owner, "InvalidArgument"},
		{"bad_encoding_type", s3.ListObjectsV2Input{Bucket: aws.String("owned-bucket"), EncodingType: "base64"}, owner, "InvalidArgument"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.s3(tc.who, "us-east-1").ListObjectsV2(ctx, &tc.in)
			wantCode(t, err, tc.code)
		})
	}
}

// Objects keep what they were put with — user metadata, Content-Type,
// Content-Encoding — and give it back on GetObject and HeadObject; a copy
// keeps it (COPY) or takes the request's (REPLACE), which is how a
// signature in digest metadata is changed in place; ranges read part of
// an object; DeleteObject and DeleteObjects remove keys.
func TestS3ObjectOperations(t *testing.T) {
	e := newEnv(t)
	c := e.s3(e.emu.AddAccount(acctA), "us-east-1")
	const b = "tamper-bucket"
	_, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(b)})
	must(t, err)
	body := []byte("0123456789")
	_, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("d.json.gz"), Body: bytes.NewReader(body),
		ContentType: aws.String("application/json"), ContentEncoding: aws.String("gzip"),
		Metadata: map[string]string{"signature": "abcd", "signature-algorithm": "SHA256withRSA"}})
	must(t, err)

	t.Run("get_returns_metadata_and_encoding", func(t *testing.T) {
		out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b), Key: aws.String("d.json.gz")})
		must(t, err)
		got, _ := io.ReadAll(out.Body)
		out.Body.Close()
		if !bytes.Equal(got, body) || out.Metadata["signature"] != "abcd" || out.Metadata["signature-algorithm"] != "SHA256withRSA" ||
			aws.ToString(out.ContentEncoding) != "gzip" || aws.ToString(out.ContentType) != "application/json" {
			t.Errorf("GetObject: body %q metadata %v encoding %q type %q", got, out.Metadata, aws.ToString(out.ContentEncoding), aws.ToString(out.ContentType))
		}
	})
	t.Run("head_returns_metadata", func(t *testing.T) {
		out, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(b), Key: aws.String("d.json.gz")})
		must(t, err)
		if out.Metadata["signature"] != "abcd" || aws.ToInt64(out.ContentLength) != int64(len(body)) {
			t.Errorf("HeadObject: metadata %v length %d", out.Metadata, aws.ToInt64(out.ContentLength))
		}
	})
	ranges := []struct{ name, rng, want string }{
		{"range_first_last", "bytes=2-4", "234"},
		{"range_open_end", "bytes=7-", "789"},
		{"range_suffix", "bytes=-2", "89"},
		{"range_past_end_clipped", "bytes=8-100", "89"},
	}
	for _, tc := range ranges {
		t.Run(tc.name, func(t *testing.T) {
			out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b), Key: aws.String("d.json.gz"), Range: aws.String(tc.rng)})
			must(t, err)
			got, _ := io.ReadAll(out.Body)
			out.Body.Close()
			if string(got) != tc.want || !strings.HasSuffix(aws.ToString(out.ContentRange), "/10") {
				t.Errorf("Range %s = %q (Content-Range %q), want %q", tc.rng, got, aws.ToString(out.ContentRange), tc.want)
			}
		})
	}
	t.Run("range_beyond_object", func(t *testing.T) {
		_, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b), Key: aws.String("d.json.gz"), Range: aws.String("bytes=10-")})
		wantCode(t, err, "InvalidRange")
	})
	t.Run("copy_onto_itself_needs_replace", func(t *testing.T) {
		_, err := c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String(b), Key: aws.String("d.json.gz"), CopySource: aws.String(b + "/d.json.gz")})
		wantCode(t, err, "InvalidRequest")
	})
	t.Run("copy_keeps_metadata", func(t *testing.T) {
		_, err := c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String(b), Key: aws.String("moved/d.json.gz"), CopySource: aws.String(b + "/d.json.gz")})
		must(t, err)
		out, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(b), Key: aws.String("moved/d.json.gz")})
		must(t, err)
		if out.Metadata["signature"] != "abcd" || aws.ToString(out.ContentEncoding) != "gzip" {
			t.Errorf("copy: metadata %v encoding %q", out.Metadata, aws.ToString(out.ContentEncoding))
		}
	})
	t.Run("copy_replace_changes_signature", func(t *testing.T) {
		_, err := c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String(b), Key: aws.String("d.json.gz"), CopySource: aws.String(b + "/d.json.gz"),
			MetadataDirective: s3types.MetadataDirectiveReplace, Metadata: map[string]string{"signature": "ffff", "signature-algorithm": "SHA256withRSA"}})
		must(t, err)
		out, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(b), Key: aws.String("d.json.gz")})
		must(t, err)
		if out.Metadata["signature"] != "ffff" || aws.ToString(out.ContentEncoding) != "" {
			t.Errorf("copy REPLACE: metadata %v encoding %q, want the request's only", out.Metadata, aws.ToString(out.ContentEncoding))
		}
	})
	t.Run("metadata_over_2KB_refused", func(t *testing.T) {
		_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("big"), Body: bytes.NewReader(body),
			Metadata: map[string]string{"signature": strings.Repeat("a", 2100)}})
		wantCode(t, err, "MetadataTooLarge")
	})
	t.Run("delete_object_then_missing", func(t *testing.T) {
		_, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(b), Key: aws.String("moved/d.json.gz")})
		must(t, err)
		_, err = c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(b), Key: aws.String("moved/d.json.gz")})
		must(t, err) // S3 answers 204 for a missing key too
		_, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b), Key: aws.String("moved/d.json.gz")})
		wantCode(t, err, "NoSuchKey")
	})
	t.Run("delete_objects", func(t *testing.T) {
		putFixture(t, c, b, []string{"x/1", "x/2"})
		_, err := c.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String(b), Delete: &s3types.Delete{Objects: []s3types.ObjectIdentifier{{Key: aws.String("x/1")}, {Key: aws.String("x/2")}}}})
		must(t, err)
		out, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(b), Prefix: aws.String("x/")})
		must(t, err)
		if len(out.Contents) != 0 {
			t.Errorf("after DeleteObjects: %d keys left", len(out.Contents))
		}
	})
	t.Run("object_writes_are_data_events", func(t *testing.T) {
		for _, ev := range e.emu.Events(acctA, "us-east-1") {
			if ev.EventSource == "s3.amazonaws.com" && ev.EventName != "CreateBucket" {
				t.Errorf("%s recorded as a management event", ev.EventName)
			}
		}
	})
}

// cliV1 runs the AWS CLI v1 with the emulator named by AWS_ENDPOINT_URL,
// as `aws cloudtrail validate-logs` needs it, isolated from the user's
// configuration.
type cliV1 struct {
	t   *testing.T
	bin string
	env []string
}

func newCLIv1(t *testing.T, e *env, c awsemu.Credentials) *cliV1 {
	dir := t.TempDir()
	return &cliV1{t: t, bin: awsemu.AWSCLIv1(t), env: []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + dir,
		"AWS_ACCESS_KEY_ID=" + c.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY=" + c.SecretAccessKey,
		"AWS_SESSION_TOKEN=" + c.SessionToken,
		"AWS_ENDPOINT_URL=" + e.srv.URL,
		"AWS_CONFIG_FILE=" + filepath.Join(dir, "config"),
		"AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(dir, "credentials"),
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_PAGER=",
		"AWS_MAX_ATTEMPTS=1",
	}}
}

func (c *cliV1) run(region string, args ...string) (int, string, string) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.bin, append(args, "--region", region)...)
	cmd.Env = c.env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		return exit.ExitCode(), stdout.String(), stderr.String()
	case err != nil:
		c.t.Fatalf("aws %s: %v", strings.Join(args, " "), err)
	}
	return 0, stdout.String(), stderr.String()
}

// The tampering the integrity tests do, done by both real AWS CLIs: v2
// (--endpoint-url) copies a file in with metadata, lists, replaces a
// signature in place with --metadata-directive REPLACE and removes a
// file; v1 (AWS_ENDPOINT_URL) pages list-objects, resumes after a marker
// as validate-logs does, and reads the metadata back.
func TestS3AWSCLITampering(t *testing.T) {
	e := newEnv(t)
	creds := e.emu.AddAccount(acctA)
	v2 := newCLI(t, e, creds.AccessKeyID, creds.SecretAccessKey)
	const b = "cli-tamper-bucket"
	v2.json("us-east-1", "s3api", "create-bucket", "--bucket", b)
	file := filepath.Join(t.TempDir(), "digest.json.gz")
	must(t, os.WriteFile(file, []byte(`{"x":1}`), 0o600))
	key := "AWSLogs/" + acctA + "/CloudTrail-Digest/us-east-1/2026/12/01/d 1.json.gz"
	if code, _, errOut := v2.run("us-east-1", "s3", "cp", file, "s3://"+b+"/"+key, "--metadata", "signature=abcd,signature-algorithm=SHA256withRSA"); code != 0 {
		t.Fatalf("s3 cp up: exit %d: %s", code, errOut)
	}
	putFixture(t, e.s3(creds, "us-east-1"), b, []string{"AWSLogs/" + acctA + "/CloudTrail/us-east-1/2026/12/01/a.json.gz", "AWSLogs/" + acctA + "/CloudTrail/us-east-1/2026/12/01/b.json.gz"})

	if code, out, errOut := v2.run("us-east-1", "s3", "ls", "--recursive", "s3://"+b+"/AWSLogs/"); code != 0 || strings.Count(string(out), "\n") != 3 || !strings.Contains(string(out), "d 1.json.gz") {
		t.Fatalf("s3 ls: exit %d: %s%s", code, out, errOut)
	}
	if code, _, errOut := v2.run("us-east-1", "s3", "cp", "s3://"+b+"/"+key, "s3://"+b+"/"+key, "--metadata", "signature=ffff,signature-algorithm=SHA256withRSA", "--metadata-directive", "REPLACE"); code != 0 {
		t.Fatalf("s3 cp in place: exit %d: %s", code, errOut)
	}
	head := v2.json("us-east-1", "s3api", "head-object", "--bucket", b, "--key", key)
	if m, _ := head["Metadata"].(map[string]any); m["signature"] != "ffff" {
		t.Fatalf("head-object after REPLACE: %v", head)
	}
	if code, _, errOut := v2.run("us-east-1", "s3", "rm", "s3://"+b+"/AWSLogs/"+acctA+"/CloudTrail/us-east-1/2026/12/01/a.json.gz"); code != 0 {
		t.Fatalf("s3 rm: exit %d: %s", code, errOut)
	}

	v1 := newCLIv1(t, e, creds)
	code, out, errOut := v1.run("us-east-1", "s3api", "list-objects", "--bucket", b, "--prefix", "AWSLogs/"+acctA+"/", "--page-size", "1", "--output", "json")
	if code != 0 {
		t.Fatalf("v1 list-objects: exit %d: %s", code, errOut)
	}
	var listed struct{ Contents []struct{ Key string } }
	must(t, json.Unmarshal([]byte(out), &listed))
	var keys []string
	for _, c := range listed.Contents {
		keys = append(keys, c.Key)
	}
	wantList(t, "v1 list-objects", keys, []string{key, "AWSLogs/" + acctA + "/CloudTrail/us-east-1/2026/12/01/b.json.gz"})
	code, out, errOut = v1.run("us-east-1", "s3api", "list-objects", "--bucket", b, "--marker", key, "--max-keys", "1", "--output", "json")
	if code != 0 || !strings.Contains(out, "/b.json.gz") || strings.Contains(out, `"Key": "`+key) {
		t.Fatalf("v1 list-objects --marker: exit %d: %s%s", code, out, errOut)
	}
	code, out, errOut = v1.run("us-east-1", "s3api", "head-object", "--bucket", b, "--key", key, "--output", "json")
	if code != 0 || !strings.Contains(out, `"signature": "ffff"`) {
		t.Fatalf("v1 head-object: exit %d: %s%s", code, out, errOut)
	}
	code, out, errOut = v1.run("us-east-1", "s3api", "get-bucket-location", "--bucket", b, "--output", "json")
	if code != 0 || !strings.Contains(out, "LocationConstraint") {
		t.Fatalf("v1 get-bucket-location: exit %d: %s%s", code, out, errOut)
	}
}

// Both listings are s3:ListBucket to IAM (ListObjectsV2 has no action of
// its own): denying s3:ListBucket denies each, and denying an action
// named after the operation denies neither.
func TestS3ListIsListBucket(t *testing.T) {
	for _, tc := range []struct {
		deny string
		code string
	}{{"s3:ListBucket", "AccessDenied"}, {"s3:ListObjectsV2", ""}} {
		t.Run(strings.ReplaceAll(tc.deny, ":", "_"), func(t *testing.T) {
			e := newEnv(t)
			owner := e.emu.AddAccount(acctA)
			c := e.s3(owner, "us-east-1")
			_, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("listed-bucket")})
			must(t, err)
			e.emu.Deny(tc.deny)
			_, errV2 := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("listed-bucket")})
			_, errV1 := c.ListObjects(ctx, &s3.ListObjectsInput{Bucket: aws.String("listed-bucket")})
			if tc.code == "" {
				must(t, errV2)
				must(t, errV1)
				return
			}
			wantCode(t, errV2, tc.code)
			wantCode(t, errV1, tc.code)
		})
	}
}
