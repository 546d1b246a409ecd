package demo

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/trailguard/trailguard/internal/awsemu"
)

// OrgSpec describes a generated organization.
type OrgSpec struct {
	// Accounts is the number of accounts, the management account included
	// (at least 1).
	Accounts int
	// Seed picks each member's kind; the same seed gives the same
	// organization.
	Seed uint64
	// Empty builds the accounts, the organization and the member roles, but
	// no trails: another client builds its own state.
	Empty bool
	// RoleName is the role created in members (DefaultRoleName if empty).
	RoleName string
}

// DefaultRoleName is the member role a generated organization has, the
// one AWS Organizations creates.
const DefaultRoleName = "OrganizationAccountAccessRole"

// OrgManagement is a generated organization's management account.
const OrgManagement = "100000000000"

// Org is a generated organization.
type Org struct {
	Management awsemu.Credentials
	// Accounts lists every account, the management account first, with the
	// verdict it is built to get (Want).
	Accounts []Account
	// Expected counts Want by status ("PASS", "FAIL", "UNKNOWN", "ERROR").
	Expected map[string]int
}

// memberKind is one way a member account can stand, with how often it
// occurs in a generated organization (weights add up to 1000).
type memberKind struct {
	name   string
	want   string
	weight int
	// outside: the organization trail does not reach the account.
	outside bool
	noRole  bool
	trails  []awsemu.TrailSpec
	// deniedSelectors: the account may not call GetEventSelectors (a
	// service control policy), so its own trail cannot be read in full.
	deniedSelectors bool
}

func memberKinds() []memberKind {
	multi := func(name string, logging bool, selectors string) awsemu.TrailSpec {
		return awsemu.TrailSpec{Name: name, HomeRegion: "us-east-1", S3BucketName: "logs-" + name,
			IsMultiRegion: true, IncludeGlobalServiceEvents: true, LogFileValidation: true, Logging: logging, EventSelectorsJSON: selectors}
	}
	single := awsemu.TrailSpec{Name: "local", HomeRegion: "eu-west-1", S3BucketName: "logs-local", Logging: true}
	return []memberKind{
		{name: "covered by the organization trail", want: "PASS", weight: 800},
		{name: "organization trail and an own multi-region trail", want: "PASS", weight: 40, trails: []awsemu.TrailSpec{multi("own-audit", true, "")}},
		{name: "organization trail and an own single-region trail", want: "PASS", weight: 40, trails: []awsemu.TrailSpec{single}},
		{name: "own multi-region trail, advanced selectors", want: "PASS", weight: 10, outside: true, trails: []awsemu.TrailSpec{multi("own-advanced", true,
			`{"AdvancedEventSelectors":[{"Name":"management","FieldSelectors":[{"Field":"eventCategory","Equals":["Management"]}]}]}`)}},
		{name: "single-region trail only", want: "FAIL", weight: 30, outside: true, trails: []awsemu.TrailSpec{single}},
		{name: "multi-region trail not logging", want: "FAIL", weight: 20, outside: true, trails: []awsemu.TrailSpec{multi("stopped", false, "")}},
		{name: "multi-region trail recording reads only", want: "FAIL", weight: 15, outside: true, trails: []awsemu.TrailSpec{multi("reads-only", true,
			`{"EventSelectors":[{"ReadWriteType":"ReadOnly","IncludeManagementEvents":true}]}`)}},
		{name: "no trail", want: "FAIL", weight: 20, outside: true},
		{name: "trail selectors not readable", want: "UNKNOWN", weight: 5, outside: true, deniedSelectors: true, trails: []awsemu.TrailSpec{multi("guarded", true, "")}},
		{name: "no role to assume", want: "ERROR", weight: 20, noRole: true},
	}
}

// BuildOrg builds a deterministic mixed organization in e: a management
// account with a multi-region organization trail, and members of the kinds
// memberKinds lists, drawn with the spec's seed. Most members are covered
// by the organization trail; some have their own trails, some are not
// compliant, one in fifty has no role to assume.
//
// With Empty, no trail exists and every member with a role is built to
// FAIL (no trail), so that a client that creates trails sees the change.
func BuildOrg(e *awsemu.Emulator, spec OrgSpec) (Org, error) {
	if spec.Accounts < 1 {
		return Org{}, fmt.Errorf("an organization needs at least 1 account, not %d", spec.Accounts)
	}
	if spec.RoleName == "" {
		spec.RoleName = DefaultRoleName
	}
	kinds := memberKinds()
	total := 0
	for _, k := range kinds {
		total += k.weight
	}
	rng := rand.New(rand.NewPCG(spec.Seed, spec.Seed+1))
	org := Org{Expected: map[string]int{}}

	org.Management = e.AddAccount(OrgManagement)
	e.SetAccountName(OrgManagement, "management")
	mgmt := Account{ID: OrgManagement, Name: "management", Credentials: org.Management, Want: "PASS"}
	if spec.Empty {
		mgmt.Want = "FAIL"
	} else if _, err := e.PutTrail(OrgManagement, awsemu.TrailSpec{Name: "org-audit", HomeRegion: "us-east-1", S3BucketName: "org-audit-logs",
		IsMultiRegion: true, IsOrganizationTrail: true, IncludeGlobalServiceEvents: true, LogFileValidation: true, Logging: true}); err != nil {
		return Org{}, fmt.Errorf("organization trail: %w", err)
	}
	org.Accounts = append(org.Accounts, mgmt)
	org.Expected[mgmt.Want]++

	var members []string
	for i := 1; i < spec.Accounts; i++ {
		id := fmt.Sprintf("%012d", 100000000000+i)
		k := pick(kinds, rng.IntN(total))
		creds := e.AddAccount(id)
		name := fmt.Sprintf("member-%04d", i)
		e.SetAccountName(id, name)
		members = append(members, id)
		if !k.noRole {
			e.AddRole(id, spec.RoleName)
		}
		want := k.want
		if spec.Empty {
			want = "FAIL"
			if k.noRole {
				want = "ERROR"
			}
		} else {
			if k.outside {
				e.ExcludeFromOrgTrails(id)
			}
			for _, t := range k.trails {
				t.S3BucketName += "-" + id
				if _, err := e.PutTrail(id, t); err != nil {
					return Org{}, fmt.Errorf("account %s trail %s: %w", id, t.Name, err)
				}
			}
			if k.deniedSelectors {
				e.InjectFault(awsemu.Fault{Account: id, Service: "cloudtrail", Operation: "GetEventSelectors",
					Code: "AccessDeniedException", Message: "User is not authorized to perform: cloudtrail:GetEventSelectors with an explicit deny in a service control policy"})
			}
		}
		org.Accounts = append(org.Accounts, Account{ID: id, Name: name + " (" + k.name + ")", Credentials: creds, Want: want})
		org.Expected[want]++
	}
	e.SetOrganization(OrgManagement, members...)
	return org, nil
}

func pick(kinds []memberKind, n int) memberKind {
	for _, k := range kinds {
		if n < k.weight {
			return k
		}
		n -= k.weight
	}
	return kinds[0]
}

// Conditions are the network conditions an emulated organization is served
// under: what cmd/awsemu and cmd/orgbench take as flags.
type Conditions struct {
	Latency time.Duration
	// ThrottleTPS limits CloudTrail and EC2 calls per second per account,
	// region and operation (CloudTrail's own quotas are about 10); 0 for
	// none. STS and Organizations are not limited: their quotas are far
	// above what one scan asks.
	ThrottleTPS float64
	// FaultRate is the share of calls failed with a transient fault (500,
	// 503, connection reset), drawn from Seed.
	FaultRate float64
	Seed      uint64
}

// Apply sets the conditions on e.
func (c Conditions) Apply(e *awsemu.Emulator) {
	e.SetLatency(c.Latency)
	e.SetFaultRate(c.FaultRate, c.Seed)
	if c.ThrottleTPS > 0 {
		burst := max(int(c.ThrottleTPS), 1)
		e.SetRateLimit("cloudtrail", c.ThrottleTPS, burst)
		e.SetRateLimit("ec2", c.ThrottleTPS, burst)
	}
}

// RegisterFlags adds the conditions' flags to fs.
func (c *Conditions) RegisterFlags(fs *flag.FlagSet) {
	fs.DurationVar(&c.Latency, "latency", c.Latency, "delay added to every request")
	fs.Float64Var(&c.ThrottleTPS, "throttle-tps", 0, "CloudTrail and EC2 requests per second allowed per account, region and operation\n(above it: ThrottlingException / RequestLimitExceeded); 0 for no limit")
	fs.Float64Var(&c.FaultRate, "fault-rate", 0, "share of requests failed with a transient fault (500, 503, connection reset)")
	fs.Uint64Var(&c.Seed, "seed", 1, "seed of the organization's mix and of the fault draws")
}
