package logintegrity

import (
	"bufio"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sort"
	"sync"
	"time"
)

// Store reads the trail's bucket. Get's error wraps ErrNotFound when the
// object does not exist (S3 NoSuchKey); any other error is a file that
// could not be checked, and its text should name the permission it needs.
type Store interface {
	// List calls fn with every key under prefix after startAfter, in
	// S3's lexical order, until fn returns false.
	List(ctx context.Context, bucket, prefix, startAfter string, fn func(key string) bool) error
	Get(ctx context.Context, bucket, key string) (io.ReadCloser, map[string]string, error)
}

// KeySource reads a region's CloudTrail public keys valid in [start, end].
type KeySource interface {
	PublicKeys(ctx context.Context, region string, start, end time.Time) ([]PublicKey, error)
}

// ErrNotFound is what a Store's Get wraps for an object that does not exist.
var ErrNotFound = errors.New("not found")

// Problem kinds. The first seven are the AWS CLI's INVALID classes; a gap
// is a notice as in the AWS CLI ("No log files were delivered by
// CloudTrail between …") and not invalid; unreadable and no_digests mean
// the file or region could not be checked.
const (
	KindNotFound          = "not_found"
	KindHashMismatch      = "hash_mismatch"
	KindInvalidSignature  = "invalid_signature"
	KindInvalidFormat     = "invalid_format"
	KindMoved             = "moved"
	KindPublicKeyNotFound = "public_key_not_found"
	KindChainBroken       = "chain_broken"
	KindGap               = "gap"
	KindUnreadable        = "unreadable"
	KindNoDigests         = "no_digests"
)

// File types a problem is about.
const (
	ObjectDigest         = "digest"
	ObjectBackfillDigest = "backfill_digest"
	ObjectLogFile        = "log_file"
)

// Problem is one file that is not valid (or a gap between two).
type Problem struct {
	File   string `json:"file"`   // s3://bucket/key
	Object string `json:"object"` // digest, backfill_digest or log_file
	Kind   string `json:"kind"`
	Detail string `json:"detail"`
}

// Counts count the files of one type: Checked = Valid + Invalid + Unreadable.
type Counts struct {
	Checked    int `json:"checked"`
	Valid      int `json:"valid"`
	Invalid    int `json:"invalid"`
	Unreadable int `json:"unreadable"`
}

// RegionReport is the outcome for one chain (one trail in one region).
type RegionReport struct {
	Region          string     `json:"region"`
	Digests         Counts     `json:"digests"` // backfill digests included
	LogFiles        Counts     `json:"log_files"`
	Problems        []Problem  `json:"problems"`
	ProblemsOmitted int        `json:"problems_omitted,omitempty"`
	FoundStart      *time.Time `json:"found_start,omitempty"` // earliest time a valid digest covers, within the range
	FoundEnd        *time.Time `json:"found_end,omitempty"`
	// Error says why the region could not be checked at all.
	Error string `json:"error,omitempty"`
}

// Invalid reports whether anything in the region is invalid.
func (r RegionReport) Invalid() bool { return r.Digests.Invalid > 0 || r.LogFiles.Invalid > 0 }

// Unchecked reports whether something could not be checked.
func (r RegionReport) Unchecked() bool {
	if r.Error != "" || r.Digests.Unreadable > 0 || r.LogFiles.Unreadable > 0 {
		return true
	}
	for _, p := range r.Problems {
		if p.Kind == KindNoDigests {
			return true
		}
	}
	return false
}

// Options tune Validate.
type Options struct {
	Start, End time.Time
	// Workers read and hash log files at once (default 32): S3 serves
	// thousands of GETs per second per prefix, far above CloudTrail's
	// quotas, so log files are read concurrently.
	Workers int
	// ChainsAtOnce is how many chains (regions) are walked at once
	// (default 17, every commercial region of a multi-region trail).
	ChainsAtOnce int
	MaxLogBytes  int64 // uncompressed bytes hashed per log file (default DefaultMaxLogBytes)
	MaxProblems  int   // problems kept per region (default 10000); the rest are counted
}

func (o *Options) defaults() {
	if o.Workers <= 0 {
		o.Workers = 32
	}
	if o.ChainsAtOnce <= 0 {
		o.ChainsAtOnce = 17
	}
	if o.MaxLogBytes <= 0 {
		o.MaxLogBytes = DefaultMaxLogBytes
	}
	if o.MaxProblems <= 0 {
		o.MaxProblems = 10000
	}
}

// region holds one chain's report while workers write to it.
type region struct {
	mu  sync.Mutex
	rep RegionReport
	max int
}

func (r *region) problem(p Problem) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.rep.Problems) >= r.max {
		r.rep.ProblemsOmitted++
		return
	}
	r.rep.Problems = append(r.rep.Problems, p)
}

func (r *region) count(logFile bool, f func(c *Counts)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if logFile {
		f(&r.rep.LogFiles)
	} else {
		f(&r.rep.Digests)
	}
}

type logJob struct {
	reg *region
	lf  LogFile
}

// Validate walks every chain and checks its digests and their log files.
// It returns one report per chain, in the order given. Log files are read
// by a pool of Options.Workers shared by all chains; a chain hands the
// log files of one digest at a time to the pool, so memory is bounded by
// one digest per chain, not by the number of log files.
func Validate(ctx context.Context, store Store, keys KeySource, chains []Chain, o Options) []RegionReport {
	o.defaults()
	regs := make([]*region, len(chains))
	for i, c := range chains {
		regs[i] = &region{rep: RegionReport{Region: c.Region, Problems: []Problem{}}, max: o.MaxProblems}
	}
	jobs := make(chan logJob, o.Workers)
	var workers sync.WaitGroup
	for range o.Workers {
		workers.Add(1)
		go func() {
			defer workers.Done()
			var h hasher
			for j := range jobs {
				h.checkLog(ctx, store, j.reg, j.lf, o.MaxLogBytes)
			}
		}()
	}
	sem := make(chan struct{}, o.ChainsAtOnce)
	var walkers sync.WaitGroup
	for i, c := range chains {
		walkers.Add(1)
		go func() {
			defer walkers.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			w := walker{store: store, keys: keys, c: c, o: o, reg: regs[i], jobs: jobs}
			w.run(ctx)
		}()
	}
	walkers.Wait()
	close(jobs)
	workers.Wait()
	out := make([]RegionReport, len(regs))
	for i, r := range regs {
		// A run cut short (Ctrl-C, a deadline) has files it never read:
		// the region is not checked, whatever its counts say.
		if err := ctx.Err(); err != nil && r.rep.Error == "" {
			r.rep.Error = "stopped before every file was read: " + err.Error()
		}
		sort.SliceStable(r.rep.Problems, func(a, b int) bool {
			pa, pb := r.rep.Problems[a], r.rep.Problems[b]
			if pa.Object == ObjectLogFile != (pb.Object == ObjectLogFile) {
				return pa.Object != ObjectLogFile // digests first
			}
			return pa.File < pb.File
		})
		out[i] = r.rep
	}
	return out
}

type walker struct {
	store Store
	keys  KeySource
	c     Chain
	o     Options
	reg   *region
	jobs  chan<- logJob
	ring  keyRing
	// ahead holds the digests read ahead of the walk, by bucket and key.
	ahead   map[string]*fetched
	pending sync.WaitGroup
}

// digestsAhead is how many older listed digests a walker reads while it
// checks the current one: the chain is walked one digest after another,
// and without reading ahead each step would wait a full S3 round trip.
const digestsAhead = 4

// fetched is one digest object read (and inflated) ahead of the walk.
type fetched struct {
	done chan struct{}
	end  time.Time
	raw  []byte
	meta map[string]string
	got  bool // the object was read; err is then about its content
	err  error
}

// start begins reading a digest unless it is already being read.
func (w *walker) start(ctx context.Context, bucket string, k DigestKey) *fetched {
	id := bucket + "\x00" + k.Key
	if f, ok := w.ahead[id]; ok {
		return f
	}
	f := &fetched{done: make(chan struct{}), end: k.End}
	w.ahead[id] = f
	w.pending.Add(1)
	go func() {
		defer w.pending.Done()
		defer close(f.done)
		body, meta, err := w.store.Get(ctx, bucket, k.Key)
		if err != nil {
			f.err = err
			return
		}
		defer body.Close()
		f.got, f.meta = true, meta
		f.raw, f.err = Gunzip(body, MaxDigestCompressed, MaxDigestUncompressed)
	}()
	return f
}

// readAhead starts reading the next listed digests older than cur, and
// forgets those read ahead that the walk has passed.
func (w *walker) readAhead(ctx context.Context, bucket string, keys []DigestKey, cur DigestKey) {
	for id, f := range w.ahead {
		if !f.end.Before(cur.End) && id != bucket+"\x00"+cur.Key {
			delete(w.ahead, id)
		}
	}
	i := sort.Search(len(keys), func(i int) bool { return !keys[i].End.Before(cur.End) })
	for n := 0; i > 0 && n < digestsAhead && len(w.ahead) <= digestsAhead; n++ {
		i--
		w.start(ctx, bucket, keys[i])
	}
}

func (w *walker) run(ctx context.Context) {
	w.ahead = map[string]*fetched{}
	defer w.pending.Wait()
	std, bf, err := w.list(ctx, w.c.Bucket)
	if err != nil {
		w.reg.rep.Error = err.Error()
		return
	}
	if len(std)+len(bf) == 0 {
		w.reg.problem(Problem{File: S3URL(w.c.Bucket, w.c.ListPrefix()), Object: ObjectDigest, Kind: KindNoDigests,
			Detail: fmt.Sprintf("no digest files between %s and %s: nothing proves the log files of this region (were they deleted, or did the trail not log?)",
				displayTime(w.o.Start), displayTime(w.o.End))})
		return
	}
	keyStart, keyEnd := w.o.Start, w.o.End.Add(2*time.Hour)
	pks, err := w.keys.PublicKeys(ctx, w.c.Region, keyStart, keyEnd)
	if err != nil {
		w.reg.rep.Error = err.Error()
		return
	}
	if len(pks) == 0 && len(std) > 0 {
		w.reg.rep.Error = fmt.Sprintf("CloudTrail ListPublicKeys in %s returned no public keys between %s and %s: the digests cannot be verified",
			w.c.Region, displayTime(keyStart), displayTime(keyEnd))
		return
	}
	w.ring = newKeyRing(pks)
	w.walk(ctx, std, false)
	w.walk(ctx, bf, true)
}

// list returns the chain's standard and backfill digest keys from one
// minute before the start to one hour after the end (a digest delivered
// just after the end may list log files of the range), oldest first.
func (w *walker) list(ctx context.Context, bucket string) (std, bf []DigestKey, err error) {
	re := w.c.keyPattern()
	after := w.c.Key(w.o.Start.Add(-time.Minute))
	last := w.o.End.Add(time.Hour)
	first := w.o.Start.Truncate(time.Second)
	err = w.store.List(ctx, bucket, w.c.ListPrefix(), after, func(key string) bool {
		k, ok := parseKey(re, key)
		if !ok {
			return true
		}
		if k.End.After(last) {
			return false
		}
		if k.End.Before(first) {
			return true
		}
		if k.Backfill {
			bf = append(bf, k)
		} else {
			std = append(std, k)
		}
		return true
	})
	if err != nil {
		return nil, nil, err
	}
	byTime := func(s []DigestKey) {
		sort.SliceStable(s, func(i, j int) bool { return s[i].End.Before(s[j].End) })
	}
	byTime(std)
	byTime(bf)
	return std, bf, nil
}

// link is what a newer digest recorded about the one before it.
type link struct {
	from      string // the newer digest's key
	signature string
	hash      *string
}

// walk follows one chain newest first, as the AWS CLI does: from the
// newest listed digest through previousDigestS3Object; where a digest is
// missing or invalid, on from the next older listed digest; where a digest
// has no previous one, the next older listed digest marks a gap.
func (w *walker) walk(ctx context.Context, keys []DigestKey, backfill bool) {
	obj := ObjectDigest
	if backfill {
		obj = ObjectBackfillDigest
	}
	pos := len(keys)
	nextBefore := func(t time.Time) (DigestKey, bool) {
		for pos > 0 {
			pos--
			if keys[pos].End.Before(t) {
				return keys[pos], true
			}
		}
		return DigestKey{}, false
	}
	cur, ok := nextBefore(time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC))
	bucket := w.c.Bucket
	lastStart := cur.End
	var expect *link
	seen := map[string]bool{}
	for ok && !w.o.Start.After(lastStart) {
		if ctx.Err() != nil {
			w.reg.rep.Error = "stopped: " + ctx.Err().Error()
			return
		}
		file := S3URL(bucket, cur.Key)
		keyTime := cur.End
		if seen[file] {
			w.reg.count(false, func(c *Counts) { c.Checked++; c.Invalid++ })
			w.reg.problem(Problem{File: file, Object: obj, Kind: KindChainBroken, Detail: "the chain of previous digests comes back to this digest"})
			cur, ok = nextBefore(keyTime)
			expect = nil
			continue
		}
		seen[file] = true
		w.readAhead(ctx, bucket, keys, cur)
		d, kind, detail := w.checkDigest(ctx, bucket, cur, backfill)
		if kind == "" && expect != nil {
			if k, det := checkLink(expect, d); k != "" {
				kind, detail = k, det
			}
		}
		switch kind {
		case "":
			w.reg.count(false, func(c *Counts) { c.Checked++; c.Valid++ })
			w.found(d)
			lastStart = d.Start
			for _, lf := range d.LogFiles {
				select {
				case w.jobs <- logJob{reg: w.reg, lf: lf}:
				case <-ctx.Done():
				}
			}
			if d.PreviousDigestS3Bucket == nil || d.PreviousDigestS3Object == nil {
				next, more := nextBefore(keyTime)
				if more {
					w.reg.problem(Problem{File: file, Object: obj, Kind: KindGap,
						Detail: fmt.Sprintf("No log files were delivered by CloudTrail between %s and %s", displayTime(next.End), displayTime(lastStart))})
				}
				cur, ok, expect = next, more, nil
				continue
			}
			pk := *d.PreviousDigestS3Object
			t, parsed := KeyTime(pk)
			if !parsed {
				t = lastStart
			}
			expect = &link{from: file, hash: d.PreviousDigestHashValue}
			if d.PreviousDigestSignature != nil {
				expect.signature = *d.PreviousDigestSignature
			}
			cur = DigestKey{Key: pk, End: t, Backfill: backfill}
			if *d.PreviousDigestS3Bucket != bucket {
				bucket = *d.PreviousDigestS3Bucket
				std, bf, err := w.list(ctx, bucket)
				if err != nil {
					w.reg.rep.Error = err.Error()
					return
				}
				keys = std
				if backfill {
					keys = bf
				}
				pos = len(keys)
			}
		case KindUnreadable:
			w.reg.count(false, func(c *Counts) { c.Checked++; c.Unreadable++ })
			w.reg.problem(Problem{File: file, Object: obj, Kind: kind, Detail: detail})
			cur, ok = nextBefore(keyTime)
			expect = nil
		default:
			w.reg.count(false, func(c *Counts) { c.Checked++; c.Invalid++ })
			w.reg.problem(Problem{File: file, Object: obj, Kind: kind, Detail: detail})
			cur, ok = nextBefore(keyTime)
			expect = nil
		}
	}
}

// checkLink compares a valid digest with what its newer neighbour recorded
// for it. The AWS CLI does not compare them; both are signed, so a
// difference means the chain was rebuilt from other digests.
func checkLink(l *link, d *digestRead) (kind, detail string) {
	if l.signature != "" && l.signature != d.signature {
		return KindChainBroken, "this digest's signature is not the previousDigestSignature recorded by " + l.from
	}
	if l.hash != nil && *l.hash != d.hash {
		return KindChainBroken, "this digest's SHA-256 is not the previousDigestHashValue recorded by " + l.from
	}
	return "", ""
}

func (w *walker) found(d *digestRead) {
	s, e := d.Start, d.End
	if s.Before(w.o.Start) {
		s = w.o.Start
	}
	if e.After(w.o.End) {
		e = w.o.End
	}
	w.reg.mu.Lock()
	defer w.reg.mu.Unlock()
	if w.reg.rep.FoundStart == nil || s.Before(*w.reg.rep.FoundStart) {
		w.reg.rep.FoundStart = &s
	}
	if w.reg.rep.FoundEnd == nil || e.After(*w.reg.rep.FoundEnd) {
		w.reg.rep.FoundEnd = &e
	}
}

// digestRead is a digest that verified, with what its neighbour must match.
type digestRead struct {
	*Digest
	signature string
	hash      string
}

// checkDigest reads and verifies one digest; kind is "" when it is valid.
func (w *walker) checkDigest(ctx context.Context, bucket string, k DigestKey, backfill bool) (*digestRead, string, string) {
	key := k.Key
	f := w.start(ctx, bucket, k)
	<-f.done
	delete(w.ahead, bucket+"\x00"+key)
	raw, meta, err := f.raw, f.meta, f.err
	if errors.Is(err, ErrNotFound) {
		return nil, KindNotFound, "not found (deleted or moved)"
	}
	if err != nil && !f.got {
		return nil, KindUnreadable, err.Error()
	}
	if err != nil {
		if !errors.Is(err, ErrFormat) && !errors.Is(err, ErrTooLarge) {
			return nil, KindUnreadable, "read: " + err.Error()
		}
		return nil, KindInvalidFormat, "invalid format: " + err.Error()
	}
	sig, hasSig := meta["signature"]
	alg, hasAlg := meta["signature-algorithm"]
	d, err := ParseDigest(raw)
	var fe fieldError
	if err != nil && !errors.As(err, &fe) {
		return nil, KindInvalidFormat, "invalid format: " + err.Error()
	}
	if !hasSig || !hasAlg {
		return nil, KindInvalidSignature, "signature verification failed: the object has no signature or signature-algorithm metadata"
	}
	if err != nil {
		return nil, KindInvalidFormat, "invalid format: " + err.Error()
	}
	var bfTime time.Time
	if backfill {
		ts, ok := meta["backfill-generation-timestamp"]
		if !ok {
			return nil, KindInvalidFormat, "invalid format: a backfill digest without backfill-generation-timestamp metadata"
		}
		if bfTime, err = parseTime(ts); err != nil {
			return nil, KindInvalidFormat, "invalid format: backfill-generation-timestamp: " + err.Error()
		}
	}
	if d.DigestS3Bucket != bucket || d.DigestS3Object != key {
		return nil, KindMoved, "has been moved from its original location (it names " + S3URL(d.DigestS3Bucket, d.DigestS3Object) + ")"
	}
	pk, ok := w.ring.find(d.DigestPublicKeyFingerprint, d.End)
	if !ok && backfill {
		more, err := w.keys.PublicKeys(ctx, w.c.Region, bfTime.Add(-time.Hour), bfTime.Add(time.Hour))
		if err != nil {
			return nil, KindUnreadable, err.Error()
		}
		w.ring.add(more)
		pk, ok = w.ring.find(d.DigestPublicKeyFingerprint, d.End)
	}
	if !ok {
		return nil, KindPublicKeyNotFound, fmt.Sprintf("public key not found in region %s for fingerprint %s", w.c.Region, d.DigestPublicKeyFingerprint)
	}
	rk, err := ParsePublicKey(pk.Value)
	if err != nil {
		return nil, KindInvalidSignature, fmt.Sprintf("%v with fingerprint %s", err, d.DigestPublicKeyFingerprint)
	}
	if err := VerifyDigest(rk, d, raw, sig, alg); err != nil {
		return nil, KindInvalidSignature, err.Error()
	}
	sum := sha256.Sum256(raw)
	return &digestRead{Digest: d, signature: sig, hash: hex.EncodeToString(sum[:])}, "", ""
}

// hasher is one worker's reusable readers: a gzip reader holds a 32 KiB
// window and its tables, which would otherwise be allocated per log file.
type hasher struct {
	br *bufio.Reader
	zr *gzip.Reader
}

// checkLog reads one log file and compares the SHA-256 of its uncompressed
// content with the digest's hashValue, hashing while it streams.
func (hs *hasher) checkLog(ctx context.Context, store Store, reg *region, lf LogFile, maxBytes int64) {
	file := S3URL(lf.S3Bucket, lf.S3Object)
	bad := func(kind, detail string) {
		reg.count(true, func(c *Counts) { c.Checked++; c.Invalid++ })
		reg.problem(Problem{File: file, Object: ObjectLogFile, Kind: kind, Detail: detail})
	}
	unreadable := func(detail string) {
		reg.count(true, func(c *Counts) { c.Checked++; c.Unreadable++ })
		reg.problem(Problem{File: file, Object: ObjectLogFile, Kind: KindUnreadable, Detail: detail})
	}
	if ctx.Err() != nil {
		unreadable("not read: " + ctx.Err().Error())
		return
	}
	body, _, err := store.Get(ctx, lf.S3Bucket, lf.S3Object)
	if errors.Is(err, ErrNotFound) {
		bad(KindNotFound, "not found (deleted or moved)")
		return
	}
	if err != nil {
		unreadable(err.Error())
		return
	}
	defer body.Close()
	if hs.br == nil {
		hs.br = bufio.NewReaderSize(body, 64<<10)
	} else {
		hs.br.Reset(body)
	}
	if hs.zr == nil {
		hs.zr, err = gzip.NewReader(hs.br)
	} else {
		err = hs.zr.Reset(hs.br)
	}
	zr := hs.zr
	if err != nil {
		hs.zr = nil // a failed Reset leaves the reader unusable
		if isReadErr(err) {
			unreadable("read: " + err.Error())
			return
		}
		bad(KindInvalidFormat, "invalid format: not gzip: "+err.Error())
		return
	}
	h := sha256.New()
	n, err := io.Copy(h, io.LimitReader(zr, maxBytes+1))
	if err != nil {
		if isReadErr(err) {
			unreadable("read: " + err.Error())
			return
		}
		bad(KindInvalidFormat, "invalid format: gzip: "+err.Error())
		return
	}
	if n > maxBytes {
		bad(KindInvalidFormat, fmt.Sprintf("invalid format: more than %d bytes uncompressed", maxBytes))
		return
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != lf.HashValue {
		bad(KindHashMismatch, fmt.Sprintf("hash value doesn't match: the digest records %s, the file hashes to %s", lf.HashValue, got))
		return
	}
	reg.count(true, func(c *Counts) { c.Checked++; c.Valid++ })
}

// isReadErr tells a failed read (network, cancelled) from bad gzip data.
func isReadErr(err error) bool {
	var ne interface{ Timeout() bool }
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne)
}

func displayTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }
