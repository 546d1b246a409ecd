package aws

import (
	"context"
	"fmt"
	"sort"
	"sync"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/trailguard/trailguard"
)

// ScanActions are the IAM actions ScanAccount calls, kept here beside the
// calls so that the policy 'trailguard iam-policy' prints cannot drift from
// the code: every one is read-only, and CloudTrail's describe and get calls
// take no resource-level condition that would narrow them usefully, so
// their resource is "*". sts:GetCallerIdentity is not listed: AWS allows it
// to every caller.
var ScanActions = []string{
	"cloudtrail:DescribeTrails",
	"cloudtrail:GetEventSelectors",
	"cloudtrail:GetTrailStatus",
	"ec2:DescribeRegions",
}

// Scanner reads accounts. One Scanner serves one whole scan: trail facts
// (status and selectors) are keyed by trail ARN and read once, so an
// organization trail read in one account answers for the others.
type Scanner struct {
	facts factCache
	// Evaluate are the options the accounts will be judged with: whether
	// an account already passes (and its single-region trails and region
	// table can be skipped) is asked under them, so that --strict or
	// --require-delivery does not leave a failing account's table thin.
	Evaluate trailguard.Options
}

// NewScanner returns a scanner with an empty trail-facts cache.
func NewScanner() *Scanner {
	return &Scanner{facts: factCache{m: map[string]*factCall{}}}
}

// ScanAccount reads the account that cfg's credentials belong to. It never
// fails as a whole: what could not be read is recorded in the account
// (Error, RegionsError, Trail.StatusError, Trail.SelectorsError) so that the
// evaluator can say UNKNOWN or ERROR with the reason.
//
// Calls: sts:GetCallerIdentity, ec2:DescribeRegions and
// cloudtrail:DescribeTrails (all in cfg.Region, concurrently), then
// GetTrailStatus and GetEventSelectors once per multi-region trail, by full
// ARN, in its home region. Single-region trails are read only when no
// multi-region trail satisfies the control, to show which regions they still
// cover.
func (s *Scanner) ScanAccount(ctx context.Context, cfg sdkaws.Config) trailguard.Account {
	return s.scanAccount(ctx, cfg, "", caller(""), nil)
}

// scanAccount is ScanAccount; a known account id (an organization member
// from ListAccounts) spares the GetCallerIdentity call. With lazyRegions
// set (the regions every account has enabled), DescribeRegions is asked
// only when the account does not pass: a passing account's table lists
// lazyRegions, its opt-in regions marked OptInNotRead.
func (s *Scanner) scanAccount(ctx context.Context, cfg sdkaws.Config, knownID string, who principal, lazyRegions []trailguard.Region) trailguard.Account {
	acct := trailguard.Account{ID: knownID}
	var trails []cttypes.Trail
	var trailsErr, regionsErr error
	var wg sync.WaitGroup
	wg.Add(3)
	go func() {
		defer wg.Done()
		if knownID != "" {
			return
		}
		out, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		if err != nil {
			acct.Error = describeErr(ctx, "sts:GetCallerIdentity", who, err)
			return
		}
		acct.ID = sdkaws.ToString(out.Account)
		acct.CallerARN = sdkaws.ToString(out.Arn)
	}()
	go func() {
		defer wg.Done()
		if lazyRegions == nil {
			acct.Regions, regionsErr = DescribeRegions(ctx, cfg)
		}
	}()
	go func() {
		defer wg.Done()
		out, err := cloudtrail.NewFromConfig(cfg).DescribeTrails(ctx, &cloudtrail.DescribeTrailsInput{IncludeShadowTrails: sdkaws.Bool(true)})
		if err != nil {
			trailsErr = err
			return
		}
		trails = out.TrailList
	}()
	wg.Wait()
	// Errors are worded once the account id is known, to name the account
	// a permission is missing in.
	if who.account == "" {
		who.account = acct.ID
	}
	if regionsErr != nil {
		acct.Regions, acct.RegionsError = nil, regionsFailed(ctx, cfg, who, regionsErr)
	}
	if trailsErr != nil {
		// DescribeTrails decides; a caller-identity failure beside it almost
		// always has the same cause and would only repeat it.
		acct.Error = describeErr(ctx, fmt.Sprintf("cloudtrail:DescribeTrails in %s", cfg.Region), who, trailsErr)
		return acct
	}
	acct.Trails = foldTrails(trails)
	if acct.ID == "" && acct.Error != "" {
		// Without the caller identity the account id comes from the trails
		// the account owns, when it has any; the scan itself succeeded.
		for _, t := range acct.Trails {
			if !t.IsOrganizationTrail {
				acct.ID = t.OwnerAccount()
				break
			}
		}
		if acct.ID != "" {
			acct.Error = ""
		}
	}

	s.readFacts(ctx, cfg, acct.ID, who, acct.Trails, func(t trailguard.Trail) bool { return t.IsMultiRegion })
	if !trailguard.Passes(acct, s.Evaluate) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if lazyRegions != nil {
				acct.Regions, acct.RegionsError = describeRegions(ctx, cfg, who)
			}
		}()
		s.readFacts(ctx, cfg, acct.ID, who, acct.Trails, func(t trailguard.Trail) bool { return !t.IsMultiRegion })
		wg.Wait()
	} else if lazyRegions != nil {
		acct.Regions = lazyRegions
	}
	for i := range acct.Trails {
		t := &acct.Trails[i]
		if t.Status == nil && t.StatusError == "" {
			t.StatusError = "not read: a single-region trail cannot satisfy the control and a multi-region trail already does"
		}
		if t.Selectors == nil && t.SelectorsError == "" {
			t.SelectorsError = t.StatusError
		}
	}
	return acct
}

// foldTrails keeps one domain trail per ARN (trailguard.FoldTrails, the
// one fold every source uses), sorted by ARN: DescribeTrails lists a
// multi-region trail once per region it shadows into only when asked in
// other regions, but a member account may also see the same organization
// trail twice; folding here keeps facts from being read twice, and two
// listings of one ARN that disagree are a Conflict, not a silent choice.
// Entries without a valid ARN are never folded together: nothing says they
// are one trail (see readFacts, which reads no facts for them).
func foldTrails(in []cttypes.Trail) []trailguard.Trail {
	listed := make([]trailguard.Trail, 0, len(in))
	for _, t := range in {
		listed = append(listed, trailFromSDK(t))
	}
	out := trailguard.FoldTrails(listed)
	sort.SliceStable(out, func(i, j int) bool { return out[i].ARN < out[j].ARN })
	return out
}

// readFacts reads status and selectors, concurrently, for the trails that
// want() selects.
//
// Facts belong to exactly one trail: they are asked and cached only by a
// valid trail ARN, so a trail DescribeTrails lists without one gets none
// (never those of another entry), and only for trails that count for the
// reading account — its own, or an organization trail. Another account's
// ordinary trail records nothing of this account, and facts read through
// this account about it are not lent to its owner.
func (s *Scanner) readFacts(ctx context.Context, cfg sdkaws.Config, reader string, who principal, trails []trailguard.Trail, want func(trailguard.Trail) bool) {
	clients := regionClients{cfg: cfg, m: map[string]*cloudtrail.Client{}}
	var wg sync.WaitGroup
	for i := range trails {
		t := &trails[i]
		if !want(*t) {
			continue
		}
		if why := notAsked(*t, reader); why != "" {
			t.StatusError, t.SelectorsError = why, why
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			f := s.facts.get(t.ARN, reader, func() factEntry {
				return readTrailFacts(ctx, clients.get(homeRegion(*t, cfg.Region)), t.ARN, reader, who)
			})
			t.Status, t.Selectors = f.status, f.selectors
			t.StatusError, t.SelectorsError = f.statusErr, f.selectorsErr
			t.StatusSource, t.SelectorsSource = f.statusSrc, f.selectorsSrc
		}()
	}
	wg.Wait()
}

// notAsked says why a listed trail's facts are not asked for ("" when they
// are).
func notAsked(t trailguard.Trail, reader string) string {
	if !trailguard.ValidTrailARN(t.ARN) {
		return fmt.Sprintf("DescribeTrails lists trail %q without a valid TrailARN (%q): its facts can be neither asked by ARN nor tied to it", t.Name, t.ARN)
	}
	if owner := t.OwnerAccount(); reader != "" && owner != reader && !t.IsOrganizationTrail {
		return fmt.Sprintf("not read: a trail of account %s that is not an organization trail records nothing of account %s", owner, reader)
	}
	return ""
}

func homeRegion(t trailguard.Trail, fallback string) string {
	if t.HomeRegion != "" {
		return t.HomeRegion
	}
	if r := trailguard.ARNRegion(t.ARN); r != "" {
		return r
	}
	return fallback
}

// readTrailFacts asks the trail's home region for its status and
// selectors, by full ARN (a member account asking by name for an
// organization trail gets TrailNotFoundException).
func readTrailFacts(ctx context.Context, ct *cloudtrail.Client, arn, reader string, who principal) factEntry {
	if who.account == "" {
		who.account = reader
	}
	var f factEntry
	by := ""
	if reader != "" {
		by = " as account " + reader
	}
	f.statusSrc = "cloudtrail:GetTrailStatus in " + ct.Options().Region + by
	f.selectorsSrc = "cloudtrail:GetEventSelectors in " + ct.Options().Region + by
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		out, err := ct.GetTrailStatus(ctx, &cloudtrail.GetTrailStatusInput{Name: sdkaws.String(arn)})
		if err != nil {
			f.statusErr = describeErr(ctx, "cloudtrail:GetTrailStatus", who, err)
			return
		}
		if out.IsLogging == nil {
			// A deciding member the API always returns: without it the
			// status is not known, never "not logging" nor "logging".
			f.statusErr = "cloudtrail:GetTrailStatus answered without IsLogging"
			return
		}
		f.status = statusFromSDK(out)
	}()
	go func() {
		defer wg.Done()
		out, err := ct.GetEventSelectors(ctx, &cloudtrail.GetEventSelectorsInput{TrailName: sdkaws.String(arn)})
		if err != nil {
			f.selectorsErr = describeErr(ctx, "cloudtrail:GetEventSelectors", who, err)
			return
		}
		for i, sel := range out.EventSelectors {
			// CloudTrail returns both members in every basic selector; one
			// that lacks them is not "All and true" but unknown.
			if sel.ReadWriteType == "" || sel.IncludeManagementEvents == nil {
				f.selectorsErr = fmt.Sprintf("cloudtrail:GetEventSelectors answered event selector %d without ReadWriteType or IncludeManagementEvents", i+1)
				return
			}
		}
		f.selectors = selectorsFromSDK(out)
	}()
	wg.Wait()
	return f
}

// regionClients builds one CloudTrail client per home region, on demand.
type regionClients struct {
	cfg sdkaws.Config
	mu  sync.Mutex
	m   map[string]*cloudtrail.Client
}

func (r *regionClients) get(region string) *cloudtrail.Client {
	r.mu.Lock()
	defer r.mu.Unlock()
	c, ok := r.m[region]
	if !ok {
		c = cloudtrail.NewFromConfig(r.cfg, func(o *cloudtrail.Options) { o.Region = region })
		r.m[region] = c
	}
	return c
}
