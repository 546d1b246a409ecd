package deploy

import (
	"errors"
	"fmt"
	"net/mail"
	"regexp"
	"slices"
	"strings"
)

// Formats deploy writes.
const (
	CloudFormation = "cloudformation"
	Terraform      = "terraform"
	// JSON is the service control policy document alone (with SCP only).
	JSON = "json"
)

// Periods are AWS Config's MaximumExecutionFrequency values, the periods a
// periodic rule may run at.
var Periods = []string{"One_Hour", "Three_Hours", "Six_Hours", "Twelve_Hours", "TwentyFour_Hours"}

// DefaultPeriod is the rule's period unless told: an hour bounds how long a
// stopped trail goes unseen when no event reaches the function.
const DefaultPeriod = "One_Hour"

// RemediateStartLogging is the only auto-remediation the function knows
// (control.RemediateStartLog; the string is repeated here so that this
// package does not import the function's SDK clients).
const RemediateStartLogging = "start-logging"

// DefaultBreakGlass is the role pattern the service control policy exempts
// unless told.
const DefaultBreakGlass = "arn:aws:iam::*:role/BreakGlass*"

// Options are what a user sets. Every string is validated before it
// reaches a template, and reaches it through the format's own escaping.
type Options struct {
	Format string // CloudFormation (default) or Terraform; JSON with SCPOnly

	FunctionName string // the Lambda function; roles and rules are named after it
	RuleName     string // the Config rule (organization rule with Org)
	CodeS3Bucket string // CloudFormation: bucket of the zipped bootstrap
	CodeS3Key    string // CloudFormation: key of the zipped bootstrap
	CodeZip      string // Terraform: local path of the zipped bootstrap

	Period        string // MaximumExecutionFrequency
	Strict        bool
	AlertEmail    string // optional e-mail subscription of the alert topic
	AutoRemediate string // "" or RemediateStartLogging

	Org            bool     // organization rule, member role StackSet, event forwarding
	OrgID          string   // o-…: the event bus accepts events from it
	OrgTargets     []string // root or OU ids the StackSets deploy to
	MemberRoleName string   // role the function assumes in every member
	DelegatedAdmin bool     // StackSets called as DELEGATED_ADMIN (else SELF, the management account)
	// ManagementAccount writes the member pieces as a plain stack for the
	// management account, which service-managed StackSets never reach.
	ManagementAccount bool

	// Mutelist is --mutelist: an s3://bucket/key URI the function reads
	// (its role then gets s3:GetObject on that object alone), or the path
	// of a mutelist file embedded in the rule's input parameters.
	Mutelist string
	// MutelistDocument is the file's content once read (LoadMutelist);
	// Validate reads it when empty.
	MutelistDocument string

	// Regions are the other regions whose CloudTrail calls reach the
	// function: a multi-region trail homed there is changed there. Each
	// gets an EventBridge rule forwarding the calls to the function's
	// region's default bus.
	Regions []string
	// Forwarder writes, for one account with CloudFormation, the template
	// to deploy in each of Regions (a stack is regional).
	Forwarder bool

	SCP        bool     // add the service control policy
	SCPOnly    bool     // write the service control policy alone
	BreakGlass []string // ArnNotLike patterns of aws:PrincipalARN the SCP exempts
	SCPTargets []string // root, OU or account ids the SCP is attached to
}

var (
	nameRE       = regexp.MustCompile(`^[A-Za-z0-9_-]{1,40}$`)
	ruleNameRE   = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
	roleNameRE   = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)
	bucketRE     = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)
	keyRE        = regexp.MustCompile(`^[A-Za-z0-9!_.*'()/-]+$`) // and at most 1024 bytes
	orgIDRE      = regexp.MustCompile(`^o-[a-z0-9]{10,32}$`)
	orgTargetRE  = regexp.MustCompile(`^(r-[0-9a-z]{4,32}|ou-[0-9a-z]{4,32}-[a-z0-9]{8,32})$`)
	scpTargetRE  = regexp.MustCompile(`^(r-[0-9a-z]{4,32}|ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}|[0-9]{12})$`)
	principalARN = regexp.MustCompile(`^arn:(aws|aws-cn|aws-us-gov|\*):(iam|sts)::(\*|[0-9]{12}):[A-Za-z0-9_+=,.@/*?-]+$`) // and at most 512 bytes
)

// Defaults fills what the user did not set.
func (o *Options) Defaults() {
	if o.Format == "" {
		o.Format = CloudFormation
	}
	if o.FunctionName == "" {
		o.FunctionName = "trailguard"
	}
	if o.RuleName == "" {
		o.RuleName = "trailguard-cis-3-1"
	}
	if o.Period == "" {
		o.Period = DefaultPeriod
	}
	if o.MemberRoleName == "" {
		o.MemberRoleName = "trailguard-member"
	}
	if len(o.BreakGlass) == 0 {
		o.BreakGlass = []string{DefaultBreakGlass}
	}
}

// Validate says what is wrong with the options, every problem at once,
// each naming the flag to change.
func (o *Options) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	switch o.Format {
	case CloudFormation, Terraform:
	case JSON:
		if !o.SCPOnly {
			bad("--emit json writes the service control policy alone: add --scp-only, or choose cloudformation or terraform")
		}
	default:
		bad("--emit must be cloudformation or terraform, not %q", o.Format)
	}
	if !nameRE.MatchString(o.FunctionName) {
		bad("--function-name %q: 1 to 40 letters, digits, '-' or '_' (roles are named after it)", o.FunctionName)
	}
	if !ruleNameRE.MatchString(o.RuleName) {
		bad("--rule-name %q: 1 to 64 letters, digits, '-' or '_'", o.RuleName)
	}
	if !slices.Contains(Periods, o.Period) {
		bad("--period %q: AWS Config runs a periodic rule at one of %s", o.Period, strings.Join(Periods, ", "))
	}
	switch o.AutoRemediate {
	case "", RemediateStartLogging:
	default:
		bad("--auto-remediate %q: the only remediation the function makes is %q", o.AutoRemediate, RemediateStartLogging)
	}
	if o.AlertEmail != "" && !emailAddress(o.AlertEmail) {
		bad("--alert-email %q is not a plain e-mail address (name@domain, no display name)", o.AlertEmail)
	}
	needsCode := !o.SCPOnly && !o.ManagementAccount && !o.Forwarder
	if needsCode && o.Format == CloudFormation {
		if o.CodeZip != "" {
			bad("--code-zip is for --emit terraform; CloudFormation reads the code from S3: give --code-s3-bucket and --code-s3-key")
		}
		if !bucketRE.MatchString(o.CodeS3Bucket) {
			bad("--code-s3-bucket %q: the S3 bucket holding the zipped bootstrap (3 to 63 lower-case letters, digits, '.', '-')", o.CodeS3Bucket)
		}
		if !keyRE.MatchString(o.CodeS3Key) || len(o.CodeS3Key) > 1024 {
			bad("--code-s3-key %q: the key of the zipped bootstrap in that bucket, in S3's safe characters (letters, digits, !-_.*'()/)", o.CodeS3Key)
		}
	}
	if needsCode && o.Format == Terraform {
		if o.CodeS3Bucket != "" || o.CodeS3Key != "" {
			bad("--code-s3-bucket and --code-s3-key are for --emit cloudformation; Terraform uploads the local zip: give --code-zip")
		}
		if o.CodeZip == "" || strings.ContainsAny(o.CodeZip, "\x00\n\r") || len(o.CodeZip) > 1024 {
			bad("--code-zip %q: the local path of the zipped bootstrap", o.CodeZip)
		}
	}
	if o.Org || o.ManagementAccount {
		if !orgIDRE.MatchString(o.OrgID) && !o.ManagementAccount {
			bad("--org-id %q: the organization id (o-…), which the central event bus accepts events from", o.OrgID)
		}
		if !roleNameRE.MatchString(o.MemberRoleName) {
			bad("--member-role-name %q is not an IAM role name", o.MemberRoleName)
		}
	}
	if o.Org && !o.ManagementAccount {
		if len(o.OrgTargets) == 0 {
			bad("--org needs --org-target: the root (r-…) or organizational units (ou-…) the member StackSets deploy to")
		}
		for _, t := range o.OrgTargets {
			if !orgTargetRE.MatchString(t) {
				bad("--org-target %q is not a root id (r-…) or an organizational unit id (ou-…)", t)
			}
		}
	}
	if o.ManagementAccount && !o.Org {
		bad("--management-account writes the organization's member pieces for the management account: add --org")
	}
	if o.Mutelist != "" {
		if o.SCPOnly || o.ManagementAccount || o.Forwarder {
			bad("--mutelist is a parameter of the Config rule: it goes with the function's template, not with --scp-only, --management-account or --forwarder")
		} else if err := o.checkMutelist(); err != nil {
			errs = append(errs, err)
		}
	}
	o.validateRegions(bad)
	if o.SCPOnly && (o.Org || o.ManagementAccount) {
		bad("--scp-only writes the policy alone: drop --org, or use --scp to add it to the organization's template")
	}
	if o.SCP || o.SCPOnly {
		if len(o.BreakGlass) > 20 {
			bad("--break-glass-role-pattern given %d times: at most 20", len(o.BreakGlass))
		}
		for _, p := range o.BreakGlass {
			if !principalARN.MatchString(p) || len(p) > 512 {
				bad("--break-glass-role-pattern %q: an IAM ARN pattern such as %s", p, DefaultBreakGlass)
			}
		}
		for _, t := range o.SCPTargets {
			if !scpTargetRE.MatchString(t) {
				bad("--scp-target %q is not a root (r-…), organizational unit (ou-…) or account id", t)
			}
		}
	} else if len(o.SCPTargets) > 0 {
		bad("--scp-target attaches the service control policy: add --scp")
	}
	return errors.Join(errs...)
}

// emailAddress says whether s is one plain address as net/mail reads it
// (RFC 5322), with no display name, comment or white space around it, and
// no control character: what SNS's email protocol takes as an endpoint.
func emailAddress(s string) bool {
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s || len(s) > 320 {
		return false
	}
	return !strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r == 0x7f })
}
