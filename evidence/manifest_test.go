package evidence

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/trailguard/trailguard"
)

// writeSealed writes the member account with its manifest and returns the
// evidence directory and the account directory.
func writeSealed(t *testing.T) (dir, adir string) {
	t.Helper()
	dir = t.TempDir()
	p := Provenance{ToolVersion: "v9.9.9", CommandLine: []string{"trailguard", "scan", "--save-evidence", dir}, Start: time.Now().Add(-time.Second)}
	if err := WriteWith(dir, []trailguard.Account{memberAccount()}, p); err != nil {
		t.Fatal(err)
	}
	return dir, filepath.Join(dir, "111111111111")
}

func TestWriteWith_manifest_records_who_when_how_and_every_file(t *testing.T) {
	dir, adir := writeSealed(t)
	data, err := os.ReadFile(filepath.Join(adir, fileManifest))
	if err != nil {
		t.Fatal(err)
	}
	var m Manifest
	if err := decodeJSON("manifest.json", data, &m); err != nil {
		t.Fatal(err)
	}
	if m.Tool != "trailguard" || m.ToolVersion != "v9.9.9" || m.CollectedBy != memberAccount().CallerARN {
		t.Errorf("tool %q version %q collected by %q", m.Tool, m.ToolVersion, m.CollectedBy)
	}
	if !reflect.DeepEqual(m.CommandLine, []string{"trailguard", "scan", "--save-evidence", dir}) {
		t.Errorf("command line %q", m.CommandLine)
	}
	start, err1 := time.Parse(time.RFC3339, m.StartTime)
	end, err2 := time.Parse(time.RFC3339, m.EndTime)
	if err1 != nil || err2 != nil || end.Before(start) {
		t.Errorf("start %q end %q", m.StartTime, m.EndTime)
	}
	// Every file of the account directory but the manifest, and nothing
	// else, is listed with its SHA-256.
	var files []string
	filepath.WalkDir(adir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && d.Name() != fileManifest {
			rel, _ := filepath.Rel(adir, p)
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	if len(files) != len(m.Files) || len(files) < 5 {
		t.Errorf("manifest lists %d files, the directory holds %d: %v", len(m.Files), len(files), files)
	}
	for _, f := range files {
		sum, err := hashFile(filepath.Join(adir, filepath.FromSlash(f)))
		if err != nil || m.Files[f] != sum {
			t.Errorf("%s: manifest %q, file %q (%v)", f, m.Files[f], sum, err)
		}
	}
	if m.RunID == "" {
		t.Error("no RunId")
	}
}

func TestReadVerified(t *testing.T) {
	const acct = "111111111111"
	tests := []struct {
		name string
		// change alters the sealed account directory.
		change      func(t *testing.T, adir string)
		wantWarn    []string // each must be in one warning of the account
		wantNotice  string
		noWarnings  bool
		readRootDir bool // read the account directory itself
	}{
		{name: "untouched_evidence_verifies_clean", change: func(*testing.T, string) {}, noWarnings: true},
		{
			name: "file_changed_after_collection",
			change: func(t *testing.T, adir string) {
				p := filepath.Join(adir, "trails/us-west-2/audit/get-trail-status.json")
				data, _ := os.ReadFile(p)
				write(t, p, strings.Replace(string(data), "false", "true", 1)+" ")
			},
			wantWarn: []string{"changed after collection: {adir}/trails/us-west-2/audit/get-trail-status.json (SHA-256 "},
		},
		{
			name: "file_added_after_collection",
			change: func(t *testing.T, adir string) {
				write(t, filepath.Join(adir, "trails/us-west-2/audit/notes.txt"), "x")
			},
			wantWarn: []string{"added after collection: {adir}/trails/us-west-2/audit/notes.txt is not in {adir}/manifest.json"},
		},
		{
			name: "file_deleted_after_collection",
			change: func(t *testing.T, adir string) {
				if err := os.Remove(filepath.Join(adir, fileRegions)); err != nil {
					t.Fatal(err)
				}
			},
			wantWarn: []string{"removed after collection: {adir}/regions.json is listed in {adir}/manifest.json but missing"},
		},
		{
			name: "changed_added_and_deleted_each_said",
			change: func(t *testing.T, adir string) {
				write(t, filepath.Join(adir, fileDescribeTrails), `{"trailList": []}`)
				write(t, filepath.Join(adir, "extra.json"), "{}")
				os.Remove(filepath.Join(adir, fileCallerIdentity))
			},
			wantWarn: []string{"changed after collection: {adir}/describe-trails.json", "added after collection: {adir}/extra.json", "removed after collection: {adir}/caller-identity.json"},
		},
		{
			name: "a_link_added_is_added",
			change: func(t *testing.T, adir string) {
				if err := os.Symlink("/dev/zero", filepath.Join(adir, "zero.json")); err != nil {
					t.Skip(err)
				}
			},
			wantWarn: []string{"added after collection: {adir}/zero.json"},
		},
		{
			name: "listed_file_replaced_by_a_fifo_is_not_read",
			change: func(t *testing.T, adir string) {
				p := filepath.Join(adir, fileRegions)
				os.Remove(p)
				if mkfifo(p) != nil {
					t.Skip("no FIFOs here")
				}
			},
			wantWarn: []string{"not verified: {adir}/regions.json: not a regular file"},
		},
		{
			name:       "missing_manifest_is_a_notice_not_a_warning",
			change:     func(t *testing.T, adir string) { os.Remove(filepath.Join(adir, fileManifest)) },
			noWarnings: true,
			wantNotice: "no manifest.json in ",
		},
		{
			name: "malformed_manifest_is_named_with_its_line",
			change: func(t *testing.T, adir string) {
				write(t, filepath.Join(adir, fileManifest), "{\n  \"Tool\": \"trailguard\",\n  \"Files\": {,}\n}")
			},
			wantWarn: []string{"integrity not verified: ", fileManifest + ": line 3"},
		},
		{
			name:     "manifest_without_files",
			change:   func(t *testing.T, adir string) { write(t, filepath.Join(adir, fileManifest), `{"Tool": "trailguard"}`) },
			wantWarn: []string{"integrity not verified: ", "Files"},
		},
		{
			name: "manifest_naming_a_path_outside_the_account_directory",
			change: func(t *testing.T, adir string) {
				rewriteManifest(t, adir, func(m *Manifest) {
					m.Files["../../etc/passwd"] = strings.Repeat("0", 64)
					m.Files["/etc/passwd"] = strings.Repeat("0", 64)
				})
			},
			wantWarn: []string{`lists "../../etc/passwd", which is not a file of the account directory`, `lists "/etc/passwd"`},
		},
		{
			name: "manifest_with_a_hash_that_is_not_sha256",
			change: func(t *testing.T, adir string) {
				rewriteManifest(t, adir, func(m *Manifest) { m.Files[fileRegions] = "md5:abc" })
			},
			wantWarn: []string{`gives "md5:abc" as the SHA-256 of`},
		},
		{
			name: "listed_file_grown_past_the_size_cap_is_not_hashed",
			change: func(t *testing.T, adir string) {
				info, err := os.Stat(filepath.Join(adir, fileManifest))
				if err != nil {
					t.Fatal(err)
				}
				old := maxFileSize
				maxFileSize = int(info.Size()) + 10 // the manifest is still read
				t.Cleanup(func() { maxFileSize = old })
				p := filepath.Join(adir, fileDescribeTrails)
				data, _ := os.ReadFile(p)
				write(t, p, string(data)+strings.Repeat(" ", maxFileSize))
			},
			wantWarn: []string{"evidence file not verified: {adir}/describe-trails.json: larger than "},
		},
		{
			name: "manifest_listing_more_files_than_an_account_holds",
			change: func(t *testing.T, adir string) {
				rewriteManifest(t, adir, func(m *Manifest) {
					for i := range maxManifestFiles {
						m.Files[fmt.Sprintf("f%d", i)] = strings.Repeat("0", 64)
					}
				})
			},
			wantWarn: []string{"integrity not verified: {adir}/manifest.json lists "},
		},
		{
			name: "account_directory_that_is_a_link_is_walked",
			change: func(t *testing.T, adir string) {
				moved := adir + ".real"
				if err := os.Rename(adir, moved); err != nil {
					t.Fatal(err)
				}
				if err := os.Symlink(moved, adir); err != nil {
					t.Skip(err)
				}
				write(t, filepath.Join(moved, "late.json"), "{}")
			},
			wantWarn: []string{"added after collection: {adir}/late.json"},
		},
		{
			name: "single_account_directory_read_directly",
			change: func(t *testing.T, adir string) {
				write(t, filepath.Join(adir, "added.json"), "{}")
			},
			readRootDir: true,
			wantWarn:    []string{"added after collection: {adir}/added.json"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, adir := writeSealed(t)
			tt.change(t, adir)
			if tt.readRootDir {
				dir = adir
			}
			accounts, in, err := ReadVerified(dir)
			if err != nil {
				t.Fatal(err)
			}
			if len(accounts) != 1 || accounts[0].ID != acct {
				t.Fatalf("accounts %+v", accounts)
			}
			got := in.Warnings[acct]
			if tt.noWarnings && len(got) > 0 {
				t.Errorf("warnings %q", got)
			}
			for k := range in.Warnings {
				if k != acct {
					t.Errorf("warnings for %q, not the account: %q", k, in.Warnings[k])
				}
			}
			all := strings.Join(got, "\n")
			for _, w := range tt.wantWarn {
				w = strings.ReplaceAll(w, "{adir}", adir)
				if !strings.Contains(all, w) {
					t.Errorf("warnings lack %q:\n%s", w, all)
				}
			}
			if tt.wantNotice == "" && len(in.Notices) > 0 {
				t.Errorf("notices %q", in.Notices)
			}
			if tt.wantNotice != "" && (len(in.Notices) != 1 || !strings.Contains(in.Notices[0], tt.wantNotice)) {
				t.Errorf("notices %q, want one with %q", in.Notices, tt.wantNotice)
			}
		})
	}
}

func TestVerify_hand_collected_directory_is_noticed_once(t *testing.T) {
	_, in, err := ReadVerified("testdata/org")
	if err != nil {
		t.Fatal(err)
	}
	if len(in.Warnings) != 0 || len(in.Notices) != 1 {
		t.Errorf("warnings %q notices %q, want one notice", in.Warnings, in.Notices)
	}
}

func TestVerify_many_accounts_without_manifest_one_short_notice(t *testing.T) {
	dir := t.TempDir()
	var accounts []trailguard.Account
	for i := range 12 {
		a := memberAccount()
		a.ID = fmt.Sprintf("1000000000%02d", i)
		accounts = append(accounts, a)
	}
	if err := Write(dir, accounts); err != nil {
		t.Fatal(err)
	}
	for _, a := range accounts {
		os.Remove(filepath.Join(dir, a.ID, fileManifest))
	}
	in := Verify(dir)
	if len(in.Notices) != 1 || !strings.Contains(in.Notices[0], "and 7 more account directories") || strings.Contains(in.Notices[0], "100000000011") {
		t.Errorf("notices %q", in.Notices)
	}
}

func write(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

func rewriteManifest(t *testing.T, adir string, change func(*Manifest)) {
	t.Helper()
	p := filepath.Join(adir, fileManifest)
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	var m Manifest
	if err := decodeJSON(p, data, &m); err != nil {
		t.Fatal(err)
	}
	change(&m)
	w := fileWriter{}
	w.json(p, m)
	if w.err != nil {
		t.Fatal(w.err)
	}
}

func FuzzVerifyManifest(f *testing.F) {
	for _, seed := range []string{
		`{"Tool":"trailguard","Files":{"regions.json":"` + strings.Repeat("a", 64) + `"}}`,
		`{"Tool":"trailguard","Files":{"../x":"1"}}`,
		`{"Tool":"trailguard","Files":{}}`,
		`{"Tool":"trailguard","Files":null}`,
		`{"Files":{"a":"b","a":"c"}}`,
		`[]`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		adir := t.TempDir()
		if err := os.WriteFile(filepath.Join(adir, fileManifest), data, 0o644); err != nil {
			t.Fatal(err)
		}
		w, found := verifyAccount(adir, nil)
		if !found {
			t.Fatal("manifest present but not found")
		}
		var m Manifest
		if decodeJSON("m", data, &m) != nil || m.Files == nil {
			if len(w) != 1 || !strings.Contains(w[0], "not verified") {
				t.Fatalf("an unreadable manifest must say integrity is not verified, once: %q", w)
			}
			return
		}
		// Nothing but the manifest exists: every listed file is reported
		// (removed, not a file of the directory, or a bad hash).
		if len(w) != len(m.Files) {
			t.Fatalf("%d files listed, %d warnings: %q", len(m.Files), len(w), w)
		}
	})
}
