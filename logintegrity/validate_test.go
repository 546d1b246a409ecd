package logintegrity

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"
)

var (
	testChain = Chain{Bucket: "audit-logs", Prefix: "org/trail", Account: "111122223333", Region: "eu-west-1",
		HomeRegion: "us-east-1", TrailName: "main"}
	testFirst = time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)
)

// problemKinds lists "object kind" of each problem, sorted.
func problemKinds(r RegionReport) []string {
	var out []string
	for _, p := range r.Problems {
		out = append(out, p.Object+" "+p.Kind)
	}
	slices.Sort(out)
	return out
}

func TestValidate(t *testing.T) {
	s := newSigner()
	tests := []struct {
		name    string
		breakAt int
		tamper  func(t *testing.T, st *memStore, d delivered)
		keys    func(pub PublicKey) []PublicKey
		// want are the problems, "object kind", sorted.
		want         []string
		digests      Counts
		logs         Counts
		invalid      bool
		unchecked    bool
		detailSubstr string
	}{
		{name: "untouched_delivery_is_all_valid",
			digests: Counts{Checked: 6, Valid: 6}, logs: Counts{Checked: 18, Valid: 18}},
		{name: "deleted_log_file_is_not_found",
			tamper:  func(t *testing.T, st *memStore, d delivered) { st.del(testChain.Bucket, d.logs[4]) },
			want:    []string{"log_file not_found"},
			digests: Counts{Checked: 6, Valid: 6}, logs: Counts{Checked: 18, Valid: 17, Invalid: 1}, invalid: true},
		{name: "edited_log_file_hash_does_not_match",
			tamper: func(t *testing.T, st *memStore, d delivered) {
				st.put(testChain.Bucket, d.logs[7], gz(t, []byte(`{"Records":[]}`)), nil)
			},
			want:    []string{"log_file hash_mismatch"},
			digests: Counts{Checked: 6, Valid: 6}, logs: Counts{Checked: 18, Valid: 17, Invalid: 1}, invalid: true,
			detailSubstr: "hash value doesn't match"},
		{name: "log_file_not_gzip_is_invalid_format",
			tamper: func(t *testing.T, st *memStore, d delivered) {
				st.put(testChain.Bucket, d.logs[0], []byte(`{"Records":[]}`), nil)
			},
			want:    []string{"log_file invalid_format"},
			digests: Counts{Checked: 6, Valid: 6}, logs: Counts{Checked: 18, Valid: 17, Invalid: 1}, invalid: true},
		{name: "deleted_digest_in_the_middle_breaks_the_chain",
			tamper:  func(t *testing.T, st *memStore, d delivered) { st.del(testChain.Bucket, d.digests[3]) },
			want:    []string{"digest not_found"},
			digests: Counts{Checked: 6, Valid: 5, Invalid: 1}, logs: Counts{Checked: 15, Valid: 15}, invalid: true},
		{name: "changed_signature_metadata_is_invalid_signature",
			tamper: func(t *testing.T, st *memStore, d delivered) {
				o, _ := st.get(testChain.Bucket, d.digests[2])
				st.put(testChain.Bucket, d.digests[2], o.body, map[string]string{"signature": d.sigs[1], "signature-algorithm": SignatureAlgorithm})
			},
			want:    []string{"digest invalid_signature"},
			digests: Counts{Checked: 6, Valid: 5, Invalid: 1}, logs: Counts{Checked: 15, Valid: 15}, invalid: true},
		{name: "missing_signature_metadata_is_invalid_signature",
			tamper: func(t *testing.T, st *memStore, d delivered) {
				o, _ := st.get(testChain.Bucket, d.digests[5])
				st.put(testChain.Bucket, d.digests[5], o.body, map[string]string{})
			},
			want:    []string{"digest invalid_signature"},
			digests: Counts{Checked: 6, Valid: 5, Invalid: 1}, logs: Counts{Checked: 15, Valid: 15}, invalid: true},
		{name: "edited_digest_content_is_invalid_signature",
			tamper: func(t *testing.T, st *memStore, d delivered) {
				o, _ := st.get(testChain.Bucket, d.digests[1])
				raw, err := Gunzip(strings.NewReader(string(o.body)), MaxDigestCompressed, MaxDigestUncompressed)
				if err != nil {
					t.Fatal(err)
				}
				raw = []byte(strings.Replace(string(raw), `"logFiles":[`, `"logFiles":[],"x":[`, 1))
				st.put(testChain.Bucket, d.digests[1], gz(t, raw), o.meta)
			},
			want:    []string{"digest invalid_signature"},
			digests: Counts{Checked: 6, Valid: 5, Invalid: 1}, logs: Counts{Checked: 15, Valid: 15}, invalid: true},
		{name: "digest_not_gzip_is_invalid_format",
			tamper: func(t *testing.T, st *memStore, d delivered) {
				o, _ := st.get(testChain.Bucket, d.digests[4])
				st.put(testChain.Bucket, d.digests[4], []byte("{}"), o.meta)
			},
			want:    []string{"digest invalid_format"},
			digests: Counts{Checked: 6, Valid: 5, Invalid: 1}, logs: Counts{Checked: 15, Valid: 15}, invalid: true},
		{name: "digest_without_a_required_key_is_invalid_format",
			tamper: func(t *testing.T, st *memStore, d delivered) {
				o, _ := st.get(testChain.Bucket, d.digests[4])
				raw, _ := Gunzip(strings.NewReader(string(o.body)), MaxDigestCompressed, MaxDigestUncompressed)
				raw = []byte(strings.Replace(string(raw), `"digestPublicKeyFingerprint"`, `"fingerprint"`, 1))
				st.put(testChain.Bucket, d.digests[4], gz(t, raw), o.meta)
			},
			want:    []string{"digest invalid_format"},
			digests: Counts{Checked: 6, Valid: 5, Invalid: 1}, logs: Counts{Checked: 15, Valid: 15}, invalid: true},
		{name: "digest_without_a_required_key_or_signature_is_invalid_signature_as_in_the_aws_cli",
			tamper: func(t *testing.T, st *memStore, d delivered) {
				o, _ := st.get(testChain.Bucket, d.digests[4])
				raw, _ := Gunzip(strings.NewReader(string(o.body)), MaxDigestCompressed, MaxDigestUncompressed)
				raw = []byte(strings.Replace(string(raw), `"digestPublicKeyFingerprint"`, `"fingerprint"`, 1))
				st.put(testChain.Bucket, d.digests[4], gz(t, raw), nil)
			},
			want:    []string{"digest invalid_signature"},
			digests: Counts{Checked: 6, Valid: 5, Invalid: 1}, logs: Counts{Checked: 15, Valid: 15}, invalid: true},
		{name: "digest_copied_over_another_is_moved",
			tamper: func(t *testing.T, st *memStore, d delivered) {
				o, _ := st.get(testChain.Bucket, d.digests[2])
				st.put(testChain.Bucket, d.digests[3], o.body, o.meta)
			},
			want:    []string{"digest moved"},
			digests: Counts{Checked: 6, Valid: 5, Invalid: 1}, logs: Counts{Checked: 15, Valid: 15}, invalid: true},
		{name: "unknown_public_key_fingerprint",
			keys: func(pub PublicKey) []PublicKey {
				pub.Fingerprint = "00000000000000000000000000000000"
				pub.Value = append([]byte{}, pub.Value...)
				pub.Value[len(pub.Value)-1] ^= 1
				return []PublicKey{pub}
			},
			want: []string{"digest public_key_not_found", "digest public_key_not_found", "digest public_key_not_found",
				"digest public_key_not_found", "digest public_key_not_found", "digest public_key_not_found"},
			digests: Counts{Checked: 6, Invalid: 6}, logs: Counts{}, invalid: true},
		{name: "first_digest_after_logging_was_off_marks_a_gap_not_invalid",
			breakAt: 3,
			want:    []string{"digest gap"},
			digests: Counts{Checked: 6, Valid: 6}, logs: Counts{Checked: 18, Valid: 18}, detailSubstr: "No log files were delivered by CloudTrail between"},
		{name: "unreadable_digest_is_not_checked",
			tamper:  func(t *testing.T, st *memStore, d delivered) { st.fail[d.digests[5]] = true },
			want:    []string{"digest unreadable"},
			digests: Counts{Checked: 6, Valid: 5, Unreadable: 1}, logs: Counts{Checked: 15, Valid: 15}, unchecked: true},
		{name: "unreadable_log_file_is_not_checked",
			tamper:  func(t *testing.T, st *memStore, d delivered) { st.fail[d.logs[2]] = true },
			want:    []string{"log_file unreadable"},
			digests: Counts{Checked: 6, Valid: 6}, logs: Counts{Checked: 18, Valid: 17, Unreadable: 1}, unchecked: true},
		{name: "every_digest_deleted_is_not_checked_never_valid",
			tamper: func(t *testing.T, st *memStore, d delivered) {
				for _, k := range d.digests {
					st.del(testChain.Bucket, k)
				}
			},
			want: []string{"digest no_digests"}, unchecked: true},
		{name: "newest_digest_rewritten_to_skip_one_is_a_broken_chain",
			tamper: func(t *testing.T, st *memStore, d delivered) {
				// A validly signed digest (the attacker cannot sign, so
				// this stands for a chain CloudTrail did not write) whose
				// previous-digest signature is not its neighbour's.
				o, _ := st.get(testChain.Bucket, d.digests[5])
				raw, _ := Gunzip(strings.NewReader(string(o.body)), MaxDigestCompressed, MaxDigestUncompressed)
				raw = []byte(strings.Replace(string(raw), d.sigs[4], d.sigs[3], 1))
				m := map[string]any{}
				if err := jsonUnmarshal(raw, &m); err != nil {
					t.Fatal(err)
				}
				signed, sig := s.sign(t, m)
				st.put(testChain.Bucket, d.digests[5], gz(t, signed), map[string]string{"signature": sig, "signature-algorithm": SignatureAlgorithm})
			},
			want:    []string{"digest chain_broken"},
			digests: Counts{Checked: 6, Valid: 5, Invalid: 1}, logs: Counts{Checked: 15, Valid: 15}, invalid: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := newMemStore()
			breakAt := tc.breakAt
			if breakAt == 0 {
				breakAt = -1
			}
			d := s.deliver(t, st, testChain, testFirst, 6, 3, breakAt)
			if tc.tamper != nil {
				tc.tamper(t, st, d)
			}
			keys := []PublicKey{s.pub}
			if tc.keys != nil {
				keys = tc.keys(s.pub)
			}
			rep := Validate(context.Background(), st, memKeys(keys), []Chain{testChain},
				Options{Start: testFirst, End: testFirst.Add(6 * time.Hour), Workers: 4})[0]
			if rep.Error != "" {
				t.Fatalf("region error: %s", rep.Error)
			}
			if got := problemKinds(rep); !slices.Equal(got, tc.want) {
				t.Errorf("problems = %q, want %q (%+v)", got, tc.want, rep.Problems)
			}
			if rep.Digests != tc.digests {
				t.Errorf("digests = %+v, want %+v", rep.Digests, tc.digests)
			}
			if rep.LogFiles != tc.logs {
				t.Errorf("log files = %+v, want %+v", rep.LogFiles, tc.logs)
			}
			if rep.Invalid() != tc.invalid || rep.Unchecked() != tc.unchecked {
				t.Errorf("invalid, unchecked = %v, %v; want %v, %v", rep.Invalid(), rep.Unchecked(), tc.invalid, tc.unchecked)
			}
			if tc.detailSubstr != "" && (len(rep.Problems) == 0 || !strings.Contains(rep.Problems[0].Detail, tc.detailSubstr)) {
				t.Errorf("detail %+v does not say %q", rep.Problems, tc.detailSubstr)
			}
		})
	}
}

// A range that starts inside the chain stops the walk at the first digest
// that begins before it, as the AWS CLI does.
func TestValidate_range_bounds_the_walk(t *testing.T) {
	s := newSigner()
	st := newMemStore()
	s.deliver(t, st, testChain, testFirst, 12, 2, -1)
	rep := Validate(context.Background(), st, memKeys{s.pub}, []Chain{testChain},
		Options{Start: testFirst.Add(8 * time.Hour), End: testFirst.Add(12 * time.Hour)})[0]
	if rep.Digests.Valid != 5 || rep.Digests.Invalid != 0 || len(rep.Problems) != 0 {
		t.Errorf("report %+v: want the 5 digests ending from 09:00 to 12:00 and the one before, all valid", rep)
	}
}

// Several chains (regions) are checked in one run, each reported alone.
func TestValidate_every_region_in_one_run(t *testing.T) {
	s := newSigner()
	st := newMemStore()
	var chains []Chain
	for _, r := range []string{"us-east-1", "eu-west-1", "ap-south-1"} {
		c := testChain
		c.Region = r
		chains = append(chains, c)
		d := s.deliver(t, st, c, testFirst, 3, 2, -1)
		if r == "ap-south-1" {
			st.del(c.Bucket, d.logs[0])
		}
	}
	reps := Validate(context.Background(), st, memKeys{s.pub}, chains, Options{Start: testFirst, End: testFirst.Add(3 * time.Hour)})
	for i, r := range reps {
		if r.Region != chains[i].Region {
			t.Fatalf("report %d is for %s, want %s", i, r.Region, chains[i].Region)
		}
		wantInvalid := r.Region == "ap-south-1"
		if r.Invalid() != wantInvalid || r.Digests.Valid != 3 || r.LogFiles.Checked != 6 {
			t.Errorf("%s: %+v", r.Region, r)
		}
	}
}

// Backfill digests are a separate chain, with the backfill-generation
// metadata AWS writes.
func TestValidate_backfill_digest(t *testing.T) {
	s := newSigner()
	tests := []struct {
		name string
		meta bool
		want []string
	}{
		{"backfill_digest_with_generation_timestamp_is_valid", true, nil},
		{"backfill_digest_without_generation_timestamp_is_invalid_format", false, []string{"backfill_digest invalid_format"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := newMemStore()
			s.deliver(t, st, testChain, testFirst, 2, 1, -1)
			end := testFirst.Add(2 * time.Hour)
			key := testChain.BackfillKey(end)
			raw, sig := s.sign(t, map[string]any{
				"awsAccountId": testChain.Account, "digestStartTime": testFirst.Add(time.Hour).Format(time.RFC3339), "digestEndTime": end.Format(time.RFC3339),
				"digestS3Bucket": testChain.Bucket, "digestS3Object": key, "digestPublicKeyFingerprint": s.pub.Fingerprint,
				"digestSignatureAlgorithm": SignatureAlgorithm, "logFiles": []any{}, "previousDigestSignature": nil,
			})
			meta := map[string]string{"signature": sig, "signature-algorithm": SignatureAlgorithm}
			if tc.meta {
				meta["backfill-generation-timestamp"] = end.Add(3 * time.Hour).Format(time.RFC3339)
			}
			st.put(testChain.Bucket, key, gz(t, raw), meta)
			rep := Validate(context.Background(), st, memKeys{s.pub}, []Chain{testChain}, Options{Start: testFirst, End: end})[0]
			if got := problemKinds(rep); !slices.Equal(got, tc.want) {
				t.Errorf("problems = %q, want %q", got, tc.want)
			}
			wantValid := 3
			if !tc.meta {
				wantValid = 2
			}
			if rep.Digests.Valid != wantValid {
				t.Errorf("valid digests = %d, want %d", rep.Digests.Valid, wantValid)
			}
		})
	}
}

// A run cancelled part way never reports a region valid: its files were
// not all read.
func TestValidate_cancelled_run_is_not_checked(t *testing.T) {
	s := newSigner()
	st := newMemStore()
	s.deliver(t, st, testChain, testFirst, 6, 3, -1)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	rep := Validate(ctx, st, memKeys{s.pub}, []Chain{testChain}, Options{Start: testFirst, End: testFirst.Add(6 * time.Hour)})[0]
	if !rep.Unchecked() || rep.Error == "" {
		t.Errorf("a cancelled run reported %+v", rep)
	}
}
