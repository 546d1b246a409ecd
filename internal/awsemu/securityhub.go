package awsemu

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// Security Hub (REST-JSON) serves BatchImportFindings, the one call a
// scan's --securityhub makes, with the checks AWS documents: at most 100
// findings a call, the required ASFF fields, and, for the default product
// ARN, findings only for the calling account, filed in the region called.
var securityHubService = &service{
	operation: func(r *http.Request, _ []byte) string {
		if r.Method == http.MethodPost && strings.TrimSuffix(r.URL.Path, "/") == "/findings/import" {
			return "BatchImportFindings"
		}
		return r.Method + " " + r.URL.Path
	},
	writeError: func(w http.ResponseWriter, r *http.Request, c *call, err *apiError) {
		writeJSONError(w, c.reqID, err)
	},
	serve:      (*Emulator).serveSecurityHub,
	invalidKey: apiError{Status: http.StatusForbidden, Code: "UnrecognizedClientException", Message: "The security token included in the request is invalid."},
	expired:    apiError{Status: http.StatusForbidden, Code: "ExpiredTokenException", Message: "The security token included in the request is expired"},
	throttled:  apiError{Status: http.StatusTooManyRequests, Code: "LimitExceededException", Message: "Rate exceeded"},
}

// maxImportFindings is BatchImportFindings' limit per call.
const maxImportFindings = 100

// asffRequired are the fields BatchImportFindings requires of a finding.
var asffRequired = []string{"AwsAccountId", "CreatedAt", "Description", "GeneratorId", "Id", "ProductArn", "Resources", "SchemaVersion", "Severity", "Title", "Types", "UpdatedAt"}

type importFailure struct {
	Id           string `json:"Id"`
	ErrorCode    string `json:"ErrorCode"`
	ErrorMessage string `json:"ErrorMessage"`
}

func (e *Emulator) serveSecurityHub(w http.ResponseWriter, r *http.Request, c *call, body []byte) {
	if c.op != "BatchImportFindings" {
		writeJSONError(w, c.reqID, errorf(http.StatusNotFound, "ResourceNotFoundException", "the emulator serves only BatchImportFindings, not %s", c.op))
		return
	}
	var in struct {
		Findings []map[string]any `json:"Findings"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		writeJSONError(w, c.reqID, errorf(http.StatusBadRequest, "InvalidInputException", "the request body is not valid JSON: %v", err))
		return
	}
	if len(in.Findings) == 0 || len(in.Findings) > maxImportFindings {
		writeJSONError(w, c.reqID, errorf(http.StatusBadRequest, "InvalidInputException", "Findings must hold 1 to %d findings, not %d", maxImportFindings, len(in.Findings)))
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	var failed []importFailure
	ok := 0
	for _, f := range in.Findings {
		id, _ := f["Id"].(string)
		if err := e.checkFinding(c, f); err != "" {
			failed = append(failed, importFailure{Id: id, ErrorCode: "InvalidInput", ErrorMessage: err})
			continue
		}
		key := c.account() + "/" + c.region
		if e.findings == nil {
			e.findings = map[string]map[string]map[string]any{}
		}
		if e.findings[key] == nil {
			e.findings[key] = map[string]map[string]any{}
		}
		e.findings[key][id] = f
		ok++
	}
	writeJSON(w, c.reqID, struct {
		FailedCount    int             `json:"FailedCount"`
		SuccessCount   int             `json:"SuccessCount"`
		FailedFindings []importFailure `json:"FailedFindings"`
	}{len(failed), ok, append([]importFailure{}, failed...)})
}

// checkFinding returns why Security Hub would refuse one finding, or "".
// Called with e.mu held.
func (e *Emulator) checkFinding(c *call, f map[string]any) string {
	var missing []string
	for _, k := range asffRequired {
		if v, ok := f[k]; !ok || v == nil || v == "" {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		return "missing required field(s): " + strings.Join(missing, ", ")
	}
	if acct, _ := f["AwsAccountId"].(string); acct != c.account() {
		return fmt.Sprintf("AwsAccountId %s is not the calling account %s: with the default product ARN an account imports only its own findings", acct, c.account())
	}
	want := fmt.Sprintf("arn:aws:securityhub:%s:%s:product/%s/default", c.region, c.account(), c.account())
	if arn, _ := f["ProductArn"].(string); arn != want {
		return fmt.Sprintf("ProductArn %s is not %s", arn, want)
	}
	return ""
}

// Findings returns the findings imported into an account's Security Hub in
// a region, by finding Id, as they were sent.
func (e *Emulator) Findings(account, region string) map[string]map[string]any {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := map[string]map[string]any{}
	for id, f := range e.findings[account+"/"+region] {
		out[id] = f
	}
	return out
}
