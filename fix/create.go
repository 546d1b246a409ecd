package fix

import (
	"encoding/json"
	"fmt"
	"strings"
)

// create plans a new multi-region trail and its bucket. The bucket (and
// key) must have been read in this run: a bucket that does not exist is
// created with public access blocked, encryption and the lifecycle rule
// asked for; an existing one keeps what it has, and only what it lacks is
// added (a partial public access block is completed, encryption set only
// where none is, a lifecycle rule only where there is no configuration),
// each undo putting back what was read.
func create(account string, facts BucketFacts, key KeyFacts, o Options) ([]Step, []string, error) {
	bucket := o.Bucket
	if bucket == "" {
		bucket = BucketName(account)
	}
	if !facts.Read {
		return nil, nil, fmt.Errorf("bucket %s was not read in this run, so nothing may be written to it", bucket)
	}
	if (o.KMSKey != "" || o.CreateKMSKey) && !key.Read {
		return nil, nil, fmt.Errorf("the KMS key was not read in this run, so nothing may be written to it")
	}
	region := o.Region
	trailARN := fmt.Sprintf("arn:aws:cloudtrail:%s:%s:trail/%s", region, account, o.TrailName)
	b, r := sh(bucket), sh(region)
	var steps []Step
	var notes []string
	pabCLI := fmt.Sprintf("aws s3api put-public-access-block --bucket %s --public-access-block-configuration 'BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true' --region %s", b, r)
	encCLI := fmt.Sprintf(`aws s3api put-bucket-encryption --bucket %s --server-side-encryption-configuration '{"Rules":[{"ApplyServerSideEncryptionByDefault":{"SSEAlgorithm":"AES256"}}]}' --region %s`, b, r)
	lifeCLI := fmt.Sprintf("aws s3api put-bucket-lifecycle-configuration --bucket %s --lifecycle-configuration %s --region %s", b, sh(lifecycleJSON(o.TransitionDays, o.ExpireDays)), r)
	lifecycle := o.TransitionDays > 0 || o.ExpireDays > 0
	if !facts.Exists {
		loc := ""
		if region != "us-east-1" {
			loc = " --create-bucket-configuration " + sh("LocationConstraint="+region)
		}
		steps = append(steps, Step{
			Action: ActionCreateBucket, Region: region, Bucket: bucket,
			Why: "the new trail needs an S3 bucket for its log files",
			API: "s3:CreateBucket", CLI: fmt.Sprintf("aws s3api create-bucket --bucket %s --region %s%s", b, r, loc),
			Undo: fmt.Sprintf("aws s3 rb %s --region %s  # the bucket did not exist before; only once nothing in it is needed", sh("s3://"+bucket), r),
		})
		steps = append(steps,
			Step{Action: ActionBlockPublicAccess, Region: region, Bucket: bucket,
				Why: "audit logs must never be public: all four public access block settings on",
				API: "s3:PutPublicAccessBlock", CLI: pabCLI},
			Step{Action: ActionEncryptBucket, Region: region, Bucket: bucket,
				Why: "log files are encrypted at rest by default",
				API: "s3:PutBucketEncryption", CLI: encCLI},
		)
		if lifecycle {
			steps = append(steps, Step{Action: ActionSetLifecycle, Region: region, Bucket: bucket,
				TransitionDays: o.TransitionDays, ExpireDays: o.ExpireDays,
				Why: "log files are kept as the owner chose: " + lifecycleWords(o.TransitionDays, o.ExpireDays),
				API: "s3:PutBucketLifecycleConfiguration", CLI: lifeCLI})
		}
	} else {
		if !facts.PublicAccessBlock.all() {
			undo := fmt.Sprintf("aws s3api delete-public-access-block --bucket %s --region %s  # the bucket had no public access block", b, r)
			if p := facts.PublicAccessBlock; p != nil {
				undo = fmt.Sprintf("aws s3api put-public-access-block --bucket %s --public-access-block-configuration 'BlockPublicAcls=%t,IgnorePublicAcls=%t,BlockPublicPolicy=%t,RestrictPublicBuckets=%t' --region %s",
					b, p.BlockPublicAcls, p.IgnorePublicAcls, p.BlockPublicPolicy, p.RestrictPublicBuckets, r)
			}
			steps = append(steps, Step{Action: ActionBlockPublicAccess, Region: region, Bucket: bucket,
				Why: "audit logs must never be public: the settings the bucket has are kept and the missing ones turned on",
				API: "s3:PutPublicAccessBlock", CLI: pabCLI, Undo: undo})
		}
		if facts.Encryption == "" {
			steps = append(steps, Step{Action: ActionEncryptBucket, Region: region, Bucket: bucket,
				Why: "the bucket has no default encryption: log files are encrypted at rest by default",
				API: "s3:PutBucketEncryption", CLI: encCLI,
				Undo: fmt.Sprintf("aws s3api delete-bucket-encryption --bucket %s --region %s  # the bucket had no default encryption", b, r)})
		}
		if lifecycle && facts.Lifecycle {
			notes = append(notes, fmt.Sprintf("bucket %s already has a lifecycle configuration; it is kept as it is, without the rule asked for", bucket))
		} else if lifecycle {
			steps = append(steps, Step{Action: ActionSetLifecycle, Region: region, Bucket: bucket,
				TransitionDays: o.TransitionDays, ExpireDays: o.ExpireDays,
				Why: "log files are kept as the owner chose: " + lifecycleWords(o.TransitionDays, o.ExpireDays),
				API: "s3:PutBucketLifecycleConfiguration", CLI: lifeCLI,
				Undo: fmt.Sprintf("aws s3api delete-bucket-lifecycle --bucket %s --region %s  # the bucket had no lifecycle configuration", b, r)})
		}
	}
	orgID := ""
	if o.OrganizationTrail {
		orgID = o.OrgID
	}
	policy, changed, err := mergePolicy(facts.Policy, bucket, account, trailARN, orgID)
	if err != nil {
		return nil, nil, err
	}
	if changed {
		steps = append(steps, Step{
			Action: ActionAllowCloudTrailDelivery, Region: region, Bucket: bucket, Document: policy,
			Why:  "CloudTrail may write only where the bucket policy lets it (the ACL check and the write, limited to this trail by aws:SourceArn); existing statements are kept",
			API:  "s3:PutBucketPolicy",
			CLI:  fmt.Sprintf("aws s3api put-bucket-policy --bucket %s --policy %s --region %s", b, sh(policy), r),
			Undo: undoPolicy(facts.Policy, bucket, region),
		})
	}
	keyID, keySteps, err := keyPlan(account, region, trailARN, key, o)
	if err != nil {
		return nil, nil, err
	}
	steps = append(steps, keySteps...)
	kmsFlag := ""
	if keyID != "" {
		kmsFlag = " --kms-key-id " + sh(keyID)
	}
	why := "no trail of the account can be made to record every region: a multi-region trail with log file validation and global service events"
	if o.OrganizationTrail {
		kmsFlag += " --is-organization-trail"
		why = "one organization trail records every region of every account of the organization, members included"
	}
	steps = append(steps,
		Step{Action: ActionCreateTrail, Region: region, Bucket: bucket, Trail: o.TrailName, Key: keyID, Org: o.OrganizationTrail,
			Why: why,
			API: "cloudtrail:CreateTrail", CLI: fmt.Sprintf("aws cloudtrail create-trail --name %s --s3-bucket-name %s --is-multi-region-trail --include-global-service-events --enable-log-file-validation%s --region %s", sh(o.TrailName), b, kmsFlag, r),
			Undo: fmt.Sprintf("aws cloudtrail delete-trail --name %s --region %s  # the trail did not exist before; this tool never deletes", sh(trailARN), r)},
		Step{Action: ActionStartLogging, Region: region, Trail: trailARN,
			Why: "a new trail records nothing until it is started",
			API: "cloudtrail:StartLogging", CLI: fmt.Sprintf("aws cloudtrail start-logging --name %s --region %s", sh(trailARN), r),
			Undo: fmt.Sprintf("aws cloudtrail stop-logging --name %s --region %s", sh(trailARN), r)},
	)
	return steps, notes, nil
}

func lifecycleWords(transition, expire int) string {
	var parts []string
	if transition > 0 {
		parts = append(parts, fmt.Sprintf("to S3 Glacier after %d days", transition))
	}
	if expire > 0 {
		parts = append(parts, fmt.Sprintf("deleted after %d days", expire))
	}
	return strings.Join(parts, ", ")
}

// lifecycleJSON is the rule in the AWS CLI's shape.
func lifecycleJSON(transition, expire int) string {
	rule := map[string]any{"ID": "trailguard-log-retention", "Status": "Enabled", "Filter": map[string]any{"Prefix": "AWSLogs/"}}
	if transition > 0 {
		rule["Transitions"] = []any{map[string]any{"Days": transition, "StorageClass": "GLACIER"}}
	}
	if expire > 0 {
		rule["Expiration"] = map[string]any{"Days": expire}
	}
	b, _ := json.Marshal(map[string]any{"Rules": []any{rule}})
	return string(b)
}
