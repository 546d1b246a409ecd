package awsemu_test

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"

	"github.com/trailguard/trailguard/internal/awsemu"
)

// SetDeliveryState reaches every delivery state GetTrailStatus tells
// apart, and the SDK reads each member in the type of the CloudTrail
// model (times as timestamps, the Attempt/TimeLogging members as strings).
func TestGetTrailStatus_delivery_state(t *testing.T) {
	past := time.Now().Add(-72 * time.Hour).Truncate(time.Second)
	since := time.Now().Add(-30 * 24 * time.Hour).Truncate(time.Second)
	spec := func() awsemu.TrailSpec {
		return awsemu.TrailSpec{Name: "main", S3BucketName: "x-logs", IsMultiRegion: true, IncludeGlobalServiceEvents: true,
			LogFileValidation: true, Logging: true,
			CloudWatchLogsLogGroupARN: "arn:aws:logs:us-east-1:" + acctA + ":log-group:trail:*",
			CloudWatchLogsRoleARN:     "arn:aws:iam::" + acctA + ":role/CWLogs"}
	}
	cases := []struct {
		name  string
		state awsemu.DeliveryState
		check func(t *testing.T, st *cloudtrail.GetTrailStatusOutput)
	}{
		{
			name: "stopped_delivering", state: awsemu.DeliveryState{LastDelivery: past, LoggingSince: since},
			check: func(t *testing.T, st *cloudtrail.GetTrailStatusOutput) {
				if st.LatestDeliveryTime == nil || !st.LatestDeliveryTime.Equal(past) || !st.StartLoggingTime.Equal(since) {
					t.Errorf("LatestDeliveryTime %v StartLoggingTime %v, want %v %v", st.LatestDeliveryTime, st.StartLoggingTime, past, since)
				}
				if st.LatestDigestDeliveryTime == nil || !st.LatestDigestDeliveryTime.Equal(past) || !st.LatestCloudWatchLogsDeliveryTime.Equal(past) {
					t.Errorf("digest %v, CloudWatch Logs %v, want both at %v", st.LatestDigestDeliveryTime, st.LatestCloudWatchLogsDeliveryTime, past)
				}
				if aws.ToString(st.TimeLoggingStarted) != since.UTC().Format(time.RFC3339) {
					t.Errorf("TimeLoggingStarted %q", aws.ToString(st.TimeLoggingStarted))
				}
			},
		},
		{
			name: "never_delivered", state: awsemu.DeliveryState{NeverDelivered: true, LoggingSince: since},
			check: func(t *testing.T, st *cloudtrail.GetTrailStatusOutput) {
				if st.LatestDeliveryTime != nil || st.LatestDigestDeliveryTime != nil || st.StartLoggingTime == nil {
					t.Errorf("status %+v, want no delivery times and a start time", st)
				}
			},
		},
		{
			name: "digest_error", state: awsemu.DeliveryState{DigestDeliveryError: "AccessDenied"},
			check: func(t *testing.T, st *cloudtrail.GetTrailStatusOutput) {
				if aws.ToString(st.LatestDigestDeliveryError) != "AccessDenied" || st.LatestDigestDeliveryTime != nil || st.LatestDeliveryTime == nil {
					t.Errorf("status %+v, want a digest error, no digest time, log files delivered", st)
				}
			},
		},
		{
			name: "cloudwatch_logs_error", state: awsemu.DeliveryState{CloudWatchLogsDeliveryError: "AccessDeniedException"},
			check: func(t *testing.T, st *cloudtrail.GetTrailStatusOutput) {
				if aws.ToString(st.LatestCloudWatchLogsDeliveryError) != "AccessDeniedException" || st.LatestCloudWatchLogsDeliveryTime != nil || st.LatestDeliveryTime == nil {
					t.Errorf("status %+v, want a CloudWatch Logs error, log files delivered", st)
				}
			},
		},
		{
			name: "s3_error", state: awsemu.DeliveryState{DeliveryError: "NoSuchBucket", LastDelivery: past},
			check: func(t *testing.T, st *cloudtrail.GetTrailStatusOutput) {
				if aws.ToString(st.LatestDeliveryError) != "NoSuchBucket" || !st.LatestDeliveryTime.Equal(past) || aws.ToString(st.LatestDeliveryAttemptTime) == "" {
					t.Errorf("status %+v, want NoSuchBucket, last delivery %v, an attempt time", st, past)
				}
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			c := e.emu.AddAccount(acctA)
			s := spec()
			state := tc.state
			s.Delivery = &state
			arn, err := e.emu.PutTrail(acctA, s)
			must(t, err)
			// Read twice: a second read must not move a pinned state on.
			for range 2 {
				st, err := e.ct(c, "us-east-1").GetTrailStatus(ctx, &cloudtrail.GetTrailStatusInput{Name: aws.String(arn)})
				must(t, err)
				tc.check(t, st)
			}
		})
	}
}

// States AWS could not report are refused.
func TestSetDeliveryState_refuses_impossible_states(t *testing.T) {
	e := newEnv(t)
	e.emu.AddAccount(acctA)
	arn, err := e.emu.PutTrail(acctA, awsemu.TrailSpec{Name: "main", S3BucketName: "x-logs", IsMultiRegion: true, Logging: true})
	must(t, err)
	for _, tc := range []struct {
		name  string
		state awsemu.DeliveryState
		want  string
	}{
		{"digest_error_without_validation", awsemu.DeliveryState{DigestDeliveryError: "AccessDenied"}, "log file validation"},
		{"cloudwatch_error_without_log_group", awsemu.DeliveryState{CloudWatchLogsDeliveryError: "x"}, "log group"},
		{"last_and_never", awsemu.DeliveryState{NeverDelivered: true, LastDelivery: time.Now().Add(-time.Hour)}, "contradict"},
		{"future_delivery", awsemu.DeliveryState{LastDelivery: time.Now().Add(time.Hour)}, "future"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := e.emu.SetDeliveryState(arn, tc.state); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want one naming %q", err, tc.want)
			}
		})
	}
	if err := e.emu.SetDeliveryState("arn:aws:cloudtrail:us-east-1:"+acctA+":trail/none", awsemu.DeliveryState{}); err == nil {
		t.Errorf("an unknown trail was accepted")
	}
}
