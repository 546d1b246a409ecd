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
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

// S3Store reads a trail's bucket with the AWS SDK. It is path-style, as
// the emulator serves one host and bucket names may hold dots.
type S3Store struct {
	client *s3.Client
}

// NewS3Store returns a Store over cfg.
func NewS3Store(cfg sdkaws.Config) *S3Store {
	return &S3Store{client: s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })}
}

// List pages ListObjectsV2.
func (s *S3Store) List(ctx context.Context, bucket, prefix, startAfter string, fn func(string) bool) error {
	in := &s3.ListObjectsV2Input{Bucket: &bucket, Prefix: &prefix}
	if startAfter != "" {
		in.StartAfter = &startAfter
	}
	p := s3.NewListObjectsV2Paginator(s.client, in)
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
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: &key})
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
