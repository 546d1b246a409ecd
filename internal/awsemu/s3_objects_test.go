package awsemu_test

import (
	"bytes"
	"context"
	"io"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Objects are put and read whole by the bucket's owner; another account
// is denied, a missing key is NoSuchKey, as S3 answers them.
func TestS3Objects(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name   string
		reader string // account that reads
		key    string
		code   string
	}{
		{"owner_reads_object", "111111111111", "mutes/list.yaml", ""},
		{"key_with_query_characters", "111111111111", "mutes/a?b#c%20.yaml", ""},
		{"missing_key", "111111111111", "absent.yaml", "NoSuchKey"},
		{"other_account_denied", "222222222222", "mutes/list.yaml", "AccessDenied"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			owner := e.emu.AddAccount("111111111111")
			reader := e.emu.AddAccount(tc.reader)
			c := e.s3(owner, "us-east-1")
			_, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("config-bucket")})
			must(t, err)
			body := []byte("mutes: []\n")
			put := tc.key
			if tc.code == "NoSuchKey" {
				put = "other.yaml"
			}
			_, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("config-bucket"), Key: aws.String(put), Body: bytes.NewReader(body)})
			must(t, err)
			out, err := e.s3(reader, "us-east-1").GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("config-bucket"), Key: aws.String(tc.key)})
			if tc.code != "" {
				wantCode(t, err, tc.code)
				return
			}
			must(t, err)
			got, _ := io.ReadAll(out.Body)
			out.Body.Close()
			if !bytes.Equal(got, body) || aws.ToInt64(out.ContentLength) != int64(len(body)) || aws.ToString(out.ETag) == "" {
				t.Errorf("GetObject = %q (length %d, ETag %q), want what was put", got, aws.ToInt64(out.ContentLength), aws.ToString(out.ETag))
			}
		})
	}
}
