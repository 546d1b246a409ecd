package report

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	shtypes "github.com/aws/aws-sdk-go-v2/service/securityhub/types"

	"github.com/trailguard/trailguard"
)

// ASFF writes AWS Security Finding Format findings, one per account
// result, as a JSON array ready for Security Hub BatchImportFindings.
// IaC results are not account findings and are left out.
type ASFF struct{}

// asffType is the finding type Security Hub's own CIS checks use.
const asffType = "Software and Configuration Checks/Industry and Regulatory Standards/CIS AWS Foundations Benchmark"

// Findings builds the Security Hub findings of a report. Ids are stable
// (control and account), so a later scan's import updates the finding
// instead of adding another. Findings are filed in the report's region
// (us-east-1 when it has none).
func Findings(r *Report) []shtypes.AwsSecurityFinding {
	region := r.Scan.Region
	if region == "" {
		region = "us-east-1"
	}
	when := r.Scan.StartedAt
	if when.IsZero() {
		when = time.Now()
	}
	ts := when.UTC().Format(time.RFC3339)
	var out []shtypes.AwsSecurityFinding
	for _, res := range r.Results {
		if res.Account == "" || res.File != "" {
			continue
		}
		status := res.Status
		if status == trailguard.StatusMuted {
			status = res.Underlying
		}
		label := asffSeverity(status)
		title := r.Control.Title
		if len(title) > 256 {
			title = title[:256]
		}
		f := shtypes.AwsSecurityFinding{
			SchemaVersion: sdkaws.String("2018-10-08"),
			Id:            sdkaws.String(fmt.Sprintf("trailguard/%s/%s", r.Control.ID, res.Account)),
			ProductArn:    sdkaws.String(fmt.Sprintf("arn:aws:securityhub:%s:%s:product/%s/default", region, res.Account, res.Account)),
			ProductName:   sdkaws.String("trailguard"),
			CompanyName:   sdkaws.String("trailguard"),
			GeneratorId:   sdkaws.String("trailguard-" + SARIFRuleID),
			AwsAccountId:  sdkaws.String(res.Account),
			Region:        sdkaws.String(region),
			Types:         []string{asffType},
			CreatedAt:     sdkaws.String(ts),
			UpdatedAt:     sdkaws.String(ts),
			Severity:      &shtypes.Severity{Label: label, Original: sdkaws.String(string(res.Status))},
			Title:         sdkaws.String(title),
			Description:   sdkaws.String(clip(asffDescription(res), 1024)),
			Remediation: &shtypes.Remediation{Recommendation: &shtypes.Recommendation{
				Text: sdkaws.String(clip("Make one multi-region trail log and record all management events, read and write: 'trailguard explain' says how and why.", 512)),
			}},
			Compliance: &shtypes.Compliance{
				Status:              asffCompliance(status),
				RelatedRequirements: []string{"CIS AWS Foundations Benchmark v3.0.0/3.1"},
			},
			FindingProviderFields: &shtypes.FindingProviderFields{
				Severity: &shtypes.FindingProviderSeverity{Label: label, Original: sdkaws.String(string(res.Status))},
				Types:    []string{asffType},
			},
			Resources: []shtypes.Resource{{
				Type: sdkaws.String("AwsAccount"), Id: sdkaws.String("AWS::::Account:" + res.Account),
				Partition: shtypes.PartitionAws, Region: sdkaws.String(region),
			}},
			RecordState: shtypes.RecordStateActive,
			Workflow:    &shtypes.Workflow{Status: shtypes.WorkflowStatusNew},
		}
		if res.AccountName != "" {
			f.AwsAccountName = sdkaws.String(res.AccountName)
		}
		if res.Status == trailguard.StatusPass {
			f.Workflow.Status = shtypes.WorkflowStatusResolved
		}
		if res.Status == trailguard.StatusMuted {
			f.Workflow.Status = shtypes.WorkflowStatusSuppressed
			f.Note = &shtypes.Note{Text: sdkaws.String(clip(res.MuteReason, 512)), UpdatedBy: sdkaws.String("trailguard"), UpdatedAt: sdkaws.String(ts)}
		}
		if res.CoveringTrail != "" {
			f.Resources = append(f.Resources, shtypes.Resource{
				Type: sdkaws.String("AwsCloudTrailTrail"), Id: sdkaws.String(res.CoveringTrail),
				Partition: shtypes.PartitionAws, Region: sdkaws.String(trailguard.ARNRegion(res.CoveringTrail)),
			})
		}
		if u := res.UnestablishedRegions(); len(u) > 0 {
			f.ProductFields = map[string]string{"trailguard/UnestablishedRegions": strings.Join(u, ",")}
		} else if uncovered := res.UncoveredRegions(); len(uncovered) > 0 && res.CoverageEstablished() {
			f.ProductFields = map[string]string{"trailguard/UncoveredRegions": strings.Join(uncovered, ",")}
		}
		out = append(out, f)
	}
	return out
}

func asffSeverity(s trailguard.Status) shtypes.SeverityLabel {
	switch s {
	case trailguard.StatusPass:
		return shtypes.SeverityLabelInformational
	case trailguard.StatusFail:
		return shtypes.SeverityLabelHigh
	}
	return shtypes.SeverityLabelMedium
}

// asffCompliance maps a status: UNKNOWN is WARNING (data missing), ERROR is
// NOT_AVAILABLE (the account could not be checked).
func asffCompliance(s trailguard.Status) shtypes.ComplianceStatus {
	switch s {
	case trailguard.StatusPass:
		return shtypes.ComplianceStatusPassed
	case trailguard.StatusFail:
		return shtypes.ComplianceStatusFailed
	case trailguard.StatusUnknown:
		return shtypes.ComplianceStatusWarning
	}
	return shtypes.ComplianceStatusNotAvailable
}

func asffDescription(r trailguard.Result) string {
	parts := []string{string(r.Status) + ": " + explanation(r)}
	parts = append(parts, r.Warnings...)
	if c := coverage(r); c != "" {
		parts = append(parts, c)
	}
	return strings.Join(parts, " | ")
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-3] + "..."
}

// Write implements Writer.
func (ASFF) Write(w io.Writer, r *Report) error {
	findings := Findings(r)
	if findings == nil {
		findings = []shtypes.AwsSecurityFinding{}
	}
	// The SDK types carry no JSON tags: their field names are ASFF's, but
	// every unset field would be written as null or "". Security Hub (and
	// people) read the findings better without them.
	b, err := json.Marshal(findings)
	if err != nil {
		return err
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	return encodeJSON(w, prune(v, true))
}

// prune drops null members from decoded JSON objects and, with empty, also
// empty strings and the objects and arrays left empty; arrays keep their
// elements' places. The SDK types and the SARIF library write unset fields
// as null or "", which Security Hub and the SARIF schema read as values.
func prune(v any, empty bool) any {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			e = prune(e, empty)
			if e == nil || (empty && isEmpty(e)) {
				delete(t, k)
				continue
			}
			t[k] = e
		}
		return t
	case []any:
		for i, e := range t {
			t[i] = prune(e, empty)
		}
		return t
	}
	return v
}

func isEmpty(v any) bool {
	switch t := v.(type) {
	case string:
		return t == ""
	case map[string]any:
		return len(t) == 0
	case []any:
		return len(t) == 0
	}
	return false
}
