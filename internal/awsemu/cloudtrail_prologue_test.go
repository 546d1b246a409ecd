package awsemu_test

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
)

// Every CloudTrail operation that names one trail checks a request in the
// same order, as CloudTrail does: the body's shape, then the member that
// names the trail, then the name, then whether the caller sees the trail,
// then (for a change) whether it may change it here.
func TestTrailOperation_checks_in_order(t *testing.T) {
	ops := []struct {
		op, member string
		change     bool
	}{
		{"DeleteTrail", "Name", true},
		{"GetTrail", "Name", false},
		{"GetTrailStatus", "Name", false},
		{"StartLogging", "Name", true},
		{"StopLogging", "Name", true},
		{"GetEventSelectors", "TrailName", false},
		{"PutEventSelectors", "TrailName", true},
	}
	const orgARN = "arn:aws:cloudtrail:us-east-1:" + mgmt + ":trail/org"
	cases := []struct {
		name       string
		region     string
		body       func(member string) string
		wantRead   string // error type for a read; "" for success
		wantChange string // error type for a change; "" for success
	}{
		{"body_not_an_object", "us-east-1", func(string) string { return `["main"]` }, "SerializationException", "SerializationException"},
		{"member_of_wrong_type", "us-east-1", func(m string) string { return `{"` + m + `":5}` }, "SerializationException", "SerializationException"},
		{"member_missing", "us-east-1", func(string) string { return `{}` }, "ValidationException", "ValidationException"},
		{"name_invalid", "us-east-1", func(m string) string { return `{"` + m + `":"a"}` }, "InvalidTrailNameException", "InvalidTrailNameException"},
		{"arn_invalid", "us-east-1", func(m string) string { return `{"` + m + `":"arn:aws:cloudtrail:us-east-1:1:trail/x"}` }, "CloudTrailARNInvalidException", "CloudTrailARNInvalidException"},
		{"trail_absent", "us-east-1", func(m string) string { return `{"` + m + `":"absent-trail"}` }, "TrailNotFoundException", "TrailNotFoundException"},
		{"shadow_by_name", "eu-west-2", func(m string) string { return `{"` + m + `":"main"}` }, "TrailNotFoundException", "InvalidHomeRegionException"},
		{"organization_trail_of_member", "us-east-1", func(m string) string { return `{"` + m + `":"` + orgARN + `"}` }, "", "NotOrganizationMasterAccountException"},
		{"own_trail_in_home_region", "us-east-1", func(m string) string { return `{"` + m + `":"main"}` }, "", ""},
	}
	for _, op := range ops {
		for _, tc := range cases {
			t.Run(op.op+"/"+tc.name, func(t *testing.T) {
				emu, c := fuzzEmulator(t)
				body := tc.body(op.member)
				if op.op == "PutEventSelectors" && strings.HasPrefix(body, `{"`) && !strings.Contains(body, ":5}") {
					body = strings.TrimSuffix(body, "}")
					if body != "{" {
						body += ","
					}
					body += `"EventSelectors":[{"ReadWriteType":"All","IncludeManagementEvents":true}]}`
				}
				req := signedRequest("POST", "/", c, tc.region+"/cloudtrail", []byte(body))
				req.Header.Set("X-Amz-Target", "CloudTrail_20131101."+op.op)
				req.Header.Set("Content-Type", "application/x-amz-json-1.1")
				rec := httptest.NewRecorder()
				emu.ServeHTTP(rec, req)
				checkJSONResponse(t, rec)
				want := tc.wantRead
				if op.change {
					want = tc.wantChange
				}
				got := rec.Header().Get("X-Amzn-ErrorType")
				if got != want {
					t.Fatalf("%s %s: error %q, want %q: %s", op.op, body, got, want, rec.Body.String())
				}
				if want == "ValidationException" {
					var doc struct{ Message string }
					_ = json.Unmarshal(rec.Body.Bytes(), &doc)
					wire := strings.ToLower(op.member[:1]) + op.member[1:]
					if !strings.Contains(doc.Message, "'"+wire+"'") {
						t.Errorf("message %q does not name member %s", doc.Message, wire)
					}
				}
			})
		}
	}
}
