package cloudformation

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/trailguard/trailguard"
)

// TestRead_positions: each trail carries where its deciding properties
// are written, and the verdict points at the one that decided it (the
// logical id when a property's default decides). The adapted trail is
// checked beside the verdict.
func TestRead_positions(t *testing.T) {
	type pos struct{ line, col int }
	cases := []struct {
		name           string
		src            string
		multi, logging bool
		want           map[string]pos // IaCPositions field → line and column; missing: zero
		status         string
		decided        pos
	}{
		{
			name: "logging_false_decides",
			src: `Resources:
  Trail:
    Type: AWS::CloudTrail::Trail
    Properties:
      IsMultiRegionTrail: true
      IsLogging: false
      IncludeGlobalServiceEvents: true
      EventSelectors:
        - ReadWriteType: All
`,
			multi: true, logging: false,
			want:   map[string]pos{"Resource": {2, 3}, "MultiRegion": {5, 7}, "Logging": {6, 7}, "GlobalEvents": {7, 7}, "Selectors": {8, 7}},
			status: "FAIL", decided: pos{6, 7},
		},
		{
			name: "multi_region_left_to_its_default",
			src: `Resources:
  Trail:
    Type: AWS::CloudTrail::Trail
    Properties:
      IsLogging: true
`,
			multi: false, logging: true,
			want:   map[string]pos{"Resource": {2, 3}, "Logging": {5, 7}},
			status: "FAIL", decided: pos{2, 3},
		},
		{
			name: "advanced_selectors_decide",
			src: `Resources:
  Trail:
    Type: AWS::CloudTrail::Trail
    Properties:
      IsLogging: true
      IsMultiRegionTrail: true
      AdvancedEventSelectors:
        - FieldSelectors:
            - {Field: eventCategory, Equals: [Data]}
`,
			multi: true, logging: true,
			want:   map[string]pos{"Resource": {2, 3}, "Logging": {5, 7}, "MultiRegion": {6, 7}, "Selectors": {7, 7}},
			status: "FAIL", decided: pos{7, 7},
		},
		{
			name: "unknown_multi_region_points_at_it",
			src: `Parameters:
  Multi: {Type: String}
Resources:
  Trail:
    Type: AWS::CloudTrail::Trail
    Properties: {IsLogging: true, IsMultiRegionTrail: !Ref Multi}
`,
			multi: false, logging: true,
			want:   map[string]pos{"Resource": {4, 3}, "Logging": {6, 18}, "MultiRegion": {6, 35}},
			status: "UNKNOWN", decided: pos{6, 35},
		},
		{
			name: "properties_chosen_by_a_condition",
			src: `Conditions:
  Yes: !Equals [a, a]
Resources:
  Trail:
    Type: AWS::CloudTrail::Trail
    Properties: !If
      - Yes
      - IsLogging: true
        IsMultiRegionTrail: false
      - IsLogging: true
`,
			multi: false, logging: true,
			want:   map[string]pos{"Resource": {4, 3}, "Logging": {8, 9}, "MultiRegion": {9, 9}},
			status: "FAIL", decided: pos{9, 9},
		},
	}
	cases = append(cases, []struct {
		name           string
		src            string
		multi, logging bool
		want           map[string]pos
		status         string
		decided        pos
	}{
		{
			name: "false_condition_decides",
			src: `Conditions:
  No: !Equals [a, b]
Resources:
  Trail:
    Type: AWS::CloudTrail::Trail
    Condition: No
    Properties: {IsLogging: true, IsMultiRegionTrail: true}
`,
			multi: true, logging: true,
			want:   map[string]pos{"Resource": {4, 3}, "Logging": {7, 18}, "MultiRegion": {7, 35}, "Exists": {6, 16}},
			status: "FAIL", decided: pos{6, 16},
		},
		{
			name: "unknown_condition_decides",
			src: `Conditions:
  East: !Equals [!Ref "AWS::Region", us-east-1]
Resources:
  Trail:
    Type: AWS::CloudTrail::Trail
    Condition: East
    Properties: {IsLogging: true, IsMultiRegionTrail: true}
`,
			multi: true, logging: true,
			want:   map[string]pos{"Resource": {4, 3}, "Logging": {7, 18}, "MultiRegion": {7, 35}, "Exists": {6, 16}},
			status: "UNKNOWN", decided: pos{6, 16},
		},
		{
			name: "json_template",
			src: `{"Resources": {
  "Trail": {
    "Type": "AWS::CloudTrail::Trail",
    "Properties": {
      "IsLogging": false,
      "IsMultiRegionTrail": true
    }
  }
}}
`,
			multi: true, logging: false,
			want:   map[string]pos{"Resource": {2, 3}, "Logging": {5, 7}, "MultiRegion": {6, 7}},
			status: "FAIL", decided: pos{5, 7},
		},
		{
			name: "rejected_property_with_a_condition_points_at_the_resource",
			src: `Conditions:
  East: !Equals [!Ref "AWS::Region", us-east-1]
Resources:
  Trail:
    Type: AWS::CloudTrail::Trail
    Condition: East
    Properties: {IsLogging: true, IsMultiRegionTrail: true, EventSelectors: [{ReadWriteType: Some}]}
`,
			multi: true, logging: true,
			want:   map[string]pos{"Resource": {4, 3}, "Logging": {7, 18}, "MultiRegion": {7, 35}, "Selectors": {7, 61}},
			status: "FAIL", decided: pos{4, 3},
		},
	}...)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tp, err := Read(context.Background(), "t.yaml", []byte(tc.src), Options{})
			if err != nil || len(tp.Trails) != 1 {
				t.Fatalf("err %v trails %+v", err, tp)
			}
			tr := tp.Trails[0]
			if tr.Trail.IsMultiRegion != tc.multi || tr.Trail.Status == nil || tr.Trail.Status.IsLogging != tc.logging {
				t.Errorf("adapted trail: multi-region %v logging %+v, want %v %v", tr.Trail.IsMultiRegion, tr.Trail.Status, tc.multi, tc.logging)
			}
			at := func(p trailguard.Position) pos {
				if p.IsZero() {
					return pos{}
				}
				if p.File != "t.yaml" {
					t.Errorf("position in %q, want t.yaml", p.File)
				}
				return pos{p.Line, p.Column}
			}
			got := map[string]trailguard.Position{"Resource": tr.Positions.Resource, "MultiRegion": tr.Positions.MultiRegion,
				"Logging": tr.Positions.Logging, "GlobalEvents": tr.Positions.GlobalEvents, "Selectors": tr.Positions.Selectors,
				"Exists": tr.Positions.Exists}
			for field, p := range got {
				if at(p) != tc.want[field] {
					t.Errorf("%s at %+v, want %+v", field, at(p), tc.want[field])
				}
			}
			res := trailguard.EvaluateIaC(tr, trailguard.Options{})
			if string(res.Status) != tc.status {
				t.Errorf("verdict %s %q, want %s", res.Status, res.Reasons, tc.status)
			}
			if res.Decided == nil || at(*res.Decided) != tc.decided {
				t.Errorf("decided at %+v, want %+v", res.Decided, tc.decided)
			}
		})
	}
}

// TestRead_ignore_comments: a trailguard:ignore directive mutes the
// resource only when the YAML parser reads it as a comment, on the
// logical id's line or in the comment lines right above it.
func TestRead_ignore_comments(t *testing.T) {
	const trail = "  T:\n    Type: AWS::CloudTrail::Trail\n    Properties: {IsLogging: true}\n"
	for _, tc := range []struct {
		name, src, want string
	}{
		{"comment_above", "Resources:\n  # trailguard:ignore cis-aws-3.1 reviewed\n" + trail, "reviewed"},
		{"comment_block_above", "Resources:\n  # owner: platform\n  # trailguard:ignore cis-aws-3.1 test stack\n  # ticket 12\n" + trail, "test stack"},
		{"comment_on_the_logical_id", "Resources:\n  T: # trailguard:ignore cis-aws-3.1 inline\n    Type: AWS::CloudTrail::Trail\n    Properties: {IsLogging: true}\n", "inline"},
		{"after_another_resource", "Resources:\n  B:\n    Type: AWS::S3::Bucket\n  # trailguard:ignore cis-aws-3.1 below a bucket\n" + trail, "below a bucket"},
		{"blank_line_ends_the_block", "Resources:\n  # trailguard:ignore cis-aws-3.1 too far\n\n" + trail, ""},
		{"block_scalar_text_is_not_a_comment", "Resources:\n  B:\n    Type: AWS::S3::Bucket\n    Metadata:\n      Doc: |\n        # trailguard:ignore cis-aws-3.1 forged\n" + trail, ""},
		{"quoted_string_is_not_a_comment", "Resources:\n  T:\n    Type: AWS::CloudTrail::Trail\n    Properties: {IsLogging: true, TrailName: \"# trailguard:ignore cis-aws-3.1 forged\"}\n", ""},
		{"another_rule", "Resources:\n  # trailguard:ignore cis-aws-3.2 other\n" + trail, ""},
		{"no_reason", "Resources:\n  # trailguard:ignore cis-aws-3.1\n" + trail, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tp, err := Read(context.Background(), "t.yaml", []byte(tc.src), Options{})
			if err != nil || len(tp.Trails) != 1 {
				t.Fatalf("err %v trails %+v", err, tp)
			}
			if got := tp.Trails[0].Ignore; got != tc.want {
				t.Errorf("ignore %q, want %q", got, tc.want)
			}
		})
	}
}

// TestRead_intrinsics_adapted_trails: the trails the reader builds from
// the intrinsics template, before any verdict: what each intrinsic
// resolved to, so that a wrong verdict shows whether the reader or the
// evaluator is at fault.
func TestRead_intrinsics_adapted_trails(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "intrinsics.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	tp, err := Read(context.Background(), "intrinsics.yaml", b, Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]trailguard.IaCTrail{}
	for _, tr := range tp.Trails {
		got[tr.Resource] = tr
	}
	type adapted struct {
		multi, logging bool
		readWrite      string // of the first basic selector; "" for advanced
		unknownMulti   bool
		absent, ignore string
		line           int
	}
	for id, want := range map[string]adapted{
		"Main":      {multi: true, logging: true, readWrite: "All", line: 15},
		"Dev":       {multi: false, logging: true, readWrite: "All", ignore: "dev trail, not an audit trail", line: 22},
		"Skipped":   {multi: false, logging: true, readWrite: "All", absent: "Condition NotProd of Skipped is false", line: 28},
		"Mapped":    {multi: true, logging: true, readWrite: "WriteOnly", line: 32},
		"Region":    {multi: false, logging: true, unknownMulti: true, line: 39},
		"NoLogging": {multi: true, logging: false, readWrite: "All", line: 47},
	} {
		tr, ok := got[id]
		if !ok {
			t.Errorf("%s: not read", id)
			continue
		}
		rw := ""
		if tr.Trail.Selectors != nil && len(tr.Trail.Selectors.Basic) > 0 {
			rw = tr.Trail.Selectors.Basic[0].ReadWriteType
		}
		g := adapted{multi: tr.Trail.IsMultiRegion, logging: tr.Trail.Status != nil && tr.Trail.Status.IsLogging, readWrite: rw,
			unknownMulti: tr.UnknownMultiRegion != "", absent: tr.Absent, ignore: tr.Ignore, line: tr.Line}
		if g != want {
			t.Errorf("%s: adapted %+v, want %+v", id, g, want)
		}
	}
}
