package awsemu

import (
	"crypto/md5"
	"encoding/hex"
	"net/http"
	"strconv"
	"time"
)

// s3Object is one object, kept whole: the emulator's objects are small
// documents (a mutelist the function reads), not log archives.
type s3Object struct {
	body     []byte
	etag     string
	modified time.Time
	ctype    string
}

// serveObject puts, gets and heads objects of the caller's own buckets.
// Bucket policies are not evaluated for objects: another account's
// request is AccessDenied, as it is in S3 without a policy that grants it.
func (e *Emulator) serveObject(w http.ResponseWriter, r *http.Request, c *call, body []byte, fail func(*apiError)) {
	name, key := s3Target(r)
	e.mu.Lock()
	b, err := e.ownBucket(c, name)
	if err != nil {
		e.mu.Unlock()
		fail(err)
		return
	}
	if c.op == "PutObject" {
		sum := md5.Sum(body)
		obj := &s3Object{body: append([]byte(nil), body...), etag: `"` + hex.EncodeToString(sum[:]) + `"`,
			modified: e.now().UTC().Truncate(time.Second), ctype: r.Header.Get("Content-Type")}
		if b.objects == nil {
			b.objects = map[string]*s3Object{}
		}
		b.objects[key] = obj
		e.mu.Unlock()
		w.Header().Set("ETag", obj.etag)
		w.WriteHeader(http.StatusOK)
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
	h.Set("Content-Length", strconv.Itoa(len(obj.body)))
	if obj.ctype != "" {
		h.Set("Content-Type", obj.ctype)
	} else {
		h.Set("Content-Type", "binary/octet-stream")
	}
	w.WriteHeader(http.StatusOK)
	if c.op == "GetObject" {
		w.Write(obj.body)
	}
}
