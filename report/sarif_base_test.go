package report

import (
	"path/filepath"
	"testing"

	"github.com/owenrumney/go-sarif/v2/sarif"

	"github.com/trailguard/trailguard"
)

// Code scanning maps a SARIF result to a repository file only by a URI
// relative to the repository root: with a base, files under it are
// relative (percent-encoded, %SRCROOT%), files outside it absolute file://
// URIs; without one, paths are as given.
func TestSARIF_uri_base(t *testing.T) {
	root := t.TempDir()
	outside := t.TempDir()
	tests := []struct {
		name    string
		base    string
		file    string
		wantURI string
		wantID  string // uriBaseId
	}{
		{"absolute_path_under_the_base_is_relative", root, filepath.Join(root, "infra", "main.tf"), "infra/main.tf", "%SRCROOT%"},
		{"space_and_percent_are_encoded", root, filepath.Join(root, "my infra", "100%.tf"), "my%20infra/100%25.tf", "%SRCROOT%"},
		{"colon_in_first_segment_is_not_a_scheme", root, filepath.Join(root, "c:main.tf"), "./c:main.tf", "%SRCROOT%"},
		{"file_outside_the_base_is_an_absolute_file_uri", root, filepath.Join(outside, "x.tf"), "file://" + filepath.ToSlash(filepath.Join(outside, "x.tf")), ""},
		{"base_itself_is_not_a_prefix_of_a_sibling", root, root + "-sibling/x.tf", "file://" + filepath.ToSlash(root+"-sibling/x.tf"), ""},
		{"no_base_keeps_the_path_as_given", "", "infra/main.tf", "infra/main.tf", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep := New("test", Scan{Source: "iac"}, []trailguard.Result{{Status: trailguard.StatusFail, File: tt.file, Line: 3, Resource: "aws_cloudtrail.t", Reasons: []string{"x"}}}, nil)
			w, err := ForFormat("sarif", Style{SARIFBase: tt.base})
			if err != nil {
				t.Fatal(err)
			}
			doc, err := sarif.FromBytes(render(t, w, rep))
			if err != nil {
				t.Fatal(err)
			}
			run := doc.Runs[0]
			loc := run.Results[0].Locations[0].PhysicalLocation.ArtifactLocation
			if got := *loc.URI; got != tt.wantURI {
				t.Errorf("uri %q, want %q", got, tt.wantURI)
			}
			id := ""
			if loc.URIBaseId != nil {
				id = *loc.URIBaseId
			}
			if id != tt.wantID {
				t.Errorf("uriBaseId %q, want %q", id, tt.wantID)
			}
			if tt.base != "" {
				b := run.OriginalUriBaseIDs["%SRCROOT%"]
				if b == nil || *b.URI != "file://"+filepath.ToSlash(tt.base)+"/" {
					t.Errorf("originalUriBaseIds %+v", run.OriginalUriBaseIDs)
				}
			} else if len(run.OriginalUriBaseIDs) != 0 {
				t.Errorf("originalUriBaseIds without a base: %+v", run.OriginalUriBaseIDs)
			}
		})
	}
}
