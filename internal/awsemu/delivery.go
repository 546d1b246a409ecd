package awsemu

import (
	"bytes"
	"compress/gzip"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

// CloudTrail's deliveries to S3, as the CloudTrail User Guide lays them
// out:
//
//   - log files ("Finding your CloudTrail log files"):
//     [prefix/]AWSLogs/[O-ID/]<account>/CloudTrail/<region>/YYYY/MM/DD/
//     <account>_CloudTrail_<region>_<YYYYMMDDTHHmmZ>_<UniqueString>.json.gz,
//     a gzipped {"Records":[...]} of the events of one account and region;
//   - digest files, hourly, with log file validation on ("CloudTrail
//     digest file structure"):
//     [prefix/]AWSLogs/[O-ID/]<account>/CloudTrail-Digest/<region>/
//     <digest-end YYYY/MM/DD>/<account>_CloudTrail-Digest_<region>_
//     <trail-name>_<home-region>_<digest-end YYYYMMDDTHHmmssZ>.json.gz,
//     listing the log files delivered in the hour with the SHA-256 of
//     each uncompressed file, chained to the previous digest by its
//     bucket, key, hash and signature, and signed: the signature (hex) and
//     its algorithm are the object's metadata "signature" and
//     "signature-algorithm".
//
// The data-signing string is, per "Validating CloudTrail log file
// integrity with the AWS CLI" (custom implementations, step C): the
// digestEndTime as written in the digest, "\n", digestS3Bucket "/"
// digestS3Object, "\n", the hex SHA-256 of the uncompressed digest file,
// "\n", the previousDigestSignature ("null" for the first digest of a
// chain); signed RSA PKCS#1 v1.5 with SHA-256 by the key of the digest's
// region.
//
// Each (trail, account, region) is one stream with its own chain: a
// multi-region trail delivers every enabled region of its account; an
// organization trail every account of the organization, under the
// organization id. "If the digest file has no log files, CloudTrail still
// delivers a digest file" — an hour without log files has a digest with
// an empty logFiles. When logging stops or validation is turned off the
// chain ends with a digest for the hours so far; when it resumes a new
// chain starts, whose first digest has null previous* fields, which is
// what validators report as a gap.

// logsTimeKey is how log file names write the delivery time, to the
// minute; digestTimeKey how digest names write the digest end time.
const (
	logsTimeKey   = "20060102T1504Z"
	digestTimeKey = "20060102T150405Z"
	digestTime    = "2006-01-02T15:04:05Z"
)

// digestPeriod is how often CloudTrail delivers a digest file.
const digestPeriod = time.Hour

type streamID struct{ trail, account, region string }

// deliveryStream is the delivery state of one trail for one account and
// region.
type deliveryStream struct {
	// cursor: events before it were delivered, or were never logged.
	cursor time.Time
	// chainStart is the start of the open digest period; zero when no
	// chain is open (validation off, logging stopped, never delivered).
	chainStart time.Time
	// pending are the log files delivered in the open period.
	pending []digestLogFile
	// prev is the last digest of the open chain; nil before the first.
	prev *digestLink
}

type digestLink struct{ bucket, key, hash, signature string }

// digestFile is a digest as CloudTrail writes it, in the documented
// member order. Fields that are null in a chain's first digest, or in a
// digest without log files, are pointers.
type digestFile struct {
	AWSAccountID                string          `json:"awsAccountId"`
	DigestStartTime             string          `json:"digestStartTime"`
	DigestEndTime               string          `json:"digestEndTime"`
	DigestS3Bucket              string          `json:"digestS3Bucket"`
	DigestS3Object              string          `json:"digestS3Object"`
	DigestPublicKeyFingerprint  string          `json:"digestPublicKeyFingerprint"`
	DigestSignatureAlgorithm    string          `json:"digestSignatureAlgorithm"`
	NewestEventTime             *string         `json:"newestEventTime"`
	OldestEventTime             *string         `json:"oldestEventTime"`
	PreviousDigestS3Bucket      *string         `json:"previousDigestS3Bucket"`
	PreviousDigestS3Object      *string         `json:"previousDigestS3Object"`
	PreviousDigestHashValue     *string         `json:"previousDigestHashValue"`
	PreviousDigestHashAlgorithm *string         `json:"previousDigestHashAlgorithm"`
	PreviousDigestSignature     *string         `json:"previousDigestSignature"`
	LogFiles                    []digestLogFile `json:"logFiles"`
}

type digestLogFile struct {
	S3Bucket        string `json:"s3Bucket"`
	S3Object        string `json:"s3Object"`
	HashValue       string `json:"hashValue"`
	HashAlgorithm   string `json:"hashAlgorithm"`
	NewestEventTime string `json:"newestEventTime"`
	OldestEventTime string `json:"oldestEventTime"`
}

// deliveryTarget is one account and region a trail delivers for, with
// the key prefix of its files ([prefix/]AWSLogs/[O-ID/]<account>).
type deliveryTarget struct {
	account, region, base string
}

// storedObject is an object a delivery writes.
type storedObject struct {
	bucket, key string
	obj         *s3Object
}

// deliveryTargets lists the accounts and regions trail t delivers for.
// Called with e.mu held.
func (e *Emulator) deliveryTargets(t *trail) []deliveryTarget {
	accounts := []string{t.account}
	orgID := ""
	if t.org {
		if org := e.orgs[t.account]; org != nil {
			orgID = org.id
			for _, m := range org.members {
				if m != t.account && e.orgTrailReaches(t, m) {
					accounts = append(accounts, m)
				}
			}
		}
	}
	var out []deliveryTarget
	for _, acct := range accounts {
		base := "AWSLogs/" + acct
		if orgID != "" {
			base = "AWSLogs/" + orgID + "/" + acct
		}
		if t.prefix != "" {
			base = t.prefix + "/" + base
		}
		regions := []string{t.home}
		if t.multiRegion {
			regions = nil
			if a := e.accounts[acct]; a != nil {
				for _, r := range allRegions() {
					if a.regionEnabled(r) {
						regions = append(regions, r)
					}
				}
			}
		}
		for _, r := range regions {
			out = append(out, deliveryTarget{account: acct, region: r, base: base})
		}
	}
	return out
}

// logsManagement reports whether t's selectors log a management event
// that is readOnly or not: no custom selectors log them all (the AWS
// default); a basic selector must include management events of that
// read/write type; an advanced one must select eventCategory Management
// and not the other readOnly value.
func logsManagement(t *trail, readOnly bool) bool {
	if !t.custom {
		return true
	}
	for _, s := range t.basic {
		if s.IncludeManagementEvents && (s.ReadWriteType == "All" || s.ReadWriteType == "" ||
			(s.ReadWriteType == "ReadOnly") == readOnly) {
			return true
		}
	}
	for _, s := range t.advanced {
		mgmt, rw := false, true
		for _, f := range s.FieldSelectors {
			switch f.Field {
			case "eventCategory":
				mgmt = len(f.Equals) == 1 && f.Equals[0] == "Management"
			case "readOnly":
				want := fmt.Sprint(readOnly)
				if len(f.Equals) > 0 {
					rw = f.Equals[0] == want
				}
				if len(f.NotEquals) > 0 {
					rw = f.NotEquals[0] != want
				}
			}
		}
		if mgmt && rw {
			return true
		}
	}
	return false
}

// gzipPool keeps gzip writers, whose allocation dominates writing many
// small files.
var gzipPool = sync.Pool{New: func() any { return gzip.NewWriter(nil) }}

func gzipBytes(b []byte) []byte {
	var buf bytes.Buffer
	zw := gzipPool.Get().(*gzip.Writer)
	zw.Reset(&buf)
	zw.Write(b)
	zw.Close()
	gzipPool.Put(zw)
	return buf.Bytes()
}

func hexSHA256(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

const uniqueChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// uniqueString is the 16-character UniqueString of a log file name.
func uniqueString() string {
	b := make([]byte, 16)
	for i := range b {
		b[i] = uniqueChars[rand.IntN(len(uniqueChars))]
	}
	return string(b)
}

// logFile builds one log file of events delivered at `at`.
func logFile(bucket string, tg deliveryTarget, at time.Time, events []CloudTrailEvent) (storedObject, digestLogFile) {
	at = at.UTC()
	raw, _ := json.Marshal(struct {
		Records []CloudTrailEvent `json:"Records"`
	}{events})
	key := tg.base + "/CloudTrail/" + tg.region + "/" + at.Format("2006/01/02") + "/" +
		tg.account + "_CloudTrail_" + tg.region + "_" + at.Format(logsTimeKey) + "_" + uniqueString() + ".json.gz"
	oldest, newest := events[0].at, events[0].at
	for _, ev := range events[1:] {
		if ev.at.Before(oldest) {
			oldest = ev.at
		}
		if ev.at.After(newest) {
			newest = ev.at
		}
	}
	// CloudTrail stores its files gzipped with Content-Encoding gzip and
	// Content-Type application/json.
	obj := newObject(gzipBytes(raw), at, "application/json", "gzip", nil)
	return storedObject{bucket, key, obj}, digestLogFile{S3Bucket: bucket, S3Object: key, HashValue: hexSHA256(raw), HashAlgorithm: "SHA-256",
		NewestEventTime: newest.UTC().Format(digestTime), OldestEventTime: oldest.UTC().Format(digestTime)}
}

// digest builds, signs and returns the digest of st's open period
// [st.chainStart, end] for trail t with the region's key of that time,
// and moves the chain on to it.
func (st *deliveryStream) digest(t *trail, tg deliveryTarget, end time.Time, keys []*signingKey) (storedObject, error) {
	end = end.UTC()
	key := keyAt(keys, end)
	endStr := end.Format(digestTime)
	objKey := tg.base + "/CloudTrail-Digest/" + tg.region + "/" + end.Format("2006/01/02") + "/" + tg.account +
		"_CloudTrail-Digest_" + tg.region + "_" + t.name + "_" + t.home + "_" + end.Format(digestTimeKey) + ".json.gz"
	d := digestFile{
		AWSAccountID: tg.account, DigestStartTime: st.chainStart.UTC().Format(digestTime), DigestEndTime: endStr,
		DigestS3Bucket: t.bucket, DigestS3Object: objKey, DigestPublicKeyFingerprint: key.fingerprint,
		DigestSignatureAlgorithm: "SHA256withRSA", LogFiles: st.pending,
	}
	if d.LogFiles == nil {
		d.LogFiles = []digestLogFile{}
	}
	for _, lf := range st.pending {
		if d.NewestEventTime == nil || lf.NewestEventTime > *d.NewestEventTime {
			d.NewestEventTime = &lf.NewestEventTime
		}
		if d.OldestEventTime == nil || lf.OldestEventTime < *d.OldestEventTime {
			d.OldestEventTime = &lf.OldestEventTime
		}
	}
	prevSig := "null"
	if p := st.prev; p != nil {
		alg := "SHA-256"
		d.PreviousDigestS3Bucket, d.PreviousDigestS3Object = &p.bucket, &p.key
		d.PreviousDigestHashValue, d.PreviousDigestHashAlgorithm, d.PreviousDigestSignature = &p.hash, &alg, &p.signature
		prevSig = p.signature
	}
	raw, err := json.Marshal(d)
	if err != nil {
		return storedObject{}, fmt.Errorf("encode digest %s: %w", objKey, err)
	}
	hash := hexSHA256(raw)
	sig, err := key.sign(endStr + "\n" + t.bucket + "/" + objKey + "\n" + hash + "\n" + prevSig)
	if err != nil {
		return storedObject{}, err
	}
	obj := newObject(gzipBytes(raw), end, "application/json", "gzip", map[string]string{"signature": sig, "signature-algorithm": "SHA256withRSA"})
	st.prev = &digestLink{bucket: t.bucket, key: objKey, hash: hash, signature: sig}
	st.pending = nil
	st.chainStart = end
	return storedObject{t.bucket, objKey, obj}, nil
}

// DeliverLogs makes every trail deliver as CloudTrail would have by now:
// the events recorded since its last delivery (those before now's
// second) as one log file per account and region, and, with log file
// validation on, a signed digest for every hour of its digest chain that
// has ended. A stream first seen logging with validation starts its chain
// at now. Call it as the clock moves on (tests pass times one hour and
// more apart to get digests). Nothing is written to a bucket that does not
// exist; its events wait for a later delivery.
func (e *Emulator) DeliverLogs(now time.Time) error {
	now = now.UTC().Truncate(time.Second)
	keys := map[string]*rsa.PrivateKey{}
	for {
		e.mu.Lock()
		// A trail whose validation was turned off still signs the digest
		// that ends its open chains.
		open := map[string]bool{}
		for id, st := range e.logDeliveryState().streams {
			if !st.chainStart.IsZero() {
				open[id.trail] = true
			}
		}
		var missing []string
		for _, t := range e.trails {
			if !t.validation && !open[t.arn] {
				continue
			}
			for _, tg := range e.deliveryTargets(t) {
				if keys[tg.region] == nil && !slices.Contains(missing, tg.region) {
					missing = append(missing, tg.region)
				}
			}
		}
		if len(missing) == 0 {
			break // with e.mu held
		}
		// Keys are generated without the lock: it takes a while.
		e.mu.Unlock()
		got, err := e.digestKeys(missing)
		if err != nil {
			return err
		}
		maps.Copy(keys, got)
	}
	defer e.mu.Unlock()
	ld := e.logDeliveryState()
	for _, t := range e.sortedTrails() {
		for _, tg := range e.deliveryTargets(t) {
			id := streamID{t.arn, tg.account, tg.region}
			st := ld.streams[id]
			if st == nil {
				st = &deliveryStream{cursor: t.startLogging.UTC().Truncate(time.Second)}
				ld.streams[id] = st
			}
			out, err := e.deliverStream(t, tg, st, now, keys[tg.region])
			for _, o := range out {
				e.storeDelivered(o)
			}
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// digestKeys returns the private keys of the regions given, generated
// concurrently on first use. Not called with e.mu held.
func (e *Emulator) digestKeys(regions []string) (map[string]*rsa.PrivateKey, error) {
	keys := make(map[string]*rsa.PrivateKey, len(regions))
	var mu sync.Mutex
	var wg sync.WaitGroup
	errs := make(chan error, len(regions))
	for _, r := range regions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			k, err := privateKeyFor(r)
			if err != nil {
				errs <- err
				return
			}
			mu.Lock()
			keys[r] = k
			mu.Unlock()
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return nil, err
	}
	return keys, nil
}

// sortedTrails is every trail in ARN order. Called with e.mu held.
func (e *Emulator) sortedTrails() []*trail {
	out := make([]*trail, 0, len(e.trails))
	for _, t := range e.trails {
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].arn < out[j].arn })
	return out
}

// storeDelivered puts a delivered object into its bucket, as CloudTrail
// does: the bucket policy granted it at CreateTrail. Called with e.mu
// held.
func (e *Emulator) storeDelivered(o storedObject) {
	if b := e.buckets[o.bucket]; b != nil {
		b.putObject(o.key, o.obj)
	}
}

// deliverStream brings one stream up to now. Called with e.mu held.
func (e *Emulator) deliverStream(t *trail, tg deliveryTarget, st *deliveryStream, now time.Time, priv *rsa.PrivateKey) ([]storedObject, error) {
	var out []storedObject
	bucketOK, digestOK := e.canDeliver(t)
	validating := t.logging && t.validation && bucketOK && digestOK
	if !st.chainStart.IsZero() {
		key := e.regionSigningKeys(tg.region, priv, st.chainStart)
		for bucketOK && digestOK && !st.chainStart.Add(digestPeriod).After(now) {
			end := st.chainStart.Add(digestPeriod)
			o, err := st.digest(t, tg, end, key)
			if err != nil {
				return out, err
			}
			out = append(out, o)
			e.noteDigest(t, end)
		}
		if !validating {
			// The chain ends with the part of the hour delivered so far.
			if bucketOK && digestOK && now.After(st.chainStart) {
				o, err := st.digest(t, tg, now, key)
				if err != nil {
					return out, err
				}
				out = append(out, o)
				e.noteDigest(t, now)
			}
			st.chainStart, st.prev, st.pending = time.Time{}, nil, nil
		}
	}
	if validating && st.chainStart.IsZero() {
		st.chainStart = now
	}
	switch {
	case !t.logging:
		st.cursor = now // events while the trail is stopped are never logged
	case bucketOK:
		var evs []CloudTrailEvent
		for _, ev := range e.evState().log.events[tg.account+"/"+tg.region].all() {
			if !ev.at.Before(st.cursor) && ev.at.Before(now) && logsManagement(t, ev.ReadOnly) {
				evs = append(evs, ev)
			}
		}
		st.cursor = now
		if len(evs) > 0 {
			o, lf := logFile(t.bucket, tg, now, evs)
			out = append(out, o)
			if validating {
				st.pending = append(st.pending, lf)
			}
		}
	}
	return out, nil
}

// canDeliver reports whether trail t's log files reach its bucket (it
// exists, no delivery error, deliveries not pinned as stopped by
// SetDeliveryState) and whether its digest files do too (no digest
// delivery error pinned). Called with e.mu held.
func (e *Emulator) canDeliver(t *trail) (logs, digests bool) {
	ds := t.delivery
	logs = e.buckets[t.bucket] != nil && e.deliveryError(t) == "" && !ds.stopped()
	return logs, logs && (ds == nil || ds.DigestDeliveryError == "")
}

// noteDigest records a digest delivery for GetTrailStatus's
// LatestDigestDeliveryTime. Called with e.mu held.
func (e *Emulator) noteDigest(t *trail, at time.Time) {
	ld := e.logDeliveryState()
	if at.After(ld.lastDigest[t.arn]) {
		ld.lastDigest[t.arn] = at
	}
}

// lastDigestDelivery is when trail t last delivered a digest, zero if
// never. Called with e.mu held.
func (e *Emulator) lastDigestDelivery(t *trail) time.Time {
	if e.delivery == nil {
		return time.Time{}
	}
	return e.delivery.lastDigest[t.arn]
}

// DeliveredObjects lists the keys of the objects in a bucket under a
// prefix, in listing order: what a test reads back after DeliverLogs.
func (e *Emulator) DeliveredObjects(bucket, prefix string) []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	b := e.buckets[bucket]
	if b == nil {
		return nil
	}
	var out []string
	for _, k := range b.keys() {
		if strings.HasPrefix(k, prefix) {
			out = append(out, k)
		}
	}
	return out
}
