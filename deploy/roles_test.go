package deploy_test

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/trailguard/trailguard/deploy"
)

// roleActions collects every Allow action of a role resource's inline
// policies.
func roleActions(t *testing.T, role map[string]any) []string {
	t.Helper()
	var out []string
	props := role["Properties"].(map[string]any)
	for _, p := range props["Policies"].([]any) {
		for _, st := range p.(map[string]any)["PolicyDocument"].(map[string]any)["Statement"].([]any) {
			s := st.(map[string]any)
			if s["Effect"] != "Allow" {
				t.Errorf("statement %v is not an Allow", s)
			}
			for _, a := range s["Action"].([]any) {
				out = append(out, a.(string))
			}
		}
	}
	slices.Sort(out)
	return out
}

// The roles in the templates grant exactly the lists the emulator test
// proves: the function's role FunctionActions plus the log actions, the
// member role MemberActions, nothing else.
func TestTemplates_grant_exactly_the_proved_actions(t *testing.T) {
	for _, tc := range cases() {
		if tc.o.SCPOnly {
			continue
		}
		t.Run(tc.name, func(t *testing.T) {
			o := tc.o
			var tmpl map[string]any
			if err := json.Unmarshal(emit(t, o), &tmpl); err != nil {
				t.Fatal(err)
			}
			res := tmpl["Resources"].(map[string]any)
			remediate := o.AutoRemediate != ""
			if !o.ManagementAccount && !o.Forwarder {
				want := slices.Concat(deploy.FunctionActionsFor(o), deploy.LogActions)
				slices.Sort(want)
				if got := roleActions(t, res["FunctionRole"].(map[string]any)); !slices.Equal(got, want) {
					t.Errorf("function role grants %q, want %q", got, want)
				}
			}
			member := res["MemberRole"]
			if set, ok := res["MemberRoleStackSet"]; ok {
				var nested map[string]any
				if err := json.Unmarshal([]byte(set.(map[string]any)["Properties"].(map[string]any)["TemplateBody"].(string)), &nested); err != nil {
					t.Fatal(err)
				}
				member = nested["Resources"].(map[string]any)["MemberRole"]
			}
			if o.Org != (member != nil) {
				t.Fatalf("member role present %v, want %v", member != nil, o.Org)
			}
			if member != nil {
				want := deploy.MemberActions(remediate)
				slices.Sort(want)
				if got := roleActions(t, member.(map[string]any)); !slices.Equal(got, want) {
					t.Errorf("member role grants %q, want %q", got, want)
				}
			}
		})
	}
}
