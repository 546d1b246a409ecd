package awsemu

import (
	"net/http"
	"regexp"
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
	// delivery is the delivery state SetDeliveryState pinned (digest and
	// CloudWatch Logs errors, deliveries stopped); nil: deliveries work.
	delivery *deliveryState
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
	"LookupEvents":      (*Emulator).lookupEvents,
	"PutEventSelectors": (*Emulator).putEventSelectors,
	"AddTags":           (*Emulator).addTags,
	"RemoveTags":        (*Emulator).removeTags,
	"ListTags":          (*Emulator).listTags,
	"ListPublicKeys":    (*Emulator).listPublicKeys,
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

// trailRequest is a request that names one trail: it says which member
// holds the name or ARN, and that member's name on the wire.
type trailRequest interface {
	trailName() (nameOrARN *string, member string)
}

// nameIn is the request of the operations that name the trail in Name
// (DeleteTrail, GetTrail, GetTrailStatus, StartLogging, StopLogging).
type nameIn struct{ Name *string }

func (in *nameIn) trailName() (*string, string) { return in.Name, "name" }

// trailNameIn is the request of the operations that name the trail in
// TrailName (GetEventSelectors, PutEventSelectors).
type trailNameIn struct{ TrailName *string }

func (in *trailNameIn) trailName() (*string, string) { return in.TrailName, "trailName" }

// withTrail is the prologue of every handler that acts on one named trail:
// decode the request into in (a SerializationException if it does not
// fit), require the member that names the trail, take e.mu, resolve the
// trail for access a as findTrail does, and run fn on it with e.mu held.
// One prologue, so that the order of these checks — and with it which
// error a bad request gets — is the same for every such operation.
func (e *Emulator) withTrail(c *call, body []byte, in trailRequest, a access, fn func(*trail) (any, *apiError)) (any, *apiError) {
	if err := decodeJSON(body, in); err != nil {
		return nil, err
	}
	name, member := in.trailName()
	if name == nil {
		return nil, required(member)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	t, err := e.findTrail(c, *name, a)
	if err != nil {
		return nil, err
	}
	return fn(t)
}
