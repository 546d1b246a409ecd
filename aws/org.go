package aws

import (
	"context"
	"fmt"
	"sort"
	"sync"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/trailguard/trailguard"
)

// DefaultRoleName is the role AWS Organizations creates in accounts it
// creates, and so the one most organizations can assume.
const DefaultRoleName = "OrganizationAccountAccessRole"

// OrgOptions tune an organization scan.
type OrgOptions struct {
	RoleName    string // role assumed in member accounts (DefaultRoleName if empty)
	ExternalID  string
	Concurrency int // member accounts scanned at once (8 if <= 0)
	// Include, when not empty, limits the scan to these account ids;
	// Exclude leaves accounts out.
	Include, Exclude []string
	// Progress, when set, is called after each account is scanned.
	Progress func(done, total int)
}

// OrgScan is the outcome of an organization scan.
type OrgScan struct {
	Accounts []trailguard.Account
	// Skipped names accounts not scanned because they are not ACTIVE
	// (suspended or closed), with their status.
	Skipped map[string]string
}

// ScanOrganization lists the organization's accounts (Organizations
// ListAccounts, from the management account or a delegated administrator)
// and scans each: the caller's own account with the caller's credentials,
// first, so that its organization trail's facts answer for the members;
// then every member through the assumed role, concurrently. An account
// that cannot be reached is an ERROR account with the reason; the scan goes
// on.
func (s *Scanner) ScanOrganization(ctx context.Context, cfg sdkaws.Config, o OrgOptions) (OrgScan, error) {
	if o.RoleName == "" {
		o.RoleName = DefaultRoleName
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 8
	}
	ident, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return OrgScan{}, fmt.Errorf("%s", describeErr("sts:GetCallerIdentity", err))
	}
	self := sdkaws.ToString(ident.Account)
	members, skipped, err := listActiveAccounts(ctx, cfg)
	if err != nil {
		return OrgScan{}, err
	}
	members = filterAccounts(members, o.Include, o.Exclude)
	out := OrgScan{Skipped: skipped, Accounts: make([]trailguard.Account, len(members))}
	done := 0
	var mu sync.Mutex
	report := func() {
		mu.Lock()
		done++
		if o.Progress != nil {
			o.Progress(done, len(members))
		}
		mu.Unlock()
	}
	// The caller's own account first: its trails' facts fill the cache.
	for i, m := range members {
		if m.id == self {
			out.Accounts[i] = s.scanAccount(ctx, cfg, self)
			out.Accounts[i].Name = m.name
			out.Accounts[i].CallerARN = sdkaws.ToString(ident.Arn)
			report()
		}
	}
	sem := make(chan struct{}, o.Concurrency)
	var wg sync.WaitGroup
	for i, m := range members {
		if m.id == self {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			acct := s.scanMember(ctx, cfg, m.id, o)
			acct.Name = m.name
			out.Accounts[i] = acct
			report()
		}()
	}
	wg.Wait()
	return out, nil
}

// scanMember scans one member account through the assumed role.
func (s *Scanner) scanMember(ctx context.Context, base sdkaws.Config, id string, o OrgOptions) trailguard.Account {
	if err := ctx.Err(); err != nil {
		return trailguard.Account{ID: id, Error: "not scanned: " + err.Error()}
	}
	roleARN := fmt.Sprintf("arn:aws:iam::%s:role/%s", id, o.RoleName)
	provider := stscreds.NewAssumeRoleProvider(sts.NewFromConfig(base), roleARN, func(p *stscreds.AssumeRoleOptions) {
		p.RoleSessionName = "trailguard"
		if o.ExternalID != "" {
			p.ExternalID = sdkaws.String(o.ExternalID)
		}
	})
	// Assume once, up front, so that a denied role is one clear reason
	// rather than a failure in every call.
	if _, err := provider.Retrieve(ctx); err != nil {
		return trailguard.Account{ID: id, Error: describeErr("sts:AssumeRole "+roleARN, err)}
	}
	cfg := base.Copy()
	cfg.Credentials = sdkaws.NewCredentialsCache(provider)
	return s.scanAccount(ctx, cfg, id)
}

type orgAccount struct{ id, name string }

// listActiveAccounts pages through ListAccounts; accounts not ACTIVE are
// returned apart, with their status.
func listActiveAccounts(ctx context.Context, cfg sdkaws.Config) ([]orgAccount, map[string]string, error) {
	var active []orgAccount
	skipped := map[string]string{}
	p := organizations.NewListAccountsPaginator(organizations.NewFromConfig(cfg), &organizations.ListAccountsInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, nil, fmt.Errorf("%s (run the organization scan from the management account or a delegated administrator)", describeErr("organizations:ListAccounts", err))
		}
		for _, a := range page.Accounts {
			id := sdkaws.ToString(a.Id)
			state := string(a.State)
			if state == "" {
				state = string(a.Status)
			}
			if state != string(orgtypes.AccountStateActive) {
				skipped[id] = state
				continue
			}
			active = append(active, orgAccount{id: id, name: sdkaws.ToString(a.Name)})
		}
	}
	sort.Slice(active, func(i, j int) bool { return active[i].id < active[j].id })
	return active, skipped, nil
}

func filterAccounts(in []orgAccount, include, exclude []string) []orgAccount {
	set := func(ids []string) map[string]bool {
		m := map[string]bool{}
		for _, id := range ids {
			m[id] = true
		}
		return m
	}
	inc, exc := set(include), set(exclude)
	var out []orgAccount
	for _, a := range in {
		if (len(inc) == 0 || inc[a.id]) && !exc[a.id] {
			out = append(out, a)
		}
	}
	return out
}
