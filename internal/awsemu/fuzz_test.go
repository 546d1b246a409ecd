package awsemu_test

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/trailguard/trailguard/internal/awsemu"
)

// cloudTrailOps are the operations the fuzzer sends bodies to, indexed by
// its first argument. The seed corpus is in testdata/fuzz.
var cloudTrailOps = []string{
	"CreateTrail", "UpdateTrail", "DeleteTrail", "GetTrail", "DescribeTrails", "ListTrails",
	"GetTrailStatus", "StartLogging", "StopLogging", "GetEventSelectors", "PutEventSelectors",
	"AddTags", "RemoveTags", "ListTags", "LookupEvents",
}

// fuzzEmulator is a small world for fuzzed requests to act on: an account
// with a bucket, a multi-region trail and membership in an organization
// whose management account has an organization trail.
func fuzzEmulator(t testing.TB) (*awsemu.Emulator, awsemu.Credentials) {
	emu := awsemu.New()
	// Bodies, not the LookupEvents quota, are what is fuzzed.
	emu.SetLookupEventsQuota(0)
	c := emu.AddAccount(acctA)
	emu.SetOrganization(mgmt, acctA)
	for _, spec := range []struct {
		account string
		spec    awsemu.TrailSpec
	}{
		{acctA, awsemu.TrailSpec{Name: "main", HomeRegion: "us-east-1", S3BucketName: "fuzz-logs", IsMultiRegion: true, IncludeGlobalServiceEvents: true, Logging: true}},
		{acctA, awsemu.TrailSpec{Name: "local", HomeRegion: "eu-west-1", S3BucketName: "fuzz-logs"}},
		{mgmt, awsemu.TrailSpec{Name: "org", HomeRegion: "us-east-1", S3BucketName: "org-logs", IsMultiRegion: true, IsOrganizationTrail: true, Logging: true}},
	} {
		if _, err := emu.PutTrail(spec.account, spec.spec); err != nil {
			t.Fatal(err)
		}
	}
	return emu, c
}

func signedRequest(method, target string, c awsemu.Credentials, scope string, body []byte) *http.Request {
	u, err := url.Parse(target)
	if err != nil {
		u = &url.URL{Path: "/"}
	}
	req := &http.Request{
		Method: method, URL: u, Host: "localhost", Header: http.Header{},
		Body: http.NoBody, ContentLength: int64(len(body)),
	}
	if len(body) > 0 {
		req.Body = httpBody(body)
	}
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+c.AccessKeyID+"/20240101/"+scope+"/aws4_request, SignedHeaders=host, Signature=00")
	return req
}

type bodyReader struct{ *bytes.Reader }

func (bodyReader) Close() error { return nil }

func httpBody(b []byte) bodyReader { return bodyReader{bytes.NewReader(b)} }

// FuzzCloudTrailRequest feeds arbitrary JSON 1.1 bodies to every
// CloudTrail operation. Whatever the body, the emulator must not panic,
// must answer 200 with a JSON object or a 4xx with a well-formed AWS JSON
// error whose type matches the X-Amzn-ErrorType header.
func FuzzCloudTrailRequest(f *testing.F) {
	f.Add(uint8(4), []byte(`{}`))
	f.Add(uint8(10), []byte(`{"TrailName":"main","EventSelectors":[{"ReadWriteType":"All"}]}`))
	f.Fuzz(func(t *testing.T, op uint8, body []byte) {
		emu, c := fuzzEmulator(t)
		for _, region := range []string{"us-east-1", "eu-west-1"} {
			req := signedRequest("POST", "/", c, region+"/cloudtrail", body)
			req.Header.Set("X-Amz-Target", "CloudTrail_20131101."+cloudTrailOps[int(op)%len(cloudTrailOps)])
			req.Header.Set("Content-Type", "application/x-amz-json-1.1")
			rec := httptest.NewRecorder()
			emu.ServeHTTP(rec, req)
			checkJSONResponse(t, rec)
		}
	})
}

func checkJSONResponse(t *testing.T, rec *httptest.ResponseRecorder) {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
		t.Fatalf("status %d, body is not a JSON object: %v: %q", rec.Code, err, rec.Body.String())
	}
	switch {
	case rec.Code == http.StatusOK:
	case rec.Code >= 400 && rec.Code < 500:
		typ, _ := doc["__type"].(string)
		msg, _ := doc["message"].(string)
		if typ == "" || msg == "" || rec.Header().Get("X-Amzn-ErrorType") != typ {
			t.Fatalf("status %d, malformed error %q (header %q)", rec.Code, rec.Body.String(), rec.Header().Get("X-Amzn-ErrorType"))
		}
	default:
		t.Fatalf("status %d: %q", rec.Code, rec.Body.String())
	}
}

// FuzzQueryRequest feeds arbitrary form bodies to the query-protocol
// services (STS, EC2): 200 with XML, or a 4xx with the service's XML error
// document.
func FuzzQueryRequest(f *testing.F) {
	f.Add(false, "Action=GetCallerIdentity&Version=2011-06-15")
	f.Add(true, "Action=DescribeRegions&AllRegions=true&Filter.1.Name=region-name&Filter.1.Value.1=eu-*")
	f.Fuzz(func(t *testing.T, ec2 bool, body string) {
		emu, c := fuzzEmulator(t)
		emu.AddRole(acctB, "Audit")
		scope := "us-east-1/sts"
		if ec2 {
			scope = "us-east-1/ec2"
		}
		req := signedRequest("POST", "/", c, scope, []byte(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		emu.ServeHTTP(rec, req)
		if rec.Code == http.StatusOK {
			checkXML(t, rec, nil)
			return
		}
		if rec.Code < 400 || rec.Code >= 500 {
			t.Fatalf("status %d: %q", rec.Code, rec.Body.String())
		}
		var code string
		if ec2 {
			var doc struct {
				Errors []struct{ Code string } `xml:"Errors>Error"`
			}
			checkXML(t, rec, &doc)
			if len(doc.Errors) == 1 {
				code = doc.Errors[0].Code
			}
		} else {
			var doc struct {
				Error struct{ Type, Code string }
			}
			checkXML(t, rec, &doc)
			if doc.Error.Type == "" {
				t.Fatalf("STS error without Type: %q", rec.Body.String())
			}
			code = doc.Error.Code
		}
		if code == "" {
			t.Fatalf("error without code: %q", rec.Body.String())
		}
	})
}

func checkXML(t *testing.T, rec *httptest.ResponseRecorder, v any) {
	t.Helper()
	if v == nil {
		v = &struct{}{}
	}
	if err := xml.Unmarshal(rec.Body.Bytes(), v); err != nil {
		t.Fatalf("status %d, body is not XML: %v: %q", rec.Code, err, rec.Body.String())
	}
}

// FuzzS3Request feeds arbitrary methods, paths, hosts and bodies to the S3
// handler: it must not panic, must not fail with a server error other than
// 501 NotImplemented, and must send S3 XML errors (no body for HEAD).
func FuzzS3Request(f *testing.F) {
	f.Add(uint8(1), "/fuzz-logs", "localhost", []byte(`<CreateBucketConfiguration><LocationConstraint>eu-west-1</LocationConstraint></CreateBucketConfiguration>`))
	f.Add(uint8(2), "/", "fuzz-logs.localhost:8080", []byte(nil))
	f.Fuzz(func(t *testing.T, m uint8, target, host string, body []byte) {
		emu, c := fuzzEmulator(t)
		method := []string{"GET", "PUT", "HEAD", "DELETE", "POST"}[int(m)%5]
		req := signedRequest(method, target, c, "us-east-1/s3", body)
		req.Host = host
		rec := httptest.NewRecorder()
		emu.ServeHTTP(rec, req)
		switch {
		case rec.Code >= 200 && rec.Code < 300:
		case rec.Code >= 400 && rec.Code < 500, rec.Code == http.StatusNotImplemented:
			if method == "HEAD" {
				if rec.Body.Len() != 0 {
					t.Fatalf("HEAD error with a body: %q", rec.Body.String())
				}
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
