package awsemu

import (
	"encoding/base64"
	"encoding/xml"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// maxListKeys is the most keys (and common prefixes) one ListObjects or
// ListObjectsV2 page holds, and the default of MaxKeys: "Returns some or
// all (up to 1,000) of the objects in a bucket" (ListObjectsV2
// reference).
const maxListKeys = 1000

// listParams are the query parameters of ListObjects and ListObjectsV2; a
// GET on a bucket with any other parameter names a subresource.
var listParams = map[string]bool{
	"prefix": true, "delimiter": true, "marker": true, "max-keys": true, "encoding-type": true,
	"list-type": true, "start-after": true, "continuation-token": true, "fetch-owner": true, "x-id": true,
}

// isListRequest reports whether a GET on a bucket is a listing: no query
// parameter but those of ListObjects and ListObjectsV2.
func isListRequest(q url.Values) bool {
	for k := range q {
		if !listParams[k] {
			return false
		}
	}
	return true
}

type listEntry struct {
	Key          string
	LastModified string
	ETag         string
	Size         int
	StorageClass string
	Owner        *listOwner `xml:",omitempty"`
}

type listOwner struct {
	ID          string
	DisplayName string
}

type commonPrefix struct {
	Prefix string
}

// listPage is one page of a bucket listing, before it is written in the
// shape of ListObjects or ListObjectsV2.
type listPage struct {
	contents  []listEntry
	prefixes  []commonPrefix
	truncated bool
	// last is the last key or common prefix of the page: V1's NextMarker,
	// and what V2's continuation token resumes after.
	last string
}

// listBucket walks the bucket's keys after `after` (exclusive) that start
// with prefix, rolling keys that contain delimiter after the prefix up
// into one common prefix each, as S3 does: each common prefix counts as
// one toward max. Called with e.mu held.
func listBucket(b *bucket, prefix, delimiter, after string, max int, owner *listOwner) listPage {
	var p listPage
	keys := b.keys()
	i := sort.SearchStrings(keys, prefix)
	if after != "" {
		if j := sort.Search(len(keys), func(n int) bool { return keys[n] > after }); j > i {
			i = j
		}
	}
	n := 0
	for ; i < len(keys); i++ {
		k := keys[i]
		if !strings.HasPrefix(k, prefix) {
			break
		}
		cp := ""
		if delimiter != "" {
			if j := strings.Index(k[len(prefix):], delimiter); j >= 0 {
				cp = k[:len(prefix)+j+len(delimiter)]
			}
		}
		if cp != "" && cp == p.last {
			continue // a key under the common prefix just listed
		}
		if cp != "" && after != "" && strings.HasPrefix(after, cp) {
			continue // the page before ended inside this common prefix
		}
		if n == max {
			p.truncated = true
			break
		}
		n++
		if cp != "" {
			p.prefixes = append(p.prefixes, commonPrefix{cp})
			p.last = cp
			continue
		}
		o := b.objects[k]
		p.contents = append(p.contents, listEntry{Key: k, LastModified: o.modified.Format(s3Time), ETag: o.etag,
			Size: len(o.body), StorageClass: "STANDARD", Owner: owner})
		p.last = k
	}
	return p
}

// s3URLEncode encodes a key as S3 does for encoding-type=url: the form
// encoding of a query value, with the path separator left as it is.
func s3URLEncode(s string) string {
	return strings.ReplaceAll(url.QueryEscape(s), "%2F", "/")
}

// listObjects serves ListObjects (V1: Marker, NextMarker) and
// ListObjectsV2 (StartAfter, ContinuationToken, KeyCount), both with
// Prefix, Delimiter, MaxKeys and EncodingType=url, following the S3 API
// reference of each. `aws cloudtrail validate-logs` (AWS CLI v1) finds
// digests with V1: Prefix .../CloudTrail-Digest/<region>, Marker the key a
// digest ending a minute before --start-time would have, paged by
// botocore's paginator (after NextMarker, else after the last key, with
// encoding-type=url); `aws s3 ls` and the SDK paginators use V2.
func (e *Emulator) listObjects(w http.ResponseWriter, r *http.Request, c *call, fail func(*apiError)) {
	name, _ := s3Target(r)
	q := r.URL.Query()
	v2 := c.op == "ListObjectsV2"
	max := maxListKeys
	if s := q.Get("max-keys"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			fail(errorf(http.StatusBadRequest, "InvalidArgument", "Provided max-keys not an integer or within integer range"))
			return
		}
		if n < max {
			max = n
		}
	}
	enc := q.Get("encoding-type")
	if enc != "" && enc != "url" {
		fail(errorf(http.StatusBadRequest, "InvalidArgument", "Invalid Encoding Method specified in Request"))
		return
	}
	prefix, delimiter := q.Get("prefix"), q.Get("delimiter")
	after := q.Get("marker")
	token := q.Get("continuation-token")
	if v2 {
		after = q.Get("start-after")
		if q.Has("continuation-token") {
			raw, err := base64.RawURLEncoding.DecodeString(token)
			if err != nil || token == "" {
				fail(errorf(http.StatusBadRequest, "InvalidArgument", "The continuation token provided is incorrect"))
				return
			}
			// The token resumes after the last key or prefix listed,
			// which is never before StartAfter.
			if string(raw) > after {
				after = string(raw)
			}
		}
	}
	e.mu.Lock()
	b, err := e.readableBucket(c, name, "s3:ListBucket", "arn:aws:s3:::"+name)
	if err != nil {
		e.mu.Unlock()
		fail(err)
		return
	}
	var owner *listOwner
	if !v2 || q.Get("fetch-owner") == "true" {
		owner = &listOwner{ID: b.owner, DisplayName: "account-" + b.owner}
	}
	page := listBucket(b, prefix, delimiter, after, max, owner)
	e.mu.Unlock()

	esc := func(s string) string { return s }
	if enc == "url" {
		esc = s3URLEncode
		for i := range page.contents {
			page.contents[i].Key = esc(page.contents[i].Key)
		}
		for i := range page.prefixes {
			page.prefixes[i].Prefix = esc(page.prefixes[i].Prefix)
		}
	}
	type result struct {
		XMLName               xml.Name `xml:"ListBucketResult"`
		NS                    string   `xml:"xmlns,attr"`
		Name                  string
		Prefix                string
		Marker                *string `xml:",omitempty"`
		NextMarker            string  `xml:",omitempty"`
		StartAfter            string  `xml:",omitempty"`
		ContinuationToken     string  `xml:",omitempty"`
		NextContinuationToken string  `xml:",omitempty"`
		KeyCount              *int    `xml:",omitempty"`
		MaxKeys               int
		Delimiter             string `xml:",omitempty"`
		EncodingType          string `xml:",omitempty"`
		IsTruncated           bool
		Contents              []listEntry
		CommonPrefixes        []commonPrefix
	}
	out := result{NS: s3Namespace, Name: name, Prefix: esc(prefix), MaxKeys: max, Delimiter: esc(delimiter),
		EncodingType: enc, IsTruncated: page.truncated, Contents: page.contents, CommonPrefixes: page.prefixes}
	if v2 {
		count := len(page.contents) + len(page.prefixes)
		out.KeyCount = &count
		out.StartAfter = esc(q.Get("start-after"))
		out.ContinuationToken = token
		if page.truncated {
			out.NextContinuationToken = base64.RawURLEncoding.EncodeToString([]byte(page.last))
		}
	} else {
		m := esc(q.Get("marker"))
		out.Marker = &m
		// "This element is returned only if you have the delimiter request
		// parameter specified" (ListObjects reference); without it the
		// client resumes after the last key.
		if page.truncated && delimiter != "" {
			out.NextMarker = esc(page.last)
		}
	}
	writeXML(w, c.reqID, http.StatusOK, out)
}

// maxDeleteKeys is the most keys one DeleteObjects request may name.
const maxDeleteKeys = 1000

// deleteObjects serves DeleteObjects (POST /bucket?delete): every key is
// deleted, whether or not it existed, and reported unless Quiet.
func (e *Emulator) deleteObjects(w http.ResponseWriter, r *http.Request, c *call, body []byte, fail func(*apiError)) {
	name, _ := s3Target(r)
	var in struct {
		Quiet   bool
		Objects []struct {
			Key string
		} `xml:"Object"`
	}
	if err := xml.Unmarshal(body, &in); err != nil || len(in.Objects) == 0 || len(in.Objects) > maxDeleteKeys {
		fail(errorf(http.StatusBadRequest, "MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema"))
		return
	}
	e.mu.Lock()
	b, err := e.ownBucket(c, name)
	if err != nil {
		e.mu.Unlock()
		fail(err)
		return
	}
	type deleted struct{ Key string }
	var done []deleted
	for _, o := range in.Objects {
		b.deleteObject(o.Key)
		if !in.Quiet {
			done = append(done, deleted{o.Key})
		}
	}
	e.mu.Unlock()
	writeXML(w, c.reqID, http.StatusOK, struct {
		XMLName xml.Name  `xml:"DeleteResult"`
		NS      string    `xml:"xmlns,attr"`
		Deleted []deleted `xml:"Deleted"`
	}{NS: s3Namespace, Deleted: done})
}
