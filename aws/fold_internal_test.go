package aws

import (
	"strings"
	"testing"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
)

// Facts belong to one trail: DescribeTrails entries without a valid ARN are
// never folded into one another, and their facts are never asked (so never
// cached under an empty key); another account's ordinary trail is not read.
func TestFoldTrails_and_notAsked(t *testing.T) {
	const own = "arn:aws:cloudtrail:us-east-1:111111111111:trail/main"
	listed := []cttypes.Trail{
		{Name: sdkaws.String("a"), HomeRegion: sdkaws.String("us-east-1")},
		{Name: sdkaws.String("b"), HomeRegion: sdkaws.String("us-east-1"), TrailARN: sdkaws.String("")},
		{Name: sdkaws.String("main"), TrailARN: sdkaws.String(own), IsMultiRegionTrail: sdkaws.Bool(true)},
		{Name: sdkaws.String("main"), TrailARN: sdkaws.String(own), IsMultiRegionTrail: sdkaws.Bool(true)},
	}
	got := foldTrails(listed)
	if len(got) != 3 {
		t.Fatalf("folded to %d trails, want 3 (two without ARN kept apart, shadow folded): %+v", len(got), got)
	}
	tests := []struct {
		name, trail, reader string
		org                 bool
		want                string // substring of the reason, "" when asked
	}{
		{name: "without_arn", trail: "", reader: "111111111111", want: "without a valid TrailARN"},
		{name: "malformed_arn", trail: "main", reader: "111111111111", want: "without a valid TrailARN"},
		{name: "own_trail", trail: own, reader: "111111111111"},
		{name: "ordinary_trail_of_another_account", trail: own, reader: "222222222222", want: "not an organization trail"},
		{name: "organization_trail_of_another_account", trail: own, reader: "222222222222", org: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := foldTrails([]cttypes.Trail{{Name: sdkaws.String("main"), TrailARN: sdkaws.String(tc.trail), IsOrganizationTrail: sdkaws.Bool(tc.org)}})[0]
			why := notAsked(tr, tc.reader)
			if (tc.want == "") != (why == "") || !strings.Contains(why, tc.want) {
				t.Errorf("notAsked = %q, want %q", why, tc.want)
			}
		})
	}
}
