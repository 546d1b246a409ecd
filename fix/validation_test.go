package fix

import (
	"strings"
	"testing"

	"github.com/trailguard/trailguard"
)

// The CIS 3.2 step is planned only with Options.LogFileValidation, only
// for multi-region trails of the account itself whose validation is off,
// and it changes that flag alone.
func TestMake_log_file_validation(t *testing.T) {
	trail := func(name, owner string, multi, validation bool) trailguard.Trail {
		return trailguard.Trail{Name: name, ARN: "arn:aws:cloudtrail:eu-west-1:" + owner + ":trail/" + name, HomeRegion: "eu-west-1",
			IsMultiRegion: multi, IncludeGlobalServiceEvents: true, LogFileValidationEnabled: validation, S3BucketName: "b",
			Status: &trailguard.TrailStatus{IsLogging: true}, Selectors: trailguard.DefaultSelectors()}
	}
	org := trail("org", "111111111111", true, false)
	org.IsOrganizationTrail = true
	tests := []struct {
		name   string
		trails []trailguard.Trail
		opts   Options
		want   []string // trail ARNs given the step
	}{
		{"passing_trail_without_validation_not_asked", []trailguard.Trail{trail("main", acct, true, false)}, Options{}, nil},
		{"passing_trail_without_validation_asked", []trailguard.Trail{trail("main", acct, true, false)}, Options{LogFileValidation: true},
			[]string{"arn:aws:cloudtrail:eu-west-1:" + acct + ":trail/main"}},
		{"validation_already_on_needs_nothing", []trailguard.Trail{trail("main", acct, true, true)}, Options{LogFileValidation: true}, nil},
		{"single_region_trail_is_left_alone", []trailguard.Trail{trail("main", acct, true, true), trail("local", acct, false, false)}, Options{LogFileValidation: true}, nil},
		{"organization_trail_seen_from_a_member_is_fixed_in_the_management_account", []trailguard.Trail{org}, Options{LogFileValidation: true}, nil},
		{"stopped_trail_is_started_then_validated", []trailguard.Trail{func() trailguard.Trail {
			t := trail("main", acct, true, false)
			t.Status.IsLogging = false
			return t
		}()}, Options{LogFileValidation: true}, []string{"arn:aws:cloudtrail:eu-west-1:" + acct + ":trail/main"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := trailguard.Account{ID: acct, Trails: tc.trails}
			res := trailguard.Evaluate(a, trailguard.Options{})
			p := MakeWithKey(a, res, BucketFacts{Read: true}, KeyFacts{Read: true}, tc.opts)
			var got []string
			for i, st := range p.Steps {
				if st.Action != ActionEnableLogFileValidation {
					continue
				}
				got = append(got, st.Trail)
				if i != len(p.Steps)-1 {
					t.Errorf("the validation step is not after the 3.1 steps: %+v", p.Steps)
				}
				if st.API != "cloudtrail:UpdateTrail" || !strings.Contains(st.CLI, "--enable-log-file-validation") || st.Region != "eu-west-1" {
					t.Errorf("step %+v", st)
				}
			}
			if strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Errorf("validation steps for %q, want %q (plan %+v)", got, tc.want, p.Steps)
			}
			if len(tc.want) > 0 && p.Target != nil && !p.Target.LogFileValidation {
				t.Error("the plan's target trail still says validation off")
			}
		})
	}
}
