package main

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/trailguard/trailguard"

	tgaws "github.com/trailguard/trailguard/aws"
	"github.com/trailguard/trailguard/evidence"
	"github.com/trailguard/trailguard/internal/safefile"
)

// A flag group is a set of flags several commands take. Each command
// registers the groups it takes and validates them before it runs, so a
// flag means, defaults to and rejects the same thing everywhere.
type flagGroup interface {
	register(f *pflag.FlagSet)
	validate() error
}

// awsFlags reach AWS the SDK's way: the default credential chain,
// --profile, --region, --endpoint-url, and how often a call is tried.
type awsFlags struct {
	opts tgaws.ConfigOptions
	// regionUsage says what --region picks for the command that takes it.
	regionUsage string
}

func (a *awsFlags) register(f *pflag.FlagSet) {
	f.StringVar(&a.opts.Profile, "profile", "", "AWS shared-config profile `NAME` (default: AWS_PROFILE, else default)")
	f.StringVar(&a.opts.Region, "region", "", a.regionUsage)
	f.StringVar(&a.opts.EndpointURL, "endpoint-url", "", "send every AWS request to this `URL` (default: AWS_ENDPOINT_URL)")
	f.IntVar(&a.opts.MaxAttempts, "max-attempts", tgaws.DefaultMaxAttempts, "tries per AWS call, retries of throttled and failed calls included")
}

func (a *awsFlags) validate() error {
	if a.opts.MaxAttempts < 1 {
		return usageErr("--max-attempts must be at least 1")
	}
	return nil
}

// orgFlags choose and tune an organization-wide run: which accounts, the
// role that reaches them, how many at once and for how long each.
type orgFlags struct {
	org          bool
	opts         tgaws.OrgOptions
	accountsFile string
	fileIDs      []string // read from accountsFile by validate
	// orgUsage says what --org does for the command that takes it.
	orgUsage string
}

func (o *orgFlags) register(f *pflag.FlagSet) {
	f.BoolVar(&o.org, "org", false, o.orgUsage)
	f.StringVar(&o.opts.RoleName, "role-name", tgaws.DefaultRoleName, "with --org: role `NAME` assumed in each member account")
	f.StringVar(&o.opts.ExternalID, "external-id", "", "with --org: external `ID` for AssumeRole")
	f.IntVar(&o.opts.Concurrency, "concurrency", tgaws.DefaultConcurrency, "with --org: member accounts scanned at once")
	f.StringSliceVar(&o.opts.Include, "accounts", nil, "with --org: scan only these account `IDS` (comma-separated)")
	f.StringVar(&o.accountsFile, "accounts-file", "", "with --org: scan only the account ids in `FILE` (one per line, # comments)")
	f.StringSliceVar(&o.opts.Exclude, "exclude-accounts", nil, "with --org: leave these account `IDS` out")
	f.DurationVar(&o.opts.AccountTimeout, "account-timeout", tgaws.DefaultAccountTimeout, "give up one account after this long (it is then ERROR with the reason)")
	f.BoolVar(&o.opts.MemberRegions, "member-regions", false, "with --org: ask every member for its enabled regions, even when it passes\n(by default a passing member's opt-in regions are listed as not read)")
}

func (o *orgFlags) validate() error {
	if !o.org && (len(o.opts.Include) > 0 || len(o.opts.Exclude) > 0 || o.accountsFile != "") {
		return usageErr("--accounts, --accounts-file and --exclude-accounts go with --org")
	}
	if o.opts.Concurrency < 1 {
		return usageErr("--concurrency must be at least 1")
	}
	if o.opts.AccountTimeout <= 0 {
		return usageErr("--account-timeout must be positive")
	}
	for _, id := range append(append([]string(nil), o.opts.Include...), o.opts.Exclude...) {
		if !evidence.IsAccountID(id) {
			return usageErr("%q is not an account id (12 digits)", id)
		}
	}
	o.fileIDs = nil
	if o.accountsFile != "" {
		ids, err := readAccountsFile(o.accountsFile)
		if err != nil {
			return usageErr("--accounts-file: %v", err)
		}
		o.fileIDs = ids
	}
	return nil
}

// options are the organization options the flags say, --accounts and
// --accounts-file together; call after validate.
func (o *orgFlags) options() tgaws.OrgOptions {
	out := o.opts
	out.Include = append(append([]string(nil), o.opts.Include...), o.fileIDs...)
	return out
}

// excludedNotFound is the notice for each --exclude-accounts id the
// organization does not hold: likely mistyped, so the account meant is
// scanned after all.
func excludedNotFound(ids []string) []string {
	var out []string
	for _, id := range ids {
		out = append(out, "--exclude-accounts "+id+": no such account in the organization (Organizations ListAccounts does not list it)")
	}
	return out
}

// validateAll validates groups in order and returns the first error.
func validateAll(groups ...flagGroup) error {
	for _, g := range groups {
		if err := g.validate(); err != nil {
			return err
		}
	}
	return nil
}

// maxAccountsFile bounds --accounts-file: a million bytes hold some
// eighty thousand account ids, more than an organization may have.
const maxAccountsFile = 1 << 20

// readAccountsFile reads account ids, one per line; blank lines and text
// after # are ignored. Only a regular file is read (a FIFO would block, a
// device never end), and at most maxAccountsFile bytes.
func readAccountsFile(path string) ([]string, error) {
	b, err := safefile.Read(path, maxAccountsFile)
	if err != nil {
		return nil, err
	}
	var ids []string
	for i, line := range strings.Split(string(b), "\n") {
		if j := strings.IndexByte(line, '#'); j >= 0 {
			line = line[:j]
		}
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if !evidence.IsAccountID(line) {
			return nil, fmt.Errorf("%s:%d: %q is not an account id (12 digits)", path, i+1, line)
		}
		ids = append(ids, line)
	}
	if len(ids) == 0 {
		return nil, fmt.Errorf("%s: no account ids", path)
	}
	return ids, nil
}

// deliveryFlags say how a scan judges whether the covering trail's
// records arrive (delivery errors, the age of the latest delivery), and
// whether that decides the verdict.
type deliveryFlags struct {
	maxAge  ageValue
	require bool
}

func (d *deliveryFlags) register(f *pflag.FlagSet) {
	d.maxAge = ageValue(trailguard.DefaultMaxDeliveryAge)
	f.Var(&d.maxAge, "max-delivery-age", "a logging trail whose latest log file delivery is older than this `AGE` (24h, 90m, 2d)\nis stale, as is one that has logged this long without delivering: a warning,\na FAIL with --require-delivery")
	f.BoolVar(&d.require, "require-delivery", false, "a trail that logs but whose records do not arrive (S3, digest or CloudWatch Logs\ndelivery error, stale or no delivery) does not count: the account FAILs\n(log file validation off stays a warning)")
}

func (d *deliveryFlags) validate() error {
	if d.maxAge <= 0 {
		return usageErr("--max-delivery-age must be positive, not %s", time.Duration(d.maxAge))
	}
	return nil
}

// options adds the delivery flags to the evaluation options.
func (d *deliveryFlags) options(o trailguard.Options) trailguard.Options {
	o.RequireDelivery = d.require
	o.MaxDeliveryAge = time.Duration(d.maxAge)
	return o
}

// ageValue is a duration flag that also takes days ("2d", "1d12h"):
// delivery ages are said in days, which time.ParseDuration does not know.
type ageValue time.Duration

var daysPrefix = regexp.MustCompile(`^([0-9]{1,4})d(.*)$`)

func (a *ageValue) Set(s string) error {
	s = strings.TrimSpace(s)
	var d time.Duration
	rest := s
	if m := daysPrefix.FindStringSubmatch(s); m != nil {
		n, _ := strconv.Atoi(m[1]) // at most four digits: no overflow
		d, rest = time.Duration(n)*24*time.Hour, m[2]
	}
	if rest != "" || d == 0 {
		r, err := time.ParseDuration(rest)
		if err != nil {
			return fmt.Errorf("%q is not an age such as 24h, 90m or 2d", s)
		}
		d += r
	}
	*a = ageValue(d)
	return nil
}

func (a *ageValue) String() string { return time.Duration(*a).String() }

func (a *ageValue) Type() string { return "duration" }
