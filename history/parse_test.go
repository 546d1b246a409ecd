package history_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/trailguard/trailguard/history"
)

// stopLogging is a StopLogging record as CloudTrail writes it for an IAM
// user, naming the trail by name.
const stopLogging = `{"eventVersion":"1.09","userIdentity":{"type":"IAMUser","principalId":"AIDAEXAMPLE","arn":"arn:aws:iam::111122223333:user/mallory","accountId":"111122223333","accessKeyId":"AKIAEXAMPLE","userName":"mallory"},"eventTime":"2026-11-03T09:15:00Z","eventSource":"cloudtrail.amazonaws.com","eventName":"StopLogging","awsRegion":"us-east-1","sourceIPAddress":"198.51.100.7","userAgent":"aws-cli/2.15.0","requestParameters":{"name":"org-trail"},"responseElements":null,"requestID":"r-1","eventID":"0f6a2c1e-1111-4222-8333-444455556666","readOnly":false,"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"111122223333","eventCategory":"Management"}`

func TestParseRecord(t *testing.T) {
	cases := []struct {
		name   string
		record string
		want   history.Event
	}{
		{
			name:   "iam_user_stops_logging_by_name",
			record: stopLogging,
			want: history.Event{
				ID: "0f6a2c1e-1111-4222-8333-444455556666", Time: time.Date(2026, 11, 3, 9, 15, 0, 0, time.UTC),
				Name: "StopLogging", Account: "111122223333", Region: "us-east-1",
				TrailARN: "arn:aws:cloudtrail:us-east-1:111122223333:trail/org-trail", TrailName: "org-trail",
				Actor: "arn:aws:iam::111122223333:user/mallory", ActorType: "IAMUser",
				SourceIP: "198.51.100.7", UserAgent: "aws-cli/2.15.0",
			},
		},
		{
			name: "assumed_role_denied_stop_logging_by_arn",
			record: `{"eventID":"e2","eventTime":"2026-10-01T00:00:01Z","eventName":"StopLogging","awsRegion":"eu-west-1","recipientAccountId":"111122223333",
				"userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::111122223333:assumed-role/Ops/alice@example.com","sessionContext":{"sessionIssuer":{"type":"Role","arn":"arn:aws:iam::111122223333:role/Ops"}}},
				"errorCode":"AccessDenied","errorMessage":"User is not authorized to perform cloudtrail:StopLogging",
				"requestParameters":{"name":"arn:aws:cloudtrail:us-east-1:444455556666:trail/org"}}`,
			want: history.Event{
				ID: "e2", Time: time.Date(2026, 10, 1, 0, 0, 1, 0, time.UTC), Name: "StopLogging",
				Account: "111122223333", Region: "eu-west-1",
				TrailARN: "arn:aws:cloudtrail:us-east-1:444455556666:trail/org", TrailName: "arn:aws:cloudtrail:us-east-1:444455556666:trail/org",
				Actor: "arn:aws:sts::111122223333:assumed-role/Ops/alice@example.com", ActorType: "AssumedRole",
				Session: "alice@example.com", SessionIssuer: "arn:aws:iam::111122223333:role/Ops",
				ErrorCode: "AccessDenied", ErrorMessage: "User is not authorized to perform cloudtrail:StopLogging",
			},
		},
		{
			name: "put_event_selectors_names_trail_name",
			record: `{"eventID":"e3","eventTime":"2026-10-01T00:00:00Z","eventName":"PutEventSelectors","awsRegion":"cn-north-1","recipientAccountId":"111122223333",
				"requestParameters":{"trailName":"main","eventSelectors":[{"readWriteType":"ReadOnly","includeManagementEvents":true}]}}`,
			want: history.Event{
				ID: "e3", Time: time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC), Name: "PutEventSelectors",
				Account: "111122223333", Region: "cn-north-1",
				TrailARN: "arn:aws-cn:cloudtrail:cn-north-1:111122223333:trail/main", TrailName: "main",
			},
		},
		{
			name: "service_call_without_arn_names_the_service",
			record: `{"eventID":"e4","eventTime":"2026-10-01T00:00:00+02:00","eventName":"UpdateTrail","awsRegion":"us-east-1","recipientAccountId":"111122223333",
				"userIdentity":{"type":"AWSService","invokedBy":"cloudformation.amazonaws.com"},"requestParameters":{"name":"main"}}`,
			want: history.Event{
				ID: "e4", Time: time.Date(2026, 9, 30, 22, 0, 0, 0, time.UTC), Name: "UpdateTrail",
				Account: "111122223333", Region: "us-east-1",
				TrailARN: "arn:aws:cloudtrail:us-east-1:111122223333:trail/main", TrailName: "main",
				Actor: "cloudformation.amazonaws.com", ActorType: "AWSService",
			},
		},
		{
			name: "invalid_trail_name_keeps_name_without_arn",
			record: `{"eventID":"e5","eventTime":"2026-10-01T00:00:00Z","eventName":"CreateTrail","awsRegion":"us-east-1","recipientAccountId":"111122223333",
				"errorCode":"InvalidTrailNameException","requestParameters":{"name":"bad name\u001b[31m"}}`,
			want: history.Event{
				ID: "e5", Time: time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC), Name: "CreateTrail",
				Account: "111122223333", Region: "us-east-1", TrailName: "bad name\x1b[31m",
				ErrorCode: "InvalidTrailNameException",
			},
		},
		{
			name: "name_that_is_not_a_string_names_no_trail",
			record: `{"eventID":"e6","eventTime":"2026-10-01T00:00:00Z","eventName":"DeleteTrail","awsRegion":"us-east-1","recipientAccountId":"111122223333",
				"requestParameters":{"name":{"x":1}}}`,
			want: history.Event{
				ID: "e6", Time: time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC), Name: "DeleteTrail",
				Account: "111122223333", Region: "us-east-1",
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := history.ParseRecord([]byte(tc.record))
			if err != nil {
				t.Fatalf("ParseRecord: %v", err)
			}
			got.RequestParameters, got.ResponseElements = nil, nil
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("ParseRecord:\n got  %+v\n want %+v", got, tc.want)
			}
		})
	}
}

func TestParseRecordKeepsParameters(t *testing.T) {
	ev, err := history.ParseRecord([]byte(`{"eventID":"e","eventTime":"2026-10-01T00:00:00Z","eventName":"CreateTrail","awsRegion":"us-east-1","recipientAccountId":"111122223333",
		"requestParameters":{"name":"t","isMultiRegionTrail":true},"responseElements":{"trailARN":"arn:aws:cloudtrail:us-east-1:111122223333:trail/t"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if ev.RequestParameters["isMultiRegionTrail"] != true || ev.ResponseElements["trailARN"] != "arn:aws:cloudtrail:us-east-1:111122223333:trail/t" {
		t.Errorf("parameters not kept: %v %v", ev.RequestParameters, ev.ResponseElements)
	}
}

func TestParseRecordRefuses(t *testing.T) {
	base := `"eventID":"e","eventTime":"2026-10-01T00:00:00Z","eventName":"StopLogging","awsRegion":"us-east-1","recipientAccountId":"111122223333"`
	cases := []struct {
		name, record, want string
	}{
		{"not_json", `StopLogging`, "CloudTrail record"},
		{"cut_short", `{` + base, "CloudTrail record"},
		{"missing_event_time", `{"eventID":"e","eventName":"StopLogging","awsRegion":"us-east-1","recipientAccountId":"111122223333"}`, "eventTime missing or null"},
		{"null_event_name", `{"eventID":"e","eventTime":"2026-10-01T00:00:00Z","eventName":null,"awsRegion":"us-east-1","recipientAccountId":"111122223333"}`, "eventName missing or null"},
		{"missing_account", `{"eventID":"e","eventTime":"2026-10-01T00:00:00Z","eventName":"StopLogging","awsRegion":"us-east-1"}`, "recipientAccountId missing"},
		{"empty_event_id", `{"eventID":"","eventTime":"2026-10-01T00:00:00Z","eventName":"StopLogging","awsRegion":"us-east-1","recipientAccountId":"111122223333"}`, "eventID is empty"},
		{"time_not_rfc3339", `{"eventID":"e","eventTime":"yesterday","eventName":"StopLogging","awsRegion":"us-east-1","recipientAccountId":"111122223333"}`, "not an RFC 3339 time"},
		{"account_not_12_digits", `{"eventID":"e","eventTime":"2026-10-01T00:00:00Z","eventName":"StopLogging","awsRegion":"us-east-1","recipientAccountId":"1111"}`, "not a 12-digit account id"},
		{"region_with_slash", `{"eventID":"e","eventTime":"2026-10-01T00:00:00Z","eventName":"StopLogging","awsRegion":"us-east-1/x","recipientAccountId":"111122223333"}`, "not a region name"},
		{"duplicate_event_name", `{` + base + `,"eventName":"StartLogging"}`, "duplicate key"},
		{"key_in_other_case", `{` + base + `,"EventName":"StartLogging"}`, "keys are case-sensitive"},
		{"duplicate_in_parameters", `{` + base + `,"requestParameters":{"name":"a","name":"b"}}`, "duplicate key"},
		{"nested_too_deep", `{` + base + `,"requestParameters":{"x":` + strings.Repeat("[", 40) + strings.Repeat("]", 40) + `}}`, "nested more than"},
		{"larger_than_a_record", `{` + base + `,"userAgent":"` + strings.Repeat("a", history.MaxRecordSize) + `"}`, "larger than"},
		{"event_name_not_a_string", `{"eventID":"e","eventTime":"2026-10-01T00:00:00Z","eventName":7,"awsRegion":"us-east-1","recipientAccountId":"111122223333"}`, "expected a string"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := history.ParseRecord([]byte(tc.record))
			if err == nil {
				t.Fatalf("ParseRecord accepted %.80q", tc.record)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not say %q", err, tc.want)
			}
		})
	}
}

// FuzzParseRecord: whatever the record, ParseRecord does not panic, and
// an event it accepts is placed (id, time, name, account, region) and
// names a trail only by a valid ARN.
func FuzzParseRecord(f *testing.F) {
	f.Add([]byte(stopLogging))
	f.Fuzz(func(t *testing.T, data []byte) {
		ev, err := history.ParseRecord(data)
		if err != nil {
			return
		}
		if ev.ID == "" || ev.Name == "" || ev.Time.IsZero() || len(ev.Account) != 12 || ev.Region == "" {
			t.Fatalf("accepted an event that is not placed: %+v", ev)
		}
		if ev.TrailARN != "" && history.ResolveTrail(ev.TrailARN, "us-east-1", "000000000000") != ev.TrailARN {
			t.Fatalf("TrailARN %q is not a valid trail ARN", ev.TrailARN)
		}
		if ev.Time.Location() != time.UTC {
			t.Fatalf("time %v not in UTC", ev.Time)
		}
	})
}
