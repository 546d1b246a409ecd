package trailguard

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// deliveryNow is the fixed clock of the delivery tests: no test here reads
// the wall clock.
var deliveryNow = time.Date(2026, 6, 15, 12, 0, 0, 0, time.UTC)

func ago(d time.Duration) *time.Time {
	t := deliveryNow.Add(-d)
	return &t
}

// delivering is a trail that has logged for 30 days and delivered an hour
// ago, with log file validation on: delivery in good health.
func delivering(name string, opts ...func(*Trail)) Trail {
	t := trail(name, func(t *Trail) {
		t.Status.StartLoggingTime = ago(30 * 24 * time.Hour)
		t.Status.LatestDeliveryTime = ago(time.Hour)
	})
	for _, o := range opts {
		o(&t)
	}
	return t
}

func TestDeliveryHealth(t *testing.T) {
	clock := func() time.Time { return deliveryNow }
	plain := Options{Now: clock}
	require := Options{Now: clock, RequireDelivery: true}
	cases := []struct {
		name   string
		trails []Trail
		opts   Options
		want   Status
		// warningHas must each appear in one warning; reasonHas in the
		// reasons.
		warningHas, reasonHas []string
		noWarnings            bool
		// check looks at the JSON delivery health of the first entry.
		check func(t *testing.T, h DeliveryHealth)
	}{
		{
			name: "healthy_trail_no_warning", trails: []Trail{delivering("main")}, opts: require,
			want: StatusPass, noWarnings: true,
			check: func(t *testing.T, h DeliveryHealth) {
				if !h.Healthy || h.Stale || h.NeverDelivered || h.AgeSeconds == nil || *h.AgeSeconds != 3600 || !h.LogFileValidation {
					t.Errorf("health = %+v, want healthy, age 3600 s, validation on", h)
				}
			},
		},
		{
			name:   "s3_delivery_error_warns_with_bucket_policy_fix",
			trails: []Trail{delivering("main", func(t *Trail) { t.Status.LatestDeliveryError = "AccessDenied" })},
			opts:   plain, want: StatusPass,
			warningHas: []string{"fails to deliver to S3 bucket \"logs-main\": AccessDenied", "aws s3api get-bucket-policy --bucket logs-main", "KMS key policy"},
			check: func(t *testing.T, h DeliveryHealth) {
				if h.DeliveryError != "AccessDenied" || h.Healthy {
					t.Errorf("health = %+v, want delivery_error AccessDenied, not healthy", h)
				}
			},
		},
		{
			name: "s3_delivery_error_with_kms_key_names_its_key_policy",
			trails: []Trail{delivering("main", func(t *Trail) {
				t.Status.LatestDeliveryError = "KMS.AccessDeniedException"
				t.KMSKeyID = "arn:aws:kms:eu-west-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab"
			})},
			opts: plain, want: StatusPass,
			warningHas: []string{"aws kms get-key-policy --key-id arn:aws:kms:eu-west-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab --policy-name default --region eu-west-1"},
		},
		{
			name:   "s3_delivery_error_fails_with_require_delivery",
			trails: []Trail{delivering("main", func(t *Trail) { t.Status.LatestDeliveryError = "NoSuchBucket" })},
			opts:   require, want: StatusFail,
			reasonHas:  []string{"--require-delivery", "NoSuchBucket"},
			warningHas: []string{"get-bucket-policy"},
		},
		{
			name:   "stale_delivery_warns_with_age_and_status_command",
			trails: []Trail{delivering("main", func(t *Trail) { t.Status.LatestDeliveryTime = ago(50 * time.Hour) })},
			opts:   plain, want: StatusPass,
			warningHas: []string{"last delivered a log file to S3 bucket \"logs-main\" 2d2h ago", "more than --max-delivery-age 1d",
				"aws cloudtrail get-trail-status --name arn:aws:cloudtrail:us-east-1:111111111111:trail/main --region us-east-1"},
			check: func(t *testing.T, h DeliveryHealth) {
				if !h.Stale || h.AgeSeconds == nil || *h.AgeSeconds != 50*3600 || h.CheckedAt == nil || !h.CheckedAt.Equal(deliveryNow) {
					t.Errorf("health = %+v, want stale, age 180000 s, checked at the clock", h)
				}
			},
		},
		{
			name:   "stale_delivery_fails_with_require_delivery",
			trails: []Trail{delivering("main", func(t *Trail) { t.Status.LatestDeliveryTime = ago(50 * time.Hour) })},
			opts:   require, want: StatusFail,
			reasonHas: []string{"delivering them (--require-delivery)", "last delivered a log file 2d2h ago", "not counted with --require-delivery"},
		},
		{
			name:   "delivery_within_max_age_is_not_stale",
			trails: []Trail{delivering("main", func(t *Trail) { t.Status.LatestDeliveryTime = ago(23 * time.Hour) })},
			opts:   require, want: StatusPass, noWarnings: true,
		},
		{
			name:   "max_delivery_age_option_tightens",
			trails: []Trail{delivering("main", func(t *Trail) { t.Status.LatestDeliveryTime = ago(3 * time.Hour) })},
			opts:   Options{Now: clock, MaxDeliveryAge: 2 * time.Hour, RequireDelivery: true}, want: StatusFail,
			reasonHas: []string{"3h ago", "more than --max-delivery-age 2h"},
		},
		{
			name:   "delivery_time_ahead_of_the_clock_is_fresh",
			trails: []Trail{delivering("main", func(t *Trail) { t.Status.LatestDeliveryTime = ago(-time.Hour) })},
			opts:   require, want: StatusPass, noWarnings: true,
		},
		{
			name:   "never_delivered_after_max_age_warns",
			trails: []Trail{delivering("main", func(t *Trail) { t.Status.LatestDeliveryTime = nil })},
			opts:   plain, want: StatusPass,
			warningHas: []string{"has logged for 30d (since 2026-05-16 12:00 UTC) but never delivered a log file"},
			check: func(t *testing.T, h DeliveryHealth) {
				if !h.NeverDelivered || h.LatestDeliveryTime != nil || h.AgeSeconds != nil {
					t.Errorf("health = %+v, want never delivered, no time, no age", h)
				}
			},
		},
		{
			name:   "never_delivered_fails_with_require_delivery",
			trails: []Trail{delivering("main", func(t *Trail) { t.Status.LatestDeliveryTime = nil })},
			opts:   require, want: StatusFail, reasonHas: []string{"never delivered a log file"},
		},
		{
			name: "never_delivered_but_just_started_is_not_a_finding",
			trails: []Trail{delivering("main", func(t *Trail) {
				t.Status.LatestDeliveryTime = nil
				t.Status.StartLoggingTime = ago(10 * time.Minute)
			})},
			opts: require, want: StatusPass, noWarnings: true,
		},
		{
			name: "never_delivered_read_from_time_logging_started_string",
			trails: []Trail{delivering("main", func(t *Trail) {
				t.Status.LatestDeliveryTime, t.Status.StartLoggingTime = nil, nil
				t.Status.TimeLoggingStarted = "2026-06-10T12:00:00Z"
			})},
			opts: require, want: StatusFail, reasonHas: []string{"has logged for 5d"},
		},
		{
			name: "no_delivery_nor_start_time_is_unknown_with_require_delivery",
			trails: []Trail{delivering("main", func(t *Trail) {
				t.Status.LatestDeliveryTime, t.Status.StartLoggingTime = nil, nil
			})},
			opts: require, want: StatusUnknown, reasonHas: []string{"delivery cannot be judged"},
			check: func(t *testing.T, h DeliveryHealth) {
				if h.Judged || h.Healthy {
					t.Errorf("health = %+v, want not judged, not healthy", h)
				}
			},
		},
		{
			name: "no_delivery_nor_start_time_is_silent_without_require_delivery",
			trails: []Trail{delivering("main", func(t *Trail) {
				t.Status.LatestDeliveryTime, t.Status.StartLoggingTime = nil, nil
			})},
			opts: plain, want: StatusPass, noWarnings: true,
		},
		{
			name: "cloudwatch_logs_error_names_the_role",
			trails: []Trail{delivering("main", func(t *Trail) {
				t.Status.LatestCloudWatchLogsDeliveryError = "AccessDeniedException"
				t.CloudWatchLogsRoleARN = "arn:aws:iam::111111111111:role/CloudTrail_CWLogs"
				t.CloudWatchLogsLogGroupARN = "arn:aws:logs:us-east-1:111111111111:log-group:trail:*"
			})},
			opts: plain, want: StatusPass,
			warningHas: []string{"fails to deliver to CloudWatch Logs log group arn:aws:logs:us-east-1:111111111111:log-group:trail:*: AccessDeniedException",
				"role arn:aws:iam::111111111111:role/CloudTrail_CWLogs trusts cloudtrail.amazonaws.com", "aws iam get-role --role-name CloudTrail_CWLogs"},
			check: func(t *testing.T, h DeliveryHealth) {
				if h.CloudWatchLogsDeliveryError != "AccessDeniedException" {
					t.Errorf("health = %+v, want cloudwatch_logs_delivery_error", h)
				}
			},
		},
		{
			name:   "cloudwatch_logs_error_fails_with_require_delivery",
			trails: []Trail{delivering("main", func(t *Trail) { t.Status.LatestCloudWatchLogsDeliveryError = "AccessDeniedException" })},
			opts:   require, want: StatusFail, reasonHas: []string{"fails to deliver to CloudWatch Logs: AccessDeniedException"},
		},
		{
			name:   "digest_error_warns",
			trails: []Trail{delivering("main", func(t *Trail) { t.Status.LatestDigestDeliveryError = "AccessDenied" })},
			opts:   plain, want: StatusPass,
			warningHas: []string{"fails to deliver digest files to S3 bucket \"logs-main\": AccessDenied", "CloudTrail-Digest"},
		},
		{
			name:   "digest_error_fails_with_require_delivery",
			trails: []Trail{delivering("main", func(t *Trail) { t.Status.LatestDigestDeliveryError = "AccessDenied" })},
			opts:   require, want: StatusFail, reasonHas: []string{"digest files"},
		},
		{
			name:   "validation_off_warns_with_update_trail_command",
			trails: []Trail{delivering("main", func(t *Trail) { t.LogFileValidationEnabled = false })},
			opts:   plain, want: StatusPass,
			warningHas: []string{"log file validation off", "aws cloudtrail update-trail --name arn:aws:cloudtrail:us-east-1:111111111111:trail/main --enable-log-file-validation --region us-east-1"},
			check: func(t *testing.T, h DeliveryHealth) {
				if h.LogFileValidation || !h.Healthy {
					t.Errorf("health = %+v, want validation off and still healthy delivery", h)
				}
			},
		},
		{
			name:   "validation_off_still_passes_with_require_delivery",
			trails: []Trail{delivering("main", func(t *Trail) { t.LogFileValidationEnabled = false })},
			opts:   require, want: StatusPass, warningHas: []string{"--enable-log-file-validation"},
		},
		{
			name:   "status_unreadable_is_unknown_with_require_delivery",
			trails: []Trail{delivering("main", func(t *Trail) { t.Status, t.StatusError = nil, "AccessDeniedException" })},
			opts:   require, want: StatusUnknown, reasonHas: []string{"logging status could not be read: AccessDeniedException"},
		},
		{
			name: "require_delivery_picks_the_trail_that_delivers",
			trails: []Trail{
				delivering("a", func(t *Trail) { t.Status.LatestDeliveryError = "AccessDenied" }),
				delivering("b"),
			},
			opts: require, want: StatusPass, noWarnings: true,
		},
		{
			name: "healthy_delivery_preferred_as_covering_without_require",
			trails: []Trail{
				delivering("a", func(t *Trail) { t.Status.LatestDeliveryTime = ago(72 * time.Hour) }),
				delivering("b"),
			},
			opts: plain, want: StatusPass, noWarnings: true,
		},
		{
			name: "not_logging_trail_has_no_delivery_finding",
			trails: []Trail{delivering("main", func(t *Trail) {
				t.Status.IsLogging = false
				t.Status.LatestDeliveryError = "AccessDenied"
			})},
			opts: require, want: StatusFail, noWarnings: true,
		},
		{
			name: "organization_trail_read_from_member_names_its_owner",
			trails: []Trail{delivering("org", func(t *Trail) {
				t.ARN = arnOf("999999999999", "us-east-1", "org")
				t.IsOrganizationTrail = true
				t.Status.LatestDeliveryError = "AccessDenied"
			})},
			opts: require, want: StatusFail,
			reasonHas:  []string{"arn:aws:cloudtrail:us-east-1:999999999999:trail/org"},
			warningHas: []string{"organization trail of account 999999999999: run the fix there"},
			check: func(t *testing.T, h DeliveryHealth) {
				if !h.OrganizationTrail || h.Trail != arnOf("999999999999", "us-east-1", "org") {
					t.Errorf("health = %+v, want the organization trail", h)
				}
			},
		},
		{
			name: "hostile_bucket_name_is_quoted_for_the_shell",
			trails: []Trail{delivering("main", func(t *Trail) {
				t.S3BucketName = "logs; rm -rf ~ 'x'"
				t.Status.LatestDeliveryError = "AccessDenied"
			})},
			opts: plain, want: StatusPass,
			warningHas: []string{`aws s3api get-bucket-policy --bucket 'logs; rm -rf ~ '\''x'\'''`},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := Evaluate(Account{ID: acctID, Regions: regions("us-east-1", "eu-west-1"), Trails: tc.trails}, tc.opts)
			if got.Status != tc.want {
				t.Fatalf("status = %s, want %s; reasons %q; warnings %q", got.Status, tc.want, got.Reasons, got.Warnings)
			}
			for _, s := range tc.reasonHas {
				if !strings.Contains(strings.Join(got.Reasons, "\n"), s) {
					t.Errorf("reasons %q lack %q", got.Reasons, s)
				}
			}
			for _, s := range tc.warningHas {
				if !strings.Contains(strings.Join(got.Warnings, "\n"), s) {
					t.Errorf("warnings %q lack %q", got.Warnings, s)
				}
			}
			if tc.noWarnings && len(got.Warnings) > 0 {
				t.Errorf("unexpected warnings %q", got.Warnings)
			}
			if tc.check != nil {
				if len(got.Delivery) == 0 {
					t.Fatalf("no delivery health in the result")
				}
				tc.check(t, got.Delivery[0])
			}
			// The structured form carries what the warnings say.
			for _, h := range got.Delivery {
				for _, w := range h.Warnings {
					if !strings.Contains(strings.Join(got.Warnings, "\n"), w) {
						t.Errorf("delivery warning %q is not among the result's warnings", w)
					}
				}
			}
		})
	}
}

// A trail read from code has no delivery state: neither a warning nor
// RequireDelivery applies to it.
func TestDeliveryNotJudgedForCode(t *testing.T) {
	acct := Account{Trails: []Trail{trail("main", func(t *Trail) { t.LogFileValidationEnabled = false })}, static: true}
	got := Evaluate(acct, Options{RequireDelivery: true, Now: func() time.Time { return deliveryNow }})
	if got.Status != StatusPass || len(got.Warnings) != 0 || len(got.Delivery) != 0 {
		t.Errorf("code trail: status %s, warnings %q, delivery %+v; want PASS without delivery findings", got.Status, got.Warnings, got.Delivery)
	}
	if !Passes(acct, Options{RequireDelivery: true}) {
		t.Errorf("Passes says no for a code trail under RequireDelivery")
	}
}

// The JSON form of a result keeps its fields and adds delivery.
func TestDeliveryJSON(t *testing.T) {
	tr := delivering("main", func(t *Trail) { t.Status.LatestDeliveryTime = ago(48 * time.Hour) })
	got := Evaluate(Account{ID: acctID, Regions: regions("us-east-1"), Trails: []Trail{tr}}, Options{Now: func() time.Time { return deliveryNow }})
	b, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		Status   string `json:"status"`
		Covering string `json:"covering_trail"`
		Delivery []struct {
			Trail      string `json:"trail"`
			Latest     string `json:"latest_delivery_time"`
			Age        int64  `json:"age_seconds"`
			Stale      bool   `json:"stale"`
			Validation bool   `json:"log_file_validation"`
			MaxAge     int64  `json:"max_age_seconds"`
		} `json:"delivery"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	if v.Status != "PASS" || v.Covering != tr.ARN || len(v.Delivery) != 1 {
		t.Fatalf("json = %s", b)
	}
	d := v.Delivery[0]
	if d.Trail != tr.ARN || d.Latest != "2026-06-13T12:00:00Z" || d.Age != 48*3600 || !d.Stale || !d.Validation || d.MaxAge != 86400 {
		t.Errorf("delivery = %+v", d)
	}
}

func TestFormatAge(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{0, "0m"}, {59 * time.Second, "0m"}, {12 * time.Minute, "12m"}, {time.Hour, "1h"},
		{5*time.Hour + 20*time.Minute, "5h20m"}, {24 * time.Hour, "1d"}, {76 * time.Hour, "3d4h"},
	} {
		if got := FormatAge(tc.d); got != tc.want {
			t.Errorf("FormatAge(%v) = %q, want %q", tc.d, got, tc.want)
		}
	}
}

func TestShellQuote(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"arn:aws:cloudtrail:us-east-1:111111111111:trail/main", "arn:aws:cloudtrail:us-east-1:111111111111:trail/main"},
		{"my-bucket.logs", "my-bucket.logs"},
		{"a b", "'a b'"},
		{"$(reboot)", "'$(reboot)'"},
		{"it's", `'it'\''s'`},
		{"", "''"},
	} {
		if got := ShellQuote(tc.in); got != tc.want {
			t.Errorf("ShellQuote(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// Facts collected earlier are judged at their collection (Account.ReadAt),
// not at the clock of the evaluation.
func TestDeliveryJudgedAtReadAt(t *testing.T) {
	tr := delivering("main", func(t *Trail) { t.Status.LatestDeliveryTime = ago(31 * 24 * time.Hour) })
	later := Options{Now: func() time.Time { return deliveryNow }, RequireDelivery: true}
	for _, tc := range []struct {
		name   string
		readAt time.Time
		want   Status
	}{
		{"read_now_is_stale", time.Time{}, StatusFail},
		{"read_an_hour_after_the_delivery_is_fresh", ago(31*24*time.Hour - time.Hour).UTC(), StatusPass},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Evaluate(Account{ID: acctID, Trails: []Trail{tr}, ReadAt: tc.readAt}, later)
			if got.Status != tc.want {
				t.Errorf("status %s, want %s; reasons %q", got.Status, tc.want, got.Reasons)
			}
		})
	}
}

// unquoteShell reads one POSIX shell word made of literal characters and
// single-quoted strings, as ShellQuote writes them; ok is false for
// anything else (an unquoted metacharacter, an open quote).
func unquoteShell(s string) (string, bool) {
	var out strings.Builder
	for i := 0; i < len(s); {
		switch {
		case s[i] == '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return "", false
			}
			out.WriteString(s[i+1 : i+1+j])
			i += j + 2
		case s[i] == '\\' && i+1 < len(s) && s[i+1] == '\'':
			out.WriteByte('\'')
			i += 2
		case shellSafe.MatchString(s[i : i+1]):
			out.WriteByte(s[i])
			i++
		default:
			return "", false
		}
	}
	return out.String(), true
}

// Whatever a name holds, its quoted form is one shell word that reads
// back as the name: a fix command never runs what a bucket or trail name
// carries.
func FuzzShellQuote(f *testing.F) {
	for _, s := range []string{"", "plain-bucket", "a b", "it's", "$(reboot)", "`id`", "x;rm -rf ~", "'", "\n", "\x1b[31m"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q := ShellQuote(s)
		got, ok := unquoteShell(q)
		if !ok || got != s {
			t.Fatalf("ShellQuote(%q) = %q reads back as %q (ok %v)", s, q, got, ok)
		}
	})
}

// Any TimeLoggingStarted an evidence file may hold is judged without
// panic, and a delivery finding never makes a trail pass that would fail.
func FuzzJudgeDelivery(f *testing.F) {
	f.Add("2026-06-10T12:00:00Z", "AccessDenied", int64(3600))
	f.Add("not a time", "", int64(-1))
	f.Add("", "", int64(0))
	f.Fuzz(func(t *testing.T, started, deliveryErr string, ageSecs int64) {
		tr := delivering("main", func(t *Trail) {
			t.Status.StartLoggingTime = nil
			t.Status.TimeLoggingStarted = started
			t.Status.LatestDeliveryError = deliveryErr
			if ageSecs >= 0 {
				t.Status.LatestDeliveryTime = ago(time.Duration(ageSecs%(1<<40)) * time.Second)
			} else {
				t.Status.LatestDeliveryTime = nil
			}
		})
		opts := Options{Now: func() time.Time { return deliveryNow }, RequireDelivery: true}
		got := Evaluate(Account{ID: acctID, Trails: []Trail{tr}}, opts)
		if got.Status == StatusPass && deliveryErr != "" {
			t.Fatalf("a delivery error passed under RequireDelivery: %+v", got)
		}
	})
}
