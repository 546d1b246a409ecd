package aws

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/trailguard/trailguard"
	"github.com/trailguard/trailguard/fix"
)

// Fixer makes the AWS calls of a fix in one account through the SDK: it
// is fix.Operations over the configuration that reaches the account
// (its region is where buckets and keys are read).
type Fixer struct {
	cfg sdkaws.Config
}

var _ fix.Operations = (*Fixer)(nil)

// NewFixer returns the fix operations of the account cfg reaches.
func NewFixer(cfg sdkaws.Config) *Fixer { return &Fixer{cfg: cfg} }

// s3Client is path-style, as the bucket names a fix uses may hold dots
// and the emulator serves one host.
func s3Client(cfg sdkaws.Config) *s3.Client {
	return s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
}

// apiCode is the error code of an AWS answer, "" when there was none.
func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// ReadBucket reads the bucket a new trail would use: whether it exists
// (HeadBucket: 404 is a definite "no"; 403 may be another account's
// bucket or a missing s3:ListBucket, and stops the plan), and for an
// existing bucket its policy, public access block, default encryption and,
// when lifecycle is asked for, whether it has a lifecycle configuration.
// Only the "no such configuration" codes of S3 count as answers; any other
// failure is a *fix.ReadError naming the permission it needs.
func (f *Fixer) ReadBucket(ctx context.Context, name string, lifecycle bool) (fix.BucketFacts, error) {
	client := s3Client(f.cfg)
	b := sdkaws.String(name)
	if _, err := client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: b}); err != nil {
		var re *awshttp.ResponseError
		var nf *s3types.NotFound
		if errors.As(err, &nf) || (errors.As(err, &re) && re.HTTPStatusCode() == http.StatusNotFound) {
			return fix.BucketFacts{Read: true}, nil
		}
		return fix.BucketFacts{}, &fix.ReadError{Action: "s3:ListBucket", Resource: "bucket " + name, Err: err}
	}
	facts := fix.BucketFacts{Read: true, Exists: true}
	pol, err := client.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: b})
	switch {
	case err == nil:
		facts.Policy = sdkaws.ToString(pol.Policy)
	case apiCode(err) != "NoSuchBucketPolicy":
		return fix.BucketFacts{}, &fix.ReadError{Action: "s3:GetBucketPolicy", Resource: "bucket " + name, Err: err}
	}
	pab, err := client.GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: b})
	switch {
	case err == nil && pab.PublicAccessBlockConfiguration != nil:
		c := pab.PublicAccessBlockConfiguration
		facts.PublicAccessBlock = &fix.PublicAccessBlock{BlockPublicAcls: sdkaws.ToBool(c.BlockPublicAcls), IgnorePublicAcls: sdkaws.ToBool(c.IgnorePublicAcls),
			BlockPublicPolicy: sdkaws.ToBool(c.BlockPublicPolicy), RestrictPublicBuckets: sdkaws.ToBool(c.RestrictPublicBuckets)}
	case err == nil:
		facts.PublicAccessBlock = &fix.PublicAccessBlock{}
	case apiCode(err) != "NoSuchPublicAccessBlockConfiguration":
		return fix.BucketFacts{}, &fix.ReadError{Action: "s3:GetBucketPublicAccessBlock", Resource: "bucket " + name, Err: err}
	}
	enc, err := client.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: b})
	switch {
	case err == nil:
		facts.Encryption = "unspecified"
		if c := enc.ServerSideEncryptionConfiguration; c != nil {
			for _, r := range c.Rules {
				if d := r.ApplyServerSideEncryptionByDefault; d != nil && d.SSEAlgorithm != "" {
					facts.Encryption = string(d.SSEAlgorithm)
					break
				}
			}
		}
	case apiCode(err) != "ServerSideEncryptionConfigurationNotFoundError":
		return fix.BucketFacts{}, &fix.ReadError{Action: "s3:GetEncryptionConfiguration", Resource: "bucket " + name, Err: err}
	}
	if lifecycle {
		_, err := client.GetBucketLifecycleConfiguration(ctx, &s3.GetBucketLifecycleConfigurationInput{Bucket: b})
		switch {
		case err == nil:
			facts.Lifecycle = true
		case apiCode(err) != "NoSuchLifecycleConfiguration":
			return fix.BucketFacts{}, &fix.ReadError{Action: "s3:GetLifecycleConfiguration", Resource: "bucket " + name, Err: err}
		}
	}
	return facts, nil
}

// ReadKey reads a KMS key in the configuration's region: whether it
// exists (DescribeKey: NotFoundException is a definite "no"), its ARN and
// its policy. Any other failure is a *fix.ReadError naming the permission
// it needs.
func (f *Fixer) ReadKey(ctx context.Context, id string) (fix.KeyFacts, error) {
	km := kms.NewFromConfig(f.cfg)
	d, err := km.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: &id})
	if err != nil {
		if apiCode(err) == "NotFoundException" {
			return fix.KeyFacts{Read: true}, nil
		}
		return fix.KeyFacts{}, &fix.ReadError{Action: "kms:DescribeKey", Resource: "KMS key " + id, Err: err}
	}
	facts := fix.KeyFacts{Read: true, Exists: true}
	if d.KeyMetadata != nil {
		facts.ARN = sdkaws.ToString(d.KeyMetadata.Arn)
	}
	p, err := km.GetKeyPolicy(ctx, &kms.GetKeyPolicyInput{KeyId: &id, PolicyName: sdkaws.String("default")})
	if err != nil {
		return fix.KeyFacts{}, &fix.ReadError{Action: "kms:GetKeyPolicy", Resource: "KMS key " + id, Err: err}
	}
	facts.Policy = sdkaws.ToString(p.Policy)
	return facts, nil
}

// ReadTrustedAccess reads whether CloudTrail has trusted access to the
// caller's organization (ListAWSServiceAccessForOrganization, every
// page). Any failure is a *fix.ReadError naming the permission it needs.
func (f *Fixer) ReadTrustedAccess(ctx context.Context) (bool, error) {
	p := organizations.NewListAWSServiceAccessForOrganizationPaginator(organizations.NewFromConfig(f.cfg), &organizations.ListAWSServiceAccessForOrganizationInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return false, &fix.ReadError{Action: "organizations:ListAWSServiceAccessForOrganization", Resource: "CloudTrail's trusted access to the organization", Err: err}
		}
		for _, s := range page.EnabledServicePrincipals {
			if sdkaws.ToString(s.ServicePrincipal) == fix.CloudTrailPrincipal {
				return true, nil
			}
		}
	}
	return false, nil
}

// The IAM actions the Fixer calls beyond a scan, beside the calls so that
// `iam-policy --fix` prints exactly them. None deletes anything.
var (
	// FixTrailActions change a trail: start it, widen its selectors,
	// make it multi-region, or create it.
	FixTrailActions = []string{
		"cloudtrail:CreateTrail",
		"cloudtrail:PutEventSelectors",
		"cloudtrail:StartLogging",
		"cloudtrail:UpdateTrail",
	}
	// FixBucketActions read, and create or complete, the trail's bucket.
	FixBucketActions = []string{
		"s3:CreateBucket",
		"s3:GetBucketPolicy",
		"s3:GetBucketPublicAccessBlock",
		"s3:GetEncryptionConfiguration",
		"s3:GetLifecycleConfiguration",
		"s3:ListBucket",
		"s3:PutBucketPolicy",
		"s3:PutBucketPublicAccessBlock",
		"s3:PutEncryptionConfiguration",
		"s3:PutLifecycleConfiguration",
	}
	// FixOrganizationTrailActions are what --organization-trail needs in
	// the management account beyond DescribeOrganization: reading and
	// enabling CloudTrail's trusted access to the organization, and the
	// service-linked role CloudTrail creates with an organization trail
	// (CloudTrail User Guide, "Prepare for creating a trail for your
	// organization").
	FixOrganizationTrailActions = []string{
		"iam:CreateServiceLinkedRole",
		"iam:GetRole",
		"organizations:EnableAWSServiceAccess",
		"organizations:ListAWSServiceAccessForOrganization",
	}
	// FixKeyActions are what --kms-key and --create-kms-key call.
	FixKeyActions = []string{
		"kms:CreateAlias",
		"kms:CreateKey",
		"kms:DescribeKey",
		"kms:EnableKeyRotation",
		"kms:GetKeyPolicy",
		"kms:PutKeyPolicy",
	}
)

// Rescan scans the account again, as `scan` does.
func (f *Fixer) Rescan(ctx context.Context) trailguard.Account {
	return NewScanner().ScanAccount(ctx, f.cfg)
}

// errUnknownStep is the answer to a step kind Write does not know.
var errUnknownStep = errors.New("unknown step")

// Write makes one step's call in the step's region; for
// fix.ActionCreateKMSKey it returns the new key's id.
func (f *Fixer) Write(ctx context.Context, st fix.Step) (string, error) {
	cfg := f.cfg.Copy()
	if st.Region != "" {
		cfg.Region = st.Region
	}
	ct := cloudtrail.NewFromConfig(cfg)
	km := kms.NewFromConfig(cfg)
	s3c := s3Client(cfg)
	var err error
	switch st.Action {
	case fix.ActionEnableTrustedAccess:
		_, err = organizations.NewFromConfig(cfg).EnableAWSServiceAccess(ctx, &organizations.EnableAWSServiceAccessInput{ServicePrincipal: sdkaws.String(fix.CloudTrailPrincipal)})
	case fix.ActionStartLogging:
		_, err = ct.StartLogging(ctx, &cloudtrail.StartLoggingInput{Name: &st.Trail})
	case fix.ActionMakeMultiRegion:
		_, err = ct.UpdateTrail(ctx, &cloudtrail.UpdateTrailInput{Name: &st.Trail, IsMultiRegionTrail: sdkaws.Bool(true), IncludeGlobalServiceEvents: sdkaws.Bool(true)})
	case fix.ActionEnableLogFileValidation:
		_, err = ct.UpdateTrail(ctx, &cloudtrail.UpdateTrailInput{Name: &st.Trail, EnableLogFileValidation: sdkaws.Bool(true)})
	case fix.ActionRecordAllManagementEvents:
		if st.Selectors == nil {
			return "", fmt.Errorf("step %s names no selectors", st.Action)
		}
		in := &cloudtrail.PutEventSelectorsInput{TrailName: &st.Trail}
		in.EventSelectors, in.AdvancedEventSelectors = selectorsToSDK(*st.Selectors)
		_, err = ct.PutEventSelectors(ctx, in)
	case fix.ActionCreateBucket:
		in := &s3.CreateBucketInput{Bucket: &st.Bucket}
		if cfg.Region != "us-east-1" {
			in.CreateBucketConfiguration = &s3types.CreateBucketConfiguration{LocationConstraint: s3types.BucketLocationConstraint(cfg.Region)}
		}
		_, err = s3c.CreateBucket(ctx, in)
	case fix.ActionBlockPublicAccess:
		_, err = s3c.PutPublicAccessBlock(ctx, &s3.PutPublicAccessBlockInput{Bucket: &st.Bucket, PublicAccessBlockConfiguration: &s3types.PublicAccessBlockConfiguration{
			BlockPublicAcls: sdkaws.Bool(true), IgnorePublicAcls: sdkaws.Bool(true), BlockPublicPolicy: sdkaws.Bool(true), RestrictPublicBuckets: sdkaws.Bool(true)}})
	case fix.ActionEncryptBucket:
		_, err = s3c.PutBucketEncryption(ctx, &s3.PutBucketEncryptionInput{Bucket: &st.Bucket, ServerSideEncryptionConfiguration: &s3types.ServerSideEncryptionConfiguration{
			Rules: []s3types.ServerSideEncryptionRule{{ApplyServerSideEncryptionByDefault: &s3types.ServerSideEncryptionByDefault{SSEAlgorithm: s3types.ServerSideEncryptionAes256}}}}})
	case fix.ActionSetLifecycle:
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
	case fix.ActionAllowCloudTrailDelivery:
		_, err = s3c.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: &st.Bucket, Policy: &st.Document})
	case fix.ActionCreateTrail:
		in := &cloudtrail.CreateTrailInput{Name: &st.Trail, S3BucketName: &st.Bucket, IsMultiRegionTrail: sdkaws.Bool(true),
			IncludeGlobalServiceEvents: sdkaws.Bool(true), EnableLogFileValidation: sdkaws.Bool(true)}
		if st.Key != "" {
			in.KmsKeyId = &st.Key
		}
		if st.Org {
			in.IsOrganizationTrail = sdkaws.Bool(true)
		}
		_, err = ct.CreateTrail(ctx, in)
	case fix.ActionCreateKMSKey:
		out, err := km.CreateKey(ctx, &kms.CreateKeyInput{Policy: &st.Document, Description: sdkaws.String("trailguard: CloudTrail log files")})
		if err != nil {
			return "", err
		}
		if out.KeyMetadata == nil || sdkaws.ToString(out.KeyMetadata.KeyId) == "" {
			// The steps after it would name no key.
			return "", errors.New("CreateKey answered without the new key's id")
		}
		return sdkaws.ToString(out.KeyMetadata.KeyId), nil
	case fix.ActionAliasKMSKey:
		_, err = km.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: &st.Key, TargetKeyId: &st.Document})
	case fix.ActionEnableKeyRotation:
		_, err = km.EnableKeyRotation(ctx, &kms.EnableKeyRotationInput{KeyId: &st.Key})
	case fix.ActionAllowCloudTrailEncryption:
		_, err = km.PutKeyPolicy(ctx, &kms.PutKeyPolicyInput{KeyId: &st.Key, PolicyName: sdkaws.String("default"), Policy: &st.Document})
	default:
		err = fmt.Errorf("%w %q", errUnknownStep, st.Action)
	}
	return "", err
}
