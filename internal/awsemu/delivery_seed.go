package awsemu

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"
)

// maxSeedLogFilesPerHour bounds SeedDeliveries: CloudTrail delivers a log
// file about every five minutes per account and region, a dozen an hour;
// five times that is still plausible for a busy account.
const maxSeedLogFilesPerHour = 60

// seedEventKinds are the management events seeded log files hold, read
// and write ones.
var seedEventKinds = []struct {
	source, name string
	readOnly     bool
}{
	{"ec2.amazonaws.com", "RunInstances", false},
	{"ec2.amazonaws.com", "DescribeInstances", true},
	{"iam.amazonaws.com", "CreateRole", false},
	{"s3.amazonaws.com", "CreateBucket", false},
	{"kms.amazonaws.com", "Decrypt", true},
	{"sts.amazonaws.com", "AssumeRole", true},
	{"cloudtrail.amazonaws.com", "DescribeTrails", true},
}

// seedStream is one stream to seed: its trail as it was when seeding
// began, where it delivers, and its signing key.
type seedStream struct {
	t  trail
	tg deliveryTarget
	// keys are copies of the region's keys, which build reads without the
	// lock.
	keys []*signingKey
	st   deliveryStream
	out  []storedObject
}

// SeedDeliveries writes, for every logging trail with log file
// validation whose bucket exists and that has no delivery error, the deliveries of the past from–to as
// if CloudTrail had been delivering all along: in every account and region
// the trail covers, logFilesPerHour log files an hour (each two seeded
// management events a few minutes old at delivery), and a signed digest
// at the end of every whole hour from `from`, chained from a first digest
// with null previous* fields. A later DeliverLogs continues the chains.
// It is fast enough for benchmarks (the work is spread over the CPUs): 7
// days × 17 regions with 20,000 log files take seconds. Streams that
// have delivered after `from` are an error: their past is already
// written. The seeded events are in the log files only, not in event
// history (SeedHistory writes that).
func (e *Emulator) SeedDeliveries(from, to time.Time, logFilesPerHour int) error {
	from, to = from.UTC().Truncate(time.Second), to.UTC().Truncate(time.Second)
	if !to.After(from) {
		return fmt.Errorf("seed deliveries: the end %s is not after the start %s", to.Format(time.RFC3339), from.Format(time.RFC3339))
	}
	if logFilesPerHour < 0 || logFilesPerHour > maxSeedLogFilesPerHour {
		return fmt.Errorf("seed deliveries: %d log files an hour; give 0 to %d", logFilesPerHour, maxSeedLogFilesPerHour)
	}
	e.mu.Lock()
	var streams []*seedStream
	regions := map[string]bool{}
	ld := e.logDeliveryState()
	for _, t := range e.sortedTrails() {
		if _, digests := e.canDeliver(t); !t.logging || !t.validation || !digests {
			continue
		}
		for _, tg := range e.deliveryTargets(t) {
			if st := ld.streams[streamID{t.arn, tg.account, tg.region}]; st != nil && (st.cursor.After(from) || st.chainStart.After(from)) {
				e.mu.Unlock()
				return fmt.Errorf("seed deliveries: trail %s has delivered for %s in %s after %s; seed before delivering", t.arn, tg.account, tg.region, from.Format(time.RFC3339))
			}
			streams = append(streams, &seedStream{t: *t, tg: tg})
			regions[tg.region] = true
		}
	}
	e.mu.Unlock()
	if len(streams) == 0 {
		return nil
	}
	var names []string
	for r := range regions {
		names = append(names, r)
	}
	privs, err := e.digestKeys(names)
	if err != nil {
		return err
	}
	e.mu.Lock()
	for _, s := range streams {
		for _, k := range e.regionSigningKeys(s.tg.region, privs[s.tg.region], from) {
			cp := *k
			s.keys = append(s.keys, &cp)
		}
	}
	e.mu.Unlock()

	// Each stream is built on its own, spread over the CPUs; only
	// storing the files takes the lock.
	work := make(chan *seedStream)
	errs := make(chan error, len(streams))
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for s := range work {
				if err := s.build(from, to, logFilesPerHour); err != nil {
					errs <- err
				}
			}
		}()
	}
	for _, s := range streams {
		work <- s
	}
	close(work)
	wg.Wait()
	close(errs)
	var all []error
	for err := range errs {
		all = append(all, err)
	}
	if err := errors.Join(all...); err != nil {
		return fmt.Errorf("seed deliveries: %w", err)
	}

	e.mu.Lock()
	defer e.mu.Unlock()
	for _, s := range streams {
		for _, o := range s.out {
			e.storeDelivered(o)
		}
		st := s.st
		ld.streams[streamID{s.t.arn, s.tg.account, s.tg.region}] = &st
		if t := e.trails[s.t.arn]; t != nil && st.prev != nil {
			e.noteDigest(t, st.chainStart)
		}
	}
	return nil
}

// build writes the stream's seeded files into s.out and leaves its state
// in s.st: the chain open at the end of the last whole hour, the events
// up to `to` delivered.
func (s *seedStream) build(from, to time.Time, perHour int) error {
	s.st = deliveryStream{chainStart: from, cursor: to}
	identity := UserIdentity{Type: "Root", PrincipalID: s.tg.account, ARN: "arn:aws:iam::" + s.tg.account + ":root", AccountID: s.tg.account}
	n := 0
	for end := from.Add(digestPeriod); !end.After(to); end = end.Add(digestPeriod) {
		start := end.Add(-digestPeriod)
		for i := range perHour {
			at := start.Add(time.Duration(i+1) * digestPeriod / time.Duration(perHour+1)).Truncate(time.Second)
			evs := make([]CloudTrailEvent, 0, 2)
			for j := range 2 {
				kind := seedEventKinds[(n+j)%len(seedEventKinds)]
				if !logsManagement(&s.t, kind.readOnly) {
					continue // the trail's selectors do not log it
				}
				when := at.Add(-time.Duration(3-j) * time.Minute)
				evs = append(evs, CloudTrailEvent{EventVersion: "1.09", UserIdentity: identity, EventTime: when.Format(time.RFC3339),
					EventSource: kind.source, EventName: kind.name, AWSRegion: s.tg.region, SourceIPAddress: "203.0.113.10",
					UserAgent: "aws-cli/2.15.0", RequestID: newRequestID(), EventID: newRequestID(), ReadOnly: kind.readOnly,
					EventType: "AwsApiCall", ManagementEvent: true, RecipientAccountID: s.tg.account, EventCategory: "Management", at: when})
			}
			n++
			if len(evs) == 0 {
				continue
			}
			o, lf := logFile(s.t.bucket, s.tg, at, evs)
			s.out = append(s.out, o)
			s.st.pending = append(s.st.pending, lf)
		}
		o, err := s.st.digest(&s.t, s.tg, end, s.keys)
		if err != nil {
			return err
		}
		s.out = append(s.out, o)
	}
	// Log files of the part of an hour before `to` wait for the digest
	// DeliverLogs will write.
	return nil
}

// EnsureTrailBuckets creates the missing bucket of every trail with log
// file validation on, owned by the trail's account in its home region,
// with a bucket policy that lets CloudTrail write (GetBucketAcl on the
// bucket, PutObject under AWSLogs/): trails seeded with PutTrail name
// buckets that do not exist, and a delivery needs one. It returns the
// buckets it created.
func (e *Emulator) EnsureTrailBuckets() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var made []string
	for _, t := range e.sortedTrails() {
		if !t.validation || t.bucket == "" || e.buckets[t.bucket] != nil || !validBucketName(t.bucket) {
			continue
		}
		e.buckets[t.bucket] = &bucket{name: t.bucket, owner: t.account, region: t.home, created: e.now().UTC(), policy: `{"Version":"2012-10-17","Statement":[` +
			`{"Sid":"AWSCloudTrailAclCheck","Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"s3:GetBucketAcl","Resource":"arn:aws:s3:::` + t.bucket + `"},` +
			`{"Sid":"AWSCloudTrailWrite","Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"s3:PutObject","Resource":"arn:aws:s3:::` + t.bucket + `/AWSLogs/*",` +
			`"Condition":{"StringEquals":{"s3:x-amz-acl":"bucket-owner-full-control"}}}]}`}
		made = append(made, t.bucket)
	}
	return made
}
