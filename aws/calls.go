package aws

import (
	"context"
	"sort"
	"strings"
	"sync"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/smithy-go/middleware"
)

// CallCounter counts the API requests sent, per "service:Operation"
// (cloudtrail:DescribeTrails). It counts every attempt, retries included,
// because that is what AWS's request quotas see.
type CallCounter struct {
	mu sync.Mutex
	n  map[string]int
}

// NewCallCounter returns an empty counter.
func NewCallCounter() *CallCounter { return &CallCounter{n: map[string]int{}} }

// Attach adds the counting middleware to every client built from cfg.
func (c *CallCounter) Attach(cfg *sdkaws.Config) {
	cfg.APIOptions = append(cfg.APIOptions, func(stack *middleware.Stack) error {
		// After the retry middleware, so that each attempt is counted.
		return stack.Finalize.Add(middleware.FinalizeMiddlewareFunc("trailguardCallCounter",
			func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
				c.add(serviceKey(awsmiddleware.GetServiceID(ctx)) + ":" + awsmiddleware.GetOperationName(ctx))
				return next.HandleFinalize(ctx, in)
			}), middleware.After)
	})
}

func (c *CallCounter) add(key string) {
	c.mu.Lock()
	c.n[key]++
	c.mu.Unlock()
}

// Counts returns a copy of the counts.
func (c *CallCounter) Counts() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]int, len(c.n))
	for k, v := range c.n {
		out[k] = v
	}
	return out
}

// Total is the number of requests counted.
func (c *CallCounter) Total() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := 0
	for _, v := range c.n {
		t += v
	}
	return t
}

// Keys returns the counted operations, sorted.
func (c *CallCounter) Keys() []string {
	m := c.Counts()
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// serviceKey turns an SDK service id ("CloudTrail", "EC2") into the IAM
// action prefix people know ("cloudtrail", "ec2").
func serviceKey(id string) string {
	return strings.ToLower(strings.ReplaceAll(id, " ", ""))
}
