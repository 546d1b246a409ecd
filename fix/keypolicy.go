package fix

import (
	"fmt"
)

// keyPlan returns the key a new trail encrypts with ("" for none) and the
// steps that make it usable by CloudTrail. The key was read in this run:
// its policy is merged into, and the undo puts back the policy read.
func keyPlan(account, region, trailARN string, key KeyFacts, o Options) (string, []Step, error) {
	r := sh(region)
	switch {
	case o.KMSKey != "" && !key.Exists:
		return "", nil, fmt.Errorf("KMS key %s was not found in %s", o.KMSKey, region)
	case o.KMSKey != "" || (o.CreateKMSKey && key.Exists):
		id := o.KMSKey
		if id == "" {
			id = KMSAlias
		}
		policy, changed, err := mergeKeyPolicy(key.Policy, account, trailARN)
		if err != nil {
			return "", nil, fmt.Errorf("KMS key %s: %w", id, err)
		}
		if !changed {
			return id, nil, nil
		}
		undo := ""
		if key.Policy != "" {
			undo = fmt.Sprintf("aws kms put-key-policy --key-id %s --policy-name 'default' --policy %s --region %s", sh(id), sh(key.Policy), r)
		}
		return id, []Step{{Action: ActionAllowCloudTrailEncryption, Region: region, Key: id, Document: policy,
			Why: fmt.Sprintf("CloudTrail may encrypt log files with KMS key %s only when its key policy lets it; existing statements are kept", id),
			API: "kms:PutKeyPolicy", CLI: fmt.Sprintf("aws kms put-key-policy --key-id %s --policy-name 'default' --policy %s --region %s", sh(id), sh(policy), r),
			Undo: undo}}, nil
	case o.CreateKMSKey:
		policy, _, _ := mergeKeyPolicy("", account, trailARN)
		return KMSAlias, []Step{
			{Action: ActionCreateKMSKey, Region: region, Document: policy,
				Why: "log files are encrypted with a customer managed key whose policy lets only this account administer it and CloudTrail use it; its id is kept in KEY_ID for the next step",
				API: "kms:CreateKey", CLI: fmt.Sprintf("KEY_ID=$(aws kms create-key --description 'trailguard: CloudTrail log files' --policy %s --region %s --query 'KeyMetadata.KeyId' --output 'text')", sh(policy), r),
				Undo: fmt.Sprintf(`aws kms schedule-key-deletion --key-id "$KEY_ID" --region %s  # the key did not exist before; only once no log file needs it`, r)},
			{Action: ActionAliasKMSKey, Region: region, Key: KMSAlias,
				Why: "the alias names the new key for the trail and for people",
				API: "kms:CreateAlias", CLI: fmt.Sprintf(`aws kms create-alias --alias-name %s --target-key-id "$KEY_ID" --region %s`, sh(KMSAlias), r)},
			{Action: ActionEnableKeyRotation, Region: region, Key: KMSAlias,
				Why: "the key's material is rotated every year",
				API: "kms:EnableKeyRotation", CLI: fmt.Sprintf(`aws kms enable-key-rotation --key-id "$KEY_ID" --region %s`, r)},
		}, nil
	}
	return "", nil, nil
}

const sidKMS = "TrailguardCloudTrailEncrypt"

// mergeKeyPolicy adds CloudTrail's statement for this trail to a key
// policy (and, for a new key, the account's administration of it),
// keeping every existing statement; statements are matched by content,
// as in mergePolicy.
func mergeKeyPolicy(existing, account, trailARN string) (string, bool, error) {
	var want []map[string]any
	if existing == "" {
		want = append(want, map[string]any{"Sid": "AccountAdministers", "Effect": "Allow", "Principal": map[string]any{"AWS": "arn:aws:iam::" + account + ":root"},
			"Action": "kms:*", "Resource": "*"})
	}
	want = append(want, map[string]any{"Sid": sidKMS, "Effect": "Allow", "Principal": map[string]any{"Service": "cloudtrail.amazonaws.com"},
		"Action": []any{"kms:GenerateDataKey*", "kms:DescribeKey"}, "Resource": "*",
		"Condition": map[string]any{
			"StringEquals": map[string]any{"aws:SourceArn": trailARN},
			"StringLike":   map[string]any{"kms:EncryptionContext:aws:cloudtrail:arn": "arn:aws:cloudtrail:*:" + account + ":trail/*"},
		}})
	merged, changed, err := mergeStatements(existing, want, trailARN)
	if err != nil {
		return existing, false, fmt.Errorf("the key policy %w", err)
	}
	if changed && len(merged) > maxKeyPolicy {
		return existing, false, fmt.Errorf("the key policy would grow to %d bytes with CloudTrail's statement, more than the %d KMS accepts", len(merged), maxKeyPolicy)
	}
	return merged, changed, nil
}

// maxKeyPolicy is the largest key policy KMS accepts (32 KB).
const maxKeyPolicy = 32 << 10
