package logintegrity

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

// S3Store reads a trail's bucket with the AWS SDK. It is path-style, as
// the emulator serves one host and bucket names may hold dots. A trail's
// bucket may lie in any region: S3 answers a request signed for another
// region with a redirect, so each bucket's region is asked once
// (HeadBucket, which needs the s3:ListBucket the listing needs anyway, and
// whose x-amz-bucket-region header S3 sends even with the redirect) and
// the bucket is then read from there.
type S3Store struct {
	cfg     sdkaws.Config
	mu      sync.Mutex
	clients map[string]*s3.Client // by region
	buckets map[string]string     // bucket → region
}

// NewS3Store returns a Store over cfg.
func NewS3Store(cfg sdkaws.Config) *S3Store {
	return &S3Store{cfg: cfg, clients: map[string]*s3.Client{}, buckets: map[string]string{}}
}

func (s *S3Store) regionClient(region string) *s3.Client {
	c, ok := s.clients[region]
	if !ok {
		c = s3.NewFromConfig(s.cfg, func(o *s3.Options) {
			o.UsePathStyle = true
			o.Region = region
		})
		s.clients[region] = c
	}
	return c
}

// bucketClient returns the client for the bucket's region.
func (s *S3Store) bucketClient(ctx context.Context, bucket string) *s3.Client {
	s.mu.Lock()
	region, known := s.buckets[bucket]
	home := s.regionClient(s.cfg.Region)
	s.mu.Unlock()
	if !known {
		region = s.cfg.Region
		out, err := home.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: &bucket})
		switch {
		case err == nil && sdkaws.ToString(out.BucketRegion) != "":
			region = sdkaws.ToString(out.BucketRegion)
		case err != nil:
			var re *awshttp.ResponseError
			if errors.As(err, &re) && re.Response != nil {
				if r := re.Response.Header.Get("X-Amz-Bucket-Region"); r != "" {
					region = r
				}
			}
		}
		s.mu.Lock()
		s.buckets[bucket] = region
		s.mu.Unlock()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.regionClient(region)
}

// List pages ListObjectsV2.
func (s *S3Store) List(ctx context.Context, bucket, prefix, startAfter string, fn func(string) bool) error {
	in := &s3.ListObjectsV2Input{Bucket: &bucket, Prefix: &prefix}
	if startAfter != "" {
		in.StartAfter = &startAfter
	}
	p := s3.NewListObjectsV2Paginator(s.bucketClient(ctx, bucket), in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return awsErr("s3:ListBucket on arn:aws:s3:::"+bucket+" (list "+prefix+")", "s3:ListBucket on arn:aws:s3:::"+bucket, err)
		}
		for _, o := range page.Contents {
			if !fn(sdkaws.ToString(o.Key)) {
				return nil
			}
		}
	}
	return nil
}

// Get opens an object for streaming; its metadata keys are lower case, as
// S3 returns x-amz-meta-* headers.
func (s *S3Store) Get(ctx context.Context, bucket, key string) (io.ReadCloser, map[string]string, error) {
	out, err := s.bucketClient(ctx, bucket).GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: &key})
	if err != nil {
		var nsk *s3types.NoSuchKey
		if errors.As(err, &nsk) || apiCode(err) == "NoSuchKey" {
			return nil, nil, fmt.Errorf("%s: %w", S3URL(bucket, key), ErrNotFound)
		}
		return nil, nil, awsErr("s3:GetObject on "+S3URL(bucket, key), "s3:GetObject on arn:aws:s3:::"+bucket+"/*", err)
	}
	meta := make(map[string]string, len(out.Metadata))
	for k, v := range out.Metadata {
		meta[strings.ToLower(k)] = v
	}
	return out.Body, meta, nil
}

// CloudTrailKeys reads public keys with ListPublicKeys in each region asked.
type CloudTrailKeys struct {
	cfg     sdkaws.Config
	mu      sync.Mutex
	clients map[string]*cloudtrail.Client
}

// NewCloudTrailKeys returns a KeySource over cfg.
func NewCloudTrailKeys(cfg sdkaws.Config) *CloudTrailKeys {
	return &CloudTrailKeys{cfg: cfg, clients: map[string]*cloudtrail.Client{}}
}

func (k *CloudTrailKeys) client(region string) *cloudtrail.Client {
	k.mu.Lock()
	defer k.mu.Unlock()
	c, ok := k.clients[region]
	if !ok {
		c = cloudtrail.NewFromConfig(k.cfg, func(o *cloudtrail.Options) { o.Region = region })
		k.clients[region] = c
	}
	return c
}

// maxKeyPages bounds ListPublicKeys paging: a region has one key a few
// weeks, so a token answered over and over is an error, not a loop.
const maxKeyPages = 100

// PublicKeys pages ListPublicKeys in region.
func (k *CloudTrailKeys) PublicKeys(ctx context.Context, region string, start, end time.Time) ([]PublicKey, error) {
	c := k.client(region)
	var out []PublicKey
	var token *string
	for range maxKeyPages {
		page, err := c.ListPublicKeys(ctx, &cloudtrail.ListPublicKeysInput{StartTime: &start, EndTime: &end, NextToken: token})
		if err != nil {
			return nil, awsErr("cloudtrail:ListPublicKeys in "+region, "cloudtrail:ListPublicKeys", err)
		}
		for _, p := range page.PublicKeyList {
			out = append(out, PublicKey{Value: p.Value, Fingerprint: sdkaws.ToString(p.Fingerprint),
				Start: sdkaws.ToTime(p.ValidityStartTime), End: sdkaws.ToTime(p.ValidityEndTime)})
		}
		if page.NextToken == nil || *page.NextToken == "" {
			return out, nil
		}
		token = page.NextToken
	}
	return nil, fmt.Errorf("cloudtrail:ListPublicKeys in %s: more than %d pages; the answer does not end", region, maxKeyPages)
}

func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// awsErr words a failed call so that a person can act on it: the call, the
// AWS error, and for a denial the permission to grant.
func awsErr(op, permission string, err error) error {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		code := ae.ErrorCode()
		msg := fmt.Sprintf("%s: %s: %s", op, code, ae.ErrorMessage())
		switch {
		case code == "AccessDenied" || code == "AccessDeniedException" || code == "Forbidden" || code == "403":
			msg += " (grant " + permission + " to the caller, and allow it in the bucket policy and any SCP or RCP)"
		case code == "NoSuchBucket":
			msg += " (the trail's bucket does not exist: was it deleted or renamed?)"
		}
		return errors.New(msg)
	}
	return fmt.Errorf("%s: %w", op, err)
}

// Actions are the IAM actions validate-logs calls with: the trail's
// bucket read (s3:ListBucket for ListObjectsV2, s3:GetObject for each
// digest and log file), the region's public keys, and DescribeTrails to
// find the bucket. A multi-region trail's regions need ec2:DescribeRegions
// and an organization trail's path organizations:DescribeOrganization,
// which the scan's and the fix's lists already hold.
var Actions = []string{"cloudtrail:DescribeTrails", "cloudtrail:ListPublicKeys", "s3:ListBucket", "s3:GetObject"}
