package aws

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/trailguard/trailguard"
)

// DefaultRoleName is the role AWS Organizations creates in accounts it
// creates, and so the one most organizations can assume.
const DefaultRoleName = "OrganizationAccountAccessRole"

// DefaultConcurrency is how many member accounts an organization scan
// reads at once. Each member has its own CloudTrail quotas and its own SDK
// clients, so the bound is the caller's network and STS AssumeRole rate
// (hundreds per second), not CloudTrail's.
const DefaultConcurrency = 16

// DefaultAccountTimeout bounds the scan of one member account.
const DefaultAccountTimeout = 2 * time.Minute

// OrganizationActions are the IAM actions ScanOrganization calls with the
// caller's credentials beyond ScanActions, on any resource: ListAccounts
// for the whole organization, DescribeAccount for the accounts asked for
// by id (OrgOptions.Include).
var OrganizationActions = []string{"organizations:ListAccounts", "organizations:DescribeAccount"}

// AssumeRoleActions are what ScanOrganization calls on each member's role
// (resource arn:aws:iam::<member>:role/<RoleName>); the role itself then
// needs ScanActions.
var AssumeRoleActions = []string{"sts:AssumeRole"}

// OrgOptions tune an organization scan.
type OrgOptions struct {
	RoleName    string // role assumed in member accounts (DefaultRoleName if empty)
	ExternalID  string
	Concurrency int // member accounts scanned at once (DefaultConcurrency if <= 0)
	// AccountTimeout bounds one member's scan (DefaultAccountTimeout if
	// <= 0); a member that takes longer is ERROR with the reason.
	AccountTimeout time.Duration
	// Include, when not empty, limits the scan to these account ids;
	// Exclude leaves accounts out.
	Include, Exclude []string
	// MemberRegions asks every member for its enabled regions
	// (ec2:DescribeRegions). Without it a member is asked only when it does
	// not pass; a passing member's table lists the regions every account
	// has, its opt-in regions marked trailguard.OptInNotRead.
	MemberRegions bool
	// Progress, when set, is called after each account is scanned with the
	// number scanned, the number listed so far, whether the listing is
	// complete, and the account's verdict before facts are shared.
	Progress func(p OrgProgress)
	// Credentials, when set, keeps the member-role credentials the scan
	// assumes, so that a later read of the same members (event history)
	// uses them instead of assuming each role again.
	Credentials *MemberCredentials
}

// MemberCredentials are member-role credentials by account, each a cache
// that renews itself before it expires. The zero value is ready to use.
type MemberCredentials struct {
	mu sync.Mutex
	m  map[string]*sdkaws.CredentialsCache
}

// get returns the kept credentials of account id, or keeps and returns
// those newCreds makes. A nil MemberCredentials keeps nothing.
func (mc *MemberCredentials) get(id string, newCreds func() *sdkaws.CredentialsCache) *sdkaws.CredentialsCache {
	if mc == nil {
		return newCreds()
	}
	mc.mu.Lock()
	defer mc.mu.Unlock()
	if c, ok := mc.m[id]; ok {
		return c
	}
	if mc.m == nil {
		mc.m = map[string]*sdkaws.CredentialsCache{}
	}
	c := newCreds()
	mc.m[id] = c
	return c
}

// OrgProgress is what an organization scan reports after each account.
type OrgProgress struct {
	Done, Listed int
	ListingDone  bool
	Failing      int // accounts scanned so far that do not pass
}

// OrgScan is the outcome of an organization scan.
type OrgScan struct {
	// Accounts holds every account whose scan finished, sorted by id.
	Accounts []trailguard.Account
	// Skipped names accounts not scanned because they are not ACTIVE
	// (suspended or closed), with their status.
	Skipped map[string]string
	// Partial is set when the scan stopped before every account was
	// scanned (interrupted, timed out, or the listing failed part way);
	// it says why. NotScanned lists the listed accounts left out.
	Partial    string
	NotScanned []string
	// ListingCutShort is set when the organization's account listing
	// stopped before its end (interrupted, timed out, failed): accounts
	// not yet listed are then neither scanned nor in NotScanned, and
	// AccountsListed says how many the organization had reported (every
	// state) when it stopped. Organizations gives no total up front.
	ListingCutShort bool
	AccountsListed  int
	// NotInOrganization lists the account ids asked for (OrgOptions.Include)
	// that Organizations does not hold (DescribeAccount answers
	// AccountNotFoundException), sorted: a requested account that is not
	// found is reported, never silently dropped. An id not yet asked when
	// the scan stopped is in NotScanned instead: whether it belongs to the
	// organization is not known.
	NotInOrganization []string
	// ExcludedNotFound lists the ids of OrgOptions.Exclude that the
	// complete listing does not hold (or, with OrgOptions.Include,
	// DescribeAccount does not find), sorted: likely a mistyped id, which
	// the user should hear about since the account meant is then scanned.
	ExcludedNotFound []string
}

// ScanOrganization lists the organization's accounts (Organizations
// ListAccounts, from the management account or a delegated administrator)
// — or, when OrgOptions.Include names accounts, asks DescribeAccount for
// each of those alone, so that two accounts of thousands cost two calls —
// and scans each: the caller's own account with the caller's credentials,
// first, so that its organization trail's facts answer for the members;
// then every member through the assumed role, concurrently, while the
// listing goes on. An account that cannot be reached is an ERROR account
// with the reason; the scan goes on.
//
// When ctx ends (Ctrl-C, the overall timeout) no new account is started,
// accounts in flight are abandoned, and what finished is returned with
// Partial set. An error is returned only when no account could be listed.
func (s *Scanner) ScanOrganization(ctx context.Context, cfg sdkaws.Config, o OrgOptions) (OrgScan, error) {
	if o.RoleName == "" {
		o.RoleName = DefaultRoleName
	}
	if o.Concurrency <= 0 {
		o.Concurrency = DefaultConcurrency
	}
	if o.AccountTimeout <= 0 {
		o.AccountTimeout = DefaultAccountTimeout
	}
	ident, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return OrgScan{}, fmt.Errorf("%s", describeErr(ctx, "sts:GetCallerIdentity", caller(""), err))
	}
	self := sdkaws.ToString(ident.Account)
	keep := accountFilter(o.Include, o.Exclude)

	st := &orgState{o: o, eval: s.Evaluate, names: map[string]string{}, skipped: map[string]string{}, seen: map[string]bool{}}
	listed := make(chan orgAccount, 256)
	listErr := make(chan error, 1)
	listComplete := false // the whole listing was read (set before listErr is sent)
	go func() {
		defer close(listed)
		add := func(a orgAccount, state string) {
			if st.add(a, state, a.id != self && keep(a.id)) {
				listed <- a
			}
		}
		var (
			complete bool
			err      error
		)
		if len(o.Include) > 0 {
			// The excluded ids are asked too (not scanned): one the
			// organization does not hold is likely mistyped.
			ids := append(slices.Clone(o.Include), o.Exclude...)
			complete, err = describeAccounts(ctx, cfg, caller(self), ids, func(id string) bool { return id != self }, add, st.notFound)
		} else {
			complete, err = listAccounts(ctx, cfg, caller(self), add)
		}
		st.mu.Lock()
		st.listingDone = true
		st.mu.Unlock()
		listComplete = complete
		listErr <- err
	}()

	// The caller's own account first, with its own credentials: its
	// organization trail's facts fill the cache for every member, and its
	// region list tells the members' regions that need no opt-in.
	var lazy []trailguard.Region
	if keep(self) {
		st.mu.Lock()
		st.self = 1
		st.mu.Unlock()
		actx, cancel := WithFlagTimeout(ctx, "--account-timeout", o.AccountTimeout)
		acct := s.scanAccount(actx, cfg, self, caller(self), nil)
		if errors.Is(actx.Err(), context.DeadlineExceeded) && ctx.Err() == nil {
			acct.Error = timedOut(actx, acct.Error)
		}
		cancel()
		acct.CallerARN = sdkaws.ToString(ident.Arn)
		if ctx.Err() == nil {
			st.finish(acct)
		}
		if !o.MemberRegions && acct.Regions != nil {
			for _, r := range acct.Regions {
				if r.OptInStatus != "opt-in-not-required" {
					r.OptInStatus = trailguard.OptInNotRead
				}
				lazy = append(lazy, r)
			}
		}
	}

	// One STS client for every AssumeRole, sharing one adaptive send rate.
	assumer := sts.NewFromConfig(cfg, func(so *sts.Options) { so.Retryer = adaptiveRetryer(so.RetryMaxAttempts) })
	var wg sync.WaitGroup
	for range o.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for m := range listed {
				if ctx.Err() != nil {
					continue // drain: the listing goroutine must not block
				}
				acct := s.scanMember(ctx, cfg, assumer, m.id, o, lazy)
				if ctx.Err() != nil {
					continue // abandoned mid-way: not a verdict
				}
				st.finish(acct)
			}
		}()
	}
	wg.Wait()
	lerr := <-listErr

	out := OrgScan{Skipped: st.skipped, Accounts: st.accounts}
	for i := range out.Accounts {
		out.Accounts[i].Name = st.names[out.Accounts[i].ID]
	}
	sort.Slice(out.Accounts, func(i, j int) bool { return out.Accounts[i].ID < out.Accounts[j].ID })
	for _, id := range st.pending {
		if !st.doneIDs()[id] {
			out.NotScanned = append(out.NotScanned, id)
		}
	}
	// Requested accounts the listing did not show: not in the organization
	// when the listing is complete, else not known to be.
	excluded := map[string]bool{}
	for _, id := range o.Exclude {
		excluded[id] = true
	}
	reported := map[string]bool{}
	for _, id := range out.NotScanned {
		reported[id] = true
	}
	for _, id := range o.Include {
		if st.seen[id] || id == self || excluded[id] || reported[id] {
			continue
		}
		reported[id] = true
		if listComplete || st.missing[id] {
			out.NotInOrganization = append(out.NotInOrganization, id)
		} else {
			out.NotScanned = append(out.NotScanned, id)
		}
	}
	if listComplete {
		for id := range excluded {
			if !st.seen[id] && id != self {
				out.ExcludedNotFound = append(out.ExcludedNotFound, id)
			}
		}
	}
	if len(o.Include) == 0 && !listComplete {
		// Every requested id is named above; a whole-organization listing
		// cut short leaves accounts nobody has named.
		out.ListingCutShort = true
		out.AccountsListed = len(st.seen)
	}
	sort.Strings(out.ExcludedNotFound)
	sort.Strings(out.NotInOrganization)
	sort.Strings(out.NotScanned)
	switch {
	case ctx.Err() != nil:
		out.Partial = "scan stopped before every account was scanned: " + stopReason(ctx)
	case lerr != nil:
		if st.listed == 0 && len(out.Accounts) <= 1 {
			return OrgScan{}, lerr
		}
		out.Partial = "the account listing failed part way, so accounts after it were not scanned: " + lerr.Error()
	}
	return out, nil
}

func stopReason(ctx context.Context) string {
	var de *DeadlineError
	if errors.As(context.Cause(ctx), &de) {
		return de.Error()
	}
	if errors.Is(context.Cause(ctx), context.DeadlineExceeded) {
		return "the overall timeout was reached (raise --timeout)"
	}
	if c := context.Cause(ctx); c != nil && !errors.Is(c, context.Canceled) {
		return c.Error()
	}
	return "interrupted"
}

// orgState is what the workers of one organization scan share.
type orgState struct {
	o        OrgOptions
	eval     trailguard.Options // what the progress line's failing count is judged by
	mu       sync.Mutex
	names    map[string]string
	skipped  map[string]string
	seen     map[string]bool // every listed account, whatever its state
	missing  map[string]bool // ids DescribeAccount did not find
	pending  []string        // listed members, in listing order
	listed   int
	accounts []trailguard.Account
	failing  int
	done     map[string]bool
	// self is 1 when the caller's own account is part of the scan.
	self        int
	listingDone bool
}

// add records one listed account and reports whether it is a member to
// scan.
func (st *orgState) add(a orgAccount, state string, scan bool) bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.seen[a.id] = true
	if state != string(orgtypes.AccountStateActive) {
		st.skipped[a.id] = state
		return false
	}
	st.names[a.id] = a.name
	if scan {
		st.listed++
		st.pending = append(st.pending, a.id)
	}
	return scan
}

// notFound records an id DescribeAccount did not find.
func (st *orgState) notFound(id string) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.missing == nil {
		st.missing = map[string]bool{}
	}
	st.missing[id] = true
}

func (st *orgState) finish(acct trailguard.Account) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.accounts = append(st.accounts, acct)
	if st.done == nil {
		st.done = map[string]bool{}
	}
	st.done[acct.ID] = true
	if !trailguard.Passes(acct, st.eval) {
		st.failing++
	}
	if st.o.Progress != nil {
		st.o.Progress(OrgProgress{Done: len(st.accounts), Listed: st.listed + st.self, ListingDone: st.listingDone, Failing: st.failing})
	}
}

func (st *orgState) doneIDs() map[string]bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.done
}

// scanMember scans one member account through the assumed role, within
// the per-account timeout.
func (s *Scanner) scanMember(parent context.Context, base sdkaws.Config, assumer *sts.Client, id string, o OrgOptions, lazy []trailguard.Region) trailguard.Account {
	ctx, cancel := WithFlagTimeout(parent, "--account-timeout", o.AccountTimeout)
	defer cancel()
	roleARN := memberRoleARN(id, o.RoleName)
	creds := o.Credentials.get(id, func() *sdkaws.CredentialsCache { return assumeRole(assumer, roleARN, o.ExternalID) })
	// Assume up front, so that a denied role is one clear reason rather
	// than a failure in every call.
	if _, err := creds.Retrieve(ctx); err != nil {
		return trailguard.Account{ID: id, Error: timedOut(ctx, describeErr(ctx, "sts:AssumeRole "+roleARN, memberRole(id, roleARN), err))}
	}
	cfg := base.Copy()
	cfg.Credentials = creds
	acct := s.scanAccount(ctx, cfg, id, memberRole(id, roleARN), lazy)
	if errors.Is(ctx.Err(), context.DeadlineExceeded) && parent.Err() == nil {
		acct.Error = timedOut(ctx, acct.Error)
	}
	return acct
}

// MemberConfig is cfg with the credentials of role o.RoleName assumed in
// account id (cached, refreshed when they expire): how remediation
// reaches a member account the organization scan read.
//
// With o.Credentials set, the credentials an organization scan with the
// same options assumed for id are used (and new ones are kept there).
func MemberConfig(cfg sdkaws.Config, id string, o OrgOptions) sdkaws.Config {
	out := cfg.Copy()
	out.Credentials = o.Credentials.get(id, func() *sdkaws.CredentialsCache {
		return assumeRole(sts.NewFromConfig(cfg), memberRoleARN(id, o.RoleName), o.ExternalID)
	})
	return out
}

// timedOut says so when the account's own deadline (--account-timeout)
// ended its scan, and not the whole scan's.
func timedOut(ctx context.Context, msg string) string {
	var de *DeadlineError
	if !errors.As(context.Cause(ctx), &de) || de.Flag != "--account-timeout" {
		return msg
	}
	if strings.Contains(msg, de.Error()) {
		return "account scan stopped: " + msg
	}
	out := "account scan " + de.Error()
	if msg != "" {
		out += ": " + msg
	}
	return out
}

type orgAccount struct{ id, name string }

// accountState is the account's state, from the newer State field or,
// when a response lacks it, the older Status.
func accountState(a orgtypes.Account) string {
	if a.State != "" {
		return string(a.State)
	}
	return string(a.Status)
}

// listAccounts pages through ListAccounts, handing each account and its
// state to add as its page arrives. complete is true when the last page
// was read.
func listAccounts(ctx context.Context, cfg sdkaws.Config, who principal, add func(a orgAccount, state string)) (complete bool, err error) {
	p := organizations.NewListAccountsPaginator(organizations.NewFromConfig(cfg), &organizations.ListAccountsInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return false, nil // the scan was stopped; the caller says so
			}
			return false, fmt.Errorf("%s (run the organization scan from the management account or a delegated administrator)", describeErr(ctx, "organizations:ListAccounts", who, err))
		}
		for _, a := range page.Accounts {
			add(orgAccount{id: sdkaws.ToString(a.Id), name: sdkaws.ToString(a.Name)}, accountState(a))
		}
	}
	return true, nil
}

// describeAccounts asks Organizations DescribeAccount for each id that
// want keeps (not the caller's own account), once each, handing what it
// finds to add, in the order given. An id the organization does not hold
// (AccountNotFoundException) goes to notFound. Any other error stops the
// describing, as a failed listing does. complete is true when every id
// was asked.
func describeAccounts(ctx context.Context, cfg sdkaws.Config, who principal, ids []string, want func(id string) bool, add func(a orgAccount, state string), notFound func(id string)) (complete bool, err error) {
	client := organizations.NewFromConfig(cfg)
	asked := map[string]bool{}
	for _, id := range ids {
		if asked[id] || !want(id) {
			continue
		}
		asked[id] = true
		out, err := client.DescribeAccount(ctx, &organizations.DescribeAccountInput{AccountId: sdkaws.String(id)})
		var nf *orgtypes.AccountNotFoundException
		switch {
		case errors.As(err, &nf):
			notFound(id)
			continue
		case err != nil && ctx.Err() != nil:
			return false, nil // the scan was stopped; the caller says so
		case err != nil:
			return false, fmt.Errorf("%s (run the organization scan from the management account or a delegated administrator)", describeErr(ctx, "organizations:DescribeAccount "+id, who, err))
		case out.Account == nil:
			return false, fmt.Errorf("organizations:DescribeAccount %s: the response holds no account", id)
		}
		add(orgAccount{id: sdkaws.ToString(out.Account.Id), name: sdkaws.ToString(out.Account.Name)}, accountState(*out.Account))
	}
	return true, nil
}

// accountFilter reports whether an account id passes --accounts and
// --exclude-accounts.
func accountFilter(include, exclude []string) func(id string) bool {
	set := func(ids []string) map[string]bool {
		m := map[string]bool{}
		for _, id := range ids {
			m[id] = true
		}
		return m
	}
	inc, exc := set(include), set(exclude)
	return func(id string) bool { return (len(inc) == 0 || inc[id]) && !exc[id] }
}

// DescribeOrganizationActions are the IAM actions Organization calls.
var DescribeOrganizationActions = []string{"organizations:DescribeOrganization"}

// Organization returns the caller's organization id and its management
// account (Organizations DescribeOrganization).
func Organization(ctx context.Context, cfg sdkaws.Config) (id, management string, err error) {
	out, err := organizations.NewFromConfig(cfg).DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
	if err != nil {
		return "", "", fmt.Errorf("%s", describeErr(ctx, "organizations:DescribeOrganization", caller(""), err))
	}
	return sdkaws.ToString(out.Organization.Id), sdkaws.ToString(out.Organization.MasterAccountId), nil
}
