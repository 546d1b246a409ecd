package awsemu

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/xml"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// s3Object is one object, kept whole: the emulator's objects are small
// documents (a mutelist, CloudTrail log and digest files), never larger
// than a request body (maxBody).
type s3Object struct {
	body     []byte
	etag     string
	modified time.Time
	ctype    string
	// encoding is the Content-Encoding the object was stored with, which
	// S3 returns as it was given.
	encoding string
	// meta is the user-defined metadata, by lower-case name without the
	// x-amz-meta- prefix (S3 returns user metadata names in lower case).
	meta map[string]string
}

// maxUserMetadata is the most user-defined metadata S3 accepts on an
// object: "the user-defined metadata is limited to 2 KB in size", counted
// as the sum of the bytes of each key and value (S3 User Guide, "Working
// with object metadata").
const maxUserMetadata = 2 << 10

const metaPrefix = "x-amz-meta-"

// userMetadata reads the x-amz-meta-* headers of a request.
func userMetadata(h http.Header) (map[string]string, *apiError) {
	var meta map[string]string
	size := 0
	for name, vals := range h {
		lower := strings.ToLower(name)
		if !strings.HasPrefix(lower, metaPrefix) || len(lower) == len(metaPrefix) {
			continue
		}
		if meta == nil {
			meta = map[string]string{}
		}
		k := lower[len(metaPrefix):]
		v := strings.Join(vals, ",")
		meta[k] = v
		size += len(k) + len(v)
	}
	if size > maxUserMetadata {
		return nil, errorf(http.StatusBadRequest, "MetadataTooLarge", "Your metadata headers exceed the maximum allowed metadata size (%d bytes).", maxUserMetadata)
	}
	return meta, nil
}

func newObject(body []byte, at time.Time, ctype, encoding string, meta map[string]string) *s3Object {
	sum := md5.Sum(body)
	return &s3Object{body: body, etag: `"` + hex.EncodeToString(sum[:]) + `"`,
		modified: at.UTC().Truncate(time.Second), ctype: ctype, encoding: encoding, meta: meta}
}

// putObject stores obj under key, keeping the bucket's sorted key list
// (s3_list.go) current. Called with e.mu held.
func (b *bucket) putObject(key string, obj *s3Object) {
	if b.objects == nil {
		b.objects = map[string]*s3Object{}
	}
	if _, ok := b.objects[key]; !ok {
		b.sorted = nil
	}
	b.objects[key] = obj
}

// deleteObject removes key, if present. Called with e.mu held.
func (b *bucket) deleteObject(key string) {
	if _, ok := b.objects[key]; ok {
		delete(b.objects, key)
		b.sorted = nil
	}
}

// keys returns the bucket's keys in the order S3 lists them (UTF-8
// binary order). Called with e.mu held.
func (b *bucket) keys() []string {
	if b.sorted == nil {
		b.sorted = make([]string, 0, len(b.objects))
		for k := range b.objects {
			b.sorted = append(b.sorted, k)
		}
		sort.Strings(b.sorted)
	}
	return b.sorted
}

// serveObject puts, copies, gets, heads and deletes objects of the
// caller's own buckets; another account may get and head what the bucket
// policy grants it (readableBucket), and is otherwise AccessDenied.
func (e *Emulator) serveObject(w http.ResponseWriter, r *http.Request, c *call, body []byte, fail func(*apiError)) {
	name, key := s3Target(r)
	e.mu.Lock()
	var b *bucket
	var err *apiError
	if c.op == "GetObject" || c.op == "HeadObject" {
		b, err = e.readableBucket(c, name, "s3:GetObject", "arn:aws:s3:::"+name+"/"+key)
	} else {
		b, err = e.ownBucket(c, name)
	}
	if err != nil {
		e.mu.Unlock()
		fail(err)
		return
	}
	switch c.op {
	case "PutObject":
		meta, err := userMetadata(r.Header)
		if err != nil {
			e.mu.Unlock()
			fail(err)
			return
		}
		obj := newObject(append([]byte(nil), body...), e.now(), r.Header.Get("Content-Type"), r.Header.Get("Content-Encoding"), meta)
		b.putObject(key, obj)
		e.mu.Unlock()
		w.Header().Set("ETag", obj.etag)
		w.WriteHeader(http.StatusOK)
		return
	case "CopyObject":
		obj, err := e.copyObject(c, r, b, key)
		e.mu.Unlock()
		if err != nil {
			fail(err)
			return
		}
		writeXML(w, c.reqID, http.StatusOK, struct {
			XMLName      xml.Name `xml:"CopyObjectResult"`
			NS           string   `xml:"xmlns,attr"`
			LastModified string
			ETag         string
		}{NS: s3Namespace, LastModified: obj.modified.Format(s3Time), ETag: obj.etag})
		return
	case "DeleteObject":
		// S3 answers 204 whether or not the key existed.
		b.deleteObject(key)
		e.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
		return
	}
	obj := b.objects[key]
	e.mu.Unlock()
	if obj == nil {
		fail(errorf(http.StatusNotFound, "NoSuchKey", "The specified key does not exist."))
		return
	}
	h := w.Header()
	h.Set("ETag", obj.etag)
	h.Set("Last-Modified", obj.modified.Format(http.TimeFormat))
	h.Set("Accept-Ranges", "bytes")
	if obj.ctype != "" {
		h.Set("Content-Type", obj.ctype)
	} else {
		h.Set("Content-Type", "binary/octet-stream")
	}
	if obj.encoding != "" {
		h.Set("Content-Encoding", obj.encoding)
	}
	// S3 sends user metadata names in lower case, and clients key their
	// metadata maps by the name as sent (botocore: Metadata["signature"]),
	// so the header is set under its lower-case name, not the canonical
	// form net/http would give it.
	for k, v := range obj.meta {
		h[metaPrefix+k] = []string{v}
	}
	data, status := obj.body, http.StatusOK
	if rng := r.Header.Get("Range"); rng != "" && c.op == "GetObject" {
		start, end, ok := byteRange(rng, len(obj.body))
		if !ok {
			h.Del("Content-Type")
			fail(errorf(http.StatusRequestedRangeNotSatisfiable, "InvalidRange", "The requested range is not satisfiable"))
			return
		}
		data, status = obj.body[start:end+1], http.StatusPartialContent
		h.Set("Content-Range", "bytes "+strconv.Itoa(start)+"-"+strconv.Itoa(end)+"/"+strconv.Itoa(len(obj.body)))
	}
	h.Set("Content-Length", strconv.Itoa(len(data)))
	w.WriteHeader(status)
	if c.op == "GetObject" {
		w.Write(data)
	}
}

// s3Time is how S3 writes times in XML bodies.
const s3Time = "2006-01-02T15:04:05.000Z"

// byteRange parses the single byte range of a GetObject Range header
// (RFC 9110 section 14.1.2: "bytes=first-last", "bytes=first-",
// "bytes=-suffix"), clipped to size. S3 serves one range per request;
// it ignores a header it cannot parse, and answers 416 for a range that
// starts beyond the object.
func byteRange(h string, size int) (start, end int, ok bool) {
	spec, found := strings.CutPrefix(strings.TrimSpace(h), "bytes=")
	first, last, dash := strings.Cut(spec, "-")
	if !found || !dash || strings.Contains(spec, ",") {
		return 0, size - 1, size > 0
	}
	if first == "" {
		n, err := strconv.Atoi(last)
		if err != nil || n <= 0 {
			return 0, 0, false
		}
		if n > size {
			n = size
		}
		return size - n, size - 1, size > 0
	}
	s, err := strconv.Atoi(first)
	if err != nil || s < 0 || s >= size {
		return 0, 0, false
	}
	end = size - 1
	if last != "" {
		l, err := strconv.Atoi(last)
		if err != nil || l < s {
			return 0, 0, false
		}
		if l < end {
			end = l
		}
	}
	return s, end, true
}

// copyObject applies CopyObject (x-amz-copy-source: [/]bucket/key,
// URL-encoded): with x-amz-metadata-directive COPY (the default) the
// copy keeps the source's metadata, content type and encoding; with
// REPLACE it takes them from the request. Copying an object onto itself
// must change something, so S3 refuses it unless the directive is
// REPLACE (CopyObject reference: "This copy request is illegal..."). The
// source must be readable by the caller: here, in one of its own buckets.
// Called with e.mu held.
func (e *Emulator) copyObject(c *call, r *http.Request, dst *bucket, key string) (*s3Object, *apiError) {
	src := r.Header.Get("X-Amz-Copy-Source")
	if i := strings.Index(src, "?versionId="); i >= 0 {
		src = src[:i]
	}
	if u, err := url.PathUnescape(src); err == nil {
		src = u
	}
	srcBucket, srcKey, ok := strings.Cut(strings.TrimPrefix(src, "/"), "/")
	if !ok || srcBucket == "" || srcKey == "" {
		return nil, errorf(http.StatusBadRequest, "InvalidArgument", "Copy Source must mention the source bucket and key: sourcebucket/sourcekey")
	}
	sb, err := e.ownBucket(c, srcBucket)
	if err != nil {
		return nil, err
	}
	from := sb.objects[srcKey]
	if from == nil {
		return nil, errorf(http.StatusNotFound, "NoSuchKey", "The specified key does not exist.")
	}
	directive := strings.ToUpper(r.Header.Get("X-Amz-Metadata-Directive"))
	switch directive {
	case "", "COPY":
		if sb == dst && srcKey == key {
			return nil, errorf(http.StatusBadRequest, "InvalidRequest", "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.")
		}
		return e.storeCopy(dst, key, from.body, from.ctype, from.encoding, from.meta), nil
	case "REPLACE":
		meta, err := userMetadata(r.Header)
		if err != nil {
			return nil, err
		}
		return e.storeCopy(dst, key, from.body, r.Header.Get("Content-Type"), r.Header.Get("Content-Encoding"), meta), nil
	}
	return nil, errorf(http.StatusBadRequest, "InvalidArgument", "Unknown metadata directive %q: use COPY or REPLACE.", directive)
}

func (e *Emulator) storeCopy(dst *bucket, key string, body []byte, ctype, encoding string, meta map[string]string) *s3Object {
	m := make(map[string]string, len(meta))
	for k, v := range meta {
		m[k] = v
	}
	obj := newObject(body, e.now(), ctype, encoding, m)
	dst.putObject(key, obj)
	return obj
}
