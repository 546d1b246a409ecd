package fix

// Action names the kind of change a Step makes. The value is what plans
// print and what `fix --format json` carries as "action", so it is part of
// the output other tools read: never rename one.
type Action string

// The kinds of step a plan is made of. Each one is a single AWS write
// (Step.API names it); none deletes.
const (
	// ActionEnableTrustedAccess gives CloudTrail trusted access to the
	// organization, without which no organization trail can be made
	// (organizations:EnableAWSServiceAccess).
	ActionEnableTrustedAccess Action = "enable-organization-trusted-access"
	// ActionStartLogging starts a trail (cloudtrail:StartLogging).
	ActionStartLogging Action = "start-logging"
	// ActionMakeMultiRegion makes a single-region trail multi-region, with
	// global service events (cloudtrail:UpdateTrail).
	ActionMakeMultiRegion Action = "make-multi-region"
	// ActionRecordAllManagementEvents widens a trail's selectors to record
	// every management event, read and write (cloudtrail:PutEventSelectors).
	ActionRecordAllManagementEvents Action = "record-all-management-events"
	// ActionCreateBucket creates the bucket of a new trail (s3:CreateBucket).
	ActionCreateBucket Action = "create-bucket"
	// ActionBlockPublicAccess turns every public access block setting on
	// (s3:PutBucketPublicAccessBlock).
	ActionBlockPublicAccess Action = "block-public-access"
	// ActionEncryptBucket sets SSE-S3 default encryption
	// (s3:PutEncryptionConfiguration).
	ActionEncryptBucket Action = "encrypt-bucket"
	// ActionSetLifecycle writes the log retention rule
	// (s3:PutLifecycleConfiguration).
	ActionSetLifecycle Action = "set-lifecycle"
	// ActionAllowCloudTrailDelivery writes the bucket policy merged with
	// CloudTrail's statements (s3:PutBucketPolicy).
	ActionAllowCloudTrailDelivery Action = "allow-cloudtrail-delivery"
	// ActionCreateTrail creates a multi-region trail with log file
	// validation (cloudtrail:CreateTrail).
	ActionCreateTrail Action = "create-trail"
	// ActionCreateKMSKey creates the key a new trail encrypts with
	// (kms:CreateKey); its id is known only once it is made.
	ActionCreateKMSKey Action = "create-kms-key"
	// ActionAliasKMSKey names the key just created (kms:CreateAlias).
	ActionAliasKMSKey Action = "alias-kms-key"
	// ActionEnableKeyRotation turns on yearly rotation of the new key
	// (kms:EnableKeyRotation).
	ActionEnableKeyRotation Action = "enable-key-rotation"
	// ActionAllowCloudTrailEncryption writes the key policy merged with
	// CloudTrail's statement (kms:PutKeyPolicy).
	ActionAllowCloudTrailEncryption Action = "allow-cloudtrail-encryption"
	// ActionEnableLogFileValidation turns on log file validation of an
	// existing trail (cloudtrail:UpdateTrail), so that CloudTrail delivers
	// the signed digests trailguard validate-logs proves the log files
	// with. It is CIS 3.2, not 3.1: planned only when asked for
	// (Options.LogFileValidation).
	ActionEnableLogFileValidation Action = "enable-log-file-validation"
)

// Actions lists every kind of step, in the order a plan that has them
// runs them, so that an implementation of Operations can be checked to
// make each one.
func Actions() []Action {
	return []Action{
		ActionEnableTrustedAccess,
		ActionRecordAllManagementEvents, ActionMakeMultiRegion,
		ActionCreateBucket, ActionBlockPublicAccess, ActionEncryptBucket, ActionSetLifecycle, ActionAllowCloudTrailDelivery,
		ActionCreateKMSKey, ActionAliasKMSKey, ActionEnableKeyRotation, ActionAllowCloudTrailEncryption,
		ActionCreateTrail, ActionStartLogging,
		ActionEnableLogFileValidation,
	}
}
