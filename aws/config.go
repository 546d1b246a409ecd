package aws

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"strings"
	"time"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/smithy-go/logging"
)

// DefaultRegion is the region asked when neither a flag nor the AWS
// configuration names one. DescribeTrails in any region lists every
// multi-region trail, so the choice changes no verdict.
const DefaultRegion = "us-east-1"

// ConfigOptions are the AWS conventions the CLI exposes as flags.
type ConfigOptions struct {
	Profile     string // --profile (else AWS_PROFILE, else default)
	Region      string // --region (else AWS_REGION / profile, else DefaultRegion)
	EndpointURL string // --endpoint-url (else AWS_ENDPOINT_URL, per SDK rules)
	// MaxAttempts bounds the attempts per call, retries included
	// (DefaultMaxAttempts if 0).
	MaxAttempts int
	// Warn, when set, hears what is doubtful but not refused: a region
	// name of a partition's shape that the SDK's table does not list.
	Warn func(msg string)
}

// LoadConfig builds an SDK configuration from the default credential chain
// and the options, and attaches a call counter.
func LoadConfig(ctx context.Context, o ConfigOptions, calls *CallCounter) (sdkaws.Config, error) {
	var opts []func(*config.LoadOptions) error
	if o.Profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(o.Profile))
	}
	if o.Region != "" {
		opts = append(opts, config.WithRegion(o.Region))
	}
	if o.EndpointURL != "" {
		opts = append(opts, config.WithBaseEndpoint(o.EndpointURL))
	}
	// The SDK's own log lines (an IMDS fallback warning on a laptop) would
	// mix with the report; failures reach the user through the errors.
	opts = append(opts, config.WithLogger(logging.Nop{}))
	opts = append(opts, config.WithRetryer(newRetryer(o.MaxAttempts)))
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		if o.Profile != "" {
			return cfg, fmt.Errorf("load AWS configuration for profile %q: %w (check ~/.aws/config, or run 'aws configure --profile %s')", o.Profile, err, o.Profile)
		}
		return cfg, fmt.Errorf("load AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		cfg.Region = DefaultRegion
	}
	// A region typo would otherwise surface, after the scan started, as
	// "no such host". With a custom endpoint any region name may be what
	// that endpoint expects, so none is checked.
	if cfg.BaseEndpoint == nil && !serviceEndpointSet() {
		warning, err := CheckRegion(cfg.Region)
		if err != nil {
			return cfg, fmt.Errorf("%w: check --region, AWS_REGION and the profile's region", err)
		}
		if warning != "" && o.Warn != nil {
			o.Warn(warning)
		}
	}
	shareHTTP(&cfg)
	if calls != nil {
		calls.Attach(&cfg)
	}
	return cfg, nil
}

// serviceEndpointSet reports whether a service-specific endpoint
// (AWS_ENDPOINT_URL_<SERVICE>, an SDK convention) is set in the
// environment.
func serviceEndpointSet() bool {
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "AWS_ENDPOINT_URL_") {
			return true
		}
	}
	return false
}

// StaticConfig builds an SDK configuration from explicit keys and an
// endpoint, reading no shared files or environment: the demo and the tests
// use it to reach the emulator as a given account.
func StaticConfig(endpoint, region, accessKeyID, secretAccessKey, sessionToken string, calls *CallCounter) sdkaws.Config {
	cfg := sdkaws.Config{
		Region:      region,
		Credentials: sdkaws.NewCredentialsCache(credentials.NewStaticCredentialsProvider(accessKeyID, secretAccessKey, sessionToken)),
	}
	cfg.Retryer = newRetryer(0)
	shareHTTP(&cfg)
	if endpoint != "" {
		cfg.BaseEndpoint = sdkaws.String(endpoint)
	}
	if calls != nil {
		calls.Attach(&cfg)
	}
	return cfg
}

// memberRoleARN is the ARN of role roleName (DefaultRoleName if empty) in
// account id: the role an organization scan, a fix and a Security Hub
// import assume in a member account.
func memberRoleARN(id, roleName string) string {
	if roleName == "" {
		roleName = DefaultRoleName
	}
	return fmt.Sprintf("arn:aws:iam::%s:role/%s", id, roleName)
}

// assumeRole returns credentials for roleARN, assumed through client. It is
// the one place the role is assumed, so that scan, fix and Security Hub
// import present the same session name and external ID (a role's trust
// policy may require either). The SDK's own pattern: the provider inside
// a cache, so the role is assumed once and its keys reused by every client
// of the account until they near expiry.
func assumeRole(client stscreds.AssumeRoleAPIClient, roleARN, externalID string) *sdkaws.CredentialsCache {
	return sdkaws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(client, roleARN, func(p *stscreds.AssumeRoleOptions) {
		p.RoleSessionName = "trailguard"
		if externalID != "" {
			p.ExternalID = sdkaws.String(externalID)
		}
	}))
}

// DefaultMaxAttempts is how many times a call is tried before its error is
// reported: enough to ride out CloudTrail's throttling (about 10 calls per
// second per account, region and operation) and transient 5xx answers.
const DefaultMaxAttempts = 6

// newRetryer returns the retryer every client of a scan is built with. The
// SDK builds one per client from this function, and the scan builds its
// clients per account, so no retry budget is shared across accounts. The
// standard retryer's client-side retry quota is turned off: it exists to
// stop retry storms against a failing service, but under throttling it
// runs dry and turns a slow answer into a false error, while here retries
// are already bounded by maxAttempts and spaced by jittered exponential
// backoff.
func newRetryer(maxAttempts int) func() sdkaws.Retryer {
	if maxAttempts <= 0 {
		maxAttempts = DefaultMaxAttempts
	}
	return func() sdkaws.Retryer {
		return retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = maxAttempts
			o.RateLimiter = ratelimit.None
			o.Backoff = backoff{base: 200 * time.Millisecond, max: 8 * time.Second}
		})
	}
}

// adaptiveRetryer is for a client many goroutines share against one
// quota — STS AssumeRole, asked for every member account by the caller's
// account. The SDK's adaptive mode adds a client-side send rate that
// shrinks when the service throttles and grows back when it stops, so the
// workers slow down together instead of each exhausting its retries.
func adaptiveRetryer(maxAttempts int) sdkaws.Retryer {
	if maxAttempts <= 0 {
		maxAttempts = DefaultMaxAttempts
	}
	return retry.NewAdaptiveMode(func(o *retry.AdaptiveModeOptions) {
		o.StandardOptions = append(o.StandardOptions, func(so *retry.StandardOptions) {
			so.MaxAttempts = maxAttempts
			so.RateLimiter = ratelimit.None
			so.Backoff = backoff{base: 200 * time.Millisecond, max: 8 * time.Second}
		})
	})
}

// backoff is full-jitter exponential backoff: a random delay up to
// base·2^(attempt-1), capped at max. Written here because the SDK's own
// (retry.ExponentialJitterBackoff) starts at one second, so a scan that
// cannot reach its endpoint would spend most of a minute retrying, while
// throttling at CloudTrail's rates clears in a fraction of that.
type backoff struct {
	base, max time.Duration
}

func (b backoff) BackoffDelay(attempt int, _ error) (time.Duration, error) {
	ceiling := b.max
	if attempt < 30 {
		ceiling = min(b.base<<max(attempt-1, 0), b.max)
	}
	return time.Duration(rand.Int64N(int64(ceiling) + 1)), nil
}

// sharedHTTP is one HTTP client for every SDK client of a scan. The SDK
// gives each service client built from a *BuildableClient (or from none)
// its own transport, so an organization scan that builds clients per
// account would hold thousands of connection pools, each keeping its idle
// connections open; wrapping the client in a type the SDK does not
// recognise makes every service client use this one, whose pool reuses
// connections per endpoint.
type sharedHTTP struct{ c *awshttp.BuildableClient }

func (s sharedHTTP) Do(r *http.Request) (*http.Response, error) { return s.c.Do(r) }

// shareHTTP installs the shared client, keeping what the configuration
// already set on the SDK's buildable client (a custom CA bundle from
// AWS_CA_BUNDLE).
func shareHTTP(cfg *sdkaws.Config) {
	if _, done := cfg.HTTPClient.(sharedHTTP); done {
		return
	}
	bc, ok := cfg.HTTPClient.(*awshttp.BuildableClient)
	if !ok {
		if cfg.HTTPClient != nil {
			return // someone else's client: leave it alone
		}
		bc = awshttp.NewBuildableClient()
	}
	bc = bc.WithTransportOptions(func(tr *http.Transport) {
		tr.MaxIdleConns = 256
		tr.MaxIdleConnsPerHost = 64
	})
	cfg.HTTPClient = sharedHTTP{c: bc}
}
