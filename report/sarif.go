package report

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"path/filepath"
	"strings"

	"github.com/owenrumney/go-sarif/v2/sarif"

	"github.com/trailguard/trailguard"
)

// SARIF writes SARIF 2.1.0 for code-scanning tools: one rule (the
// control) and one result per finding — every result but PASS. An IaC
// result points at the attribute that decided it (its file, line and
// column), so that code scanning annotates is_multi_region_trail rather
// than the resource's first line, with the resource as a logical
// location; account results have a logical location (the account). MUTED
// results are reported suppressed, with the reason.
//
// Code scanning maps a result to a file of the repository only by a URI
// relative to the repository root: Base, when set, is that root, and every
// IaC file under it is written relative to it with the uriBaseId
// %SRCROOT% (given in originalUriBaseIds). A file outside Base keeps an
// absolute file:// URI. Without Base, paths are written as given.
type SARIF struct {
	Base string
}

// srcRoot is the uriBaseId of URIs relative to SARIF.Base.
const srcRoot = "%SRCROOT%"

// SARIFRuleID is the rule id in SARIF and the id a source comment names to
// mute a finding (trailguard:ignore cis-aws-3.1 <reason>).
const SARIFRuleID = "cis-aws-3.1"

// securitySeverity is the CVSS-like score code scanning ranks by: a gap in
// the audit trail is high (Security Hub rates CloudTrail.1 HIGH).
const securitySeverity = "7.5"

// Write implements Writer.
func (s SARIF) Write(w io.Writer, r *Report) error {
	doc, err := sarif.New(sarif.Version210, true)
	if err != nil {
		return err
	}
	helpText := trailguard.Explanation()
	run := sarif.NewRunWithInformationURI(r.Tool.Name, "https://github.com/trailguard/trailguard")
	run.Tool.Driver.Version = &r.Tool.Version
	rule := run.AddRule(SARIFRuleID).
		WithName("CloudTrailEnabledInAllRegions").
		WithShortDescription(sarif.NewMultiformatMessageString(r.Control.Title)).
		WithFullDescription(sarif.NewMultiformatMessageString(r.Control.Benchmark + ": at least one multi-region trail that is logging and records all management events, read and write.")).
		WithHelp(&sarif.MultiformatMessageString{Text: &helpText, Markdown: &helpText}).
		WithProperties(sarif.Properties{
			"security-severity": securitySeverity,
			"tags":              []string{"security", "cis-aws", "cloudtrail", "logging"},
			"precision":         "very-high",
		})
	rule.WithDefaultConfiguration(sarif.NewReportingConfiguration().WithLevel("error"))
	base := ""
	if s.Base != "" {
		abs, err := filepath.Abs(s.Base)
		if err != nil {
			return fmt.Errorf("SARIF base %s: %w", s.Base, err)
		}
		base = abs
		run.OriginalUriBaseIDs = map[string]*sarif.ArtifactLocation{srcRoot: sarif.NewSimpleArtifactLocation(fileURI(base) + "/")}
	}
	for _, res := range r.Results {
		if res.Status == trailguard.StatusPass {
			continue
		}
		level := sarifLevel(res.Status)
		if res.Status == trailguard.StatusMuted {
			level = sarifLevel(res.Underlying)
		}
		out := sarif.NewRuleResult(SARIFRuleID).
			WithLevel(level).
			WithMessage(sarif.NewTextMessage(string(res.Status) + ": " + subject(res) + ": " + explanation(res)))
		out.WithRuleIndex(0)
		loc := sarif.NewLocation()
		if res.File != "" {
			loc.WithPhysicalLocation(sarif.NewPhysicalLocation().
				WithArtifactLocation(artifactLocation(base, sarifPlace(res).File)).
				WithRegion(sarifRegion(res)))
			if res.Resource != "" {
				loc.WithLogicalLocations([]*sarif.LogicalLocation{sarif.NewLogicalLocation().WithFullyQualifiedName(res.Resource).WithKind("resource")})
			}
		} else {
			loc.WithLogicalLocations([]*sarif.LogicalLocation{sarif.NewLogicalLocation().
				WithName(res.Account).WithFullyQualifiedName("aws/account/" + res.Account).WithKind("module")})
		}
		out.AddLocation(loc)
		out.WithPartialFingerPrints(map[string]interface{}{"trailguard/v1": fingerprint(res)})
		if res.Status == trailguard.StatusMuted {
			kind := "external" // a mutelist entry
			if res.File != "" {
				kind = "inSource" // a trailguard:ignore comment
			}
			out.AddSuppression(sarif.NewSuppression(kind).WithStatus("accepted").WithJustifcation(res.MuteReason))
		}
		run.AddResult(out)
	}
	doc.AddRun(run)
	// The library writes unset optional fields of some objects (a
	// suppression's guid and location) as null, which the SARIF schema
	// refuses; they are dropped on the way out.
	var buf bytes.Buffer
	if err := doc.Write(&buf); err != nil {
		return err
	}
	var v any
	if err := json.Unmarshal(buf.Bytes(), &v); err != nil {
		return err
	}
	return encodeJSON(w, prune(v, false))
}

// sarifPlace is where a code-scanning tool shows an IaC result: the
// attribute that decided it (is_multi_region_trail, enable_logging, the
// selector block), which may sit in another file than the resource (a
// Terraform override file), else the resource's line.
func sarifPlace(r trailguard.Result) trailguard.Position {
	if d := r.Decided; d != nil && d.File != "" && d.Line > 0 {
		return *d
	}
	return trailguard.Position{File: r.File, Line: r.Line}
}

// artifactLocation is where file is, for code scanning: relative to base
// (with the %SRCROOT% base id) when base is set and holds the file, else
// an absolute file:// URI when base is set, else the path as given.
func artifactLocation(base, file string) *sarif.ArtifactLocation {
	if base == "" {
		return sarif.NewSimpleArtifactLocation(filepath.ToSlash(file))
	}
	abs, err := filepath.Abs(file)
	if err != nil {
		return sarif.NewSimpleArtifactLocation(filepath.ToSlash(file))
	}
	rel, err := filepath.Rel(base, abs)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return sarif.NewSimpleArtifactLocation(fileURI(abs))
	}
	// A relative reference whose first segment holds a colon would read
	// as a scheme: url.URL writes it with a leading "./".
	return sarif.NewSimpleArtifactLocation((&url.URL{Path: filepath.ToSlash(rel)}).String()).WithUriBaseId(srcRoot)
}

// fileURI is the file:// URI of an absolute path, percent-encoded.
func fileURI(abs string) string {
	p := filepath.ToSlash(abs)
	if !strings.HasPrefix(p, "/") {
		p = "/" + p // a Windows drive: file:///C:/...
	}
	return (&url.URL{Scheme: "file", Path: p}).String()
}

// sarifRegion is the region of sarifPlace: its line, and its column when
// known.
func sarifRegion(r trailguard.Result) *sarif.Region {
	p := sarifPlace(r)
	region := sarif.NewRegion().WithStartLine(max(p.Line, 1))
	if p.Column > 0 {
		region.WithStartColumn(p.Column)
	}
	return region
}

func sarifLevel(s trailguard.Status) string {
	if s == trailguard.StatusFail {
		return "error"
	}
	return "warning"
}

// fingerprint identifies a finding across runs: the control and the
// account, or the file and resource address (not the line, which moves
// when code above it changes).
func fingerprint(r trailguard.Result) string {
	key := SARIFRuleID + "|" + r.Account
	if r.File != "" {
		key = SARIFRuleID + "|" + filepath.ToSlash(r.File) + "|" + r.Resource
	}
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:16])
}
