package fix

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/trailguard/trailguard"
)

// Bucket reads what the plan needs to know of the bucket a new trail
// would use: whether it exists (and is the caller's) and its policy.
func Bucket(ctx context.Context, cfg sdkaws.Config, name string) (BucketFacts, error) {
	client := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	if _, err := client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: sdkaws.String(name)}); err != nil {
		var re *awshttp.ResponseError
		if errors.As(err, &re) && re.HTTPStatusCode() == http.StatusNotFound {
			return BucketFacts{}, nil
		}
		return BucketFacts{}, fmt.Errorf("s3:HeadBucket %s: %w", name, err)
	}
	f := BucketFacts{Exists: true}
	out, err := client.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: sdkaws.String(name)})
	if err != nil {
		if !strings.Contains(err.Error(), "NoSuchBucketPolicy") {
			return f, fmt.Errorf("s3:GetBucketPolicy %s: %w", name, err)
		}
		return f, nil
	}
	f.Policy = sdkaws.ToString(out.Policy)
	return f, nil
}

// PolicyRetryDelay is the first wait before CloudTrail is asked again
// after refusing a bucket policy that was just written; each retry waits
// one more of it (four retries).
var PolicyRetryDelay = time.Second

// Outcome is what applying a plan did.
type Outcome struct {
	Done    []Step
	Failed  *Step
	Err     error
	NotDone []Step
}

// Apply runs the steps in order and stops at the first that fails. Nothing
// is ever deleted. CloudTrail may refuse a bucket for a few seconds after
// its policy changed (InsufficientS3BucketPolicyException): that is retried
// with backoff.
func Apply(ctx context.Context, cfg sdkaws.Config, p Plan) Outcome {
	var out Outcome
	created := "" // the key create-kms-key made, for the steps after it
	for i, st := range p.Steps {
		rcfg := cfg.Copy()
		if st.Region != "" {
			rcfg.Region = st.Region
		}
		if st.Action == "alias-kms-key" && created != "" {
			st.Document = created // the key the alias names
		}
		id, err := run(ctx, rcfg, st)
		if st.Action == "create-kms-key" {
			created = id
		}
		for attempt := 1; err != nil && attempt <= 4 && strings.Contains(err.Error(), "InsufficientS3BucketPolicyException"); attempt++ {
			select {
			case <-ctx.Done():
			case <-time.After(time.Duration(attempt) * PolicyRetryDelay):
			}
			_, err = run(ctx, rcfg, st)
		}
		if err != nil {
			st := st
			out.Failed, out.Err = &st, err
			out.NotDone = p.Steps[i+1:]
			return out
		}
		out.Done = append(out.Done, st)
	}
	return out
}

// run makes one step's call; for create-kms-key it returns the new key's
// id.
func run(ctx context.Context, cfg sdkaws.Config, st Step) (string, error) {
	ct := cloudtrail.NewFromConfig(cfg)
	km := kms.NewFromConfig(cfg)
	created := ""
	s3c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	var err error
	switch st.Action {
	case "start-logging":
		_, err = ct.StartLogging(ctx, &cloudtrail.StartLoggingInput{Name: &st.Trail})
	case "make-multi-region":
		_, err = ct.UpdateTrail(ctx, &cloudtrail.UpdateTrailInput{Name: &st.Trail, IsMultiRegionTrail: sdkaws.Bool(true), IncludeGlobalServiceEvents: sdkaws.Bool(true)})
	case "record-all-management-events":
		in := &cloudtrail.PutEventSelectorsInput{TrailName: &st.Trail}
		in.EventSelectors, in.AdvancedEventSelectors = sdkSelectors(*st.Selectors)
		_, err = ct.PutEventSelectors(ctx, in)
	case "create-bucket":
		in := &s3.CreateBucketInput{Bucket: &st.Bucket}
		if cfg.Region != "us-east-1" {
			in.CreateBucketConfiguration = &s3types.CreateBucketConfiguration{LocationConstraint: s3types.BucketLocationConstraint(cfg.Region)}
		}
		_, err = s3c.CreateBucket(ctx, in)
	case "block-public-access":
		_, err = s3c.PutPublicAccessBlock(ctx, &s3.PutPublicAccessBlockInput{Bucket: &st.Bucket, PublicAccessBlockConfiguration: &s3types.PublicAccessBlockConfiguration{
			BlockPublicAcls: sdkaws.Bool(true), IgnorePublicAcls: sdkaws.Bool(true), BlockPublicPolicy: sdkaws.Bool(true), RestrictPublicBuckets: sdkaws.Bool(true)}})
	case "encrypt-bucket":
		_, err = s3c.PutBucketEncryption(ctx, &s3.PutBucketEncryptionInput{Bucket: &st.Bucket, ServerSideEncryptionConfiguration: &s3types.ServerSideEncryptionConfiguration{
			Rules: []s3types.ServerSideEncryptionRule{{ApplyServerSideEncryptionByDefault: &s3types.ServerSideEncryptionByDefault{SSEAlgorithm: s3types.ServerSideEncryptionAes256}}}}})
	case "set-lifecycle":
		rule := s3types.LifecycleRule{ID: sdkaws.String("trailguard-log-retention"), Status: s3types.ExpirationStatusEnabled,
			Filter: &s3types.LifecycleRuleFilter{Prefix: sdkaws.String("AWSLogs/")}}
		if st.TransitionDays > 0 {
			rule.Transitions = []s3types.Transition{{Days: sdkaws.Int32(int32(st.TransitionDays)), StorageClass: s3types.TransitionStorageClassGlacier}}
		}
		if st.ExpireDays > 0 {
			rule.Expiration = &s3types.LifecycleExpiration{Days: sdkaws.Int32(int32(st.ExpireDays))}
		}
		_, err = s3c.PutBucketLifecycleConfiguration(ctx, &s3.PutBucketLifecycleConfigurationInput{Bucket: &st.Bucket,
			LifecycleConfiguration: &s3types.BucketLifecycleConfiguration{Rules: []s3types.LifecycleRule{rule}}})
	case "allow-cloudtrail-delivery":
		_, err = s3c.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: &st.Bucket, Policy: &st.Document})
	case "create-trail":
		in := &cloudtrail.CreateTrailInput{Name: &st.Trail, S3BucketName: &st.Bucket, IsMultiRegionTrail: sdkaws.Bool(true),
			IncludeGlobalServiceEvents: sdkaws.Bool(true), EnableLogFileValidation: sdkaws.Bool(true)}
		if st.Key != "" {
			in.KmsKeyId = &st.Key
		}
		if st.Org {
			in.IsOrganizationTrail = sdkaws.Bool(true)
		}
		_, err = ct.CreateTrail(ctx, in)
	case "create-kms-key":
		var out *kms.CreateKeyOutput
		out, err = km.CreateKey(ctx, &kms.CreateKeyInput{Policy: &st.Document, Description: sdkaws.String("trailguard: CloudTrail log files")})
		if err == nil {
			created = sdkaws.ToString(out.KeyMetadata.KeyId)
		}
	case "alias-kms-key":
		_, err = km.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: &st.Key, TargetKeyId: &st.Document})
	case "enable-key-rotation":
		_, err = km.EnableKeyRotation(ctx, &kms.EnableKeyRotationInput{KeyId: &st.Key})
	case "allow-cloudtrail-encryption":
		_, err = km.PutKeyPolicy(ctx, &kms.PutKeyPolicyInput{KeyId: &st.Key, PolicyName: sdkaws.String("default"), Policy: &st.Document})
	default:
		err = fmt.Errorf("unknown step %q", st.Action)
	}
	if err != nil {
		return "", fmt.Errorf("%s: %w", st.API, err)
	}
	return created, nil
}

// Key reads what the plan needs to know of a KMS key: whether it exists
// in cfg's region, its ARN and its policy.
func Key(ctx context.Context, cfg sdkaws.Config, id string) (KeyFacts, error) {
	km := kms.NewFromConfig(cfg)
	d, err := km.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: &id})
	if err != nil {
		var nf *kmstypes.NotFoundException
		if errors.As(err, &nf) {
			return KeyFacts{}, nil
		}
		return KeyFacts{}, fmt.Errorf("kms:DescribeKey %s: %w", id, err)
	}
	f := KeyFacts{Exists: true, ARN: sdkaws.ToString(d.KeyMetadata.Arn)}
	p, err := km.GetKeyPolicy(ctx, &kms.GetKeyPolicyInput{KeyId: &id, PolicyName: sdkaws.String("default")})
	if err != nil {
		return f, fmt.Errorf("kms:GetKeyPolicy %s: %w", id, err)
	}
	f.Policy = sdkaws.ToString(p.Policy)
	return f, nil
}

func sdkSelectors(s trailguard.EventSelectors) ([]cttypes.EventSelector, []cttypes.AdvancedEventSelector) {
	var basic []cttypes.EventSelector
	for _, e := range s.Basic {
		es := cttypes.EventSelector{ReadWriteType: cttypes.ReadWriteType(e.ReadWriteType), IncludeManagementEvents: sdkaws.Bool(e.IncludeManagementEvents),
			ExcludeManagementEventSources: e.ExcludeManagementEventSources}
		for _, d := range e.DataResources {
			es.DataResources = append(es.DataResources, cttypes.DataResource{Type: sdkaws.String(d.Type), Values: d.Values})
		}
		basic = append(basic, es)
	}
	var adv []cttypes.AdvancedEventSelector
	for _, a := range s.Advanced {
		as := cttypes.AdvancedEventSelector{}
		if a.Name != "" {
			as.Name = sdkaws.String(a.Name)
		}
		for _, f := range a.FieldSelectors {
			as.FieldSelectors = append(as.FieldSelectors, cttypes.AdvancedFieldSelector{Field: sdkaws.String(f.Field), Equals: f.Equals, NotEquals: f.NotEquals,
				StartsWith: f.StartsWith, NotStartsWith: f.NotStartsWith, EndsWith: f.EndsWith, NotEndsWith: f.NotEndsWith})
		}
		adv = append(adv, as)
	}
	return basic, adv
}
