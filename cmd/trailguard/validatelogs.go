package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"regexp"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/spf13/cobra"

	"github.com/trailguard/trailguard"
	tgaws "github.com/trailguard/trailguard/aws"
	"github.com/trailguard/trailguard/evidence"
	"github.com/trailguard/trailguard/logintegrity"
	"github.com/trailguard/trailguard/report"
)

// validateLogsFlags are the flags of validate-logs.
type validateLogsFlags struct {
	aws        awsFlags
	trailARN   string
	org        bool
	accountIDs []string
	start, end string
	format     string
	output     string
	workers    int
}

func newValidateLogsCmd() *cobra.Command {
	vf := validateLogsFlags{aws: awsFlags{regionUsage: "region to ask DescribeTrails in when no --trail-arn is given (default: AWS_REGION, profile, or " + tgaws.DefaultRegion + ")"}}
	cmd := &cobra.Command{
		Use:   "validate-logs",
		Short: "Prove that a trail's log files are the ones CloudTrail delivered (digest chain, signatures, hashes)",
		Long: `validate-logs checks CloudTrail log file integrity as 'aws cloudtrail validate-logs'
does, for every region of a trail in one run: it walks the signed hourly digest
files newest first, verifies each signature with the region's public key
(CloudTrail ListPublicKeys), and compares every log file a valid digest lists
with the SHA-256 it records. Log files are read concurrently and hashed while
they stream.

Without --trail-arn it checks every logging trail the account's scan finds
(DescribeTrails); with --org only organization trails, under the organization's
o-… path; an organization trail is checked for the account(s) --account-id
names (default: the caller's account, so a member checks its own logs).

Each file is valid or INVALID: not found (deleted or moved), hash does not
match (edited), invalid signature, invalid format, moved, public key not
found, or a broken chain. "No log files were delivered between X and Y" marks
a gap in the chain (logging or validation was off) and is not invalid.

Exit codes: 0 every digest and log file valid; 1 anything INVALID; 2 something
could not be checked (log file validation off, no digests in the range, the
bucket or ListPublicKeys denied: the message names the permission) or a usage
error.

Permissions: cloudtrail:DescribeTrails, cloudtrail:ListPublicKeys,
s3:ListBucket and s3:GetObject on the trail's bucket; ec2:DescribeRegions for
a multi-region trail's regions; organizations:DescribeOrganization for an
organization trail.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runValidateLogs(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), vf, time.Now())
		},
	}
	f := cmd.Flags()
	vf.aws.register(f)
	f.StringVar(&vf.trailARN, "trail-arn", "", "check this trail only (`ARN`: arn:aws:cloudtrail:<home-region>:<account>:trail/<name>)")
	f.BoolVar(&vf.org, "org", false, "check organization trails only, under the organization's o-… path")
	f.StringSliceVar(&vf.accountIDs, "account-id", nil, "whose logs to check (`IDS`, comma-separated; default: for an organization trail the caller's account, else the trail's)")
	f.StringVar(&vf.start, "start-time", "", "check log files delivered from this UTC `TIME` (RFC 3339, e.g. 2026-01-08T05:21:42Z; default: 24 hours before --end-time)")
	f.StringVar(&vf.end, "end-time", "", "check log files delivered up to this UTC `TIME` (default: now)")
	f.StringVarP(&vf.format, "format", "f", "text", "output format: text or json")
	f.StringVarP(&vf.output, "output", "o", "", "write the report to `FILE` instead of standard output")
	f.IntVar(&vf.workers, "concurrency", 32, "log files read and hashed at once")
	return cmd
}

var trailARNPattern = regexp.MustCompile(`^arn:[a-z0-9-]+:cloudtrail:([a-z0-9-]+):(\d{12}):trail/([A-Za-z0-9._-]{3,128})$`)

// parseTimeFlag reads an RFC 3339 time, or a date (midnight UTC).
func parseTimeFlag(name, s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, usageErr("%s %q is not a time: use RFC 3339 UTC, e.g. 2026-01-08T05:21:42Z", name, s)
}

func (vf *validateLogsFlags) times(now time.Time) (start, end time.Time, err error) {
	end = now.UTC().Truncate(time.Second)
	if vf.end != "" {
		if end, err = parseTimeFlag("--end-time", vf.end); err != nil {
			return
		}
	}
	start = end.Add(-24 * time.Hour)
	if vf.start != "" {
		if start, err = parseTimeFlag("--start-time", vf.start); err != nil {
			return
		}
	}
	if start.After(end) {
		err = usageErr("--start-time %s is after --end-time %s", start.Format(time.RFC3339), end.Format(time.RFC3339))
	}
	return
}

func (vf *validateLogsFlags) validate() error {
	if err := vf.aws.validate(); err != nil {
		return err
	}
	if vf.format != "text" && vf.format != "json" {
		return usageErr("--format must be text or json, not %q", vf.format)
	}
	if vf.trailARN != "" && !trailARNPattern.MatchString(vf.trailARN) {
		return usageErr("--trail-arn %q is not a trail ARN (arn:aws:cloudtrail:<region>:<account>:trail/<name>)", vf.trailARN)
	}
	for _, id := range vf.accountIDs {
		if !evidence.IsAccountID(id) {
			return usageErr("--account-id %q is not an account id (12 digits)", id)
		}
	}
	if vf.workers < 1 || vf.workers > 1024 {
		return usageErr("--concurrency must be between 1 and 1024")
	}
	return nil
}

// logIntegrityReport is the JSON form of validate-logs (see README, "Log
// integrity"); its keys are stable.
type logIntegrityReport struct {
	Tool      map[string]string   `json:"tool"`
	StartTime time.Time           `json:"start_time"`
	EndTime   time.Time           `json:"end_time"`
	Trails    []trailIntegrity    `json:"trails"`
	Summary   logIntegritySummary `json:"summary"`
	exit      int
}

type trailIntegrity struct {
	Trail          string                      `json:"trail"`
	Account        string                      `json:"account"`
	Bucket         string                      `json:"bucket,omitempty"`
	Prefix         string                      `json:"prefix,omitempty"`
	OrganizationID string                      `json:"organization_id,omitempty"`
	Error          string                      `json:"error,omitempty"`
	Regions        []logintegrity.RegionReport `json:"regions"`
}

type logIntegritySummary struct {
	Status   string              `json:"status"` // valid, invalid or unchecked
	Digests  logintegrity.Counts `json:"digests"`
	LogFiles logintegrity.Counts `json:"log_files"`
}

// trailTarget is one trail to check and the regions and accounts it covers.
type trailTarget struct {
	trail    trailguard.Trail
	regions  []string
	accounts []string
	orgID    string
	err      string
}

func runValidateLogs(ctx context.Context, stdout, stderr io.Writer, vf validateLogsFlags, now time.Time) error {
	if err := vf.validate(); err != nil {
		return err
	}
	start, end, err := vf.times(now)
	if err != nil {
		return err
	}
	if vf.output != "" {
		if err := checkWritableFile(vf.output); err != nil {
			return usageErr("--output: %v", err)
		}
	}
	vf.aws.opts.Warn = func(msg string) { fmt.Fprintln(stderr, "trailguard: warning:", msg) }
	cfg, err := tgaws.LoadConfig(ctx, vf.aws.opts, nil)
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	targets, err := findTrails(ctx, cfg, vf)
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	rep := checkTrails(ctx, cfg, targets, start, end, vf.workers)
	var w io.Writer = stdout
	var file *os.File
	if vf.output != "" {
		if file, err = os.Create(vf.output); err != nil {
			return &exitError{code: 2, err: fmt.Errorf("write report: %w", err)}
		}
		w = file
	}
	if vf.format == "json" {
		err = writeIntegrityJSON(w, rep)
	} else {
		err = writeIntegrityText(w, rep)
	}
	if file != nil {
		if cerr := file.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		return &exitError{code: 2, err: fmt.Errorf("write report: %w", err)}
	}
	if rep.exit != 0 {
		return &exitError{code: rep.exit}
	}
	return nil
}

// findTrails resolves which trails to check: the one --trail-arn names, or
// every logging trail the scan of the account finds (organization trails
// only with --org).
func findTrails(ctx context.Context, cfg sdkaws.Config, vf validateLogsFlags) ([]trailTarget, error) {
	var trails []trailguard.Trail
	var regions []trailguard.Region
	var regionsErr string
	if vf.trailARN != "" {
		m := trailARNPattern.FindStringSubmatch(vf.trailARN)
		c := cfg.Copy()
		c.Region = m[1]
		out, err := cloudtrail.NewFromConfig(c).DescribeTrails(ctx, &cloudtrail.DescribeTrailsInput{
			TrailNameList: []string{vf.trailARN}, IncludeShadowTrails: sdkaws.Bool(true)})
		if err != nil {
			return nil, fmt.Errorf("cloudtrail:DescribeTrails in %s for %s: %w (grant cloudtrail:DescribeTrails to the caller)", m[1], vf.trailARN, err)
		}
		for _, t := range out.TrailList {
			if sdkaws.ToString(t.TrailARN) == vf.trailARN {
				trails = append(trails, trailguard.Trail{
					Name: sdkaws.ToString(t.Name), ARN: vf.trailARN, HomeRegion: sdkaws.ToString(t.HomeRegion),
					IsMultiRegion: sdkaws.ToBool(t.IsMultiRegionTrail), IsOrganizationTrail: sdkaws.ToBool(t.IsOrganizationTrail),
					LogFileValidationEnabled: sdkaws.ToBool(t.LogFileValidationEnabled),
					S3BucketName:             sdkaws.ToString(t.S3BucketName), S3KeyPrefix: sdkaws.ToString(t.S3KeyPrefix),
				})
				break
			}
		}
		if len(trails) == 0 {
			return nil, fmt.Errorf("cloudtrail:DescribeTrails in %s does not show trail %s: check the ARN, and that the caller's account is the trail's or, for an organization trail, a member", m[1], vf.trailARN)
		}
		if trails[0].IsMultiRegion {
			rs, err := tgaws.DescribeRegions(ctx, cfg)
			if err != nil {
				regionsErr = fmt.Sprintf("ec2:DescribeRegions: %v (grant ec2:DescribeRegions: a multi-region trail's regions are the account's enabled regions)", err)
			}
			regions = rs
		}
	} else {
		out, err := tgaws.Scan(ctx, cfg, tgaws.ScanOptions{})
		if err != nil {
			return nil, err
		}
		if len(out.Accounts) == 0 {
			return nil, fmt.Errorf("the scan read no account")
		}
		acct := out.Accounts[0]
		if acct.Error != "" {
			return nil, fmt.Errorf("account %s: %s", acct.ID, acct.Error)
		}
		regions, regionsErr = acct.Regions, acct.RegionsError
		for _, t := range acct.Trails {
			if vf.org && !t.IsOrganizationTrail {
				continue
			}
			// A trail known to be stopped has no new digests to prove;
			// one whose status could not be read is checked all the same.
			if t.Status != nil && !t.Status.IsLogging {
				continue
			}
			trails = append(trails, t)
		}
		if len(trails) == 0 {
			what := "logging trail"
			if vf.org {
				what = "logging organization trail"
			}
			return nil, fmt.Errorf("account %s has no %s to check (trailguard scan says why; trailguard fix creates one)", acct.ID, what)
		}
	}
	var enabled []string
	for _, r := range regions {
		if r.Enabled() {
			enabled = append(enabled, r.Name)
		}
	}
	sort.Strings(enabled)
	var orgID, orgErr string
	var out []trailTarget
	var caller, callerErr string
	for _, t := range trails {
		tt := trailTarget{trail: t, accounts: vf.accountIDs}
		if len(tt.accounts) == 0 {
			tt.accounts = []string{t.OwnerAccount()}
			// An organization trail holds every member's logs: a
			// member means its own, as the management account does.
			if t.IsOrganizationTrail {
				if caller == "" && callerErr == "" {
					out, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
					if err != nil {
						callerErr = fmt.Sprintf("sts:GetCallerIdentity: %v (give --account-id to say whose logs to check)", err)
					} else {
						caller = sdkaws.ToString(out.Account)
					}
				}
				if caller != "" {
					tt.accounts = []string{caller}
				} else {
					tt.err = callerErr
				}
			}
		}
		if vf.org && !t.IsOrganizationTrail && tt.err == "" {
			tt.err = "--org checks organization trails, and this trail is not one: leave out --org"
		}
		switch {
		case !t.IsMultiRegion:
			tt.regions = []string{t.HomeRegion}
		case len(enabled) == 0:
			tt.err = "the regions of this multi-region trail could not be listed: " + regionsErr
		default:
			tt.regions = enabled
		}
		if t.IsOrganizationTrail && tt.err == "" {
			if orgID == "" && orgErr == "" {
				id, _, err := tgaws.Organization(ctx, cfg)
				if err != nil {
					orgErr = fmt.Sprintf("organizations:DescribeOrganization: %v (an organization trail's logs lie under the organization's id: grant organizations:DescribeOrganization)", err)
				}
				orgID = id
			}
			tt.orgID, tt.err = orgID, orgErr
		}
		if !t.LogFileValidationEnabled && tt.err == "" {
			tt.err = fmt.Sprintf("log file validation is off for this trail: CloudTrail writes no digests, so its log files cannot be proven (CIS 3.2). Turn it on with 'trailguard fix --log-file-validation --apply' or 'aws cloudtrail update-trail --name %s --enable-log-file-validation'", t.ARN)
		}
		if t.S3BucketName == "" && tt.err == "" {
			tt.err = "the trail names no S3 bucket"
		}
		out = append(out, tt)
	}
	return out, nil
}

// checkTrails validates every chain of every trail in one run, so that the
// log file readers are shared across trails and regions.
func checkTrails(ctx context.Context, cfg sdkaws.Config, targets []trailTarget, start, end time.Time, workers int) *logIntegrityReport {
	rep := &logIntegrityReport{Tool: map[string]string{"name": "trailguard", "version": toolVersion()}, StartTime: start, EndTime: end, Trails: []trailIntegrity{}}
	type slot struct{ trail, n int }
	var chains []logintegrity.Chain
	var slots []slot
	for _, tt := range targets {
		for _, acct := range tt.accounts {
			ti := trailIntegrity{Trail: tt.trail.ARN, Account: acct, Bucket: tt.trail.S3BucketName, Prefix: tt.trail.S3KeyPrefix,
				OrganizationID: tt.orgID, Error: tt.err, Regions: []logintegrity.RegionReport{}}
			rep.Trails = append(rep.Trails, ti)
			if tt.err != "" {
				continue
			}
			for _, r := range tt.regions {
				chains = append(chains, logintegrity.Chain{Bucket: tt.trail.S3BucketName, Prefix: strings.TrimSuffix(tt.trail.S3KeyPrefix, "/"),
					OrgID: tt.orgID, Account: acct, Region: r, HomeRegion: tt.trail.HomeRegion, TrailName: tt.trail.Name})
				slots = append(slots, slot{trail: len(rep.Trails) - 1})
			}
		}
	}
	results := logintegrity.Validate(ctx, logintegrity.NewS3Store(cfg), logintegrity.NewCloudTrailKeys(cfg), chains, logintegrity.Options{
		Start: start, End: end, Workers: workers})
	for i, r := range results {
		t := &rep.Trails[slots[i].trail]
		t.Regions = append(t.Regions, r)
	}
	invalid, unchecked := false, false
	for _, t := range rep.Trails {
		if t.Error != "" {
			unchecked = true
		}
		for _, r := range t.Regions {
			add(&rep.Summary.Digests, r.Digests)
			add(&rep.Summary.LogFiles, r.LogFiles)
			invalid = invalid || r.Invalid()
			unchecked = unchecked || r.Unchecked()
		}
	}
	switch {
	case invalid:
		rep.Summary.Status, rep.exit = "invalid", 1
	case unchecked:
		rep.Summary.Status, rep.exit = "unchecked", 2
	default:
		rep.Summary.Status = "valid"
	}
	return rep
}

func add(dst *logintegrity.Counts, c logintegrity.Counts) {
	dst.Checked += c.Checked
	dst.Valid += c.Valid
	dst.Invalid += c.Invalid
	dst.Unreadable += c.Unreadable
}

// writeIntegrityJSON writes the report with every character a terminal
// would obey (in keys and details read from S3) as a JSON \u escape.
func writeIntegrityJSON(w io.Writer, rep *logIntegrityReport) error {
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(report.JSONTerminalSafe(b), '\n'))
	return err
}

// maxUnreadShown is how many unreadable files of a region the text names.
const maxUnreadShown = 3

var objectNames = map[string]string{
	logintegrity.ObjectDigest: "Digest file", logintegrity.ObjectBackfillDigest: "(backfill) Digest file", logintegrity.ObjectLogFile: "Log file",
}

// writeIntegrityText prints the problems first, file by file, then a
// summary per trail and region. Every name and detail comes from S3 or a
// digest and is escaped.
func writeIntegrityText(w io.Writer, rep *logIntegrityReport) error {
	e := report.Escape
	var b strings.Builder
	fmt.Fprintf(&b, "Log file integrity from %s to %s\n\n", rep.StartTime.Format(time.RFC3339), rep.EndTime.Format(time.RFC3339))
	problems := 0
	for _, t := range rep.Trails {
		if t.Error != "" {
			fmt.Fprintf(&b, "%s (account %s)\tNOT CHECKED: %s\n", e(t.Trail), e(t.Account), e(t.Error))
			problems++
		}
		for _, r := range t.Regions {
			if r.Error != "" {
				fmt.Fprintf(&b, "%s %s\tNOT CHECKED: %s\n", e(t.Trail), e(r.Region), e(r.Error))
				problems++
			}
			unread := 0
			for _, p := range r.Problems {
				// A denied bucket makes every file unreadable for one
				// reason: the first few say it, the rest are counted.
				if p.Kind == logintegrity.KindUnreadable {
					if unread++; unread > maxUnreadShown {
						continue
					}
				}
				status := "INVALID: "
				switch p.Kind {
				case logintegrity.KindGap:
					status = ""
				case logintegrity.KindUnreadable, logintegrity.KindNoDigests:
					status = "NOT CHECKED: "
				}
				if p.Kind == logintegrity.KindGap {
					fmt.Fprintf(&b, "[%s] %s\n", e(r.Region), e(p.Detail))
				} else {
					fmt.Fprintf(&b, "[%s] %s\t%s\t%s%s\n", e(r.Region), objectNames[p.Object], e(p.File), status, e(p.Detail))
				}
				problems++
			}
			if unread > maxUnreadShown {
				fmt.Fprintf(&b, "[%s] … and %d more files not read (the JSON report lists them)\n", e(r.Region), unread-maxUnreadShown)
			}
			if r.ProblemsOmitted > 0 {
				fmt.Fprintf(&b, "[%s] … and %d more problems (the JSON report counts them)\n", e(r.Region), r.ProblemsOmitted)
			}
		}
	}
	if problems > 0 {
		b.WriteString("\n")
	}
	tw := tabwriter.NewWriter(&b, 2, 4, 2, ' ', 0)
	for _, t := range rep.Trails {
		fmt.Fprintf(&b, "Trail %s, account %s, bucket %s\n", e(t.Trail), e(t.Account), e(t.Bucket))
		if len(t.Regions) == 0 {
			b.WriteString("  not checked\n\n")
			continue
		}
		fmt.Fprintln(tw, "  REGION\tDIGESTS\tVALID\tINVALID\tLOG FILES\tVALID\tINVALID\tNOT READ\t")
		for _, r := range t.Regions {
			fmt.Fprintf(tw, "  %s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t\n", e(r.Region), r.Digests.Checked, r.Digests.Valid, r.Digests.Invalid,
				r.LogFiles.Checked, r.LogFiles.Valid, r.LogFiles.Invalid, r.Digests.Unreadable+r.LogFiles.Unreadable)
		}
		tw.Flush()
		b.WriteString("\n")
	}
	s := rep.Summary
	fmt.Fprintf(&b, "%d/%d digest files valid, %d/%d log files valid: ", s.Digests.Valid, s.Digests.Checked, s.LogFiles.Valid, s.LogFiles.Checked)
	switch s.Status {
	case "invalid":
		b.WriteString("INVALID files found\n")
	case "unchecked":
		b.WriteString("some logs could NOT be checked\n")
	default:
		b.WriteString("all valid\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// validateLogsStatements are what validate-logs needs beyond a scan's
// reads (DescribeTrails, DescribeRegions): the public keys, the
// organization's id for an organization trail's path, and the bucket.
func validateLogsStatements(bucket string) []iamStatement {
	return []iamStatement{
		{Sid: "TrailguardValidateLogsKeys", Effect: "Allow", Action: []string{"cloudtrail:ListPublicKeys", "organizations:DescribeOrganization"}, Resource: "*"},
		{Sid: "TrailguardValidateLogsListBucket", Effect: "Allow", Action: []string{"s3:ListBucket"}, Resource: "arn:aws:s3:::" + bucket},
		{Sid: "TrailguardValidateLogsReadObjects", Effect: "Allow", Action: []string{"s3:GetObject"}, Resource: "arn:aws:s3:::" + bucket + "/*"},
	}
}
