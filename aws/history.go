package aws

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go/middleware"
	"golang.org/x/time/rate"

	"github.com/trailguard/trailguard/history"
)

// LookupEventsQuota is CloudTrail's quota on LookupEvents: two requests
// per second per account and region (LookupEvents, CloudTrail API
// Reference). Beyond it AWS answers ThrottlingException.
const LookupEventsQuota = 2

// HistoryActions are the IAM actions LookupHistory calls with, both
// read-only and without resource-level permissions (resource "*");
// sts:GetCallerIdentity is allowed to every caller.
var HistoryActions = []string{
	"cloudtrail:LookupEvents",
	"ec2:DescribeRegions",
}

// HistoryOptions say what LookupHistory reads.
type HistoryOptions struct {
	// Regions are the regions to read; nil means every region enabled for
	// the account, read as the scan reads them (EC2 DescribeRegions,
	// opt-in status).
	Regions []string
	// Since and Until bound the events (LookupEvents StartTime and
	// EndTime, both inclusive); zero means no bound, which event history
	// itself bounds to the last 90 days.
	Since, Until time.Time
	// PerRegionTPS is how many LookupEvents requests a second are sent to
	// one region, retries included; 0 means LookupEventsQuota.
	PerRegionTPS float64
}

// HistoryOutput is what LookupHistory read of one account.
type HistoryOutput struct {
	Account string
	// Regions are the regions read in full; a region that could not be
	// read is in Errors instead.
	Regions []string
	// Events are every history.CoverageEvents event found, failed calls
	// included, each once (by event id), oldest first.
	Events []history.Event
	// Calls counts the LookupEvents requests sent, retries included.
	Calls int
	// Errors holds, by region, why the region could not be read (in
	// full): a region with an error is never taken for a region without
	// events.
	Errors map[string]string
}

// LookupHistory reads, from CloudTrail event history, the calls of the
// caller's account that can change its CIS 3.1 coverage
// (history.CoverageEvents): LookupEvents with one EventName lookup
// attribute per call (the API takes one attribute), every page, in every
// region asked, the regions concurrently, each region at most
// o.PerRegionTPS requests a second, retries included, with the SDK's
// retry on throttling.
//
// Why every region, not only the home regions of the trails there are
// now: a call is recorded in the region it was made in. CreateTrail
// creates the trail in the region of the call; for a trail enabled in all
// regions, UpdateTrail, DeleteTrail, StartLogging, StopLogging and
// PutEventSelectors must be called in the trail's home region, or they
// fail with InvalidHomeRegionException (CloudTrail API Reference, each
// operation) — so a multi-region trail's changes are recorded in its home
// region, and a failed attempt from elsewhere in that other region. A
// trail deleted within the window may have had any region as its home,
// and no trail read now names it; only reading every region finds it.
//
// Calls: sts:GetCallerIdentity, ec2:DescribeRegions (when o.Regions is
// nil) and cloudtrail:LookupEvents. It fails only when the account or its
// regions cannot be known; a region that cannot be read is in Errors.
func LookupHistory(ctx context.Context, cfg sdkaws.Config, o HistoryOptions) (HistoryOutput, error) {
	var out HistoryOutput
	if cfg.Retryer == nil {
		cfg.Retryer = newRetryer(DefaultMaxAttempts)
	}
	id, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return out, errors.New(describeErr(ctx, "sts:GetCallerIdentity", caller(""), err))
	}
	out.Account = sdkaws.ToString(id.Account)
	who := caller(out.Account)
	regions := o.Regions
	if regions == nil {
		all, reason := describeRegions(ctx, cfg, who)
		if reason != "" {
			return out, fmt.Errorf("the regions to read event history in are not known: %s (or name them)", reason)
		}
		for _, r := range all {
			if r.Enabled() {
				regions = append(regions, r.Name)
			}
		}
	}
	tps := o.PerRegionTPS
	if tps <= 0 {
		tps = LookupEventsQuota
	}
	var calls atomic.Int64
	type regionResult struct {
		region string
		events []history.Event
		reason string
	}
	results := make([]regionResult, len(regions))
	var wg sync.WaitGroup
	for i, region := range regions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			evs, reason := lookupRegion(ctx, cfg, region, o, rate.NewLimiter(rate.Limit(tps), 1), &calls, who)
			results[i] = regionResult{region, evs, reason}
		}()
	}
	wg.Wait()
	out.Calls = int(calls.Load())
	seen := map[string]bool{}
	for _, r := range results {
		if r.reason != "" {
			if out.Errors == nil {
				out.Errors = map[string]string{}
			}
			out.Errors[r.region] = r.reason
		} else {
			out.Regions = append(out.Regions, r.region)
		}
		// Events read before a region failed are still true; the error
		// says the region's history is not complete.
		for _, ev := range r.events {
			if !seen[ev.ID] {
				seen[ev.ID] = true
				out.Events = append(out.Events, ev)
			}
		}
	}
	sort.Strings(out.Regions)
	sortEvents(out.Events)
	return out, nil
}

// sortEvents orders events oldest first; events of the same second by
// event id, so the order does not depend on which region answered first.
func sortEvents(evs []history.Event) {
	sort.SliceStable(evs, func(i, j int) bool {
		if !evs[i].Time.Equal(evs[j].Time) {
			return evs[i].Time.Before(evs[j].Time)
		}
		return evs[i].ID < evs[j].ID
	})
}

// lookupRegion reads every coverage event of one region, one event name
// after the other, paced by lim. The string is why the region could not
// be read in full.
func lookupRegion(ctx context.Context, cfg sdkaws.Config, region string, o HistoryOptions, lim *rate.Limiter, calls *atomic.Int64, who principal) ([]history.Event, string) {
	client := cloudtrail.NewFromConfig(cfg, func(opt *cloudtrail.Options) {
		opt.Region = region
		opt.APIOptions = append(opt.APIOptions, func(s *middleware.Stack) error {
			// After the retry middleware, so that every attempt waits
			// its turn and is counted.
			return s.Finalize.Insert(pace{lim: lim, calls: calls}, "Retry", middleware.After)
		})
	})
	op := "cloudtrail:LookupEvents in " + region
	var evs []history.Event
	for _, name := range history.CoverageEvents {
		in := &cloudtrail.LookupEventsInput{
			LookupAttributes: []cttypes.LookupAttribute{{AttributeKey: cttypes.LookupAttributeKeyEventName, AttributeValue: sdkaws.String(name)}},
			MaxResults:       sdkaws.Int32(50),
		}
		if !o.Since.IsZero() {
			in.StartTime = sdkaws.Time(o.Since)
		}
		if !o.Until.IsZero() {
			in.EndTime = sdkaws.Time(o.Until)
		}
		// Paged by hand rather than with the SDK's paginator, so that a
		// token answered twice is an error, not an endless loop or a
		// history silently cut short.
		seen := map[string]bool{}
		for {
			page, err := client.LookupEvents(ctx, in)
			if err != nil {
				return evs, describeErr(ctx, op, who, err)
			}
			for _, e := range page.Events {
				ev, err := history.ParseRecord([]byte(sdkaws.ToString(e.CloudTrailEvent)))
				if err != nil {
					return evs, fmt.Sprintf("%s: event %q (%s) cannot be read: %v", op, clipReason(sdkaws.ToString(e.EventId)), name, err)
				}
				evs = append(evs, ev)
			}
			next := sdkaws.ToString(page.NextToken)
			if next == "" {
				break
			}
			if seen[next] {
				return evs, fmt.Sprintf("%s: LookupEvents (EventName %s) answered the same NextToken twice: the history cannot be read to its end", op, name)
			}
			seen[next] = true
			in.NextToken = sdkaws.String(next)
		}
	}
	return evs, ""
}

func clipReason(s string) string {
	if len(s) > 64 {
		return s[:64]
	}
	return s
}

// pace is a Finalize middleware that holds each attempt of a request to
// the region's rate and counts it.
type pace struct {
	lim   *rate.Limiter
	calls *atomic.Int64
}

func (pace) ID() string { return "trailguard.LookupEventsPace" }

func (p pace) HandleFinalize(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
	if err := p.lim.Wait(ctx); err != nil {
		return middleware.FinalizeOutput{}, middleware.Metadata{}, err
	}
	p.calls.Add(1)
	return next.HandleFinalize(ctx, in)
}
