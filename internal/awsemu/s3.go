package awsemu

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"net"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"time"
)

const s3Namespace = "http://s3.amazonaws.com/doc/2006-03-01/"

// S3 speaks REST-XML: the operation is the method, the bucket (from the
// path, or from the Host name in virtual-hosted style) and the
// sub-resource in the query string. The bucket-level operations that
// CloudTrail needs are served; objects are put, copied, listed, read and
// deleted by the bucket's owner (a mutelist kept in S3, the CloudTrail log
// and digest files that log validation reads and tests tamper with).
var s3Service = &service{
	operation: s3Operation,
	writeError: func(w http.ResponseWriter, r *http.Request, c *call, err *apiError) {
		bucket, _ := s3Target(r)
		writeS3Error(w, r, c.reqID, err, "/"+bucket)
	},
	serve:      (*Emulator).serveS3,
	invalidKey: apiError{Status: http.StatusForbidden, Code: "InvalidAccessKeyId", Message: "The AWS Access Key Id you provided does not exist in our records."},
	expired:    apiError{Status: http.StatusBadRequest, Code: "ExpiredToken", Message: "The provided token has expired."},
	throttled:  apiError{Status: http.StatusServiceUnavailable, Code: "SlowDown", Message: "Please reduce your request rate."},
}

type bucket struct {
	name, owner, region string
	created             time.Time
	policy              string
	// The configuration documents as the client sent them (XML), by
	// subresource: "publicAccessBlock", "encryption", "lifecycle".
	config map[string]string
	// objects by key (s3_objects.go); sorted is their keys in listing
	// order, nil when it must be rebuilt (s3_list.go).
	objects map[string]*s3Object
	sorted  []string
}

// s3Target returns the bucket and key a request addresses. A Host made of
// a bucket name in front of an endpoint host (an IP address, localhost, or
// an s3.amazonaws.com name) is virtual-hosted style; otherwise the first
// path segment is the bucket (path style).
func s3Target(r *http.Request) (bucket, key string) {
	p := strings.TrimPrefix(r.URL.Path, "/")
	if b := bucketFromHost(r.Host); b != "" {
		return b, p
	}
	bucket, key, _ = strings.Cut(p, "/")
	return bucket, key
}

func bucketFromHost(hostport string) string {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	for i := 0; i < len(host); i++ {
		if host[i] != '.' {
			continue
		}
		if isEndpointHost(host[i+1:]) {
			return host[:i]
		}
	}
	return ""
}

// isEndpointHost reports whether host can be the emulator's own address or
// an S3 endpoint name, so that a label in front of it is a bucket.
func isEndpointHost(host string) bool {
	if net.ParseIP(host) != nil || host == "localhost" {
		return true
	}
	return strings.HasSuffix(host, ".amazonaws.com") && (strings.HasPrefix(host, "s3.") || strings.HasPrefix(host, "s3-"))
}

func s3Operation(r *http.Request, _ []byte) string {
	bucket, key := s3Target(r)
	q := r.URL.Query()
	switch {
	case bucket == "":
		if r.Method == http.MethodGet {
			return "ListBuckets"
		}
	case key != "":
		if r.Method == http.MethodPut && r.Header.Get("X-Amz-Copy-Source") != "" {
			return "CopyObject"
		}
		return map[string]string{http.MethodGet: "GetObject", http.MethodPut: "PutObject", http.MethodHead: "HeadObject", http.MethodDelete: "DeleteObject"}[r.Method]
	case r.Method == http.MethodPost && q.Has("delete"):
		return "DeleteObjects"
	case q.Has("policy"):
		return map[string]string{http.MethodGet: "GetBucketPolicy", http.MethodPut: "PutBucketPolicy", http.MethodDelete: "DeleteBucketPolicy"}[r.Method]
	case q.Has("publicAccessBlock"):
		return map[string]string{http.MethodGet: "GetPublicAccessBlock", http.MethodPut: "PutPublicAccessBlock"}[r.Method]
	case q.Has("lifecycle"):
		return map[string]string{http.MethodGet: "GetBucketLifecycleConfiguration", http.MethodPut: "PutBucketLifecycleConfiguration"}[r.Method]
	case q.Has("encryption"):
		return map[string]string{http.MethodGet: "GetBucketEncryption", http.MethodPut: "PutBucketEncryption"}[r.Method]
	case q.Has("location"):
		if r.Method == http.MethodGet {
			return "GetBucketLocation"
		}
	case r.Method == http.MethodGet && isListRequest(q):
		if q.Get("list-type") == "2" {
			return "ListObjectsV2"
		}
		return "ListObjects"
	case len(q) == 0 || (len(q) == 1 && q.Has("x-id")):
		return map[string]string{http.MethodGet: "ListObjects", http.MethodPut: "CreateBucket", http.MethodHead: "HeadBucket", http.MethodDelete: "DeleteBucket"}[r.Method]
	}
	return ""
}

func (e *Emulator) serveS3(w http.ResponseWriter, r *http.Request, c *call, body []byte) {
	name, _ := s3Target(r)
	fail := func(err *apiError) { writeS3Error(w, r, c.reqID, err, "/"+name) }
	w.Header().Set("x-amz-request-id", c.reqID)
	switch c.op {
	case "ListBuckets":
		e.listBuckets(w, c)
	case "CreateBucket":
		if err := e.createBucket(c, name, body); err != nil {
			fail(err)
			return
		}
		w.Header().Set("Location", "/"+name)
		w.WriteHeader(http.StatusOK)
	case "PutObject", "GetObject", "HeadObject", "CopyObject", "DeleteObject":
		e.serveObject(w, r, c, body, fail)
	case "ListObjects", "ListObjectsV2":
		e.listObjects(w, r, c, fail)
	case "DeleteObjects":
		e.deleteObjects(w, r, c, body, fail)
	case "PutPublicAccessBlock", "GetPublicAccessBlock", "PutBucketEncryption", "GetBucketEncryption",
		"PutBucketLifecycleConfiguration", "GetBucketLifecycleConfiguration":
		e.bucketConfig(w, c, name, body, fail)
	case "HeadBucket", "GetBucketLocation", "DeleteBucket", "GetBucketPolicy", "PutBucketPolicy", "DeleteBucketPolicy":
		e.mu.Lock()
		var b *bucket
		var err *apiError
		if c.op == "GetBucketLocation" {
			b, err = e.readableBucket(c, name, "s3:GetBucketLocation", "arn:aws:s3:::"+name)
		} else {
			b, err = e.ownBucket(c, name)
		}
		if err != nil {
			e.mu.Unlock()
			fail(err)
			return
		}
		region, policy := b.region, b.policy
		switch c.op {
		case "DeleteBucket":
			delete(e.buckets, name)
		case "PutBucketPolicy":
			if err := checkPolicy(body); err != nil {
				e.mu.Unlock()
				fail(err)
				return
			}
			b.policy = string(body)
		case "DeleteBucketPolicy":
			b.policy = ""
		}
		e.mu.Unlock()
		switch c.op {
		case "HeadBucket":
			w.Header().Set("x-amz-bucket-region", region)
			w.WriteHeader(http.StatusOK)
		case "GetBucketLocation":
			// us-east-1 is reported as an empty LocationConstraint.
			if region == "us-east-1" {
				region = ""
			}
			writeXML(w, c.reqID, http.StatusOK, struct {
				XMLName xml.Name `xml:"LocationConstraint"`
				NS      string   `xml:"xmlns,attr"`
				Value   string   `xml:",chardata"`
			}{NS: s3Namespace, Value: region})
		case "GetBucketPolicy":
			if policy == "" {
				fail(errorf(http.StatusNotFound, "NoSuchBucketPolicy", "The bucket policy does not exist"))
				return
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusOK)
			w.Write([]byte(policy))
		default:
			w.WriteHeader(http.StatusNoContent)
		}
	default:
		fail(errorf(http.StatusNotImplemented, "NotImplemented", "A header or query you provided implies functionality that is not implemented."))
	}
}

var bucketNamePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)

// validBucketName applies the S3 general purpose bucket naming rules:
// 3–63 characters of lower-case letters, digits, dots and hyphens, starting
// and ending with a letter or digit, no two adjacent periods, not formatted
// as an IP address, and none of the reserved prefixes and suffixes.
func validBucketName(name string) bool {
	if !bucketNamePattern.MatchString(name) || strings.Contains(name, "..") || net.ParseIP(name) != nil {
		return false
	}
	for _, p := range []string{"xn--", "sthree-", "amzn-s3-demo-"} {
		if strings.HasPrefix(name, p) {
			return false
		}
	}
	for _, s := range []string{"-s3alias", "--ol-s3", ".mrap", "--x-s3"} {
		if strings.HasSuffix(name, s) {
			return false
		}
	}
	return true
}

// createBucket follows the S3 CreateBucket reference: names are global;
// outside us-east-1 the LocationConstraint must name the endpoint's
// region; re-creating one's own bucket is BucketAlreadyOwnedByYou except in
// us-east-1, which for legacy compatibility answers 200 OK.
func (e *Emulator) createBucket(c *call, name string, body []byte) *apiError {
	if !validBucketName(name) {
		return errorf(http.StatusBadRequest, "InvalidBucketName", "The specified bucket is not valid.")
	}
	var cfg struct {
		LocationConstraint string
	}
	if len(bytes.TrimSpace(body)) > 0 {
		if err := xml.Unmarshal(body, &cfg); err != nil {
			return errorf(http.StatusBadRequest, "MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema")
		}
	}
	region := cfg.LocationConstraint
	switch {
	case c.region == "us-east-1" && region == "us-east-1":
		return errorf(http.StatusBadRequest, "InvalidLocationConstraint", "The specified location-constraint is not valid")
	case c.region == "us-east-1" && region == "":
		region = "us-east-1"
	case c.region == "us-east-1":
		// The us-east-1 endpoint may create buckets in other regions.
	case region == "":
		return errorf(http.StatusBadRequest, "IllegalLocationConstraintException", "The unspecified location constraint is incompatible for the region specific endpoint this request was sent to.")
	case region != c.region:
		return errorf(http.StatusBadRequest, "IllegalLocationConstraintException", "The %s location constraint is incompatible for the region specific endpoint this request was sent to.", region)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if a := e.accounts[c.account()]; region != "" && (a == nil || a.regionOptIn(region) == "") {
		return errorf(http.StatusBadRequest, "InvalidLocationConstraint", "The specified location-constraint is not valid")
	}
	if b := e.buckets[name]; b != nil {
		if b.owner != c.account() {
			return errorf(http.StatusConflict, "BucketAlreadyExists", "The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.")
		}
		if c.region == "us-east-1" && b.region == "us-east-1" {
			return nil
		}
		return errorf(http.StatusConflict, "BucketAlreadyOwnedByYou", "Your previous request to create the named bucket succeeded and you already own it.")
	}
	e.buckets[name] = &bucket{name: name, owner: c.account(), region: region, created: e.now().UTC()}
	return nil
}

// ownBucket returns the caller's bucket: NoSuchBucket (404) when the name
// is free, AccessDenied (403) when another account owns it. Called with
// e.mu held.
func (e *Emulator) ownBucket(c *call, name string) (*bucket, *apiError) {
	b := e.buckets[name]
	if b == nil {
		return nil, errorf(http.StatusNotFound, "NoSuchBucket", "The specified bucket does not exist")
	}
	if b.owner != c.account() {
		return nil, errorf(http.StatusForbidden, "AccessDenied", "Access Denied")
	}
	return b, nil
}

// checkPolicy accepts a bucket policy only if it is a JSON object with a
// Statement; the checks CloudTrail's CreateTrail makes of the policy's
// content live in cloudtrail.go.
func checkPolicy(body []byte) *apiError {
	var doc map[string]any
	if len(body) == 0 || body[0] != '{' || json.Unmarshal(body, &doc) != nil {
		return errorf(http.StatusBadRequest, "MalformedPolicy", "Policies must be valid JSON and the first byte must be '{'")
	}
	if _, ok := doc["Statement"]; !ok {
		return errorf(http.StatusBadRequest, "MalformedPolicy", "Missing required field Statement")
	}
	// The S3 policy restrictions: at most 20 KB, and each statement's Sid
	// unique in the policy.
	if len(body) > maxBucketPolicy {
		return errorf(http.StatusBadRequest, "MalformedPolicy", "Policies must not exceed %d bytes", maxBucketPolicy)
	}
	if stmts, ok := doc["Statement"].([]any); ok {
		seen := map[string]bool{}
		for _, st := range stmts {
			m, _ := st.(map[string]any)
			if sid, ok := m["Sid"].(string); ok && sid != "" {
				if seen[sid] {
					return errorf(http.StatusBadRequest, "MalformedPolicy", "Statement IDs (SID) in a single policy must be unique")
				}
				seen[sid] = true
			}
		}
	}
	return nil
}

// maxBucketPolicy is the largest bucket policy S3 accepts, 20 KB.
const maxBucketPolicy = 20 << 10

func (e *Emulator) listBuckets(w http.ResponseWriter, c *call) {
	type entry struct {
		Name         string
		CreationDate string
		BucketRegion string
	}
	e.mu.Lock()
	var list []entry
	for _, b := range e.buckets {
		if b.owner == c.account() {
			list = append(list, entry{b.name, b.created.Format("2006-01-02T15:04:05.000Z"), b.region})
		}
	}
	e.mu.Unlock()
	sort.Slice(list, func(i, j int) bool { return list[i].Name < list[j].Name })
	doc := struct {
		XMLName xml.Name `xml:"ListAllMyBucketsResult"`
		NS      string   `xml:"xmlns,attr"`
		Owner   struct {
			ID          string
			DisplayName string
		}
		Buckets []entry `xml:"Buckets>Bucket"`
	}{NS: s3Namespace, Buckets: list}
	doc.Owner.ID = c.account()
	doc.Owner.DisplayName = "account-" + c.account()
	writeXML(w, c.reqID, http.StatusOK, doc)
}

// bucketExists reports whether a bucket exists, for CloudTrail's checks.
// Called with e.mu held.
func (e *Emulator) bucketExists(name string) bool { return e.buckets[name] != nil }

// bucketConfig stores and returns a bucket's public access block and
// default encryption documents. What they say is not interpreted: the
// emulator keeps them so that a client can read back what it set.
func (e *Emulator) bucketConfig(w http.ResponseWriter, c *call, name string, body []byte, fail func(*apiError)) {
	sub := "encryption"
	switch {
	case strings.Contains(c.op, "PublicAccessBlock"):
		sub = "publicAccessBlock"
	case strings.Contains(c.op, "Lifecycle"):
		sub = "lifecycle"
	}
	e.mu.Lock()
	b, err := e.ownBucket(c, name)
	if err != nil {
		e.mu.Unlock()
		fail(err)
		return
	}
	if strings.HasPrefix(c.op, "Put") {
		if b.config == nil {
			b.config = map[string]string{}
		}
		b.config[sub] = string(body)
		e.mu.Unlock()
		w.WriteHeader(http.StatusOK)
		return
	}
	doc := b.config[sub]
	e.mu.Unlock()
	if doc == "" {
		code := map[string]string{"encryption": "ServerSideEncryptionConfigurationNotFoundError", "publicAccessBlock": "NoSuchPublicAccessBlockConfiguration",
			"lifecycle": "NoSuchLifecycleConfiguration"}[sub]
		fail(errorf(http.StatusNotFound, code, "The %s configuration was not found", sub))
		return
	}
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(http.StatusOK)
	w.Write([]byte(doc))
}

// BucketConfig returns what a client set on a bucket's subresource
// ("publicAccessBlock", "encryption"), "" if nothing.
func (e *Emulator) BucketConfig(bucket, sub string) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	if b := e.buckets[bucket]; b != nil {
		return b.config[sub]
	}
	return ""
}

// BucketPolicy returns a bucket's policy document, "" if none.
func (e *Emulator) BucketPolicy(bucket string) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	if b := e.buckets[bucket]; b != nil {
		return b.policy
	}
	return ""
}
