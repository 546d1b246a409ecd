package report

import (
	"io"
	"strings"
	"time"

	"github.com/trailguard/trailguard"
)

// OCSF writes Open Cybersecurity Schema Framework Compliance Finding
// events (class 2003, schema 1.3.0), one per result, as a JSON array for
// SIEMs and security lakes.
type OCSF struct{}

// OCSF identifiers of a Compliance Finding (Findings category).
const (
	ocsfVersion     = "1.3.0"
	ocsfCategoryUID = 2    // Findings
	ocsfClassUID    = 2003 // Compliance Finding
	ocsfActivity    = 1    // Create
)

type ocsfEvent struct {
	ActivityID   int            `json:"activity_id"`
	ActivityName string         `json:"activity_name"`
	CategoryUID  int            `json:"category_uid"`
	CategoryName string         `json:"category_name"`
	ClassUID     int            `json:"class_uid"`
	ClassName    string         `json:"class_name"`
	TypeUID      int            `json:"type_uid"`
	TypeName     string         `json:"type_name"`
	Time         int64          `json:"time"`
	SeverityID   int            `json:"severity_id"`
	Severity     string         `json:"severity"`
	StatusID     int            `json:"status_id"`
	Status       string         `json:"status"`
	Message      string         `json:"message"`
	Metadata     ocsfMetadata   `json:"metadata"`
	FindingInfo  ocsfFinding    `json:"finding_info"`
	Compliance   ocsfCompliance `json:"compliance"`
	Resources    []ocsfResource `json:"resources,omitempty"`
	Cloud        *ocsfCloud     `json:"cloud,omitempty"`
	Unmapped     map[string]any `json:"unmapped,omitempty"`
}

type ocsfMetadata struct {
	Version string      `json:"version"`
	Product ocsfProduct `json:"product"`
}

type ocsfProduct struct {
	Name       string `json:"name"`
	VendorName string `json:"vendor_name"`
	Version    string `json:"version"`
}

type ocsfFinding struct {
	UID   string   `json:"uid"`
	Title string   `json:"title"`
	Desc  string   `json:"desc,omitempty"`
	Types []string `json:"types,omitempty"`
}

type ocsfCompliance struct {
	Standards    []string `json:"standards"`
	Requirements []string `json:"requirements"`
	Control      string   `json:"control"`
	StatusID     int      `json:"status_id"`
	Status       string   `json:"status"`
	StatusDetail string   `json:"status_detail,omitempty"`
}

type ocsfResource struct {
	Type      string `json:"type"`
	UID       string `json:"uid"`
	Name      string `json:"name,omitempty"`
	Region    string `json:"region,omitempty"`
	Partition string `json:"cloud_partition,omitempty"`
}

type ocsfCloud struct {
	Provider string      `json:"provider"`
	Region   string      `json:"region,omitempty"`
	Account  ocsfAccount `json:"account"`
}

type ocsfAccount struct {
	UID    string `json:"uid"`
	Name   string `json:"name,omitempty"`
	Type   string `json:"type"`
	TypeID int    `json:"type_id"`
}

// Write implements Writer.
func (OCSF) Write(w io.Writer, r *Report) error {
	when := r.Scan.StartedAt
	if when.IsZero() {
		when = time.Now()
	}
	events := make([]ocsfEvent, 0, len(r.Results))
	for _, res := range r.Results {
		status := res.Status
		if status == trailguard.StatusMuted {
			status = res.Underlying
		}
		sevID, sev := ocsfSeverity(status)
		cStatusID, cStatus := ocsfComplianceStatus(status)
		e := ocsfEvent{
			ActivityID: ocsfActivity, ActivityName: "Create",
			CategoryUID: ocsfCategoryUID, CategoryName: "Findings",
			ClassUID: ocsfClassUID, ClassName: "Compliance Finding",
			TypeUID: ocsfClassUID*100 + ocsfActivity, TypeName: "Compliance Finding: Create",
			Time:       when.UnixMilli(),
			SeverityID: sevID, Severity: sev,
			StatusID: 1, Status: "New",
			Message:  subject(res) + ": " + explanation(res),
			Metadata: ocsfMetadata{Version: ocsfVersion, Product: ocsfProduct{Name: r.Tool.Name, VendorName: "trailguard", Version: r.Tool.Version}},
			FindingInfo: ocsfFinding{
				UID:   "trailguard/" + r.Control.ID + "/" + findingKey(res),
				Title: r.Control.Title,
				Desc:  strings.Join(append(append([]string{}, res.Reasons...), res.Warnings...), "\n"),
				Types: []string{"CIS AWS Foundations Benchmark"},
			},
			Compliance: ocsfCompliance{
				Standards:    []string{"CIS Amazon Web Services Foundations Benchmark v3.0.0"},
				Requirements: []string{"3.1"},
				Control:      "3.1 " + r.Control.Title,
				StatusID:     cStatusID, Status: cStatus,
				StatusDetail: explanation(res),
			},
		}
		if res.Status == trailguard.StatusMuted {
			e.StatusID, e.Status = 3, "Suppressed"
			e.Unmapped = map[string]any{"mute_reason": res.MuteReason}
		}
		if res.File != "" {
			e.Resources = []ocsfResource{{Type: "IaC Resource", UID: res.File + "#" + res.Resource, Name: res.Resource}}
			e.Unmapped = map[string]any{"file": res.File, "line": res.Line}
		} else {
			region := r.Scan.Region
			e.Cloud = &ocsfCloud{Provider: "AWS", Region: region, Account: ocsfAccount{UID: res.Account, Name: res.AccountName, Type: "AWS Account", TypeID: 10}}
			e.Resources = []ocsfResource{{Type: "AWS::::Account", UID: res.Account, Name: res.AccountName, Partition: "aws"}}
			if res.CoveringTrail != "" {
				e.Resources = append(e.Resources, ocsfResource{Type: "AWS::CloudTrail::Trail", UID: res.CoveringTrail,
					Region: trailguard.ARNRegion(res.CoveringTrail), Partition: "aws"})
			}
			if e.Unmapped == nil {
				e.Unmapped = map[string]any{}
			}
			// Regions of an UNKNOWN or ERROR account are not established,
			// never "uncovered" (nor covered).
			e.Unmapped["coverage_established"] = res.CoverageEstablished()
			if u := res.UnestablishedRegions(); len(u) > 0 {
				e.Unmapped["unestablished_regions"] = u
			} else if u := res.UncoveredRegions(); len(u) > 0 && res.CoverageEstablished() {
				e.Unmapped["uncovered_regions"] = u
			}
		}
		events = append(events, e)
	}
	return encodeJSON(w, events)
}

func findingKey(r trailguard.Result) string {
	if r.File != "" {
		return r.File + "#" + r.Resource
	}
	return r.Account
}

// ocsfSeverity: 1 Informational, 3 Medium, 4 High.
func ocsfSeverity(s trailguard.Status) (int, string) {
	switch s {
	case trailguard.StatusPass:
		return 1, "Informational"
	case trailguard.StatusFail:
		return 4, "High"
	}
	return 3, "Medium"
}

// ocsfComplianceStatus: 1 Pass, 2 Warning (data missing), 3 Fail, 0
// Unknown (could not be checked).
func ocsfComplianceStatus(s trailguard.Status) (int, string) {
	switch s {
	case trailguard.StatusPass:
		return 1, "Pass"
	case trailguard.StatusFail:
		return 3, "Fail"
	case trailguard.StatusUnknown:
		return 2, "Warning"
	}
	return 0, "Unknown"
}
