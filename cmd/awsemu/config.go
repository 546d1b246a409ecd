package main

import (
	"context"
	"time"

	"github.com/trailguard/trailguard/internal/awsemu"
)

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
