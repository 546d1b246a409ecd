package aws

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// partition is one AWS partition's region names, as the SDK's endpoint
// rules know them (aws-sdk-go-v2 internal/endpoints/awsrulesfn
// partitions.json, v1.48.0). Copied here because the SDK keeps that table
// in an internal package; a region added after that release matches its
// partition's pattern and is let through with a warning.
type partition struct {
	id      string
	pattern *regexp.Regexp
	regions []string
}

var partitions = []partition{
	{"aws", regexp.MustCompile(`^(us|eu|ap|sa|ca|me|af|il|mx)-\w+-\d+$`), []string{
		"af-south-1", "ap-east-1", "ap-east-2", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3",
		"ap-south-1", "ap-south-2", "ap-southeast-1", "ap-southeast-2", "ap-southeast-3", "ap-southeast-4",
		"ap-southeast-5", "ap-southeast-6", "ap-southeast-7", "ca-central-1", "ca-west-1", "eu-central-1",
		"eu-central-2", "eu-north-1", "eu-south-1", "eu-south-2", "eu-west-1", "eu-west-2", "eu-west-3",
		"il-central-1", "me-central-1", "me-south-1", "me-west-1", "mx-central-1", "sa-east-1", "sa-west-1",
		"us-east-1", "us-east-2", "us-west-1", "us-west-2",
	}},
	{"aws-cn", regexp.MustCompile(`^cn-\w+-\d+$`), []string{"cn-north-1", "cn-northwest-1"}},
	{"aws-eusc", regexp.MustCompile(`^eusc-(de)-\w+-\d+$`), []string{"eusc-de-east-1"}},
	{"aws-iso", regexp.MustCompile(`^us-iso-\w+-\d+$`), []string{"us-iso-east-1", "us-iso-west-1"}},
	{"aws-iso-b", regexp.MustCompile(`^us-isob-\w+-\d+$`), []string{"us-isob-east-1", "us-isob-west-1"}},
	{"aws-iso-e", regexp.MustCompile(`^eu-isoe-\w+-\d+$`), []string{"eu-isoe-west-1"}},
	{"aws-iso-f", regexp.MustCompile(`^us-isof-\w+-\d+$`), []string{"us-isof-east-1", "us-isof-south-1"}},
	{"aws-us-gov", regexp.MustCompile(`^us-gov-\w+-\d+$`), []string{"us-gov-east-1", "us-gov-west-1"}},
}

// regionKnown reports whether region is a region name the SDK's endpoint
// metadata lists, and whether it at least has the shape of a region of
// some partition (a region newer than the table).
func regionKnown(region string) (known, shaped bool) {
	for _, p := range partitions {
		if slices.Contains(p.regions, region) {
			return true, true
		}
		if p.pattern.MatchString(region) {
			shaped = true
		}
	}
	return false, shaped
}

// CheckRegion says whether region can be asked: an error for a name that
// is no partition's region name (a typo that would otherwise surface as
// "no such host"), a warning for one that has a partition's shape but is
// not in the SDK's table (perhaps a region newer than it), nothing for a
// known region. Only meaningful when no custom endpoint is set.
func CheckRegion(region string) (warning string, err error) {
	known, shaped := regionKnown(region)
	switch {
	case known:
		return "", nil
	case shaped:
		return fmt.Sprintf("region %q is not a known AWS region%s; asking it anyway, in case it is newer than this build", region, didYouMean(region)), nil
	}
	return "", fmt.Errorf("region %q is not a known AWS region%s, nor of a region's shape (like us-east-1)", region, didYouMean(region))
}

// unknownRegionInHost finds, in an endpoint host name that did not
// resolve (cloudtrail.us-est-1.amazonaws.com), a label that has a
// region's shape but is not a known region.
func unknownRegionInHost(host string) (string, bool) {
	for _, label := range strings.Split(host, ".") {
		if known, shaped := regionKnown(label); shaped && !known {
			return label, true
		}
	}
	return "", false
}

// maxRegionName bounds the names compared by edit distance; the longest
// region name is 15 bytes.
const maxRegionName = 64

// didYouMean suggests the known region nearest to region by edit
// distance, when one is near enough to be a typo of it.
func didYouMean(region string) string {
	if len(region) > maxRegionName {
		return "" // no region name is that long: nothing near it
	}
	best, bestD := "", 3 // more than two edits away is not a typo
	for _, p := range partitions {
		for _, r := range p.regions {
			if d := editDistance(region, r); d < bestD {
				best, bestD = r, d
			}
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %s?)", best)
}

// editDistance is the Levenshtein distance of a and b, bytewise (region
// names are ASCII).
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
