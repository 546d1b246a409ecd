package awsemu

import (
	"crypto/rand"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Credentials are keys the emulator accepts, bound to one account.
// SessionToken is empty for long-term keys and set for keys handed out by
// STS AssumeRole; a request made with temporary keys must carry it.
type Credentials struct {
	AccountID       string
	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string
}

type account struct {
	id, name, email string
	optIn           map[string]string // region → status, where set explicitly
	roles           map[string]*role
	org             string // management account of its organization, "" if none
	joined          time.Time
	created         time.Time
	rootKey         string
	// outsideOrgTrails: the organization's trails do not apply here
	// (ExcludeFromOrgTrails).
	outsideOrgTrails bool
	state            string   // Organizations State; "" is ACTIVE
	allowed          []string // AllowOnly; nil: every action
}

type role struct {
	name       string
	id         string // AROA…, the RoleId
	externalID string // required ExternalId, "" if none
}

type credential struct {
	accessKeyID, secret, sessionToken string
	account                           string
	arn, userID                       string
	expired                           bool
	expires                           time.Time // zero for long-term keys
}

type organization struct {
	id         string
	management string
	members    []string // management first, then in order of joining
	// trusted holds the service principals with trusted access to the
	// organization and when it was enabled (EnableAWSServiceAccess).
	trusted map[string]time.Time
	// delegated holds the delegated administrators by service principal:
	// account → when it was registered (organizations_delegated.go).
	delegated map[string]map[string]time.Time
}

// AddAccount creates an account (idempotently) and returns its long-term
// keys, which act as the account root: GetCallerIdentity reports
// arn:aws:iam::<id>:root. id should be 12 digits, as in AWS. The keys are
// derived from the id, so the same account always has the same keys.
func (e *Emulator) AddAccount(id string) Credentials {
	e.mu.Lock()
	defer e.mu.Unlock()
	a := e.ensureAccount(id)
	k := e.keys[a.rootKey]
	return Credentials{AccountID: id, AccessKeyID: k.accessKeyID, SecretAccessKey: k.secret}
}

// ensureAccount returns the account, creating it. Called with e.mu held.
func (e *Emulator) ensureAccount(id string) *account {
	if a := e.accounts[id]; a != nil {
		return a
	}
	a := &account{
		id:      id,
		name:    "account-" + id,
		email:   "aws+" + id + "@example.com",
		optIn:   map[string]string{},
		roles:   map[string]*role{},
		created: e.now().UTC().Truncate(time.Second),
		rootKey: "AKIA" + id + "ROOT",
	}
	e.accounts[id] = a
	e.keys[a.rootKey] = &credential{
		accessKeyID: a.rootKey,
		secret:      "emulator/secret/for/account/" + id,
		account:     id,
		arn:         "arn:aws:iam::" + id + ":root",
		userID:      id,
	}
	return a
}

// SetAccountName sets the name Organizations reports for an account.
func (e *Emulator) SetAccountName(id, name string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.ensureAccount(id).name = name
}

// SetOptIn sets an account's opt-in status for a region: OptedIn
// ("opted-in") enables an opt-in region, NotOptedIn ("not-opted-in")
// disables it. Requests to a disabled region fail as AWS fails them, with
// the service's invalid-credentials error. Setting a region the emulator
// does not know adds it to that account's region list.
func (e *Emulator) SetOptIn(account, region, status string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.ensureAccount(account).optIn[region] = status
}

// SetOrganization makes management the management account of an
// organization and adds members to it (accounts are created as needed; an
// account already in another organization moves). Members see the
// management account's organization trails in DescribeTrails.
func (e *Emulator) SetOrganization(management string, members ...string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	org := e.orgs[management]
	if org == nil {
		e.leaveOrganization(management)
		org = &organization{id: "o-" + randomID(10), management: management, members: []string{management}}
		e.orgs[management] = org
		m := e.ensureAccount(management)
		m.org, m.joined = management, m.created
	}
	for _, id := range members {
		if id == management || slices.Contains(org.members, id) {
			continue
		}
		e.leaveOrganization(id)
		a := e.ensureAccount(id)
		a.org, a.joined = management, e.now().UTC().Truncate(time.Second)
		org.members = append(org.members, id)
	}
}

// leaveOrganization removes an account from its organization, deleting
// the organization when the management account leaves. Called with e.mu
// held.
func (e *Emulator) leaveOrganization(id string) {
	a := e.accounts[id]
	if a == nil || a.org == "" {
		return
	}
	org := e.orgs[a.org]
	a.org = ""
	if org == nil {
		return
	}
	if org.management == id {
		for _, m := range org.members {
			if acct := e.accounts[m]; acct != nil {
				acct.org = ""
			}
		}
		delete(e.orgs, id)
		return
	}
	org.members = slices.DeleteFunc(org.members, func(m string) bool { return m == id })
}

// managementOf returns the management account of id's organization, "" if
// id belongs to none. Called with e.mu held.
func (e *Emulator) managementOf(id string) string {
	if a := e.accounts[id]; a != nil {
		return a.org
	}
	return ""
}

// SetMemberOrgTrailAccess decides what a member account may read of its
// organization's trail. AWS documents that members must name the trail by
// its full ARN, and in practice it lets them read status and selectors;
// but permission boundaries and service control policies often deny it.
// With denied true, a member's GetTrailStatus and GetEventSelectors on the
// organization trail fail with AccessDeniedException.
func (e *Emulator) SetMemberOrgTrailAccess(denied bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.memberOrgTrailDenied = denied
}

// ExcludeFromOrgTrails makes the organization's trails not apply to the
// given member accounts: they no longer see them in DescribeTrails or
// ListTrails. AWS applies an organization trail to every member; this
// setting lets a test or benchmark build an organization that also holds
// uncovered members, standing in for accounts whose coverage is broken for
// reasons outside CloudTrail's view (an account that is mid-migration, or a
// trail being recreated).
func (e *Emulator) ExcludeFromOrgTrails(accounts ...string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, id := range accounts {
		e.ensureAccount(id).outsideOrgTrails = true
	}
}

// AddRole creates role roleName in account (creating the account), so that
// STS AssumeRole of arn:aws:iam::<account>:role/<roleName> succeeds and
// returns temporary keys bound to account. Any known caller may assume it:
// trust policies are not modelled.
func (e *Emulator) AddRole(account, roleName string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	a := e.ensureAccount(account)
	if a.roles[roleName] == nil {
		a.roles[roleName] = &role{name: roleName, id: "AROA" + strings.ToUpper(randomID(17))}
	}
}

// RequireExternalID makes AssumeRole of the role succeed only with the
// given ExternalId, as a trust policy condition sts:ExternalId would
// (creating the role if needed).
func (e *Emulator) RequireExternalID(account, roleName, externalID string) {
	e.AddRole(account, roleName)
	e.mu.Lock()
	defer e.mu.Unlock()
	e.accounts[account].roles[roleName].externalID = externalID
}

// ExpireCredentials makes every later request with this access key fail
// with the service's expired-token error.
func (e *Emulator) ExpireCredentials(accessKeyID string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if k := e.keys[accessKeyID]; k != nil {
		k.expired = true
	}
}

// issueTemporary creates temporary keys for an assumed role. Called with
// e.mu held.
func (e *Emulator) issueTemporary(acct string, r *role, session string, d time.Duration) *credential {
	e.keySeq++
	k := &credential{
		accessKeyID:  fmt.Sprintf("ASIA%s%04d", strings.ToUpper(randomID(12)), e.keySeq%10000),
		secret:       randomID(40),
		sessionToken: "emulator-session-" + randomID(64),
		account:      acct,
		arn:          "arn:aws:sts::" + acct + ":assumed-role/" + r.name + "/" + session,
		userID:       r.id + ":" + session,
		expires:      e.now().Add(d).UTC().Truncate(time.Second),
	}
	e.keys[k.accessKeyID] = k
	return k
}

// randomID returns n random lowercase letters and digits.
func randomID(n int) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, n)
	rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}
