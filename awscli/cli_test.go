package awscli_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/trailguard/trailguard"
	"github.com/trailguard/trailguard/awscli"
	"github.com/trailguard/trailguard/internal/awsemu"
)

// The real AWS CLI keeps the model honest in both directions: what
// PutEventSelectorsOf prints is taken by `aws cloudtrail
// put-event-selectors` as it is, and what `aws cloudtrail
// get-event-selectors` then prints reads back, exactly, as the same
// selectors.
func TestPutEventSelectors_round_trip_through_the_aws_cli(t *testing.T) {
	bin := awsemu.AWSCLI(t)
	emu, srv := awsemu.Start()
	t.Cleanup(srv.Close)
	const account = "123456789012"
	keys := emu.AddAccount(account)
	arn, err := emu.PutTrail(account, awsemu.TrailSpec{Name: "main", S3BucketName: "logs", IsMultiRegion: true, IncludeGlobalServiceEvents: true})
	if err != nil {
		t.Fatal(err)
	}
	home := t.TempDir()
	env := []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + home,
		"AWS_ACCESS_KEY_ID=" + keys.AccessKeyID, "AWS_SECRET_ACCESS_KEY=" + keys.SecretAccessKey,
		"AWS_CONFIG_FILE=" + filepath.Join(home, "config"), "AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(home, "credentials"),
		"AWS_EC2_METADATA_DISABLED=true", "AWS_PAGER=", "AWS_MAX_ATTEMPTS=1",
	}
	run := func(args ...string) []byte {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, bin, append(args, "--endpoint-url", srv.URL, "--region", "us-east-1", "--output", "json")...)
		cmd.Env = env
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("aws %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
		}
		return stdout.Bytes()
	}
	data := []trailguard.DataResource{{Type: "AWS::S3::Object", Values: []string{"arn:aws:s3:::payroll/", "arn:aws:s3:::hr/"}}}
	tests := []struct {
		name string
		sels trailguard.EventSelectors
	}{
		{name: "basic_all_management_events", sels: *trailguard.DefaultSelectors()},
		{name: "basic_management_beside_data_events", sels: trailguard.EventSelectors{Basic: []trailguard.EventSelector{
			{ReadWriteType: "ReadOnly", IncludeManagementEvents: false, DataResources: data},
			{ReadWriteType: "All", IncludeManagementEvents: true, ExcludeManagementEventSources: []string{"kms.amazonaws.com"}},
		}}},
		{name: "advanced_management_and_data", sels: trailguard.EventSelectors{Advanced: []trailguard.AdvancedEventSelector{
			{Name: "All management events", FieldSelectors: []trailguard.FieldSelector{{Field: "eventCategory", Equals: []string{"Management"}}, {Field: "eventSource", NotEquals: []string{"kms.amazonaws.com"}}}},
			{Name: "payroll objects", FieldSelectors: []trailguard.FieldSelector{{Field: "eventCategory", Equals: []string{"Data"}}, {Field: "resources.type", Equals: []string{"AWS::S3::Object"}},
				{Field: "resources.ARN", StartsWith: []string{"arn:aws:s3:::payroll/"}}}},
		}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			flag, value := awscli.PutEventSelectorsOf(arn, tc.sels).Arg()
			run("cloudtrail", "put-event-selectors", "--trail-name", arn, flag, value)
			var got awscli.GetEventSelectors
			if err := awscli.Decode(run("cloudtrail", "get-event-selectors", "--trail-name", arn), &got); err != nil {
				t.Fatalf("get-event-selectors output does not read exactly: %v", err)
			}
			if got.TrailARN != arn {
				t.Errorf("TrailARN %q, want %q", got.TrailARN, arn)
			}
			if d := got.Domain(); !reflect.DeepEqual(*d, tc.sels) {
				t.Errorf("read back\n%+v\nwant\n%+v", *d, tc.sels)
			}
		})
	}
}
