package awsemu_test

import (
	"encoding/xml"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/trailguard/trailguard/internal/awsemu"
)

// s3World is an emulator with a bucket holding a few objects, one with
// user metadata, put over HTTP as a client would.
func s3World(t testing.TB) (*awsemu.Emulator, awsemu.Credentials) {
	emu := awsemu.New()
	c := emu.AddAccount(acctA)
	for _, r := range []struct{ method, target, meta string }{
		{"PUT", "/fuzz-bucket", ""},
		{"PUT", "/fuzz-bucket/AWSLogs/a/CloudTrail/us-east-1/x.json.gz", ""},
		{"PUT", "/fuzz-bucket/AWSLogs/a/CloudTrail-Digest/us-east-1/d.json.gz", "abcd"},
		{"PUT", "/fuzz-bucket/top", ""},
	} {
		req := signedRequest(r.method, r.target, c, "us-east-1/s3", []byte("0123456789"))
		if r.target == "/fuzz-bucket" {
			req = signedRequest(r.method, r.target, c, "us-east-1/s3", nil)
		}
		if r.meta != "" {
			req.Header.Set("x-amz-meta-signature", r.meta)
		}
		rec := httptest.NewRecorder()
		emu.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			t.Fatalf("%s %s: %d %s", r.method, r.target, rec.Code, rec.Body.String())
		}
	}
	return emu, c
}

// FuzzS3ObjectRequest feeds arbitrary listing queries, ranges, copy
// sources, metadata and DeleteObjects bodies to the S3 object and listing
// operations: the emulator must not panic, must answer a success with
// well-formed XML (or the object), and an error as S3 does.
func FuzzS3ObjectRequest(f *testing.F) {
	f.Add(uint8(0), "/fuzz-bucket?list-type=2&prefix=AWSLogs/&delimiter=/&max-keys=1", "", "", "", "", []byte(nil))
	f.Add(uint8(0), "/fuzz-bucket?marker=AWSLogs/a&encoding-type=url", "", "", "", "", []byte(nil))
	f.Add(uint8(0), "/fuzz-bucket?list-type=2&continuation-token=QVdTTG9ncy8", "", "", "", "", []byte(nil))
	f.Add(uint8(0), "/fuzz-bucket/top", "bytes=2-4", "", "", "", []byte(nil))
	f.Add(uint8(1), "/fuzz-bucket/copy", "", "/fuzz-bucket/top", "REPLACE", "signature", []byte(nil))
	f.Add(uint8(1), "/fuzz-bucket/top", "", "fuzz-bucket/top", "", "", []byte(nil))
	f.Add(uint8(4), "/fuzz-bucket?delete", "", "", "", "", []byte(`<Delete><Object><Key>top</Key></Object></Delete>`))
	f.Fuzz(func(t *testing.T, m uint8, target, rng, copySource, directive, metaName string, body []byte) {
		emu, c := s3World(t)
		method := []string{"GET", "PUT", "HEAD", "DELETE", "POST"}[int(m)%5]
		req := signedRequest(method, target, c, "us-east-1/s3", body)
		if rng != "" {
			req.Header.Set("Range", rng)
		}
		if copySource != "" {
			req.Header.Set("X-Amz-Copy-Source", copySource)
		}
		if directive != "" {
			req.Header.Set("X-Amz-Metadata-Directive", directive)
		}
		if metaName != "" {
			req.Header["X-Amz-Meta-"+metaName] = []string{"v"}
		}
		rec := httptest.NewRecorder()
		emu.ServeHTTP(rec, req)
		switch {
		case rec.Code >= 200 && rec.Code < 300:
			if method == "GET" && rec.Header().Get("Content-Type") == "text/xml" {
				checkXML(t, rec, nil)
			}
		case rec.Code >= 400 && rec.Code < 500, rec.Code == http.StatusNotImplemented:
			if method == "HEAD" {
				return
			}
			var doc struct {
				XMLName xml.Name `xml:"Error"`
				Code    string
			}
			checkXML(t, rec, &doc)
			if doc.Code == "" {
				t.Fatalf("error without code: %q", rec.Body.String())
			}
		default:
			t.Fatalf("status %d: %q", rec.Code, rec.Body.String())
		}
	})
}
