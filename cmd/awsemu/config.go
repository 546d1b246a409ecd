package main

import (
	"context"
	"fmt"
	"net/url"
	"time"

	"github.com/trailguard/trailguard/internal/awsemu"
)

// checkLambdaEndpoint accepts the absolute http(s) URL a rule's function
// is invoked at (the Lambda runtime interface emulator's
// .../2015-03-31/functions/function/invocations, say).
func checkLambdaEndpoint(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q is not an http:// or https:// URL", raw)
	}
	return nil
}

// runConfigSchedule fires every periodic AWS Config rule once each period
// until ctx ends, standing in for the rules' MaximumExecutionFrequency,
// which is hours long on AWS. A period of 0 leaves the schedule off.
func runConfigSchedule(ctx context.Context, emu *awsemu.Emulator, period time.Duration) {
	if period <= 0 {
		return
	}
	tick := time.NewTicker(period)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			emu.RunConfigSchedule()
		}
	}
}
