package awsemu

import (
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"
)

// Delegated administrators: the management account lets a member account
// administer one service for the organization
// (RegisterDelegatedAdministrator). AWS Config's organization rules are
// the reason the emulator models it: a delegated administrator for
// config-multiaccountsetup.amazonaws.com may put them, as the management
// account may.

// maxDelegatedAdmins is how many delegated administrators a service may
// have. AWS Config documents three for config-multiaccountsetup; other
// services have their own quotas, and the emulator applies the same one.
const maxDelegatedAdmins = 3

// delegatedAdmin reports whether account is a registered delegated
// administrator of principal in org and still one of its members. Called
// with e.mu held.
func (o *organization) delegatedAdmin(principal, account string) bool {
	_, ok := o.delegated[principal][account]
	return ok && slices.Contains(o.members, account)
}

func validServicePrincipal(p string) bool {
	return p != "" && len(p) <= 128 && strings.HasSuffix(p, ".amazonaws.com")
}

// delegationInput reads AccountId and ServicePrincipal, both required, as
// Register and Deregister take them.
func delegationInput(body []byte) (account, principal string, err *apiError) {
	var in struct{ AccountId, ServicePrincipal *string }
	if err := decodeJSON(body, &in); err != nil {
		return "", "", err
	}
	switch {
	case in.AccountId == nil:
		return "", "", required("accountId")
	case in.ServicePrincipal == nil:
		return "", "", required("servicePrincipal")
	case !isAccountID(*in.AccountId):
		return "", "", errorf(http.StatusBadRequest, "InvalidInputException", "You provided a value that does not match the required pattern.")
	case !validServicePrincipal(*in.ServicePrincipal):
		return "", "", errorf(http.StatusBadRequest, "InvalidInputException", "You provided a value that does not match the required pattern for ServicePrincipal.")
	}
	return *in.AccountId, *in.ServicePrincipal, nil
}

func (e *Emulator) registerDelegatedAdmin(c *call, body []byte) (any, *apiError) {
	account, principal, err := delegationInput(body)
	if err != nil {
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
	if !slices.Contains(org.members, account) {
		return nil, errorf(http.StatusBadRequest, "AccountNotFoundException", "You specified an account that doesn't exist.")
	}
	// ConstraintViolationException carries its reason in the message here;
	// the SDKs read the code, which is what callers branch on.
	if account == org.management {
		return nil, errorf(http.StatusBadRequest, "ConstraintViolationException", "You cannot register the management account of the organization as a delegated administrator (CANNOT_REGISTER_MASTER_AS_DELEGATED_ADMINISTRATOR).")
	}
	if st := e.accounts[account].state; st != "" && st != "ACTIVE" {
		return nil, errorf(http.StatusBadRequest, "ConstraintViolationException", "You cannot register a suspended account as a delegated administrator (CANNOT_REGISTER_SUSPENDED_ACCOUNT_AS_DELEGATED_ADMINISTRATOR).")
	}
	if org.delegatedAdmin(principal, account) {
		return nil, errorf(http.StatusBadRequest, "AccountAlreadyRegisteredException", "The provided account is already a delegated administrator for your organization.")
	}
	if org.delegated == nil {
		org.delegated = map[string]map[string]time.Time{}
	}
	admins := org.delegated[principal]
	if admins == nil {
		admins = map[string]time.Time{}
		org.delegated[principal] = admins
	}
	for id := range admins { // accounts that left the organization
		if !slices.Contains(org.members, id) {
			delete(admins, id)
		}
	}
	if len(admins) >= maxDelegatedAdmins {
		return nil, errorf(http.StatusBadRequest, "ConstraintViolationException", "You have reached the maximum number of delegated administrators for this service (MAX_DELEGATED_ADMINISTRATORS_FOR_SERVICE_LIMIT_EXCEEDED).")
	}
	admins[account] = e.now().UTC().Truncate(time.Second)
	return struct{}{}, nil
}

func (e *Emulator) deregisterDelegatedAdmin(c *call, body []byte) (any, *apiError) {
	account, principal, err := delegationInput(body)
	if err != nil {
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
	if !slices.Contains(org.members, account) {
		return nil, errorf(http.StatusBadRequest, "AccountNotFoundException", "You specified an account that doesn't exist.")
	}
	if !org.delegatedAdmin(principal, account) {
		return nil, errorf(http.StatusBadRequest, "AccountNotRegisteredException", "The provided account is not a registered delegated administrator for your organization.")
	}
	delete(org.delegated[principal], account)
	return struct{}{}, nil
}

// listDelegatedAdmins answers the management account and any delegated
// administrator ("This operation can be called only from the
// organization's management account or by a member account that is a
// delegated administrator").
func (e *Emulator) listDelegatedAdmins(c *call, body []byte) (any, *apiError) {
	var in struct {
		ServicePrincipal *string
		NextToken        *string
		MaxResults       *int
	}
	if err := decodeJSON(body, &in); err != nil {
		return nil, err
	}
	if in.ServicePrincipal != nil && !validServicePrincipal(*in.ServicePrincipal) {
		return nil, errorf(http.StatusBadRequest, "InvalidInputException", "You provided a value that does not match the required pattern for ServicePrincipal.")
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	org, err := e.callerOrg(c)
	if err != nil {
		return nil, err
	}
	since := map[string]time.Time{} // account → earliest delegation
	caller := false
	for p, admins := range org.delegated {
		for id, at := range admins {
			if !org.delegatedAdmin(p, id) {
				continue
			}
			caller = caller || id == c.account()
			if in.ServicePrincipal != nil && p != *in.ServicePrincipal {
				continue
			}
			if t, ok := since[id]; !ok || at.Before(t) {
				since[id] = at
			}
		}
	}
	if !caller {
		if err := e.requireManagement(c, org); err != nil {
			return nil, err
		}
	}
	size := maxListAccounts
	if in.MaxResults != nil {
		if *in.MaxResults < 1 || *in.MaxResults > maxListAccounts {
			return nil, errorf(http.StatusBadRequest, "InvalidInputException", "MaxResults must be between 1 and %d.", maxListAccounts)
		}
		size = *in.MaxResults
	}
	ids := make([]string, 0, len(since))
	for id := range since {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	start, terr := decodeToken(in.NextToken, len(ids))
	if terr != nil {
		return nil, errorf(http.StatusBadRequest, "InvalidInputException", "%s", terr.Message)
	}
	end := min(start+size, len(ids))
	type adminOut struct {
		orgAccountOut
		DelegationEnabledDate *float64 `json:"DelegationEnabledDate"`
	}
	out := struct {
		DelegatedAdministrators []adminOut `json:"DelegatedAdministrators"`
		NextToken               *string    `json:"NextToken,omitempty"`
	}{DelegatedAdministrators: []adminOut{}}
	for _, id := range ids[start:end] {
		out.DelegatedAdministrators = append(out.DelegatedAdministrators, adminOut{e.orgAccount(org, id), epoch(since[id])})
	}
	if end < len(ids) {
		tok := encodeToken(end)
		out.NextToken = &tok
	}
	return out, nil
}
