package awsemu

import (
	"net/http"
	"strings"
)

// trailConfig is the trail as CreateTrail and UpdateTrail return it.
type trailConfig struct {
	Name                       string `json:"Name"`
	S3BucketName               string `json:"S3BucketName"`
	S3KeyPrefix                string `json:"S3KeyPrefix,omitempty"`
	SnsTopicName               string `json:"SnsTopicName,omitempty"`
	SnsTopicARN                string `json:"SnsTopicARN,omitempty"`
	IncludeGlobalServiceEvents bool   `json:"IncludeGlobalServiceEvents"`
	IsMultiRegionTrail         bool   `json:"IsMultiRegionTrail"`
	TrailARN                   string `json:"TrailARN"`
	LogFileValidationEnabled   bool   `json:"LogFileValidationEnabled"`
	CloudWatchLogsLogGroupArn  string `json:"CloudWatchLogsLogGroupArn,omitempty"`
	CloudWatchLogsRoleArn      string `json:"CloudWatchLogsRoleArn,omitempty"`
	KmsKeyId                   string `json:"KmsKeyId,omitempty"`
	IsOrganizationTrail        bool   `json:"IsOrganizationTrail"`
}

// trailOut is the trail as DescribeTrails and GetTrail return it.
type trailOut struct {
	trailConfig
	HomeRegion              string `json:"HomeRegion"`
	HasCustomEventSelectors bool   `json:"HasCustomEventSelectors"`
	HasInsightSelectors     bool   `json:"HasInsightSelectors"`
}

func (t *trail) config() trailConfig {
	out := trailConfig{
		Name: t.name, S3BucketName: t.bucket, S3KeyPrefix: t.prefix,
		IncludeGlobalServiceEvents: t.globalEvents, IsMultiRegionTrail: t.multiRegion,
		TrailARN: t.arn, LogFileValidationEnabled: t.validation,
		CloudWatchLogsLogGroupArn: t.cwLogGroup, CloudWatchLogsRoleArn: t.cwRole,
		KmsKeyId: t.kmsKey, IsOrganizationTrail: t.org,
	}
	if t.snsTopic != "" {
		out.SnsTopicName = t.snsTopic
		out.SnsTopicARN = "arn:aws:sns:" + t.home + ":" + t.account + ":" + t.snsTopic
	}
	return out
}

func (t *trail) out() trailOut {
	return trailOut{trailConfig: t.config(), HomeRegion: t.home, HasCustomEventSelectors: t.custom}
}

// trailSettings are the members CreateTrail and UpdateTrail share.
type trailSettings struct {
	Name                       *string
	S3BucketName               *string
	S3KeyPrefix                *string
	SnsTopicName               *string
	IncludeGlobalServiceEvents *bool
	IsMultiRegionTrail         *bool
	EnableLogFileValidation    *bool
	CloudWatchLogsLogGroupArn  *string
	CloudWatchLogsRoleArn      *string
	KmsKeyId                   *string
	IsOrganizationTrail        *bool
	TagsList                   []tag
}

// maxTrailsPerRegion is the CloudTrail quota of trails per region,
// counting the shadows of multi-region trails.
const maxTrailsPerRegion = 5

func (e *Emulator) createTrail(c *call, body []byte) (any, *apiError) {
	var in trailSettings
	if err := decodeJSON(body, &in); err != nil {
		return nil, err
	}
	if in.Name == nil {
		return nil, required("name")
	}
	if in.S3BucketName == nil {
		return nil, required("s3BucketName")
	}
	if !validTrailName(*in.Name) {
		return nil, invalidName(*in.Name)
	}
	if !validBucketName(*in.S3BucketName) {
		return nil, errorf(http.StatusBadRequest, "InvalidS3BucketNameException", "Bucket name %q is not valid.", *in.S3BucketName)
	}
	t := &trail{
		account: c.account(), name: *in.Name, home: c.region, arn: trailARN(c.account(), c.region, *in.Name),
		bucket: *in.S3BucketName, globalEvents: true,
	}
	if err := applySettings(t, in); err != nil {
		return nil, err
	}
	if err := checkTags(nil, in.TagsList); err != nil {
		return nil, err
	}
	t.tags = mergeTags(nil, in.TagsList)

	e.mu.Lock()
	defer e.mu.Unlock()
	if err := e.checkNewTrail(t); err != nil {
		return nil, err
	}
	if t.org {
		if err := e.checkOrgTrailOwner(c); err != nil {
			return nil, err
		}
	}
	if err := e.checkTrailDestination(c, t); err != nil {
		return nil, err
	}
	t.bucketChecked = true
	e.trails[t.arn] = t
	return t.config(), nil
}

// applySettings copies the members a request sets onto t and checks the
// rules that involve several of them.
func applySettings(t *trail, in trailSettings) *apiError {
	if in.S3BucketName != nil {
		t.bucket = *in.S3BucketName
	}
	if in.S3KeyPrefix != nil {
		if len(*in.S3KeyPrefix) > 200 {
			return errorf(http.StatusBadRequest, "InvalidS3PrefixException", "S3 key prefix is longer than 200 characters.")
		}
		t.prefix = *in.S3KeyPrefix
	}
	if in.SnsTopicName != nil {
		t.snsTopic = *in.SnsTopicName
	}
	if in.IncludeGlobalServiceEvents != nil {
		t.globalEvents = *in.IncludeGlobalServiceEvents
	}
	if in.IsMultiRegionTrail != nil {
		t.multiRegion = *in.IsMultiRegionTrail
	}
	if in.EnableLogFileValidation != nil {
		t.validation = *in.EnableLogFileValidation
	}
	if in.CloudWatchLogsLogGroupArn != nil {
		t.cwLogGroup = *in.CloudWatchLogsLogGroupArn
	}
	if in.CloudWatchLogsRoleArn != nil {
		t.cwRole = *in.CloudWatchLogsRoleArn
	}
	if in.KmsKeyId != nil {
		t.kmsKey = kmsKeyARN(*in.KmsKeyId, t.home, t.account)
	}
	if in.IsOrganizationTrail != nil {
		t.org = *in.IsOrganizationTrail
	}
	// A multi-region trail must record global service events (CloudTrail
	// refuses the combination with InvalidParameterCombinationException).
	if t.multiRegion && !t.globalEvents {
		return errorf(http.StatusBadRequest, "InvalidParameterCombinationException", "Multi-Region trail must include global service events.")
	}
	if (t.cwLogGroup == "") != (t.cwRole == "") {
		return errorf(http.StatusBadRequest, "InvalidParameterCombinationException", "You must specify both CloudWatchLogsLogGroupArn and CloudWatchLogsRoleArn, or neither.")
	}
	return nil
}

// kmsKeyARN turns a KmsKeyId as CreateTrail accepts it (key ARN, alias
// ARN, key id, alias/name) into the ARN CloudTrail reports. An empty value
// removes encryption (UpdateTrail).
func kmsKeyARN(id, region, account string) string {
	switch {
	case id == "" || strings.HasPrefix(id, "arn:"):
		return id
	case strings.HasPrefix(id, "alias/"):
		return "arn:aws:kms:" + region + ":" + account + ":" + id
	default:
		return "arn:aws:kms:" + region + ":" + account + ":key/" + id
	}
}

// checkNewTrail enforces name uniqueness and the per-region quota for a
// trail about to be created (or seeded). A name is taken in a region by a
// trail homed there or by the shadow of a multi-region trail, so a
// multi-region trail needs its name free everywhere. Called with e.mu held.
func (e *Emulator) checkNewTrail(t *trail) *apiError {
	count := map[string]int{}
	for _, o := range e.trails {
		if o.account != t.account {
			continue
		}
		if o.name == t.name && (o.home == t.home || o.multiRegion || t.multiRegion) {
			return errorf(http.StatusBadRequest, "TrailAlreadyExistsException", "Trail %s already exists for customer: %s", t.name, t.account)
		}
		if o.multiRegion {
			for _, r := range allRegions() {
				count[r]++
			}
		} else {
			count[o.home]++
		}
	}
	if count[t.home] >= maxTrailsPerRegion || (t.multiRegion && maxCount(count) >= maxTrailsPerRegion) {
		return errorf(http.StatusBadRequest, "MaximumNumberOfTrailsExceededException", "User: %s already has %d trails in %s.", t.account, maxTrailsPerRegion, t.home)
	}
	return nil
}

func maxCount(m map[string]int) int {
	n := 0
	for _, v := range m {
		n = max(n, v)
	}
	return n
}

// checkOrgTrailOwner allows organization trails only to an organization's
// management account (CreateTrail reference: IsOrganizationTrail "cannot be
// true unless the call is made on behalf of an Amazon Web Services account
// that is the management account"). Called with e.mu held.
func (e *Emulator) checkOrgTrailOwner(c *call) *apiError {
	switch e.managementOf(c.account()) {
	case "":
		return errorf(http.StatusBadRequest, "OrganizationsNotInUseException", "Account %s is not a member of an organization in AWS Organizations.", c.account())
	case c.account():
		// An organization trail needs CloudTrail's trusted access to the
		// organization (CreateTrail reference:
		// CloudTrailAccessNotEnabledException).
		if _, ok := e.orgs[c.account()].trusted[cloudTrailSP]; !ok {
			return errorf(http.StatusBadRequest, "CloudTrailAccessNotEnabledException", "Trusted access has not been enabled between CloudTrail and AWS Organizations for organization %s.", e.orgs[c.account()].id)
		}
		return nil
	default:
		return errorf(http.StatusBadRequest, "NotOrganizationMasterAccountException", "Account %s is not the management account of its organization; only the management account can create or update an organization trail.", c.account())
	}
}

func (e *Emulator) updateTrail(c *call, body []byte) (any, *apiError) {
	var in trailSettings
	if err := decodeJSON(body, &in); err != nil {
		return nil, err
	}
	if in.Name == nil {
		return nil, required("name")
	}
	if in.S3BucketName != nil && !validBucketName(*in.S3BucketName) {
		return nil, errorf(http.StatusBadRequest, "InvalidS3BucketNameException", "Bucket name %q is not valid.", *in.S3BucketName)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	t, err := e.findTrail(c, *in.Name, mutate)
	if err != nil {
		return nil, err
	}
	updated := *t
	if err := applySettings(&updated, in); err != nil {
		return nil, err
	}
	if updated.multiRegion && !t.multiRegion {
		if other := e.ownNameElsewhere(t); other != nil {
			return nil, errorf(http.StatusBadRequest, "TrailAlreadyExistsException", "Trail %s already exists in %s for customer: %s", t.name, other.home, t.account)
		}
	}
	if in.IsOrganizationTrail != nil && *in.IsOrganizationTrail != t.org {
		if err := e.checkOrgTrailOwner(c); err != nil {
			return nil, err
		}
	}
	if in.S3BucketName != nil {
		if err := e.checkTrailDestination(c, &updated); err != nil {
			return nil, err
		}
		updated.bucketChecked = true
	}
	*t = updated
	return t.config(), nil
}

// ownNameElsewhere finds another trail of t's account with t's name in
// another region, which blocks turning t into a multi-region trail.
func (e *Emulator) ownNameElsewhere(t *trail) *trail {
	for _, o := range e.trails {
		if o != t && o.account == t.account && o.name == t.name {
			return o
		}
	}
	return nil
}

func (e *Emulator) deleteTrail(c *call, body []byte) (any, *apiError) {
	return e.withTrail(c, body, &nameIn{}, mutate, func(t *trail) (any, *apiError) {
		delete(e.trails, t.arn)
		return struct{}{}, nil
	})
}
