package awsemu

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// cloudTrailTargetPrefix is the JSON 1.1 target prefix of the CloudTrail
// API (service model cloudtrail-2013-11-01, targetPrefix
// CloudTrail_20131101): X-Amz-Target: CloudTrail_20131101.DescribeTrails.
const cloudTrailTargetPrefix = "CloudTrail_20131101."

// legacyCloudTrailTargetPrefix is the fully qualified form some older
// clients send.
const legacyCloudTrailTargetPrefix = "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101."

var cloudTrailService = &service{
	operation: func(r *http.Request, _ []byte) string {
		t := r.Header.Get("X-Amz-Target")
		for _, p := range []string{cloudTrailTargetPrefix, legacyCloudTrailTargetPrefix} {
			if strings.HasPrefix(t, p) {
				return strings.TrimPrefix(t, p)
			}
		}
		return ""
	},
	writeError: func(w http.ResponseWriter, r *http.Request, c *call, err *apiError) {
		writeJSONError(w, c.reqID, err)
	},
	serve:      (*Emulator).serveCloudTrail,
	invalidKey: apiError{Status: http.StatusBadRequest, Code: "UnrecognizedClientException", Message: "The security token included in the request is invalid."},
	expired:    apiError{Status: http.StatusBadRequest, Code: "ExpiredTokenException", Message: "The security token included in the request is expired"},
	throttled:  apiError{Status: http.StatusBadRequest, Code: "ThrottlingException", Message: "Rate exceeded"},
}

// trail is one CloudTrail trail. It lives in its owner's home region; a
// multi-region trail also appears as a shadow trail in every other region,
// and an organization trail in every member account.
type trail struct {
	account, name, home, arn string

	bucket, prefix, snsTopic, kmsKey, cwLogGroup, cwRole string
	multiRegion, org, globalEvents, validation           bool

	logging                   bool
	startLogging, stopLogging time.Time
	deliveryError             string
	lastAttempt, lastSuccess  time.Time
	// bucketChecked is set when the bucket existed at creation: deleting it
	// later then shows in GetTrailStatus as a delivery error, as it does on
	// AWS. Seeded trails skip the check and so never report it.
	bucketChecked bool

	custom   bool // PutEventSelectors was called
	basic    []eventSelector
	advanced []advancedEventSelector
	tags     []tag
}

type tag struct {
	Key   string `json:"Key"`
	Value string `json:"Value,omitempty"`
}

func trailARN(account, region, name string) string {
	return "arn:aws:cloudtrail:" + region + ":" + account + ":trail/" + name
}

type ctHandler func(e *Emulator, c *call, body []byte) (any, *apiError)

var cloudTrailOps = map[string]ctHandler{
	"CreateTrail":       (*Emulator).createTrail,
	"UpdateTrail":       (*Emulator).updateTrail,
	"DeleteTrail":       (*Emulator).deleteTrail,
	"GetTrail":          (*Emulator).getTrail,
	"DescribeTrails":    (*Emulator).describeTrails,
	"ListTrails":        (*Emulator).listTrails,
	"GetTrailStatus":    (*Emulator).getTrailStatus,
	"StartLogging":      (*Emulator).startLogging,
	"StopLogging":       (*Emulator).stopLogging,
	"GetEventSelectors": (*Emulator).getEventSelectors,
	"PutEventSelectors": (*Emulator).putEventSelectors,
	"AddTags":           (*Emulator).addTags,
	"RemoveTags":        (*Emulator).removeTags,
	"ListTags":          (*Emulator).listTags,
}

func (e *Emulator) serveCloudTrail(w http.ResponseWriter, r *http.Request, c *call, body []byte) {
	h := cloudTrailOps[c.op]
	if h == nil {
		writeJSONError(w, c.reqID, errorf(http.StatusBadRequest, "UnknownOperationException", "unknown operation %q", r.Header.Get("X-Amz-Target")))
		return
	}
	out, err := h(e, c, body)
	if err != nil {
		writeJSONError(w, c.reqID, err)
		return
	}
	writeJSON(w, c.reqID, out)
}

// decodeJSON reads a JSON 1.1 request body into v. An empty body is an
// empty object; anything that is not a JSON object of the right member
// types is a SerializationException, as AWS JSON services answer.
func decodeJSON(body []byte, v any) *apiError {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return nil
	}
	if body[0] != '{' {
		return errorf(http.StatusBadRequest, "SerializationException", "Start of structure or map found where not expected")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(v); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			return errorf(http.StatusBadRequest, "SerializationException", "Unexpected value type for member %s", typeErr.Field)
		}
		return errorf(http.StatusBadRequest, "SerializationException", "Malformed request body: %v", err)
	}
	if dec.More() {
		return errorf(http.StatusBadRequest, "SerializationException", "Unexpected content after the request body")
	}
	return nil
}

func required(member string) *apiError {
	return validationError("Value null at '%s' failed to satisfy constraint: Member must not be null", member)
}

var (
	adjacentPunct = regexp.MustCompile(`[._-]{2}`)
	ipLike        = regexp.MustCompile(`^\d{1,3}(\.\d{1,3}){3}$`)
	namePattern   = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{1,126}[A-Za-z0-9]$`)
	arnPattern    = regexp.MustCompile(`^arn:(aws[a-z-]*):cloudtrail:([a-z0-9-]+):(\d{12}):trail/(.+)$`)
)

// validTrailName applies the CreateTrail naming rules: ASCII letters,
// digits, periods, underscores and dashes; start and end with a letter or
// digit; 3–128 characters; no adjacent periods, underscores or dashes
// (my-_namespace, my--namespace); not an IP address (192.168.5.4).
func validTrailName(name string) bool {
	return namePattern.MatchString(name) && !adjacentPunct.MatchString(name) && !ipLike.MatchString(name)
}

func invalidName(name string) *apiError {
	return errorf(http.StatusBadRequest, "InvalidTrailNameException",
		"Trail name %q is not valid: use 3 to 128 letters, digits, periods, underscores or dashes, starting and ending with a letter or digit, with no two of . _ - adjacent, and not formatted as an IP address.", name)
}

func trailNotFound(c *call, nameOrARN string) *apiError {
	return errorf(http.StatusBadRequest, "TrailNotFoundException", "Unknown trail: %s for the user: %s", nameOrARN, c.account())
}

// visibleIn reports whether account sees trail t in region: its own trails
// homed there; its own multi-region trails homed elsewhere (shadow
// trails); and the organization trails of its organization's management
// account, which AWS replicates into every member account. Called with
// e.mu held.
func (e *Emulator) visibleIn(t *trail, account, region string) bool {
	if t.home != region && !t.multiRegion {
		return false
	}
	return t.account == account || e.orgTrailReaches(t, account)
}

// orgTrailReaches reports whether t is an organization trail that applies
// to account. Called with e.mu held.
func (e *Emulator) orgTrailReaches(t *trail, account string) bool {
	if !t.org || e.managementOf(account) != t.account {
		return false
	}
	a := e.accounts[account]
	return a == nil || !a.outsideOrgTrails
}

type access int

const (
	read   access = iota
	mutate        // UpdateTrail, DeleteTrail, Start/StopLogging, PutEventSelectors, tags
)

// findTrail resolves a trail name or ARN as CloudTrail does:
//
//   - a name matches only the caller's own trail homed in the request
//     region ("If one or more trail names are specified, information is
//     returned only if the names match the names of trails belonging only
//     to the current Region and current account", DescribeTrails
//     reference); shadow and organization trails need their ARN ("To get
//     the status of a shadow trail … you must specify its ARN"; "If the
//     trail is an organization trail and you are a member account …, you
//     must provide the full ARN", GetTrailStatus reference);
//   - an ARN matches any trail the caller sees in the region, shadow and
//     organization trails included.
//
// For mutations it then requires the caller to own the trail (a member
// account changing its organization's trail gets
// NotOrganizationMasterAccountException, which CloudTrail documents for
// non-management accounts creating or updating organization trails) and
// the request to be made in the home region (InvalidHomeRegionException:
// "must be called from the Region in which the trail was created",
// UpdateTrail/PutEventSelectors reference). Called with e.mu held.
func (e *Emulator) findTrail(c *call, nameOrARN string, a access) (*trail, *apiError) {
	var t *trail
	if strings.HasPrefix(nameOrARN, "arn:") {
		m := arnPattern.FindStringSubmatch(nameOrARN)
		if m == nil || !validTrailName(m[4]) {
			return nil, errorf(http.StatusBadRequest, "CloudTrailARNInvalidException", "%s is not a valid trail ARN; the format is arn:aws:cloudtrail:us-east-2:123456789012:trail/MyTrail", nameOrARN)
		}
		t = e.trails[nameOrARN]
		if t != nil && !e.visibleIn(t, c.account(), c.region) {
			// The caller's own single-region trail of another region: a
			// mutation learns where to go, a read finds nothing here.
			if !(a == mutate && t.account == c.account()) {
				t = nil
			}
		}
	} else {
		if !validTrailName(nameOrARN) {
			return nil, invalidName(nameOrARN)
		}
		t = e.trails[trailARN(c.account(), c.region, nameOrARN)]
		if t == nil && a == mutate {
			// A shadow trail named from another region: the name is in use
			// here, but only the home region may change the trail.
			if own := e.ownMultiRegionTrail(c.account(), nameOrARN); own != nil {
				t = own
			}
		}
	}
	if t == nil {
		return nil, trailNotFound(c, nameOrARN)
	}
	if a == mutate {
		if t.account != c.account() {
			return nil, errorf(http.StatusBadRequest, "NotOrganizationMasterAccountException",
				"Account %s is not the management account of the organization that owns trail %s; only the management account can change an organization trail.", c.account(), t.arn)
		}
		if t.home != c.region {
			return nil, errorf(http.StatusBadRequest, "InvalidHomeRegionException",
				"Trail %s can only be changed in its home region %s; this request was made in %s.", t.arn, t.home, c.region)
		}
	}
	return t, nil
}

// ownMultiRegionTrail returns the account's multi-region trail of that
// name homed in any region. Called with e.mu held.
func (e *Emulator) ownMultiRegionTrail(account, name string) *trail {
	for _, t := range e.trails {
		if t.account == account && t.name == name && t.multiRegion {
			return t
		}
	}
	return nil
}

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

type nameIn struct{ Name *string }

func (e *Emulator) deleteTrail(c *call, body []byte) (any, *apiError) {
	var in nameIn
	if err := decodeJSON(body, &in); err != nil {
		return nil, err
	}
	if in.Name == nil {
		return nil, required("name")
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	t, err := e.findTrail(c, *in.Name, mutate)
	if err != nil {
		return nil, err
	}
	delete(e.trails, t.arn)
	return struct{}{}, nil
}

func (e *Emulator) getTrail(c *call, body []byte) (any, *apiError) {
	var in nameIn
	if err := decodeJSON(body, &in); err != nil {
		return nil, err
	}
	if in.Name == nil {
		return nil, required("name")
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	t, err := e.findTrail(c, *in.Name, read)
	if err != nil {
		return nil, err
	}
	return struct {
		Trail trailOut `json:"Trail"`
	}{t.out()}, nil
}

// describeTrails follows the DescribeTrails reference: with no names, the
// caller's trails of the current region plus, unless includeShadowTrails
// is false, the shadow trails (its multi-region trails homed elsewhere, and
// for a member account its organization's trails); with names, only the caller's trails of
// the current region match a name, and any visible trail its ARN. Names
// that match nothing are left out, not reported.
func (e *Emulator) describeTrails(c *call, body []byte) (any, *apiError) {
	var in struct {
		TrailNameList       []string `json:"trailNameList"`
		IncludeShadowTrails *bool    `json:"includeShadowTrails"`
	}
	if err := decodeJSON(body, &in); err != nil {
		return nil, err
	}
	shadows := in.IncludeShadowTrails == nil || *in.IncludeShadowTrails
	e.mu.Lock()
	defer e.mu.Unlock()
	var list []*trail
	if len(in.TrailNameList) == 0 {
		for _, t := range e.trails {
			if e.visibleIn(t, c.account(), c.region) && (shadows || !isShadow(t, c)) {
				list = append(list, t)
			}
		}
	} else {
		seen := map[*trail]bool{}
		for _, n := range in.TrailNameList {
			t, err := e.findTrail(c, n, read)
			if err != nil {
				if err.Code == "TrailNotFoundException" {
					continue
				}
				return nil, err
			}
			if !seen[t] {
				seen[t] = true
				list = append(list, t)
			}
		}
	}
	sortTrails(list, c.region)
	out := make([]trailOut, 0, len(list))
	for _, t := range list {
		out = append(out, t.out())
	}
	return struct {
		TrailList []trailOut `json:"trailList"`
	}{out}, nil
}

// isShadow reports whether t is, for the caller, a shadow trail: "the
// replication in a Region of a trail that was created in a different
// Region, or in the case of an organization trail, the replication of an
// organization trail in member accounts" (DescribeTrails reference).
func isShadow(t *trail, c *call) bool {
	return t.home != c.region || t.account != c.account()
}

// sortTrails orders trails as a reader expects: those homed in region
// first, then shadows, each by ARN.
func sortTrails(list []*trail, region string) {
	sort.Slice(list, func(i, j int) bool {
		hi, hj := list[i].home == region, list[j].home == region
		if hi != hj {
			return hi
		}
		return list[i].arn < list[j].arn
	})
}

// listTrails lists every trail of the account, whatever its home region,
// plus its organization's trails, one page at a time.
func (e *Emulator) listTrails(c *call, body []byte) (any, *apiError) {
	var in struct{ NextToken *string }
	if err := decodeJSON(body, &in); err != nil {
		return nil, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	var list []*trail
	for _, t := range e.trails {
		if t.account == c.account() || e.orgTrailReaches(t, c.account()) {
			list = append(list, t)
		}
	}
	sort.Slice(list, func(i, j int) bool { return list[i].arn < list[j].arn })
	start, err := decodeToken(in.NextToken, len(list))
	if err != nil {
		return nil, err
	}
	end := min(start+e.pageSize, len(list))
	type info struct {
		TrailARN   string `json:"TrailARN"`
		Name       string `json:"Name"`
		HomeRegion string `json:"HomeRegion"`
	}
	out := struct {
		Trails    []info  `json:"Trails"`
		NextToken *string `json:"NextToken,omitempty"`
	}{Trails: []info{}}
	for _, t := range list[start:end] {
		out.Trails = append(out.Trails, info{t.arn, t.name, t.home})
	}
	if end < len(list) {
		tok := encodeToken(end)
		out.NextToken = &tok
	}
	return out, nil
}

// Pagination tokens are opaque to clients; here they carry an offset.
func encodeToken(offset int) string {
	return base64.RawURLEncoding.EncodeToString([]byte("offset:" + strconv.Itoa(offset)))
}

func decodeToken(tok *string, n int) (int, *apiError) {
	if tok == nil || *tok == "" {
		return 0, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(*tok)
	s, ok := strings.CutPrefix(string(raw), "offset:")
	off, convErr := strconv.Atoi(s)
	if err != nil || !ok || convErr != nil || off < 0 || off > n {
		return 0, errorf(http.StatusBadRequest, "InvalidTokenException", "The NextToken %q is not valid.", *tok)
	}
	return off, nil
}

// epoch is a JSON 1.1 timestamp: seconds since the Unix epoch, with
// milliseconds, as a JSON number.
func epoch(t time.Time) *float64 {
	if t.IsZero() {
		return nil
	}
	f := float64(t.UnixMilli()) / 1000
	return &f
}

// isoTime is the string form GetTrailStatus uses for its *Attempt* and
// TimeLogging* members ("2016-01-28T23:02:24Z"); "" when it never happened.
func isoTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04:05Z")
}

type trailStatusOut struct {
	IsLogging                          bool     `json:"IsLogging"`
	LatestDeliveryError                string   `json:"LatestDeliveryError,omitempty"`
	LatestNotificationError            string   `json:"LatestNotificationError,omitempty"`
	LatestDeliveryTime                 *float64 `json:"LatestDeliveryTime,omitempty"`
	LatestNotificationTime             *float64 `json:"LatestNotificationTime,omitempty"`
	StartLoggingTime                   *float64 `json:"StartLoggingTime,omitempty"`
	StopLoggingTime                    *float64 `json:"StopLoggingTime,omitempty"`
	LatestCloudWatchLogsDeliveryError  string   `json:"LatestCloudWatchLogsDeliveryError,omitempty"`
	LatestCloudWatchLogsDeliveryTime   *float64 `json:"LatestCloudWatchLogsDeliveryTime,omitempty"`
	LatestDigestDeliveryTime           *float64 `json:"LatestDigestDeliveryTime,omitempty"`
	LatestDigestDeliveryError          string   `json:"LatestDigestDeliveryError,omitempty"`
	LatestDeliveryAttemptTime          string   `json:"LatestDeliveryAttemptTime"`
	LatestNotificationAttemptTime      string   `json:"LatestNotificationAttemptTime"`
	LatestNotificationAttemptSucceeded string   `json:"LatestNotificationAttemptSucceeded"`
	LatestDeliveryAttemptSucceeded     string   `json:"LatestDeliveryAttemptSucceeded"`
	TimeLoggingStarted                 string   `json:"TimeLoggingStarted"`
	TimeLoggingStopped                 string   `json:"TimeLoggingStopped"`
}

// deliveryError is the error CloudTrail would meet delivering t's logs
// now: the one set by SetDeliveryError, else NoSuchBucket if the bucket
// checked at creation has since been deleted. Called with e.mu held.
func (e *Emulator) deliveryError(t *trail) string {
	if t.deliveryError != "" {
		return t.deliveryError
	}
	if t.bucketChecked && !e.bucketExists(t.bucket) {
		return "NoSuchBucket"
	}
	return ""
}

// getTrailStatus reports a trail's logging and delivery state. A logging
// trail is taken to have just attempted a delivery, which succeeded unless
// a delivery error is set; a stopped trail's delivery times stay where
// they were.
//
// Asked by ARN from a region other than the trail's home (a shadow trail),
// it answers with the trail's one status: the reference says "To get the
// status of a shadow trail … you must specify its ARN", so the ARN works
// there; the status is the trail's, not per region. Member accounts may
// read their organization's trail by ARN unless SetMemberOrgTrailAccess
// denies it.
func (e *Emulator) getTrailStatus(c *call, body []byte) (any, *apiError) {
	var in nameIn
	if err := decodeJSON(body, &in); err != nil {
		return nil, err
	}
	if in.Name == nil {
		return nil, required("name")
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	t, err := e.findTrail(c, *in.Name, read)
	if err != nil {
		return nil, err
	}
	if err := e.checkMemberRead(c, t); err != nil {
		return nil, err
	}
	now := e.now()
	delivErr := e.deliveryError(t)
	if t.logging {
		t.lastAttempt = now
		if delivErr == "" {
			t.lastSuccess = now
		}
	}
	out := trailStatusOut{
		IsLogging:                      t.logging,
		LatestDeliveryError:            delivErr,
		LatestDeliveryTime:             epoch(t.lastSuccess),
		StartLoggingTime:               epoch(t.startLogging),
		StopLoggingTime:                epoch(t.stopLogging),
		LatestDeliveryAttemptTime:      isoTime(t.lastAttempt),
		LatestDeliveryAttemptSucceeded: isoTime(t.lastSuccess),
		TimeLoggingStarted:             isoTime(t.startLogging),
		TimeLoggingStopped:             isoTime(t.stopLogging),
	}
	if !t.logging && t.lastAttempt.IsZero() {
		out.LatestDeliveryError = "" // no delivery was ever attempted
	}
	if t.validation {
		out.LatestDigestDeliveryTime = epoch(t.lastSuccess)
	}
	if t.cwLogGroup != "" {
		out.LatestCloudWatchLogsDeliveryTime = epoch(t.lastSuccess)
	}
	return out, nil
}

// checkMemberRead applies SetMemberOrgTrailAccess to a member account
// reading its organization's trail. Called with e.mu held.
func (e *Emulator) checkMemberRead(c *call, t *trail) *apiError {
	if t.account == c.account() || !e.memberOrgTrailDenied {
		return nil
	}
	return errorf(http.StatusBadRequest, "AccessDeniedException", "User: %s is not authorized to perform: cloudtrail:%s on resource: %s", c.cred.arn, c.op, t.arn)
}

func (e *Emulator) setLogging(c *call, body []byte, on bool) (any, *apiError) {
	var in nameIn
	if err := decodeJSON(body, &in); err != nil {
		return nil, err
	}
	if in.Name == nil {
		return nil, required("name")
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	t, err := e.findTrail(c, *in.Name, mutate)
	if err != nil {
		return nil, err
	}
	if t.logging != on {
		t.logging = on
		if on {
			t.startLogging = e.now()
		} else {
			t.stopLogging = e.now()
		}
	}
	return struct{}{}, nil
}

func (e *Emulator) startLogging(c *call, body []byte) (any, *apiError) {
	return e.setLogging(c, body, true)
}

func (e *Emulator) stopLogging(c *call, body []byte) (any, *apiError) {
	return e.setLogging(c, body, false)
}

type selectorsOut struct {
	TrailARN               string                  `json:"TrailARN"`
	EventSelectors         []eventSelector         `json:"EventSelectors,omitempty"`
	AdvancedEventSelectors []advancedEventSelector `json:"AdvancedEventSelectors,omitempty"`
}

func (t *trail) selectors() selectorsOut {
	out := selectorsOut{TrailARN: t.arn, EventSelectors: t.basic, AdvancedEventSelectors: t.advanced}
	if t.basic == nil && t.advanced == nil {
		out.EventSelectors = defaultSelectors()
	}
	return out
}

// getEventSelectors answers like getTrailStatus: by name in the home
// region, by ARN wherever the trail is visible. A trail that never had
// PutEventSelectors shows the AWS default selector (all management
// events, read and write).
func (e *Emulator) getEventSelectors(c *call, body []byte) (any, *apiError) {
	var in struct{ TrailName *string }
	if err := decodeJSON(body, &in); err != nil {
		return nil, err
	}
	if in.TrailName == nil {
		return nil, required("trailName")
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	t, err := e.findTrail(c, *in.TrailName, read)
	if err != nil {
		return nil, err
	}
	if err := e.checkMemberRead(c, t); err != nil {
		return nil, err
	}
	return t.selectors(), nil
}

func (e *Emulator) putEventSelectors(c *call, body []byte) (any, *apiError) {
	var in struct {
		TrailName *string
		selectorsIn
	}
	if err := decodeJSON(body, &in); err != nil {
		return nil, err
	}
	if in.TrailName == nil {
		return nil, required("trailName")
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	t, err := e.findTrail(c, *in.TrailName, mutate)
	if err != nil {
		return nil, err
	}
	basic, adv, err := validateSelectors(in.selectorsIn)
	if err != nil {
		return nil, err
	}
	t.basic, t.advanced, t.custom = basic, adv, true
	return t.selectors(), nil
}

const maxTagsPerTrail = 50

func checkTags(existing, add []tag) *apiError {
	for _, tg := range add {
		if len(tg.Key) < 1 || len(tg.Key) > 128 || len(tg.Value) > 256 || strings.HasPrefix(tg.Key, "aws:") {
			return errorf(http.StatusBadRequest, "InvalidTagParameterException", "Tag key %q or its value is not valid.", tg.Key)
		}
	}
	if len(mergeTags(existing, add)) > maxTagsPerTrail {
		return errorf(http.StatusBadRequest, "TagsLimitExceededException", "A trail can have at most %d tags.", maxTagsPerTrail)
	}
	return nil
}

func mergeTags(existing, add []tag) []tag {
	out := append([]tag{}, existing...)
	for _, tg := range add {
		replaced := false
		for i := range out {
			if out[i].Key == tg.Key {
				out[i].Value, replaced = tg.Value, true
			}
		}
		if !replaced {
			out = append(out, tg)
		}
	}
	return out
}

type tagsIn struct {
	ResourceId *string
	TagsList   []tag
}

func (e *Emulator) addTags(c *call, body []byte) (any, *apiError) {
	return e.editTags(c, body, func(t *trail, tags []tag) *apiError {
		if err := checkTags(t.tags, tags); err != nil {
			return err
		}
		t.tags = mergeTags(t.tags, tags)
		return nil
	})
}

func (e *Emulator) removeTags(c *call, body []byte) (any, *apiError) {
	return e.editTags(c, body, func(t *trail, tags []tag) *apiError {
		var kept []tag
		for _, tg := range t.tags {
			drop := false
			for _, r := range tags {
				drop = drop || r.Key == tg.Key
			}
			if !drop {
				kept = append(kept, tg)
			}
		}
		t.tags = kept
		return nil
	})
}

// editTags decodes an AddTags or RemoveTags request, finds the trail it
// names (a change: home region only) and applies edit under the lock.
func (e *Emulator) editTags(c *call, body []byte, edit func(*trail, []tag) *apiError) (any, *apiError) {
	var in tagsIn
	if err := decodeJSON(body, &in); err != nil {
		return nil, err
	}
	if in.ResourceId == nil {
		return nil, required("resourceId")
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	t, err := e.findTrailResource(c, *in.ResourceId, mutate)
	if err != nil {
		return nil, err
	}
	if err := edit(t, in.TagsList); err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

func (e *Emulator) listTags(c *call, body []byte) (any, *apiError) {
	var in struct {
		ResourceIdList []string
		NextToken      *string
	}
	if err := decodeJSON(body, &in); err != nil {
		return nil, err
	}
	if in.ResourceIdList == nil {
		return nil, required("resourceIdList")
	}
	if len(in.ResourceIdList) > 20 {
		return nil, errorf(http.StatusBadRequest, "InvalidParameterException", "ResourceIdList can name at most 20 resources.")
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	type resourceTag struct {
		ResourceId string `json:"ResourceId"`
		TagsList   []tag  `json:"TagsList"`
	}
	out := struct {
		ResourceTagList []resourceTag `json:"ResourceTagList"`
	}{ResourceTagList: []resourceTag{}}
	for _, id := range in.ResourceIdList {
		t, err := e.findTrailResource(c, id, read)
		if err != nil {
			return nil, err
		}
		out.ResourceTagList = append(out.ResourceTagList, resourceTag{t.arn, append([]tag{}, t.tags...)})
	}
	return out, nil
}

// findTrailResource resolves the ResourceId of the tagging operations,
// which must be a trail ARN. Called with e.mu held.
func (e *Emulator) findTrailResource(c *call, id string, a access) (*trail, *apiError) {
	if !strings.HasPrefix(id, "arn:") {
		return nil, errorf(http.StatusBadRequest, "CloudTrailARNInvalidException", "%s is not a valid trail ARN.", id)
	}
	t, err := e.findTrail(c, id, a)
	if err != nil && err.Code == "TrailNotFoundException" {
		return nil, errorf(http.StatusBadRequest, "ResourceNotFoundException", "Resource %s not found.", id)
	}
	return t, err
}

// TrailSpec describes a trail to seed directly with PutTrail, bypassing
// the API's checks on the bucket and the organization, to reach states the
// API makes hard to reach (a trail logging to a bucket that was never
// created, an organization trail before the organization exists).
type TrailSpec struct {
	Name, HomeRegion, S3BucketName string
	IsMultiRegion                  bool
	IsOrganizationTrail            bool
	IncludeGlobalServiceEvents     bool
	LogFileValidation              bool
	Logging                        bool
	KMSKeyID                       string
	// EventSelectorsJSON is the selector part of a PutEventSelectors body,
	// as on the wire: {"EventSelectors":[...]} or
	// {"AdvancedEventSelectors":[...]}. "" leaves the AWS default (all
	// management events, HasCustomEventSelectors false).
	EventSelectorsJSON  string
	LatestDeliveryError string
}

// PutTrail creates a trail in account (creating the account) and returns
// its ARN. HomeRegion defaults to us-east-1. The trail name and the event
// selectors are validated as the API would; the S3 bucket, the
// organization and the multi-region/global-events combination are not.
func (e *Emulator) PutTrail(account string, s TrailSpec) (string, error) {
	home := s.HomeRegion
	if home == "" {
		home = "us-east-1"
	}
	if !validTrailName(s.Name) {
		return "", invalidName(s.Name)
	}
	t := &trail{
		account: account, name: s.Name, home: home, arn: trailARN(account, home, s.Name),
		bucket: s.S3BucketName, multiRegion: s.IsMultiRegion, org: s.IsOrganizationTrail,
		globalEvents: s.IncludeGlobalServiceEvents, validation: s.LogFileValidation,
		kmsKey: kmsKeyARN(s.KMSKeyID, home, account), deliveryError: s.LatestDeliveryError,
	}
	if s.EventSelectorsJSON != "" {
		var in selectorsIn
		if err := decodeJSON([]byte(s.EventSelectorsJSON), &in); err != nil {
			return "", fmt.Errorf("event selectors of trail %s: %w", s.Name, err)
		}
		basic, adv, err := validateSelectors(in)
		if err != nil {
			return "", fmt.Errorf("event selectors of trail %s: %w", s.Name, err)
		}
		t.basic, t.advanced, t.custom = basic, adv, true
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.ensureAccount(account)
	if err := e.checkNewTrail(t); err != nil {
		return "", err
	}
	if s.Logging {
		t.logging = true
		t.startLogging = e.now()
	}
	if s.LatestDeliveryError != "" {
		t.lastAttempt = e.now() // the failed attempt the error comes from
	}
	e.trails[t.arn] = t
	return t.arn, nil
}

// SetDeliveryError sets the LatestDeliveryError GetTrailStatus reports for
// a trail (e.g. "AccessDenied" when the bucket policy does not let
// CloudTrail write); "" clears it. Unknown ARNs are ignored.
func (e *Emulator) SetDeliveryError(trailARN, msg string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if t := e.trails[trailARN]; t != nil {
		t.deliveryError = msg
		if msg != "" && t.lastAttempt.IsZero() {
			t.lastAttempt = e.now()
		}
	}
}
