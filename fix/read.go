package fix

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

// ReadError is a read a plan depends on that gave no definite answer:
// access denied, throttled beyond the retries, a server error, a network
// failure. Only a definite "does not exist" (NoSuchBucket, NoSuchBucketPolicy,
// a KMS NotFoundException, the "no such configuration" codes of S3) counts
// as an answer; anything else stops the plan for the account, because a
// write over a state that was not read could replace what it does not know
// (a bucket policy's Deny statements, an SSE-KMS default, a key policy).
type ReadError struct {
	// Action is the IAM action that would let the read succeed, e.g.
	// s3:GetBucketPolicy.
	Action string
	// Resource names what was read: a bucket, a KMS key, a trail ARN.
	Resource string
	Err      error
}

func (e *ReadError) Error() string {
	return fmt.Sprintf("could not read %s (%s): %v", e.Resource, e.Action, e.Err)
}

func (e *ReadError) Unwrap() error { return e.Err }

// Unread is one read that stopped a plan, as the report shows it.
type Unread struct {
	Resource   string `json:"resource"`
	Permission string `json:"permission"`
	Error      string `json:"error"`
}

// PublicAccessBlock is a bucket's public access block as read.
type PublicAccessBlock struct {
	BlockPublicAcls, IgnorePublicAcls, BlockPublicPolicy, RestrictPublicBuckets bool
}

// all reports whether every setting is on.
func (p *PublicAccessBlock) all() bool {
	return p != nil && p.BlockPublicAcls && p.IgnorePublicAcls && p.BlockPublicPolicy && p.RestrictPublicBuckets
}

// s3Code is the error code of an S3 answer: the modeled code, or for a
// HEAD answer (no body) "NotFound" on 404.
func s3Code(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// Bucket reads, in this run, what a plan needs to know of the bucket a new
// trail would use: whether it exists (HeadBucket: 404 is a definite "no";
// 403 may be another account's bucket or a missing s3:ListBucket, and stops
// the plan), and for an existing bucket its policy, public access block,
// default encryption and, when a lifecycle rule is asked for, whether it
// has a lifecycle configuration. Each read that does not answer definitely
// is a *ReadError naming the permission it needs.
func Bucket(ctx context.Context, cfg sdkaws.Config, name string, o Options) (BucketFacts, error) {
	client := s3.NewFromConfig(cfg, func(so *s3.Options) { so.UsePathStyle = true })
	b := sdkaws.String(name)
	if _, err := client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: b}); err != nil {
		var re *awshttp.ResponseError
		var nf *s3types.NotFound
		if errors.As(err, &nf) || (errors.As(err, &re) && re.HTTPStatusCode() == http.StatusNotFound) {
			return BucketFacts{Read: true}, nil
		}
		return BucketFacts{}, &ReadError{Action: "s3:ListBucket", Resource: "bucket " + name, Err: err}
	}
	f := BucketFacts{Read: true, Exists: true}
	pol, err := client.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: b})
	switch {
	case err == nil:
		f.Policy = sdkaws.ToString(pol.Policy)
	case s3Code(err) != "NoSuchBucketPolicy":
		return BucketFacts{}, &ReadError{Action: "s3:GetBucketPolicy", Resource: "bucket " + name, Err: err}
	}
	pab, err := client.GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: b})
	switch {
	case err == nil && pab.PublicAccessBlockConfiguration != nil:
		c := pab.PublicAccessBlockConfiguration
		f.PublicAccessBlock = &PublicAccessBlock{BlockPublicAcls: sdkaws.ToBool(c.BlockPublicAcls), IgnorePublicAcls: sdkaws.ToBool(c.IgnorePublicAcls),
			BlockPublicPolicy: sdkaws.ToBool(c.BlockPublicPolicy), RestrictPublicBuckets: sdkaws.ToBool(c.RestrictPublicBuckets)}
	case err == nil:
		f.PublicAccessBlock = &PublicAccessBlock{}
	case s3Code(err) != "NoSuchPublicAccessBlockConfiguration":
		return BucketFacts{}, &ReadError{Action: "s3:GetBucketPublicAccessBlock", Resource: "bucket " + name, Err: err}
	}
	enc, err := client.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: b})
	switch {
	case err == nil:
		f.Encryption = "unspecified"
		if c := enc.ServerSideEncryptionConfiguration; c != nil {
			for _, r := range c.Rules {
				if d := r.ApplyServerSideEncryptionByDefault; d != nil && d.SSEAlgorithm != "" {
					f.Encryption = string(d.SSEAlgorithm)
					break
				}
			}
		}
	case s3Code(err) != "ServerSideEncryptionConfigurationNotFoundError":
		return BucketFacts{}, &ReadError{Action: "s3:GetEncryptionConfiguration", Resource: "bucket " + name, Err: err}
	}
	if o.TransitionDays > 0 || o.ExpireDays > 0 {
		_, err := client.GetBucketLifecycleConfiguration(ctx, &s3.GetBucketLifecycleConfigurationInput{Bucket: b})
		switch {
		case err == nil:
			f.Lifecycle = true
		case s3Code(err) != "NoSuchLifecycleConfiguration":
			return BucketFacts{}, &ReadError{Action: "s3:GetLifecycleConfiguration", Resource: "bucket " + name, Err: err}
		}
	}
	return f, nil
}

// Key reads, in this run, what a plan needs to know of a KMS key: whether
// it exists in cfg's region (DescribeKey: NotFoundException is a definite
// "no"), its ARN and its policy. A read that does not answer definitely is
// a *ReadError naming the permission it needs.
func Key(ctx context.Context, cfg sdkaws.Config, id string) (KeyFacts, error) {
	km := kms.NewFromConfig(cfg)
	d, err := km.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: &id})
	if err != nil {
		var ae smithy.APIError
		if errors.As(err, &ae) && ae.ErrorCode() == "NotFoundException" {
			return KeyFacts{Read: true}, nil
		}
		return KeyFacts{}, &ReadError{Action: "kms:DescribeKey", Resource: "KMS key " + id, Err: err}
	}
	f := KeyFacts{Read: true, Exists: true}
	if d.KeyMetadata != nil {
		f.ARN = sdkaws.ToString(d.KeyMetadata.Arn)
	}
	p, err := km.GetKeyPolicy(ctx, &kms.GetKeyPolicyInput{KeyId: &id, PolicyName: sdkaws.String("default")})
	if err != nil {
		return KeyFacts{}, &ReadError{Action: "kms:GetKeyPolicy", Resource: "KMS key " + id, Err: err}
	}
	f.Policy = sdkaws.ToString(p.Policy)
	return f, nil
}

// Stopped is the plan of an account whose state could not be read: no
// step, the reads that failed, and a note that says which permission would
// let them succeed. A dry run shows the same.
func Stopped(account string, errs ...error) Plan {
	p := Plan{Account: account, Steps: []Step{}}
	for _, err := range errs {
		var re *ReadError
		if errors.As(err, &re) {
			p.Unreadable = append(p.Unreadable, Unread{Resource: re.Resource, Permission: re.Action, Error: re.Err.Error()})
			p.Notes = append(p.Notes, fmt.Sprintf("%s: nothing is planned, because a change to what was not read could replace it; grant %s (see 'trailguard iam-policy --fix')", re.Error(), re.Action))
			continue
		}
		p.Unreadable = append(p.Unreadable, Unread{Error: err.Error()})
		p.Notes = append(p.Notes, err.Error()+": nothing is planned")
	}
	return p
}
