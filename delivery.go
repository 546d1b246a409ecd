package trailguard

import (
	"fmt"
	"regexp"
	"strings"
	"time"
)

// DefaultMaxDeliveryAge is how old a trail's latest log file delivery may
// be before it is reported as stale. CloudTrail delivers log files about
// every five minutes while API calls happen, and every account makes some
// (AWS services call on its behalf), so a day without one means delivery
// has stopped rather than that the account was quiet.
const DefaultMaxDeliveryAge = 24 * time.Hour

// DeliveryHealth is what GetTrailStatus says about whether a trail's
// records arrive: log files in S3, digest files, CloudWatch Logs, and log
// file validation. It is judged for the trail that covers an account (and,
// under RequireDelivery, for the trails that would cover it but for
// delivery), as of CheckedAt.
type DeliveryHealth struct {
	Trail             string `json:"trail"`
	HomeRegion        string `json:"home_region,omitempty"`
	OrganizationTrail bool   `json:"organization_trail,omitempty"`
	// CheckedAt is the clock the ages are measured against; null when no
	// age was measured (the status gave no time to measure).
	CheckedAt     *time.Time `json:"checked_at"`
	MaxAgeSeconds int64      `json:"max_age_seconds"`
	// LatestDeliveryTime is when CloudTrail last delivered a log file to
	// the bucket; null when GetTrailStatus reports none. AgeSeconds is its
	// age at CheckedAt.
	LatestDeliveryTime *time.Time `json:"latest_delivery_time"`
	AgeSeconds         *int64     `json:"age_seconds"`
	// Stale: the latest delivery is older than MaxAgeSeconds.
	Stale bool `json:"stale"`
	// NeverDelivered: the trail has logged for longer than MaxAgeSeconds
	// and never delivered a log file.
	NeverDelivered bool `json:"never_delivered"`
	// Judged is false when the status lacks what the age needs (neither a
	// delivery time nor the time logging started): such a trail is not
	// known to deliver.
	Judged                      bool   `json:"judged"`
	DeliveryError               string `json:"delivery_error,omitempty"`
	DigestDeliveryError         string `json:"digest_delivery_error,omitempty"`
	CloudWatchLogsDeliveryError string `json:"cloudwatch_logs_delivery_error,omitempty"`
	LogFileValidation           bool   `json:"log_file_validation"`
	// Healthy: records arrive (no error, not stale, delivered, judged).
	// Log file validation does not enter into it (see deliveryFinding).
	Healthy bool `json:"healthy"`
	// Warnings are the findings in words, each with its fix, as they
	// appear in the result's warnings.
	Warnings []string `json:"warnings,omitempty"`
}

// deliveryFinding is one thing wrong with a trail's delivery.
type deliveryFinding struct {
	// warning is the finding with its fix, for the result's warnings.
	warning string
	// problem is the finding in short, for the trail's problems when
	// RequireDelivery does not count the trail.
	problem string
	// blocks: under RequireDelivery the trail does not count. Log file
	// validation off never blocks: without it every event still arrives
	// (it only leaves tampering undetectable), and CIS 3.1 asks that
	// events are recorded, not that they are signed: validation is its
	// own recommendation (CIS 3.2), not a coverage gap.
	blocks bool
	// unknown: the finding is that delivery could not be judged; under
	// RequireDelivery the trail is then not readable in full (UNKNOWN,
	// never PASS).
	unknown bool
}

// maxDeliveryAge is opts.MaxDeliveryAge, or the default when unset.
func (o Options) maxDeliveryAge() time.Duration {
	if o.MaxDeliveryAge > 0 {
		return o.MaxDeliveryAge
	}
	return DefaultMaxDeliveryAge
}

// now is opts.Now, or the wall clock when unset.
func (o Options) now() time.Time {
	if o.Now != nil {
		return o.Now()
	}
	return time.Now()
}

// judgeDelivery reads a logging trail's delivery state from its status.
// It returns nil for a trail whose status was not read or that does not
// log: such a trail already fails (or is unknown) on logging, and its
// delivery says nothing more.
func judgeDelivery(t Trail, opts Options) (*DeliveryHealth, []deliveryFinding) {
	s := t.Status
	if s == nil || !s.IsLogging {
		return nil, nil
	}
	now, maxAge := opts.now().UTC(), opts.maxDeliveryAge()
	h := &DeliveryHealth{
		Trail: t.ARN, HomeRegion: t.HomeRegion, OrganizationTrail: t.IsOrganizationTrail,
		MaxAgeSeconds: int64(maxAge / time.Second),
		DeliveryError: s.LatestDeliveryError, DigestDeliveryError: s.LatestDigestDeliveryError,
		CloudWatchLogsDeliveryError: s.LatestCloudWatchLogsDeliveryError,
		LogFileValidation:           t.LogFileValidationEnabled, Judged: true,
	}
	name, bucket, ref := trailName(t), t.S3BucketName, trailCLIRef(t)
	where := orgNote(t)
	var out []deliveryFinding
	if s.LatestDeliveryError != "" {
		out = append(out, deliveryFinding{blocks: true,
			problem: fmt.Sprintf("fails to deliver log files to S3 bucket %q: %s", bucket, s.LatestDeliveryError),
			warning: fmt.Sprintf("trail %s logs but fails to deliver to S3 bucket %q: %s%s; check the bucket policy lets cloudtrail.amazonaws.com s3:PutObject (%s)%s",
				name, bucket, s.LatestDeliveryError, where, bucketPolicyCmd(bucket), keyPolicyCheck(t)),
		})
	}
	if s.LatestDigestDeliveryError != "" {
		out = append(out, deliveryFinding{blocks: true,
			problem: fmt.Sprintf("fails to deliver digest files to S3 bucket %q: %s", bucket, s.LatestDigestDeliveryError),
			warning: fmt.Sprintf("trail %s fails to deliver digest files to S3 bucket %q: %s%s; without them its log files cannot be validated: digest files go to the same bucket under AWSLogs/<account>/CloudTrail-Digest/, check the bucket policy covers that prefix (%s)%s",
				name, bucket, s.LatestDigestDeliveryError, where, bucketPolicyCmd(bucket), keyPolicyCheck(t)),
		})
	}
	if s.LatestCloudWatchLogsDeliveryError != "" {
		role := t.CloudWatchLogsRoleARN
		check := "check the trail's CloudWatch Logs role (aws cloudtrail get-trail --name " + ref + ")"
		if role != "" {
			roleName := role[strings.LastIndexByte(role, '/')+1:]
			check = fmt.Sprintf("check that role %s trusts cloudtrail.amazonaws.com and allows logs:CreateLogStream and logs:PutLogEvents on the log group (aws iam get-role --role-name %s; aws iam list-role-policies --role-name %s)",
				role, ShellQuote(roleName), ShellQuote(roleName))
		}
		group := t.CloudWatchLogsLogGroupARN
		if group == "" {
			group = "(not named)"
		}
		out = append(out, deliveryFinding{blocks: true,
			problem: "fails to deliver to CloudWatch Logs: " + s.LatestCloudWatchLogsDeliveryError,
			warning: fmt.Sprintf("trail %s fails to deliver to CloudWatch Logs log group %s: %s%s; %s",
				name, group, s.LatestCloudWatchLogsDeliveryError, where, check),
		})
	}
	// An S3 delivery error explains a stale or missing delivery: then the
	// age joins that warning rather than repeat its fix.
	s3err := -1
	if s.LatestDeliveryError != "" {
		s3err = 0
	}
	addAge := func(f deliveryFinding, clause string) {
		if s3err >= 0 {
			out[s3err].warning += "; " + clause
			out[s3err].problem += "; " + clause
			return
		}
		out = append(out, f)
	}
	statusCmd := fmt.Sprintf("aws cloudtrail get-trail-status --name %s --region %s", ref, ShellQuote(homeOf(t)))
	switch {
	case s.LatestDeliveryTime != nil:
		last := s.LatestDeliveryTime.UTC()
		h.LatestDeliveryTime, h.CheckedAt = &last, &now
		age := max(now.Sub(last), 0) // a clock behind AWS's reads as fresh
		secs := int64(age / time.Second)
		h.AgeSeconds = &secs
		if age > maxAge {
			h.Stale = true
			addAge(deliveryFinding{blocks: true,
				problem: fmt.Sprintf("last delivered a log file %s ago (%s), more than --max-delivery-age %s", FormatAge(age), stamp(last), FormatAge(maxAge)),
				warning: fmt.Sprintf("trail %s logs but last delivered a log file to S3 bucket %q %s ago (%s), more than --max-delivery-age %s: events since may be missing%s; see why with %s, then check the bucket policy (%s)%s",
					name, bucket, FormatAge(age), stamp(last), FormatAge(maxAge), where, statusCmd, bucketPolicyCmd(bucket), keyPolicyCheck(t)),
			}, fmt.Sprintf("the last log file arrived %s ago (%s), more than --max-delivery-age %s", FormatAge(age), stamp(last), FormatAge(maxAge)))
		}
	case loggingSince(s) != nil:
		since := loggingSince(s).UTC()
		h.CheckedAt = &now
		if age := now.Sub(since); age > maxAge {
			h.NeverDelivered = true
			addAge(deliveryFinding{blocks: true,
				problem: fmt.Sprintf("has logged for %s (since %s) and never delivered a log file", FormatAge(age), stamp(since)),
				warning: fmt.Sprintf("trail %s has logged for %s (since %s) but never delivered a log file to S3 bucket %q%s; see why with %s, then check the bucket policy (%s)%s",
					name, FormatAge(age), stamp(since), bucket, where, statusCmd, bucketPolicyCmd(bucket), keyPolicyCheck(t)),
			}, fmt.Sprintf("no log file has arrived since logging started %s ago (%s)", FormatAge(age), stamp(since)))
		}
		// A trail that started logging more recently may simply not have
		// delivered yet: CloudTrail delivers within minutes, and the age
		// limit is the patience the user chose.
	default:
		// GetTrailStatus of a logging trail gives the time logging
		// started; without it and without a delivery time (hand-made
		// evidence), whether records arrive cannot be told. That is a
		// warning only where delivery decides the verdict.
		h.Judged = false
		out = append(out, deliveryFinding{unknown: true,
			problem: "delivery cannot be judged: the status gives neither LatestDeliveryTime nor StartLoggingTime",
			warning: fmt.Sprintf("trail %s: whether its log files arrive cannot be judged, the status gives neither LatestDeliveryTime nor StartLoggingTime%s; read it with %s", name, where, statusCmd),
		})
	}
	h.Healthy = len(out) == 0
	if !t.LogFileValidationEnabled {
		out = append(out, deliveryFinding{
			problem: "log file validation is off",
			warning: fmt.Sprintf("trail %s has log file validation off: changed or deleted log files would go unnoticed (CIS 3.2)%s; turn it on with aws cloudtrail update-trail --name %s --enable-log-file-validation --region %s",
				name, where, ref, ShellQuote(homeOf(t))),
		})
	}
	for _, f := range out {
		if f.unknown && !opts.RequireDelivery {
			continue
		}
		h.Warnings = append(h.Warnings, f.warning)
	}
	return h, out
}

// loggingSince is when the trail started logging: StartLoggingTime, or the
// string TimeLoggingStarted when only that was given.
func loggingSince(s *TrailStatus) *time.Time {
	if s.StartLoggingTime != nil {
		return s.StartLoggingTime
	}
	if s.TimeLoggingStarted != "" {
		if t, err := time.Parse(time.RFC3339, s.TimeLoggingStarted); err == nil {
			return &t
		}
	}
	return nil
}

// orgNote says, for an organization trail, that its status is as this
// account read it and that only the owner can change it.
func orgNote(t Trail) string {
	if !t.IsOrganizationTrail {
		return ""
	}
	owner := t.OwnerAccount()
	if owner == "" {
		return " (organization trail: only the organization's management account can change it)"
	}
	return " (organization trail of account " + owner + ": run the fix there)"
}

// keyPolicyCheck points at the KMS key policy when the trail encrypts its
// log files; else at the bucket's own default encryption key, which
// CloudTrail must be allowed to use too.
func keyPolicyCheck(t Trail) string {
	if t.KMSKeyID == "" {
		return ", and the KMS key policy if the bucket's default encryption uses a customer managed key"
	}
	region := ARNRegion(t.KMSKeyID)
	if region == "" {
		region = homeOf(t)
	}
	return fmt.Sprintf(", and that the key policy of %s lets cloudtrail.amazonaws.com kms:GenerateDataKey* (aws kms get-key-policy --key-id %s --policy-name default --region %s)",
		t.KMSKeyID, ShellQuote(t.KMSKeyID), ShellQuote(region))
}

func bucketPolicyCmd(bucket string) string {
	if bucket == "" {
		return "the trail names no bucket: aws cloudtrail get-trail"
	}
	return "aws s3api get-bucket-policy --bucket " + ShellQuote(bucket)
}

// trailCLIRef is how a command names the trail: its ARN (a member account
// asking by name for an organization trail is refused), else its name.
func trailCLIRef(t Trail) string {
	if t.ARN != "" {
		return ShellQuote(t.ARN)
	}
	return ShellQuote(t.Name)
}

func trailName(t Trail) string {
	if t.Name != "" {
		return t.Name
	}
	return t.ARN
}

func homeOf(t Trail) string {
	if t.HomeRegion != "" {
		return t.HomeRegion
	}
	if r := ARNRegion(t.ARN); r != "" {
		return r
	}
	return "<home-region>"
}

func stamp(t time.Time) string {
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

// FormatAge writes a duration the way people say an age: "3d4h", "5h20m",
// "12m"; "0m" under a minute.
func FormatAge(d time.Duration) string {
	d = d.Truncate(time.Minute)
	days := d / (24 * time.Hour)
	hours := (d % (24 * time.Hour)) / time.Hour
	mins := (d % time.Hour) / time.Minute
	switch {
	case days > 0 && hours > 0:
		return fmt.Sprintf("%dd%dh", days, hours)
	case days > 0:
		return fmt.Sprintf("%dd", days)
	case hours > 0 && mins > 0:
		return fmt.Sprintf("%dh%dm", hours, mins)
	case hours > 0:
		return fmt.Sprintf("%dh", hours)
	}
	return fmt.Sprintf("%dm", mins)
}

// shellSafe are the characters a POSIX shell takes literally in a word.
var shellSafe = regexp.MustCompile(`^[A-Za-z0-9@%+=:,./_-]+$`)

// ShellQuote returns s as one word a POSIX shell reads back unchanged:
// as is when every character is literal, else in single quotes. A fix
// command carries names read from AWS or from evidence (bucket, trail,
// key), which may be hostile: pasted into a shell, they must stay data.
// Hand-written: the rule is three lines, and no module for it is among
// the project's dependencies.
func ShellQuote(s string) string {
	if shellSafe.MatchString(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
