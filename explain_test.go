package trailguard

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestExplanation(t *testing.T) {
	text := Explanation()
	if strings.TrimSpace(text) == "" {
		t.Fatal("Explanation() is empty")
	}

	t.Run("has_every_section", func(t *testing.T) {
		for _, heading := range []string{
			"## What the control is",
			"## Why it matters",
			"## Who should care",
			"## Risks of not having it",
			"## Trade-offs and costs",
			"## What 3.1 does not cover",
			"## Delivery health",
			"## How to fix it",
			"## Gotchas",
			"## Alternatives",
			"## References",
		} {
			if !hasLine(text, heading) {
				t.Errorf("missing section %q", heading)
			}
		}
	})

	t.Run("states_key_facts", func(t *testing.T) {
		for _, fact := range []string{
			"IsMultiRegionTrail",
			"--is-multi-region-trail",
			"IsLogging",
			"ReadWriteType All",
			`"ReadWriteType": "All"`,
			"IncludeManagementEvents",
			"eventCategory",
			"readOnly",
			"aws cloudtrail start-logging",
			"create-trail does NOT start logging",
			"aws s3api create-bucket",
			"AWSCloudTrailAclCheck",
			"AWSCloudTrailWrite",
			"bucket-owner-full-control",
			"aws:SourceArn",
			"put-event-selectors",
			"--is-organization-trail",
			"trailguard fix",
			"--apply",
			"InsufficientS3BucketPolicyException",
			"InsufficientEncryptionPolicyException",
			"LatestDeliveryError",
			"kms:Decrypt",
			"multi-region-cloudtrail-enabled",
			"CloudTrail.1",
			"CloudTrail Lake",
			"Control Tower",
		} {
			if !strings.Contains(text, fact) {
				t.Errorf("missing fact %q", fact)
			}
		}
	})

	t.Run("explains_exclusions_and_strict", func(t *testing.T) {
		sec := section(text, "## What the control is")
		flat := strings.Join(strings.Fields(sec), " ")
		for _, want := range []string{
			"ExcludeManagementEventSources",
			"KMS",
			"RDS Data API",
			"with a warning",
			"With --strict such a trail does not count",
		} {
			if !strings.Contains(flat, want) {
				t.Errorf("exclusion note lacks %q", want)
			}
		}
	})

	t.Run("explains_delivery_health", func(t *testing.T) {
		sec := section(text, "## Delivery health")
		flat := strings.Join(strings.Fields(sec), " ")
		for _, want := range []string{
			"LatestDeliveryError",
			"LatestDigestDeliveryError",
			"LatestCloudWatchLogsDeliveryError",
			"LatestDeliveryTime is older than --max-delivery-age",
			"never delivered",
			"--enable-log-file-validation",
			"--require-delivery exists for teams",
			"UNKNOWN, never PASS",
			"Validation off stays a warning",
			"organization trail",
		} {
			if !strings.Contains(flat, want) {
				t.Errorf("delivery health section lacks %q", want)
			}
		}
	})

	t.Run("fits_80_columns", func(t *testing.T) {
		for i, line := range strings.Split(text, "\n") {
			if n := utf8.RuneCountInString(line); n > 80 {
				t.Errorf("line %d is %d columns: %q", i+1, n, line)
			}
			if strings.Contains(line, "\t") {
				t.Errorf("line %d has a tab, which renders at unknown width", i+1)
			}
		}
	})
}

func hasLine(text, line string) bool {
	for _, l := range strings.Split(text, "\n") {
		if strings.TrimSpace(l) == line {
			return true
		}
	}
	return false
}

// section returns the text under heading, up to the next "## " heading.
func section(text, heading string) string {
	i := strings.Index(text, heading+"\n")
	if i < 0 {
		return ""
	}
	rest := text[i+len(heading)+1:]
	if j := strings.Index(rest, "\n## "); j >= 0 {
		rest = rest[:j]
	}
	return rest
}
