package fix

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"

	"github.com/trailguard/trailguard"
)

const acct = "123456789012"

// failingStates are accounts the planner gets, each failing 3.1 in its
// own way (or not read at all).
func failingStates() map[string]trailguard.Account {
	trail := func(name string, multi, logging bool, sel *trailguard.EventSelectors) trailguard.Trail {
		if sel == nil {
			sel = trailguard.DefaultSelectors()
		}
		return trailguard.Trail{Name: name, ARN: "arn:aws:cloudtrail:us-east-1:" + acct + ":trail/" + name, HomeRegion: "us-east-1", IsMultiRegion: multi,
			IncludeGlobalServiceEvents: true, S3BucketName: "b", Status: &trailguard.TrailStatus{IsLogging: logging}, Selectors: sel}
	}
	readOnly := &trailguard.EventSelectors{Basic: []trailguard.EventSelector{{ReadWriteType: "ReadOnly", IncludeManagementEvents: true}}}
	blind := trail("blind", true, true, nil)
	blind.Status, blind.StatusError = nil, "AccessDeniedException"
	localBlind := trail("local-blind", false, true, nil)
	localBlind.Selectors, localBlind.SelectorsError = nil, "AccessDeniedException"
	org := trail("org", true, true, nil)
	org.ARN, org.IsOrganizationTrail = "arn:aws:cloudtrail:us-east-1:111111111111:trail/org", true
	org.Status, org.Selectors, org.StatusError, org.SelectorsError = nil, nil, "AccessDeniedException", "AccessDeniedException"
	return map[string]trailguard.Account{
		"no_trail":                 {ID: acct},
		"stopped":                  {ID: acct, Trails: []trailguard.Trail{trail("stopped", true, false, nil)}},
		"read_only":                {ID: acct, Trails: []trailguard.Trail{trail("ro", true, true, readOnly)}},
		"single_region":            {ID: acct, Trails: []trailguard.Trail{trail("local", false, true, nil)}},
		"own_trail_unreadable":     {ID: acct, Trails: []trailguard.Trail{blind}},
		"single_region_unreadable": {ID: acct, Trails: []trailguard.Trail{localBlind}},
		"org_trail_unreadable":     {ID: acct, Trails: []trailguard.Trail{org}},
	}
}

// touches reports whether a step writes the bucket or the key.
func touchesBucket(st Step) bool { return st.Bucket != "" && st.Action != ActionCreateTrail }
func touchesKey(st Step) bool {
	return strings.Contains(string(st.Action), "kms") || st.Action == ActionAllowCloudTrailEncryption
}

// The planner's side of "a write depends on a read": over every failing
// state and every combination of bucket and key facts read or not read,
// no step touches a bucket or key that was not read; an UNKNOWN account,
// or one with a trail of its own not read, gets no step at all and names
// what could not be read.
func TestMake_every_write_depends_on_a_read(t *testing.T) {
	buckets := map[string]BucketFacts{
		"bucket_not_read":  {},
		"bucket_absent":    {Read: true},
		"bucket_with_deny": {Read: true, Exists: true, Policy: `{"Version":"2012-10-17","Statement":[{"Sid":"D","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*"}]}`, Encryption: "aws:kms"},
	}
	keys := map[string]KeyFacts{"key_not_read": {}, "key_absent": {Read: true}, "key_read": {Read: true, Exists: true, Policy: `{"Statement":[]}`}}
	opts := map[string]Options{"plain": {}, "kms_key": {KMSKey: "k"}, "create_kms_key": {CreateKMSKey: true}, "lifecycle": {TransitionDays: 30}, "org_trail": {OrganizationTrail: true, OrgID: "o-1"}}
	for sn, a := range failingStates() {
		res := trailguard.Evaluate(a, trailguard.Options{})
		for bn, b := range buckets {
			for kn, k := range keys {
				for on, o := range opts {
					t.Run(sn+"/"+bn+"/"+kn+"/"+on, func(t *testing.T) {
						p := MakeWithKey(a, res, b, k, o)
						unread := res.Status == trailguard.StatusUnknown
						for _, v := range res.Trails {
							unread = unread || (!v.Readable && v.OwnerAccount() == acct)
						}
						if unread {
							if len(p.Steps) != 0 || len(p.Unreadable) == 0 {
								t.Fatalf("an account with a trail not read planned %+v (unreadable %+v)", p.Steps, p.Unreadable)
							}
							for _, u := range p.Unreadable {
								if !strings.HasPrefix(u.Permission, "cloudtrail:Get") {
									t.Errorf("unreadable %+v names no permission", u)
								}
							}
							return
						}
						for _, st := range p.Steps {
							if touchesBucket(st) && !b.Read {
								t.Errorf("step %s touches bucket %s that was not read", st.Action, st.Bucket)
							}
							if touchesKey(st) && !k.Read {
								t.Errorf("step %s touches a key that was not read", st.Action)
							}
							if st.Action == ActionCreateBucket && b.Exists {
								t.Error("an existing bucket is created again")
							}
							if st.Action == ActionEncryptBucket && b.Encryption != "" {
								t.Errorf("the bucket's %s default encryption is replaced", b.Encryption)
							}
							if strings.Contains(st.Undo, "delete-bucket-policy") && b.Policy != "" {
								t.Errorf("undo deletes a policy that existed: %s", st.Undo)
							}
							if strings.Contains(st.Undo, "--policy ''") {
								t.Errorf("undo writes an empty policy: %s", st.Undo)
							}
						}
					})
				}
			}
		}
	}
}

func TestMergePolicy_by_content_not_sid(t *testing.T) {
	arn := "arn:aws:cloudtrail:us-east-1:" + acct + ":trail/t"
	other := "arn:aws:cloudtrail:us-east-1:" + acct + ":trail/other"
	forOther, _, err := mergePolicy("", "b", acct, other, "")
	if err != nil {
		t.Fatal(err)
	}
	// The other trail's statements under the bare Sids an earlier version
	// of the fix wrote.
	var doc map[string]any
	json.Unmarshal([]byte(forOther), &doc)
	for _, s := range doc["Statement"].([]any) {
		m := s.(map[string]any)
		m["Sid"] = strings.TrimRight(m["Sid"].(string), "0123456789abcdef")
	}
	legacy, _ := json.Marshal(doc)
	for _, c := range []struct {
		name, existing string
		added          int
	}{
		{"other_trail_same_sids", string(legacy), 2},
		{"other_trail_hashed_sids", forOther, 2},
		{"this_trail_already", mustMerge(t, "", arn), 0},
		{"this_trail_reordered_lists", strings.Replace(mustMerge(t, "", arn), `"Action":"s3:PutObject"`, `"Action":["S3:PutObject"]`, 1), 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			merged, changed, err := mergePolicy(c.existing, "b", acct, arn, "")
			if err != nil {
				t.Fatal(err)
			}
			var before, after struct{ Statement []map[string]any }
			json.Unmarshal([]byte(c.existing), &before)
			json.Unmarshal([]byte(merged), &after)
			if changed != (c.added > 0) || len(after.Statement)-len(before.Statement) != c.added {
				t.Fatalf("changed %v, %d → %d statements, want %d added:\n%s", changed, len(before.Statement), len(after.Statement), c.added, merged)
			}
			sids := map[string]bool{}
			for _, s := range after.Statement {
				sid, _ := s["Sid"].(string)
				if sids[sid] {
					t.Errorf("Sid %q used twice: %s", sid, merged)
				}
				sids[sid] = true
			}
		})
	}
}

func mustMerge(t *testing.T, existing, arn string) string {
	t.Helper()
	m, _, err := mergePolicy(existing, "b", acct, arn, "")
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestMergeKeyPolicy_by_content_not_sid(t *testing.T) {
	arn := "arn:aws:cloudtrail:us-east-1:" + acct + ":trail/t"
	other := `{"Version":"2012-10-17","Statement":[{"Sid":"TrailguardCloudTrailEncrypt","Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":["kms:GenerateDataKey*","kms:DescribeKey"],"Resource":"*","Condition":{"StringEquals":{"aws:SourceArn":"arn:aws:cloudtrail:us-east-1:` + acct + `:trail/other"}}}]}`
	merged, changed, err := mergeKeyPolicy(other, acct, arn)
	if err != nil || !changed || !strings.Contains(merged, arn) || !strings.Contains(merged, "trail/other") {
		t.Fatalf("changed %v err %v: %s", changed, err, merged)
	}
	if again, changed, _ := mergeKeyPolicy(merged, acct, arn); changed || again != merged {
		t.Errorf("a second merge changed it: %s", again)
	}
	if _, changed, err := mergeKeyPolicy(`{"Statement":"x"}`, acct, arn); err == nil || changed {
		t.Error("a key policy with a Statement this code cannot read is merged into")
	}
}

// Basic selectors stay within the five AWS accepts, every data resource
// kept with its read/write type.
func TestWiden_within_aws_limits(t *testing.T) {
	data := func(rw, v string) trailguard.EventSelector {
		return trailguard.EventSelector{ReadWriteType: rw, DataResources: []trailguard.DataResource{{Type: "AWS::S3::Object", Values: []string{v}}}}
	}
	bigAdvanced := trailguard.AdvancedEventSelector{FieldSelectors: []trailguard.FieldSelector{{Field: "eventCategory", Equals: []string{"Data"}},
		{Field: "resources.type", Equals: []string{"AWS::S3::Object"}}, {Field: "resources.ARN", StartsWith: make([]string, 498)}}}
	for _, c := range []struct {
		name    string
		in      []trailguard.EventSelector
		adv     []trailguard.AdvancedEventSelector
		wantErr bool
	}{
		{"four_data_selectors", []trailguard.EventSelector{data("ReadOnly", "a"), data("WriteOnly", "b"), data("ReadOnly", "c"), data("WriteOnly", "d")}, nil, false},
		{"five_with_an_all", []trailguard.EventSelector{data("ReadOnly", "a"), data("WriteOnly", "b"), data("All", "c"), data("ReadOnly", "d"), data("WriteOnly", "e")}, nil, false},
		{"five_without_all", []trailguard.EventSelector{data("ReadOnly", "a"), data("WriteOnly", "b"), data("ReadOnly", "c"), data("WriteOnly", "d"), data("ReadOnly", "e")}, nil, false},
		{"advanced_values_full", nil, []trailguard.AdvancedEventSelector{bigAdvanced}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			in := trailguard.EventSelectors{Basic: c.in, Advanced: c.adv}
			out, changed, err := widen(in, false)
			if c.wantErr {
				if err == nil {
					t.Fatalf("no error for selectors AWS would reject: %d values", advancedValues(out))
				}
				return
			}
			if err != nil || !changed || !out.RecordsAllManagementEvents(trailguard.Options{}) {
				t.Fatalf("err %v changed %v: %+v", err, changed, out)
			}
			if len(out.Basic) > maxBasicSelectors {
				t.Errorf("%d basic selectors", len(out.Basic))
			}
			rw := map[string]string{}
			for _, b := range out.Basic {
				for _, d := range b.DataResources {
					for _, v := range d.Values {
						rw[v] = b.ReadWriteType
					}
				}
			}
			for _, b := range c.in {
				v := b.DataResources[0].Values[0]
				if rw[v] != b.ReadWriteType {
					t.Errorf("data resource %s: %q, want %q", v, rw[v], b.ReadWriteType)
				}
			}
		})
	}
}

// hostile values a name, ARN or policy read from an account could hold.
var hostile = []string{"plain", "it's", `"; rm -rf ~; "`, "$(touch /tmp/trailguard-pwned)", "`id`", "a\nb", "\x1b[31mred", "tab\there", `back\slash`, "ünïcode", "\u202eevil", "bad\xffutf8", ""}

// Every value sh quotes comes back from bash as exactly itself.
func TestSh_round_trips_through_bash(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash")
	}
	for _, s := range hostile {
		out, err := exec.Command(bash, "-c", "printf %s "+sh(s)).Output()
		if err != nil || string(out) != s {
			t.Errorf("sh(%q) = %s → %q, %v", s, sh(s), out, err)
		}
		if strings.ContainsAny(sh(s), "\n\x1b\t") {
			t.Errorf("sh(%q) = %q holds a control character", s, sh(s))
		}
	}
}

// Every command a plan prints is one shell command whose arguments are
// exactly the values planned, whatever a trail's name and ARN hold: bash
// runs it against a stand-in aws that prints its arguments.
func TestMake_cli_commands_are_valid_shell(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash")
	}
	for _, name := range hostile[1:] {
		arn := "arn:aws:cloudtrail:us-east-1:" + acct + ":trail/" + name
		tr := trailguard.Trail{Name: name, ARN: arn, HomeRegion: "us-east-1", IsMultiRegion: true, IncludeGlobalServiceEvents: true,
			Status: &trailguard.TrailStatus{IsLogging: false}, Selectors: &trailguard.EventSelectors{Basic: []trailguard.EventSelector{{ReadWriteType: "ReadOnly", IncludeManagementEvents: true}}}}
		a := trailguard.Account{ID: acct, Trails: []trailguard.Trail{tr}}
		p := Make(a, trailguard.Evaluate(a, trailguard.Options{}), BucketFacts{Read: true}, Options{})
		if len(p.Steps) == 0 {
			t.Fatalf("%q: nothing planned: %+v", name, p)
		}
		for _, st := range p.Steps {
			for _, cmd := range []string{st.CLI, st.Undo} {
				if cmd == "" {
					continue
				}
				script := `aws() { printf '%s\0' "$@"; }` + "\n" + cmd
				out, err := exec.Command(bash, "-c", script).Output()
				if err != nil {
					t.Fatalf("%q: %v\n%s", name, err, cmd)
				}
				args := strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00")
				found := false
				for i, arg := range args {
					if (arg == "--name" || arg == "--trail-name") && i+1 < len(args) {
						found = args[i+1] == arn
					}
				}
				if !found {
					t.Errorf("%q: the trail ARN is not one argument of %s: %q", name, cmd, args)
				}
			}
		}
	}
}

// A merge that would take a bucket policy past the 20 KB S3 accepts is
// refused, the policy kept as it is.
func TestMergePolicy_too_large_for_s3(t *testing.T) {
	big := `{"Version":"2012-10-17","Statement":[{"Sid":"Big","Effect":"Deny","Principal":"*","Action":"s3:DeleteBucket","Resource":"arn:aws:s3:::b","Condition":{"StringNotEquals":{"aws:PrincipalTag/team":"` + strings.Repeat("x", maxBucketPolicy-300) + `"}}}]}`
	got, changed, err := mergePolicy(big, "b", acct, "arn:aws:cloudtrail:us-east-1:"+acct+":trail/t", "")
	if err == nil || changed || got != big || !strings.Contains(err.Error(), "20480") {
		t.Errorf("changed %v err %v", changed, err)
	}
}

// An account that could not be read at all is stopped with the call the
// scan names as the permission to grant.
func TestMake_error_account_names_the_permission(t *testing.T) {
	res := trailguard.Result{Account: acct, Status: trailguard.StatusError,
		Reasons: []string{"account could not be read: cloudtrail:DescribeTrails in us-east-1: AccessDeniedException: denied"}}
	p := Make(trailguard.Account{ID: acct}, res, BucketFacts{Read: true}, Options{})
	if len(p.Steps) != 0 || len(p.Unreadable) != 1 || p.Unreadable[0].Permission != "cloudtrail:DescribeTrails" {
		t.Errorf("%+v", p)
	}
}
