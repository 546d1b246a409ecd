package awsvalidate

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func open(t *testing.T, name string) *os.File {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// The output of a run over a tampered bucket (the CLI's own line formats)
// gives one outcome per file with the class of its reason, the gap with its
// times, and the summary's ratios.
func TestParse_tampered_run(t *testing.T) {
	r, err := Parse(open(t, "tampered.stdout"), open(t, "tampered.stderr"))
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Unrecognized) != 0 {
		t.Errorf("unrecognized lines: %q", r.Unrecognized)
	}
	if r.TrailARN != "arn:aws:cloudtrail:us-east-1:111122223333:trail/main" {
		t.Errorf("trail %q", r.TrailARN)
	}
	if want := time.Date(2026, 12, 1, 13, 0, 0, 0, time.UTC); !r.End.Equal(want) {
		t.Errorf("end %v, want %v", r.End, want)
	}
	want := []struct {
		kind  Kind
		key   string
		class Class
	}{
		{Digest, "_20261201T120000Z.json.gz", Valid},
		{LogFile, "_20261201T1155Z_abc.json.gz", Valid},
		{LogFile, "_20261201T1150Z_def.json.gz", HashMismatch},
		{LogFile, "_20261201T1140Z_ghi.json.gz", NotFound},
		{Digest, "_20261201T110000Z.json.gz", InvalidSignature},
		{Gap, "", ChainGap},
		{BackfillDigest, "_20261201T110000Z_backfill.json.gz", InvalidFormat},
	}
	if len(r.Outcomes) != len(want) {
		t.Fatalf("%d outcomes, want %d: %+v", len(r.Outcomes), len(want), r.Outcomes)
	}
	for i, w := range want {
		o := r.Outcomes[i]
		if o.Kind != w.kind || !strings.HasSuffix(o.Key, w.key) || o.Class != w.class {
			t.Errorf("outcome %d = %s %s %s, want %s ...%s %s", i, o.Kind, o.Key, o.Class, w.kind, w.key, w.class)
		}
		if o.Kind != Gap && o.Bucket != "trail-bucket" {
			t.Errorf("outcome %d bucket %q", i, o.Bucket)
		}
	}
	gap := r.Outcomes[5]
	if !gap.From.Equal(time.Date(2026, 12, 1, 5, 0, 0, 0, time.UTC)) || !gap.To.Equal(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)) {
		t.Errorf("gap %v to %v", gap.From, gap.To)
	}
	if r.Digests != (Ratio{1, 2}) || r.Logs != (Ratio{1, 3}) {
		t.Errorf("ratios digests %v logs %v", r.Digests, r.Logs)
	}
	if n := len(r.Invalid()); n != 4 {
		t.Errorf("%d invalid, want 4", n)
	}
	if got := r.ByFile()[FileID(BackfillDigest, "trail-bucket", r.Outcomes[6].Key)]; got != InvalidFormat {
		t.Errorf("ByFile of the backfill digest = %q", got)
	}
}

// Each of the CLI's reasons lands in its class; a reason it may print for
// an unexpected error is Other, never valid.
func TestParse_reason_classes(t *testing.T) {
	for _, tc := range []struct {
		name, line string
		class      Class
	}{
		{"log_edited", "Log file\ts3://b/k\tINVALID: hash value doesn't match", HashMismatch},
		{"log_deleted", "Log file\ts3://b/k\tINVALID: not found", NotFound},
		{"log_not_gzip", "Log file\ts3://b/k\tINVALID: invalid format", InvalidFormat},
		{"digest_deleted", "Digest file\ts3://b/k\tINVALID: not found", NotFound},
		{"digest_signature", "Digest file\ts3://b/k\tINVALID: signature verification failed", InvalidSignature},
		{"digest_not_json", "Digest file\ts3://b/k\tINVALID: invalid format", InvalidFormat},
		{"digest_moved", "Digest file\ts3://b/k\tINVALID: has been moved from its original location", Moved},
		{"digest_unknown_key", "Digest file\ts3://b/k\tINVALID: public key not found in region us-east-1 for fingerprint ab", KeyNotFound},
		{"digest_bad_key", "Digest file\ts3://b/k\tINVALID: Unable to load PKCS #1 key with fingerprint ab", InvalidSignature},
		{"digest_other_error", "Digest file\ts3://b/k\tINVALID: 'NoneType' object is not subscriptable", Other},
		{"key_with_spaces", "Log file\ts3://b/a b/c.json.gz\tvalid", Valid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Parse(nil, strings.NewReader(tc.line+"\n"))
			if err != nil {
				t.Fatal(err)
			}
			if len(r.Outcomes) != 1 || r.Outcomes[0].Class != tc.class {
				t.Fatalf("outcomes %+v, want one of class %s", r.Outcomes, tc.class)
			}
		})
	}
}

// What the parser does not know is kept, with stream and line, never read
// as a verdict; a line too long to be the CLI's is an error naming where.
func TestParse_unknown_and_hostile_lines(t *testing.T) {
	r, err := Parse(strings.NewReader("Validating something else\n"), strings.NewReader("\nTraceback (most recent call last):\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Outcomes) != 0 || len(r.Unrecognized) != 2 || !strings.HasPrefix(r.Unrecognized[1], "stderr:2: ") {
		t.Errorf("outcomes %v unrecognized %q", r.Outcomes, r.Unrecognized)
	}
	_, err = Parse(strings.NewReader("ok\n"+strings.Repeat("x", MaxLine+1)), nil)
	if err == nil || !strings.Contains(err.Error(), "stdout after line 1") {
		t.Errorf("long line: %v", err)
	}
	_, err = Parse(nil, strings.NewReader("No log files were delivered by CloudTrail between yesterday and today\n"))
	if err == nil || !strings.Contains(err.Error(), "stderr line 1") {
		t.Errorf("gap with bad times: %v", err)
	}
}

func TestQualifies(t *testing.T) {
	for _, tc := range []struct {
		version string
		ok      bool
	}{
		{"aws-cli/1.45.11 Python/3.11.7 Linux/6.18 botocore/1.43.11", true},
		{"aws-cli/1.29.0 Python/3.8.10 Linux/5.4 botocore/1.31.0", true},
		{"aws-cli/1.28.9 Python/3.8.10 Linux/5.4 botocore/1.30.9", false},
		{"aws-cli/2.9.19 Python/3.11.2 Linux/6.18 source/x86_64.debian.12 prompt/off", false},
		{"aws-cli/2.13.0 Python/3.11.4 Linux/6.1 exe/x86_64", true},
		{"aws-cli/2.22.4 Python/3.12.6 Linux/6.1 exe/x86_64", true},
		{"localstack awslocal", false},
	} {
		t.Run(strings.Fields(tc.version)[0], func(t *testing.T) {
			if got := Qualifies(tc.version); got != tc.ok {
				t.Errorf("Qualifies(%q) = %v, want %v", tc.version, got, tc.ok)
			}
		})
	}
}

// fakeCLI writes an executable aws that prints version.
func fakeCLI(t *testing.T, version string) string {
	t.Helper()
	dir := t.TempDir()
	p := filepath.Join(dir, "aws")
	if err := os.WriteFile(p, []byte("#!/bin/sh\necho '"+version+"'\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// The search order: the named CLI when set (and it must qualify), else the
// first qualifying aws on PATH, so that Debian's 2.9.19 ahead on PATH is
// passed over for a v1 behind it.
func TestFind(t *testing.T) {
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("needs /bin/sh for the stand-in CLIs")
	}
	old := fakeCLI(t, "aws-cli/2.9.19 Python/3.11.2 Linux/6.18 source/x86_64.debian.12")
	v1 := fakeCLI(t, "aws-cli/1.45.11 Python/3.11.7 Linux/6.18 botocore/1.43.11")
	t.Run("old_v2_ahead_of_v1_on_path", func(t *testing.T) {
		t.Setenv(EnvPath, "")
		t.Setenv("PATH", filepath.Dir(old)+string(filepath.ListSeparator)+filepath.Dir(v1))
		c, err := Find()
		if err != nil || c.Path != v1 || c.Version != "aws-cli/1.45.11" {
			t.Fatalf("Find = %+v, %v; want %s", c, err, v1)
		}
	})
	t.Run("named_cli_that_does_not_qualify", func(t *testing.T) {
		t.Setenv(EnvPath, old)
		t.Setenv("PATH", filepath.Dir(v1))
		_, err := Find()
		if err == nil || !strings.Contains(err.Error(), "aws-cli/2.9.19") || !strings.Contains(err.Error(), EnvPath) {
			t.Fatalf("Find = %v, want an error naming the version and %s", err, EnvPath)
		}
	})
	t.Run("only_an_old_cli", func(t *testing.T) {
		if _, err := os.Stat("/usr/bin/aws"); err == nil {
			t.Skip("/usr/bin/aws is always a candidate here")
		}
		t.Setenv(EnvPath, "")
		t.Setenv("PATH", filepath.Dir(old))
		_, err := Find()
		if err == nil || !strings.Contains(err.Error(), old) {
			t.Fatalf("Find = %v, want an error naming %s", err, old)
		}
	})
}

// The parser reads the CLI's output, which tests treat as outside input:
// it never panics and never calls a line it does not know a verdict.
func FuzzParse(f *testing.F) {
	for _, name := range []string{"tampered.stdout", "tampered.stderr"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := Parse(strings.NewReader(s), nil)
		if err != nil {
			return
		}
		for _, o := range r.Outcomes {
			line := strings.TrimRight(strings.Split(s, "\n")[o.Line-1], "\r")
			if o.Class == Valid && !strings.HasSuffix(line, "\tvalid") {
				t.Errorf("line %d called valid: %q", o.Line, line)
			}
		}
	})
}

// A run names the region whose digests it walks, the range, the member of
// an organization trail, and reaches the emulator through AWS_ENDPOINT_URL
// with nothing of the user's AWS configuration.
func TestCommand(t *testing.T) {
	start := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name    string
		run     Run
		args    []string
		without []string
	}{
		{"member_of_an_organization_trail", Run{Endpoint: "http://127.0.0.1:1", AccessKeyID: "AKIA1", SecretAccessKey: "s", Region: "eu-west-1",
			TrailARN: "arn:aws:cloudtrail:us-east-1:111122223333:trail/org", AccountID: "444455556666", Start: start, End: start.Add(time.Hour), Verbose: true},
			[]string{"--region eu-west-1", "--start-time 2026-12-01T00:00:00Z", "--end-time 2026-12-01T01:00:00Z", "--account-id 444455556666", "--verbose"}, nil},
		{"own_trail_until_now", Run{Endpoint: "http://127.0.0.1:1", AccessKeyID: "AKIA1", SecretAccessKey: "s", Region: "us-east-1",
			TrailARN: "arn:aws:cloudtrail:us-east-1:111122223333:trail/main", Start: start},
			[]string{"cloudtrail validate-logs --trail-arn arn:aws:cloudtrail:us-east-1:111122223333:trail/main", "--region us-east-1"},
			[]string{"--end-time", "--account-id", "--verbose"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := CLI{Path: "/bin/aws"}.Command(context.Background(), tc.run)
			line := strings.Join(cmd.Args, " ")
			for _, a := range tc.args {
				if !strings.Contains(line, a) {
					t.Errorf("%q lacks %q", line, a)
				}
			}
			for _, a := range tc.without {
				if strings.Contains(line, a) {
					t.Errorf("%q has %q", line, a)
				}
			}
			env := strings.Join(cmd.Env, "\n") + "\n"
			for _, kv := range []string{"AWS_ENDPOINT_URL=" + tc.run.Endpoint, "AWS_ACCESS_KEY_ID=AKIA1", "AWS_CONFIG_FILE=/dev/null",
				"AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_DEFAULT_REGION=" + tc.run.Region} {
				if !strings.Contains(env, kv+"\n") {
					t.Errorf("environment lacks %s", kv)
				}
			}
			for _, kv := range cmd.Env {
				if strings.HasPrefix(kv, "AWS_PROFILE=") || strings.HasPrefix(kv, "AWS_SESSION_TOKEN=") {
					t.Errorf("environment has %s", kv)
				}
			}
		})
	}
}
