package trailguard

import (
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
