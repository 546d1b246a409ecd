package control

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/configservice"
)

// orgRuleService is the service that creates an organization rule's
// member rule in every account (its CreatedBy).
const orgRuleService = "config-multiaccountsetup.amazonaws.com"

// maxRulePages bounds DescribeConfigRules pages read to find a member rule:
// AWS Config allows 1000 rules per account and region (1000/25 pages), so
// more pages than that is a token that does not end.
const maxRulePages = 50

// orgRuleName is an organization Config rule's name as AWS Config takes
// it (OrganizationConfigRuleName: 1 to 64 characters; the deployment
// names it in letters, digits, '-' and '_').
var orgRuleName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// reevaluate asks the account's rule to evaluate again at once, so that
// AWS Config's compliance follows a change event without waiting for the
// period. For one account the rule's name is known (Settings.ConfigRuleName)
// and asked with the function's role. An organization rule has in every
// account a member rule named OrgConfigRule-<name>-<suffix>, the suffix
// generated: it is found with DescribeConfigRules and asked to evaluate,
// both through the account's configuration (the member role in a member
// account, the function's role in its own). It returns the rules started,
// a notice when there is none to start, and the error of a call that failed.
func (h *Handler) reevaluate(ctx context.Context, account string) (started, notice string, err error) {
	if name := h.Settings.ConfigRuleName; name != "" {
		_, err := configservice.NewFromConfig(h.Config).StartConfigRulesEvaluation(ctx, &configservice.StartConfigRulesEvaluationInput{
			ConfigRuleNames: []string{name}})
		if err != nil {
			return "", "", fmt.Errorf("config:StartConfigRulesEvaluation %s: %v", name, err)
		}
		return name, "", nil
	}
	org := h.Settings.OrgConfigRuleName
	if org == "" {
		return "", "", nil
	}
	cfg, err := h.accountConfig(ctx, account)
	if err != nil {
		return "", "", fmt.Errorf("organization rule %s not asked to evaluate again: %v", org, err)
	}
	client := configservice.NewFromConfig(cfg)
	names, err := memberRules(ctx, client, org)
	if err != nil {
		return "", "", fmt.Errorf("config:DescribeConfigRules in account %s (to find the member rule of organization rule %s): %v; the member role needs config:DescribeConfigRules", account, org, err)
	}
	if len(names) == 0 {
		// Not an error: an account excluded from the organization rule, or
		// not yet reached by it, has no member rule, and a failed
		// invocation would only be retried with its alert published again.
		return "", fmt.Sprintf("account %s has no member rule of organization rule %s (excluded from it, or not yet deployed): AWS Config evaluates it at the next period", account, org), nil
	}
	if _, err := client.StartConfigRulesEvaluation(ctx, &configservice.StartConfigRulesEvaluationInput{ConfigRuleNames: names}); err != nil {
		return "", "", fmt.Errorf("config:StartConfigRulesEvaluation %s in account %s: %v", strings.Join(names, ", "), account, err)
	}
	return strings.Join(names, ", "), "", nil
}

// accountConfig is the configuration that reaches account: the function's
// own, or the member role's (the one the scan used, cached).
func (h *Handler) accountConfig(ctx context.Context, account string) (sdkaws.Config, error) {
	if !accountID.MatchString(account) {
		return sdkaws.Config{}, fmt.Errorf("the event names no valid account id (%s)", quote(account, 40))
	}
	self, err := h.selfAccount(ctx)
	if err != nil {
		return sdkaws.Config{}, fmt.Errorf("the function's own account could not be read: %v", err)
	}
	if account == self {
		return h.Config, nil
	}
	role := h.Settings.ExecutionRoleName
	if role != "" && !roleName.MatchString(role) {
		return sdkaws.Config{}, fmt.Errorf("%s %s is not an IAM role name", EnvExecutionRole, quote(role, 80))
	}
	return h.memberConfig(account, role), nil
}

// memberRules are the account's member rules of organization rule org:
// named OrgConfigRule-<org>-<suffix> and created by AWS Config's
// organization service. The suffix holds no '-', so that the member rule of
// org "a" is not mistaken for that of "a-b"; a rule the account made
// itself with such a name is not created by that service.
func memberRules(ctx context.Context, client *configservice.Client, org string) ([]string, error) {
	prefix := "OrgConfigRule-" + org + "-"
	var names []string
	var token *string
	seen := map[string]bool{}
	for page := 0; ; page++ {
		if page == maxRulePages {
			return nil, fmt.Errorf("more than %d pages of rules", maxRulePages)
		}
		out, err := client.DescribeConfigRules(ctx, &configservice.DescribeConfigRulesInput{NextToken: token})
		if err != nil {
			return nil, err
		}
		for _, r := range out.ConfigRules {
			name := sdkaws.ToString(r.ConfigRuleName)
			suffix, ok := strings.CutPrefix(name, prefix)
			if ok && suffix != "" && !strings.Contains(suffix, "-") && sdkaws.ToString(r.CreatedBy) == orgRuleService &&
				r.ConfigRuleState != "DELETING" && r.ConfigRuleState != "DELETING_RESULTS" && len(names) < 25 {
				names = append(names, name)
			}
		}
		next := sdkaws.ToString(out.NextToken)
		if next == "" {
			return names, nil
		}
		if seen[next] {
			return nil, fmt.Errorf("DescribeConfigRules answered the NextToken %s twice", quote(next, 40))
		}
		seen[next] = true
		token = out.NextToken
	}
}
