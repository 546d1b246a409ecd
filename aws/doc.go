// Package aws collects what CIS 3.1 needs from live AWS accounts with
// aws-sdk-go-v2: DescribeTrails once per account, then GetTrailStatus and
// GetEventSelectors once per candidate trail ARN, asked in the trail's home
// region. It turns SDK types into the domain types of package trailguard.
package aws
