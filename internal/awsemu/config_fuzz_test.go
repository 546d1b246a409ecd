package awsemu_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/trailguard/trailguard/internal/awsemu"
)

// configOps are the AWS Config operations the fuzzer sends bodies to,
// indexed by its first argument. The seed corpus is in testdata/fuzz.
var configOps = []string{
	"PutEvaluations", "PutConfigRule", "DescribeConfigRules", "DeleteConfigRule",
	"StartConfigRulesEvaluation", "GetComplianceDetailsByConfigRule", "DescribeComplianceByConfigRule",
	"PutOrganizationConfigRule", "DescribeOrganizationConfigRules", "GetOrganizationConfigRuleDetailedStatus",
	"DeleteOrganizationConfigRule", "DescribeOrganizationConfigRuleStatuses",
}

// FuzzConfigRequest feeds arbitrary JSON 1.1 bodies to every AWS Config
// operation against an account with a periodic rule whose function got a
// result token ("$TOKEN" in a body stands for it, so that fuzzed
// evaluations reach storage). Whatever the body, the emulator answers a
// JSON object or a well-formed AWS JSON error, and what it stores is only
// what PutEvaluations may store: COMPLIANT, NON_COMPLIANT or
// NOT_APPLICABLE, annotations of at most 256 characters.
func FuzzConfigRequest(f *testing.F) {
	f.Add(uint8(0), []byte(`{"ResultToken":"$TOKEN","Evaluations":[{"ComplianceResourceType":"AWS::::Account","ComplianceResourceId":"111122223333","ComplianceType":"COMPLIANT","OrderingTimestamp":1700000000}]}`))
	f.Add(uint8(1), []byte(`{"ConfigRule":{"ConfigRuleName":"r","Source":{"Owner":"CUSTOM_LAMBDA","SourceIdentifier":"arn:aws:lambda:us-east-1:111122223333:function:f","SourceDetails":[{"MessageType":"ScheduledNotification"}]}}}`))
	var mu sync.Mutex
	var token string
	fn := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var ev struct{ ResultToken string }
		json.NewDecoder(r.Body).Decode(&ev)
		mu.Lock()
		token = ev.ResultToken
		mu.Unlock()
	}))
	defer fn.Close()
	const rule = `{"ConfigRule":{"ConfigRuleName":"cis-3-1","Source":{"Owner":"CUSTOM_LAMBDA","SourceIdentifier":"arn:aws:lambda:us-east-1:111122223333:function:f","SourceDetails":[{"MessageType":"ScheduledNotification","MaximumExecutionFrequency":"One_Hour"}]}}}`
	send := func(emu http.Handler, c awsemu.Credentials, op string, body []byte) *httptest.ResponseRecorder {
		req := signedRequest("POST", "/", c, "us-east-1/config", body)
		req.Header.Set("X-Amz-Target", "StarlingDoveService."+op)
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		rec := httptest.NewRecorder()
		emu.ServeHTTP(rec, req)
		return rec
	}
	f.Fuzz(func(t *testing.T, op uint8, body []byte) {
		emu, c := fuzzEmulator(t)
		emu.SetLambdaEndpoint("*", fn.URL)
		if rec := send(emu, c, "PutConfigRule", []byte(rule)); rec.Code != http.StatusOK {
			t.Fatalf("put rule: %d %s", rec.Code, rec.Body.String())
		}
		emu.RunConfigSchedule()
		mu.Lock()
		tok := token
		mu.Unlock()
		quoted, _ := json.Marshal(tok)
		body = bytes.ReplaceAll(body, []byte(`"$TOKEN"`), quoted)
		checkJSONResponse(t, send(emu, c, configOps[int(op)%len(configOps)], body))

		rec := send(emu, c, "GetComplianceDetailsByConfigRule", []byte(`{"ConfigRuleName":"cis-3-1"}`))
		if rec.Code != http.StatusOK {
			return // the fuzzed request deleted the rule
		}
		var out struct {
			EvaluationResults []struct {
				ComplianceType string
				Annotation     string
			}
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
			t.Fatal(err)
		}
		for _, r := range out.EvaluationResults {
			switch r.ComplianceType {
			case "COMPLIANT", "NON_COMPLIANT", "NOT_APPLICABLE":
			default:
				t.Fatalf("stored compliance type %q", r.ComplianceType)
			}
			if utf8.RuneCountInString(r.Annotation) > 256 {
				t.Fatalf("stored an annotation of %d characters", utf8.RuneCountInString(r.Annotation))
			}
		}
	})
}
