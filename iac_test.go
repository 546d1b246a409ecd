package trailguard

import (
	"errors"
	"strings"
	"testing"
)

func TestEvaluateIaC(t *testing.T) {
	good := Trail{
		Name: "org", IsMultiRegion: true, IncludeGlobalServiceEvents: true,
		Status: &TrailStatus{IsLogging: true}, Selectors: DefaultSelectors(),
	}
	cases := []struct {
		name   string
		trail  IaCTrail
		want   Status
		reason string // a substring of one reason
	}{
		{name: "declared_and_compliant", trail: IaCTrail{Trail: good}, want: StatusPass},
		{
			name:   "not_created_with_the_values_given",
			trail:  IaCTrail{Trail: good, Absent: "count = 0"},
			want:   StatusFail,
			reason: "not created: count = 0",
		},
		{
			name:   "existence_unknown_is_never_a_pass",
			trail:  IaCTrail{Trail: good, UnknownExists: "count = var.create ? 1 : 0: create has no value"},
			want:   StatusUnknown,
			reason: "var.create",
		},
		{
			name: "existence_unknown_but_fails_anyway",
			trail: IaCTrail{Trail: Trail{
				Name: "off", IsMultiRegion: true, IncludeGlobalServiceEvents: true,
				Status: &TrailStatus{IsLogging: false}, Selectors: DefaultSelectors(),
			}, UnknownExists: "Condition IsProd"},
			want:   StatusFail,
			reason: "not logging",
		},
		{
			name:   "existence_and_logging_unknown_name_both",
			trail:  IaCTrail{Trail: good, UnknownExists: "count = var.n", UnknownLogging: "enable_logging = var.on"},
			want:   StatusUnknown,
			reason: "enable_logging = var.on",
		},
		{
			name:   "not_created_wins_over_an_ignore_comment_underneath",
			trail:  IaCTrail{Trail: good, Absent: "for_each = {}", Ignore: "sandbox"},
			want:   StatusMuted,
			reason: "for_each = {}",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.trail.File, c.trail.Line, c.trail.Resource = "main.tf", 3, "aws_cloudtrail.x"
			got := EvaluateIaC(c.trail, Options{})
			if got.Status != c.want {
				t.Fatalf("status %s, want %s (reasons %q)", got.Status, c.want, got.Reasons)
			}
			if got.File != "main.tf" || got.Line != 3 || got.Resource != "aws_cloudtrail.x" {
				t.Errorf("position %s:%d %s lost", got.File, got.Line, got.Resource)
			}
			if c.reason != "" && !strings.Contains(strings.Join(got.Reasons, "\n"), c.reason) {
				t.Errorf("reasons %q do not mention %q", got.Reasons, c.reason)
			}
		})
	}
}

func TestUnreadResultIsUnknownAndNamesThePart(t *testing.T) {
	r := UnreadResult("main.tf", 7, "module.audit", `source "terraform-aws-modules/cloudtrail/aws" is a registry module`)
	if r.Status != StatusUnknown {
		t.Fatalf("status %s, want UNKNOWN", r.Status)
	}
	if len(r.Reasons) != 1 || !strings.Contains(r.Reasons[0], "registry module") {
		t.Errorf("reasons %q do not say what was not read", r.Reasons)
	}
	if r.File != "main.tf" || r.Line != 7 || r.Resource != "module.audit" {
		t.Errorf("position %s:%d %s", r.File, r.Line, r.Resource)
	}
}

// TestEvaluateIaC_decided: a result points at the attribute that decided
// it (the first value that could not be resolved, the first requirement
// missed), or at the resource when the attribute is not written and its
// default decided, or when the trail is not created.
func TestEvaluateIaC_decided(t *testing.T) {
	good := Trail{Name: "t", IsMultiRegion: true, IncludeGlobalServiceEvents: true,
		Status: &TrailStatus{IsLogging: true}, Selectors: DefaultSelectors()}
	at := func(line int) Position { return Position{File: "main.tf", Line: line, Column: 3} }
	written := IaCPositions{Resource: Position{File: "main.tf", Line: 1, Column: 1}, MultiRegion: at(2), Logging: at(3), GlobalEvents: at(4), Selectors: at(5)}
	withExists := func(p IaCPositions, e Position) IaCPositions {
		p.Exists = e
		return p
	}
	with := func(f func(*Trail)) Trail {
		tr := good
		f(&tr)
		return tr
	}
	cases := []struct {
		name  string
		trail IaCTrail
		want  Position
	}{
		{"single_region", IaCTrail{Trail: with(func(t *Trail) { t.IsMultiRegion = false }), Positions: written}, at(2)},
		{"single_region_by_default", IaCTrail{Trail: with(func(t *Trail) { t.IsMultiRegion = false }),
			Positions: IaCPositions{Resource: written.Resource, Logging: at(3)}}, written.Resource},
		{"not_logging", IaCTrail{Trail: with(func(t *Trail) { t.Status = &TrailStatus{} }), Positions: written}, at(3)},
		{"without_global_service_events", IaCTrail{Trail: with(func(t *Trail) { t.IncludeGlobalServiceEvents = false }), Positions: written}, at(4)},
		{"selectors_miss_management_events", IaCTrail{Trail: with(func(t *Trail) {
			t.Selectors = &EventSelectors{Basic: []EventSelector{{ReadWriteType: "WriteOnly", IncludeManagementEvents: true}}}
			t.HasCustomEventSelectors = true
		}), Positions: written}, at(5)},
		{"unknown_logging", IaCTrail{Trail: good, UnknownLogging: "enable_logging = var.on", Positions: written}, at(3)},
		{"unknown_selectors", IaCTrail{Trail: good, UnknownSelectors: "dynamic event_selector", Positions: written}, at(5)},
		{"unknown_existence", IaCTrail{Trail: good, UnknownExists: "count = var.n", UnknownLogging: "x", Positions: written}, written.Resource},
		{"not_created", IaCTrail{Trail: with(func(t *Trail) { t.IsMultiRegion = false }), Absent: "count = 0", Positions: written}, written.Resource},
		{"passes", IaCTrail{Trail: good, Positions: written}, written.Resource},
		{"not_created_by_count", IaCTrail{Trail: good, Absent: "count = 0", Positions: withExists(written, at(6))}, at(6)},
		{"existence_unknown_by_condition", IaCTrail{Trail: good, UnknownExists: "Condition C", Positions: withExists(written, at(6))}, at(6)},
		{"no_positions_from_the_source", IaCTrail{File: "plan.json", Line: 7, Trail: with(func(t *Trail) { t.Status = &TrailStatus{} })},
			Position{File: "plan.json", Line: 7}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := EvaluateIaC(tc.trail, Options{})
			if res.Decided == nil || *res.Decided != tc.want {
				t.Errorf("%s %q decided at %+v, want %+v", res.Status, res.Reasons, res.Decided, tc.want)
			}
		})
	}
}

// TestPositionError: an error at a place says the place first, as every
// compiler does, and carries it as data; errors.Is sees its cause.
func TestPositionError(t *testing.T) {
	cause := errors.New("too deep")
	for _, tc := range []struct {
		name string
		err  error
		msg  string
		pos  Position
	}{
		{"file_and_line", ErrorAt("main.tf", 12, "nested: %w", cause), "main.tf:12: nested: too deep", Position{File: "main.tf", Line: 12}},
		{"whole_file", ErrorAt("t.yaml", 0, "%d bytes: %w", 5, cause), "t.yaml: 5 bytes: too deep", Position{File: "t.yaml"}},
		{"column_not_in_the_message", &PositionError{Pos: Position{File: "a.tf", Line: 3, Column: 9}, Err: cause}, "a.tf:3: too deep", Position{File: "a.tf", Line: 3, Column: 9}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var pe *PositionError
			if tc.err.Error() != tc.msg || !errors.As(tc.err, &pe) || pe.Pos != tc.pos || !errors.Is(tc.err, cause) {
				t.Errorf("%q %+v, want %q at %+v wrapping the cause", tc.err, pe, tc.msg, tc.pos)
			}
		})
	}
}
