package aws

import (
	"context"
	"fmt"
	"sort"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/securityhub"
	shtypes "github.com/aws/aws-sdk-go-v2/service/securityhub/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// maxImportBatch is how many findings BatchImportFindings takes at once.
const maxImportBatch = 100

// ImportActions are the IAM actions ImportFindings calls, on any
// resource, in each account whose findings it files.
var ImportActions = []string{"securityhub:BatchImportFindings"}

// ImportSummary is what Security Hub said of an import.
type ImportSummary struct {
	Imported int
	// Failed says, per finding or per account, what was refused and why.
	Failed []string
}

// ImportFindings files findings in Security Hub, in cfg's region, with
// BatchImportFindings, at most 100 a call. With the default product ARN
// Security Hub takes a finding only from the account it is about, so the
// caller's own findings go with cfg's credentials and another account's
// through the role o names, assumed in that account as the organization
// scan does (the role then also needs securityhub:BatchImportFindings).
func ImportFindings(ctx context.Context, cfg sdkaws.Config, findings []shtypes.AwsSecurityFinding, o OrgOptions) (ImportSummary, error) {
	var sum ImportSummary
	if len(findings) == 0 {
		return sum, nil
	}
	ident, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return sum, fmt.Errorf("%s", describeErr(ctx, "sts:GetCallerIdentity", caller(""), err))
	}
	self := sdkaws.ToString(ident.Account)
	if o.RoleName == "" {
		o.RoleName = DefaultRoleName
	}
	byAccount := map[string][]shtypes.AwsSecurityFinding{}
	for _, f := range findings {
		id := sdkaws.ToString(f.AwsAccountId)
		byAccount[id] = append(byAccount[id], f)
	}
	ids := make([]string, 0, len(byAccount))
	for id := range byAccount {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		acfg, who := cfg, caller(self)
		if id != self {
			who = memberRole(id, memberRoleARN(id, o.RoleName))
			acfg = cfg.Copy()
			acfg.Credentials = assumeRole(sts.NewFromConfig(cfg), memberRoleARN(id, o.RoleName), o.ExternalID)
		}
		client := securityhub.NewFromConfig(acfg)
		batch := byAccount[id]
		for start := 0; start < len(batch); start += maxImportBatch {
			part := batch[start:min(start+maxImportBatch, len(batch))]
			out, err := client.BatchImportFindings(ctx, &securityhub.BatchImportFindingsInput{Findings: part})
			if err != nil {
				sum.Failed = append(sum.Failed, fmt.Sprintf("account %s: %s", id, describeErr(ctx, "securityhub:BatchImportFindings", who, err)))
				continue
			}
			sum.Imported += int(sdkaws.ToInt32(out.SuccessCount))
			for _, f := range out.FailedFindings {
				sum.Failed = append(sum.Failed, fmt.Sprintf("finding %s: %s: %s", sdkaws.ToString(f.Id), sdkaws.ToString(f.ErrorCode), sdkaws.ToString(f.ErrorMessage)))
			}
		}
	}
	return sum, nil
}
