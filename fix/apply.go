package fix

import (
	"context"
	"fmt"
	"strings"
	"time"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/trailguard/trailguard"
)

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
//
// A write depends on a read: every step of a plan was planned from the
// state read in this run (the scan for trails, Bucket and Key for the
// bucket and the key), and a plan that was stopped by a read that failed
// (Unreadable) is not run at all, even if steps were added to it by hand.
func Apply(ctx context.Context, cfg sdkaws.Config, p Plan) Outcome {
	var out Outcome
	if len(p.Unreadable) > 0 {
		out.Err = fmt.Errorf("nothing was applied: %s could not be read in this run", p.Unreadable[0].Resource)
		out.NotDone = p.Steps
		return out
	}
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
		if st.Action == "create-kms-key" && err == nil {
			created = id
			// The undo names the key that was made, not a shell variable.
			st.Undo = fmt.Sprintf("aws kms schedule-key-deletion --key-id %s --region %s  # the key did not exist before; only once no log file needs it", sh(id), sh(rcfg.Region))
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
