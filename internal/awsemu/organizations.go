package awsemu

import (
	"net/http"
	"sort"
	"strings"
	"time"
)

// organizationsTargetPrefix is the JSON 1.1 target prefix of the
// Organizations API (service model organizations-2016-11-28).
const organizationsTargetPrefix = "AWSOrganizationsV20161128."

// Organizations serves what an organization-wide scan needs: who the
// management account is (DescribeOrganization) and which accounts to scan
// (ListAccounts, DescribeAccount); and what an organization trail needs:
// CloudTrail's trusted access (ListAWSServiceAccessForOrganization,
// EnableAWSServiceAccess), off until enabled, as in a new organization.
var organizationsService = &service{
	operation: func(r *http.Request, _ []byte) string {
		t := r.Header.Get("X-Amz-Target")
		if op, ok := strings.CutPrefix(t, organizationsTargetPrefix); ok {
			return op
		}
		return ""
	},
	writeError: func(w http.ResponseWriter, r *http.Request, c *call, err *apiError) {
		writeJSONError(w, c.reqID, err)
	},
	serve:      (*Emulator).serveOrganizations,
	invalidKey: apiError{Status: http.StatusBadRequest, Code: "UnrecognizedClientException", Message: "The security token included in the request is invalid."},
	expired:    apiError{Status: http.StatusBadRequest, Code: "ExpiredTokenException", Message: "The security token included in the request is expired"},
	throttled:  apiError{Status: http.StatusBadRequest, Code: "TooManyRequestsException", Message: "AWS Organizations can't complete your request because it has exceeded a request rate quota."},
}

type orgAccountOut struct {
	Id              string   `json:"Id"`
	Arn             string   `json:"Arn"`
	Email           string   `json:"Email"`
	Name            string   `json:"Name"`
	Status          string   `json:"Status"`
	State           string   `json:"State"`
	JoinedMethod    string   `json:"JoinedMethod"`
	JoinedTimestamp *float64 `json:"JoinedTimestamp"`
}

func (e *Emulator) serveOrganizations(w http.ResponseWriter, r *http.Request, c *call, body []byte) {
	var (
		out any
		err *apiError
	)
	switch c.op {
	case "DescribeOrganization":
		out, err = e.describeOrganization(c)
	case "ListAccounts":
		out, err = e.listAccounts(c, body)
	case "DescribeAccount":
		out, err = e.describeAccount(c, body)
	case "ListAWSServiceAccessForOrganization":
		out, err = e.listServiceAccess(c, body)
	case "EnableAWSServiceAccess":
		out, err = e.enableServiceAccess(c, body)
	case "RegisterDelegatedAdministrator":
		out, err = e.registerDelegatedAdmin(c, body)
	case "DeregisterDelegatedAdministrator":
		out, err = e.deregisterDelegatedAdmin(c, body)
	case "ListDelegatedAdministrators":
		out, err = e.listDelegatedAdmins(c, body)
	default:
		err = errorf(http.StatusBadRequest, "UnknownOperationException", "unknown operation %q", r.Header.Get("X-Amz-Target"))
	}
	if err != nil {
		writeJSONError(w, c.reqID, err)
		return
	}
	writeJSON(w, c.reqID, out)
}

// callerOrg returns the caller's organization, or the error Organizations
// gives an account outside any. Called with e.mu held.
func (e *Emulator) callerOrg(c *call) (*organization, *apiError) {
	org := e.orgs[e.managementOf(c.account())]
	if org == nil {
		return nil, errorf(http.StatusBadRequest, "AWSOrganizationsNotInUseException", "Your account is not a member of an organization.")
	}
	return org, nil
}

// requireManagement lets only the management account list and describe
// accounts, as Organizations does ("This operation can be called only from
// the organization's management account or by a member account that is a
// delegated administrator"; a delegated administrator's reach is the
// service it administers, which ListDelegatedAdministrators and AWS
// Config's organization rules check for themselves).
func (e *Emulator) requireManagement(c *call, org *organization) *apiError {
	if org.management != c.account() {
		return errorf(http.StatusBadRequest, "AccessDeniedException", "You don't have permissions to access this resource.")
	}
	return nil
}

func (e *Emulator) describeOrganization(c *call) (any, *apiError) {
	e.mu.Lock()
	defer e.mu.Unlock()
	org, err := e.callerOrg(c)
	if err != nil {
		return nil, err
	}
	mgmt := e.accounts[org.management]
	type orgOut struct {
		Id                   string `json:"Id"`
		Arn                  string `json:"Arn"`
		FeatureSet           string `json:"FeatureSet"`
		MasterAccountArn     string `json:"MasterAccountArn"`
		MasterAccountId      string `json:"MasterAccountId"`
		MasterAccountEmail   string `json:"MasterAccountEmail"`
		AvailablePolicyTypes []any  `json:"AvailablePolicyTypes"`
	}
	return struct {
		Organization orgOut `json:"Organization"`
	}{orgOut{
		Id:                   org.id,
		Arn:                  "arn:aws:organizations::" + org.management + ":organization/" + org.id,
		FeatureSet:           "ALL",
		MasterAccountArn:     e.orgAccountARN(org, org.management),
		MasterAccountId:      org.management,
		MasterAccountEmail:   mgmt.email,
		AvailablePolicyTypes: []any{},
	}}, nil
}

func (e *Emulator) orgAccountARN(org *organization, id string) string {
	return "arn:aws:organizations::" + org.management + ":account/" + org.id + "/" + id
}

func (e *Emulator) orgAccount(org *organization, id string) orgAccountOut {
	a := e.accounts[id]
	method := "INVITED"
	if id == org.management {
		method = "CREATED"
	}
	state, status := "ACTIVE", "ACTIVE"
	if a.state != "" {
		state, status = a.state, a.state
		if state == "CLOSED" {
			status = "SUSPENDED" // the older Status field has no CLOSED
		}
	}
	return orgAccountOut{
		Id: id, Arn: e.orgAccountARN(org, id), Email: a.email, Name: a.name,
		Status: status, State: state, JoinedMethod: method, JoinedTimestamp: epoch(a.joined),
	}
}

// SetAccountState sets the state Organizations reports for an account
// (ACTIVE, SUSPENDED, PENDING_CLOSURE, CLOSED).
func (e *Emulator) SetAccountState(id, state string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.ensureAccount(id).state = state
}

// maxListAccounts is the largest MaxResults ListAccounts accepts.
const maxListAccounts = 20

func (e *Emulator) listAccounts(c *call, body []byte) (any, *apiError) {
	var in struct {
		NextToken  *string
		MaxResults *int
	}
	if err := decodeJSON(body, &in); err != nil {
		return nil, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	org, err := e.callerOrg(c)
	if err != nil {
		return nil, err
	}
	if err := e.requireManagement(c, org); err != nil {
		return nil, err
	}
	size := min(e.pageSize, maxListAccounts)
	if in.MaxResults != nil {
		if *in.MaxResults < 1 || *in.MaxResults > maxListAccounts {
			return nil, errorf(http.StatusBadRequest, "InvalidInputException", "MaxResults must be between 1 and %d.", maxListAccounts)
		}
		size = *in.MaxResults
	}
	start, terr := decodeToken(in.NextToken, len(org.members))
	if terr != nil {
		return nil, errorf(http.StatusBadRequest, "InvalidInputException", "%s", terr.Message)
	}
	end := min(start+size, len(org.members))
	out := struct {
		Accounts  []orgAccountOut `json:"Accounts"`
		NextToken *string         `json:"NextToken,omitempty"`
	}{Accounts: []orgAccountOut{}}
	for _, id := range org.members[start:end] {
		out.Accounts = append(out.Accounts, e.orgAccount(org, id))
	}
	if end < len(org.members) {
		tok := encodeToken(end)
		out.NextToken = &tok
	}
	return out, nil
}

func (e *Emulator) describeAccount(c *call, body []byte) (any, *apiError) {
	var in struct{ AccountId *string }
	if err := decodeJSON(body, &in); err != nil {
		return nil, err
	}
	if in.AccountId == nil {
		return nil, required("accountId")
	}
	if !isAccountID(*in.AccountId) {
		// The service model's pattern for AccountId is ^\d{12}$.
		return nil, errorf(http.StatusBadRequest, "InvalidInputException", "You provided a value that does not match the required pattern.")
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	org, err := e.callerOrg(c)
	if err != nil {
		return nil, err
	}
	if err := e.requireManagement(c, org); err != nil {
		return nil, err
	}
	for _, id := range org.members {
		if id == *in.AccountId {
			return struct {
				Account orgAccountOut `json:"Account"`
			}{e.orgAccount(org, id)}, nil
		}
	}
	return nil, errorf(http.StatusBadRequest, "AccountNotFoundException", "You specified an account that doesn't exist.")
}

// isAccountID reports whether s is twelve digits.
func isAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// cloudTrailSP is CloudTrail's service principal, whose trusted
// access an organization trail needs.
const cloudTrailSP = "cloudtrail.amazonaws.com"

// enableService records trusted access for a service principal (kept
// from the first time it was enabled, as EnableAWSServiceAccess is
// idempotent). Called with e.mu held.
func (o *organization) enableService(principal string, at time.Time) {
	if o.trusted == nil {
		o.trusted = map[string]time.Time{}
	}
	if _, ok := o.trusted[principal]; !ok {
		o.trusted[principal] = at.UTC().Truncate(time.Second)
	}
}

// SetTrustedAccess enables or disables a service principal's trusted
// access to the organization whose management account is management
// (no effect when there is none).
func (e *Emulator) SetTrustedAccess(management, principal string, enabled bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	org := e.orgs[management]
	switch {
	case org == nil:
	case enabled:
		org.enableService(principal, e.now())
	default:
		delete(org.trusted, principal)
	}
}

// maxServiceAccess is the largest MaxResults
// ListAWSServiceAccessForOrganization accepts.
const maxServiceAccess = 20

func (e *Emulator) listServiceAccess(c *call, body []byte) (any, *apiError) {
	var in struct {
		NextToken  *string
		MaxResults *int
	}
	if err := decodeJSON(body, &in); err != nil {
		return nil, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	org, err := e.callerOrg(c)
	if err != nil {
		return nil, err
	}
	if err := e.requireManagement(c, org); err != nil {
		return nil, err
	}
	size := maxServiceAccess
	if in.MaxResults != nil {
		if *in.MaxResults < 1 || *in.MaxResults > maxServiceAccess {
			return nil, errorf(http.StatusBadRequest, "InvalidInputException", "MaxResults must be between 1 and %d.", maxServiceAccess)
		}
		size = *in.MaxResults
	}
	names := make([]string, 0, len(org.trusted))
	for p := range org.trusted {
		names = append(names, p)
	}
	sort.Strings(names)
	start, terr := decodeToken(in.NextToken, len(names))
	if terr != nil {
		return nil, errorf(http.StatusBadRequest, "InvalidInputException", "%s", terr.Message)
	}
	end := min(start+size, len(names))
	type principalOut struct {
		ServicePrincipal string   `json:"ServicePrincipal"`
		DateEnabled      *float64 `json:"DateEnabled"`
	}
	out := struct {
		EnabledServicePrincipals []principalOut `json:"EnabledServicePrincipals"`
		NextToken                *string        `json:"NextToken,omitempty"`
	}{EnabledServicePrincipals: []principalOut{}}
	for _, p := range names[start:end] {
		out.EnabledServicePrincipals = append(out.EnabledServicePrincipals, principalOut{ServicePrincipal: p, DateEnabled: epoch(org.trusted[p])})
	}
	if end < len(names) {
		tok := encodeToken(end)
		out.NextToken = &tok
	}
	return out, nil
}

func (e *Emulator) enableServiceAccess(c *call, body []byte) (any, *apiError) {
	var in struct{ ServicePrincipal *string }
	if err := decodeJSON(body, &in); err != nil {
		return nil, err
	}
	if in.ServicePrincipal == nil {
		return nil, required("servicePrincipal")
	}
	if p := *in.ServicePrincipal; p == "" || len(p) > 128 || !strings.HasSuffix(p, ".amazonaws.com") {
		return nil, errorf(http.StatusBadRequest, "InvalidInputException", "You provided a value that does not match the required pattern for ServicePrincipal.")
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	org, err := e.callerOrg(c)
	if err != nil {
		return nil, err
	}
	if err := e.requireManagement(c, org); err != nil {
		return nil, err
	}
	org.enableService(*in.ServicePrincipal, e.now())
	return struct{}{}, nil
}
