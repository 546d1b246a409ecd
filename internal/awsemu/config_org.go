package awsemu

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/trailguard/trailguard/internal/wildcard"
)

// AWS Config organization rules, as AWS plays them (AWS Config API
// reference, PutOrganizationConfigRule; "Enabling AWS Config Rules Across
// all Accounts in Your Organization"):
//
//   - only the management account, or a delegated administrator registered
//     for config-multiaccountsetup.amazonaws.com, may put one; any other
//     account gets OrganizationAccessDeniedException, an account outside
//     any organization NoAvailableOrganizationException;
//   - called from the management account, the call itself enables trusted
//     access for config-multiaccountsetup.amazonaws.com (EnableAWSServiceAccess,
//     which the caller must be allowed); a delegated administrator cannot
//     enable it, so it must already be on; a delegated administrator also
//     needs organizations:ListDelegatedAdministrators;
//   - the call needs iam:GetRole, and iam:CreateServiceLinkedRole the first
//     time (the AWSServiceRoleForConfigMultiAccountSetup service-linked
//     role); without them InsufficientPermissionsException;
//   - the rule is created in every account of the organization, the
//     management account and delegated administrators included (AWS deploys
//     to all accounts; ExcludedAccounts is the only way to leave one out),
//     in the caller's region, as a member rule named
//     OrgConfigRule-<name>-<suffix> with CreatedBy
//     config-multiaccountsetup.amazonaws.com. A member cannot update or
//     delete it (AccessDeniedException: a service owns it); it runs as any
//     custom rule of that account: its own events, its own result tokens,
//     its own compliance.
//
// The emulator deploys at once and to accounts whose state is ACTIVE. As
// AWS does, an account that joins the organization later gets the member
// rules, and one that leaves loses them (syncOrgRules, before every AWS
// Config request and schedule). It does not model configuration
// recorders, so a member without one still gets the rule (AWS would report
// CREATE_FAILED).

const configOrgSP = "config-multiaccountsetup.amazonaws.com"

// Limits from the AWS Config API reference (the config-2014-11-12 model).
const (
	maxOrgRuleName        = 64
	maxOrgInputParameters = 2048
	maxOrgDescription     = 256
	maxLambdaARN          = 256
	maxResourceTypesScope = 100
	maxExcludedAccounts   = 1000
	maxOrgRuleNames       = 25
	// maxOrgConfigRules is the default quota of organization rules per
	// organization (AWS Config service quotas).
	maxOrgConfigRules = 150
)

var (
	orgTriggerTypes = map[string]bool{"ConfigurationItemChangeNotification": true, "OversizedConfigurationItemChangeNotification": true, "ScheduledNotification": true}
	lambdaARN       = regexp.MustCompile(`^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]{1,140}(:[A-Za-z0-9_$-]{1,128})?$`)
)

// orgCustomRuleMeta is OrganizationCustomRuleMetadata.
type orgCustomRuleMeta struct {
	Description                        *string  `json:",omitempty"`
	LambdaFunctionArn                  *string  `json:",omitempty"`
	OrganizationConfigRuleTriggerTypes []string `json:",omitempty"`
	InputParameters                    *string  `json:",omitempty"`
	MaximumExecutionFrequency          *string  `json:",omitempty"`
	ResourceTypesScope                 []string `json:",omitempty"`
	ResourceIdScope                    *string  `json:",omitempty"`
	TagKeyScope                        *string  `json:",omitempty"`
	TagValueScope                      *string  `json:",omitempty"`
}

// orgConfigRule is one organization rule and where it was deployed.
type orgConfigRule struct {
	org, region, name string // org is the management account
	arn, suffix       string
	meta              orgCustomRuleMeta
	excluded          []string
	updated           time.Time
	// members: account → the member rule's key in configState.rules.
	members map[string]string
}

func (o *orgConfigRule) key() string { return o.org + "/" + o.region + "/" + o.name }

// orgCaller is what Organizations says of the caller of an organization
// rule API, read under e.mu and used after it is released (configState's
// lock is taken first wherever both are held).
type orgCaller struct {
	management string
	accounts   []string // ACTIVE members, the management account first
}

func orgAccessDenied() *apiError {
	return errorf(http.StatusBadRequest, "OrganizationAccessDeniedException",
		"This action can only be performed by the organization's management account or by a delegated administrator registered for config-multiaccountsetup.amazonaws.com, with trusted access for that service enabled.")
}

// permits reports whether the caller's account may call action, by the
// Deny and AllowOnly models, as AWS Config asks on the caller's behalf.
// Called with e.mu held.
func (e *Emulator) permits(c *call, action string) bool {
	lower := strings.ToLower(action)
	for _, p := range e.denied {
		if wildcard.Match(p, lower) {
			return false
		}
	}
	a := e.accounts[c.account()]
	if a == nil || a.allowed == nil {
		return true
	}
	for _, p := range a.allowed {
		if wildcard.Match(p, lower) {
			return true
		}
	}
	return false
}

// orgRuleCaller checks that the caller may manage organization rules and
// returns its organization. With write, it also enables trusted access
// from the management account and checks the service-linked role's
// permissions, as PutOrganizationConfigRule does.
func (e *Emulator) orgRuleCaller(c *call, write bool, slr map[string]bool) (orgCaller, *apiError) {
	e.mu.Lock()
	defer e.mu.Unlock()
	org := e.orgs[e.managementOf(c.account())]
	if org == nil {
		return orgCaller{}, errorf(http.StatusBadRequest, "NoAvailableOrganizationException", "Organization is no longer available.")
	}
	_, trusted := org.trusted[configOrgSP]
	switch {
	case c.account() == org.management:
		if !trusted && write {
			if !e.permits(c, "organizations:EnableAWSServiceAccess") {
				// The call enables trusted access itself; without the
				// permission to, it fails (OrganizationAccessDeniedException:
				// "No permission to call EnableAWSServiceAccess API").
				return orgCaller{}, errorf(http.StatusBadRequest, "OrganizationAccessDeniedException",
					"No permission to call EnableAWSServiceAccess API: trusted access for config-multiaccountsetup.amazonaws.com is not enabled.")
			}
			org.enableService(configOrgSP, e.now())
		}
	case org.delegatedAdmin(configOrgSP, c.account()):
		if !trusted || !e.permits(c, "organizations:ListDelegatedAdministrators") {
			return orgCaller{}, orgAccessDenied()
		}
	default:
		return orgCaller{}, orgAccessDenied()
	}
	if write {
		if !e.permits(c, "iam:GetRole") || !slr[c.account()] && !e.permits(c, "iam:CreateServiceLinkedRole") {
			return orgCaller{}, errorf(http.StatusBadRequest, "InsufficientPermissionsException",
				"The organization Config rule cannot be created because you do not have permissions to call IAM GetRole action or create a service-linked role.")
		}
	}
	out := orgCaller{management: org.management}
	for _, id := range org.members {
		if a := e.accounts[id]; a != nil && (a.state == "" || a.state == "ACTIVE") {
			out.accounts = append(out.accounts, id)
		}
	}
	return out, nil
}

func (e *Emulator) serveConfigOrg(w http.ResponseWriter, c *call, body []byte) {
	var in struct {
		OrganizationConfigRuleName           *string
		OrganizationConfigRuleNames          []string
		OrganizationCustomRuleMetadata       *orgCustomRuleMeta
		OrganizationManagedRuleMetadata      json.RawMessage
		OrganizationCustomPolicyRuleMetadata json.RawMessage
		ExcludedAccounts                     []string
		Filters                              *struct{ AccountId, MemberAccountRuleStatus *string }
		Limit                                *int
		NextToken                            *string
	}
	if err := decodeJSON(body, &in); err != nil {
		writeJSONError(w, c.reqID, err)
		return
	}
	s := e.configState()
	s.mu.Lock()
	e.syncOrgRules(s)
	s.mu.Unlock()
	var out any
	var err *apiError
	switch c.op {
	case "PutOrganizationConfigRule":
		if in.OrganizationManagedRuleMetadata != nil || in.OrganizationCustomPolicyRuleMetadata != nil {
			n := 0
			for _, set := range []bool{in.OrganizationCustomRuleMetadata != nil, in.OrganizationManagedRuleMetadata != nil, in.OrganizationCustomPolicyRuleMetadata != nil} {
				if set {
					n++
				}
			}
			if n > 1 {
				err = invalidParameter("Specify only one of OrganizationManagedRuleMetadata, OrganizationCustomRuleMetadata or OrganizationCustomPolicyRuleMetadata.")
			} else {
				// AWS evaluates managed and Guard policy rules itself,
				// which the emulator cannot do.
				err = invalidParameter("The emulator supports only organization custom Lambda rules (OrganizationCustomRuleMetadata).")
			}
			break
		}
		out, err = e.putOrgConfigRule(s, c, in.OrganizationConfigRuleName, in.OrganizationCustomRuleMetadata, in.ExcludedAccounts)
	case "DescribeOrganizationConfigRules":
		out, err = e.describeOrgConfigRules(s, c, in.OrganizationConfigRuleNames, in.Limit, in.NextToken, false)
	case "DescribeOrganizationConfigRuleStatuses":
		out, err = e.describeOrgConfigRules(s, c, in.OrganizationConfigRuleNames, in.Limit, in.NextToken, true)
	case "GetOrganizationConfigRuleDetailedStatus":
		var acct, status *string
		if in.Filters != nil {
			acct, status = in.Filters.AccountId, in.Filters.MemberAccountRuleStatus
		}
		out, err = e.orgRuleDetailedStatus(s, c, in.OrganizationConfigRuleName, acct, status, in.Limit, in.NextToken)
	case "DeleteOrganizationConfigRule":
		out, err = e.deleteOrgConfigRule(s, c, in.OrganizationConfigRuleName)
	default:
		err = errorf(http.StatusBadRequest, "UnknownOperationException", "unknown operation %q", c.op)
	}
	if err != nil {
		writeJSONError(w, c.reqID, err)
		return
	}
	writeJSON(w, c.reqID, out)
}

func checkOrgRuleName(name *string) *apiError {
	switch {
	case name == nil:
		return required("organizationConfigRuleName")
	case len(*name) < 1 || len(*name) > maxOrgRuleName:
		return validationError("Value '%s' at 'organizationConfigRuleName' failed to satisfy constraint: Member must have length less than or equal to %d", *name, maxOrgRuleName)
	case strings.TrimSpace(*name) == "":
		return validationError("Value '%s' at 'organizationConfigRuleName' failed to satisfy constraint: Member must satisfy regular expression pattern: .*\\S.*", *name)
	}
	return nil
}

// checkOrgCustomRule applies the model's constraints and AWS Config's own
// checks to OrganizationCustomRuleMetadata.
func checkOrgCustomRule(m *orgCustomRuleMeta) *apiError {
	const at = "organizationCustomRuleMetadata"
	switch {
	case m == nil:
		return invalidParameter("Specify one of OrganizationManagedRuleMetadata, OrganizationCustomRuleMetadata or OrganizationCustomPolicyRuleMetadata.")
	case m.LambdaFunctionArn == nil:
		return required(at + ".lambdaFunctionArn")
	case m.OrganizationConfigRuleTriggerTypes == nil:
		return required(at + ".organizationConfigRuleTriggerTypes")
	case len(*m.LambdaFunctionArn) < 1 || len(*m.LambdaFunctionArn) > maxLambdaARN:
		return validationError("Value '%s' at '%s.lambdaFunctionArn' failed to satisfy constraint: Member must have length between 1 and %d", *m.LambdaFunctionArn, at, maxLambdaARN)
	case !lambdaARN.MatchString(*m.LambdaFunctionArn):
		return invalidParameter("The lambdaFunctionArn %s is invalid. Provide the ARN of a Lambda function.", *m.LambdaFunctionArn)
	case len(m.OrganizationConfigRuleTriggerTypes) == 0:
		return invalidParameter("OrganizationConfigRuleTriggerTypes must name at least one trigger type for a custom rule.")
	case m.Description != nil && len(*m.Description) > maxOrgDescription:
		return validationError("Value at '%s.description' failed to satisfy constraint: Member must have length less than or equal to %d", at, maxOrgDescription)
	case len(m.ResourceTypesScope) > maxResourceTypesScope:
		return validationError("Value at '%s.resourceTypesScope' failed to satisfy constraint: Member must have length less than or equal to %d", at, maxResourceTypesScope)
	}
	for _, t := range m.OrganizationConfigRuleTriggerTypes {
		if !orgTriggerTypes[t] {
			return validationError("Value '[%s]' at '%s.organizationConfigRuleTriggerTypes' failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy enum value set: [ConfigurationItemChangeNotification, OversizedConfigurationItemChangeNotification, ScheduledNotification]]", strings.Join(m.OrganizationConfigRuleTriggerTypes, ", "), at)
		}
	}
	if f := m.MaximumExecutionFrequency; f != nil && !configFrequencies[*f] {
		return validationError("Value '%s' at '%s.maximumExecutionFrequency' failed to satisfy constraint: Member must satisfy enum value set: [One_Hour, Six_Hours, Three_Hours, Twelve_Hours, TwentyFour_Hours]", *f, at)
	}
	if p := m.InputParameters; p != nil {
		if len(*p) < 1 || len(*p) > maxOrgInputParameters {
			return validationError("Value at '%s.inputParameters' failed to satisfy constraint: Member must have length between 1 and %d", at, maxOrgInputParameters)
		}
		var obj map[string]any
		if json.Unmarshal([]byte(*p), &obj) != nil {
			return invalidParameter("Blank spaces are not acceptable for input parameter: %s.", *p)
		}
	}
	return nil
}

func (e *Emulator) putOrgConfigRule(s *configState, c *call, name *string, meta *orgCustomRuleMeta, excluded []string) (any, *apiError) {
	if err := checkOrgRuleName(name); err != nil {
		return nil, err
	}
	if err := checkOrgCustomRule(meta); err != nil {
		return nil, err
	}
	if len(excluded) > maxExcludedAccounts {
		return nil, validationError("Value at 'excludedAccounts' failed to satisfy constraint: Member must have length less than or equal to %d", maxExcludedAccounts)
	}
	for _, id := range excluded {
		if !isAccountID(id) {
			return nil, validationError("Value '[%s]' at 'excludedAccounts' failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy regular expression pattern: \\d{12}]", strings.Join(excluded, ", "))
		}
	}
	s.mu.Lock()
	slr := maps.Clone(s.orgSLR)
	s.mu.Unlock()
	who, err := e.orgRuleCaller(c, true, slr)
	if err != nil {
		return nil, err
	}
	now := e.now().UTC()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.orgSLR[c.account()] = true
	key := who.management + "/" + c.region + "/" + *name
	o := s.orgRules[key]
	if o == nil {
		n := 0
		for _, r := range s.orgRules {
			if r.org == who.management {
				n++
			}
		}
		if n >= maxOrgConfigRules {
			return nil, errorf(http.StatusBadRequest, "MaxNumberOfOrganizationConfigRulesExceededException", "Failed to put organization config rule because the maximum number of organization config rules: %d is reached.", maxOrgConfigRules)
		}
		suffix := randomID(8)
		o = &orgConfigRule{org: who.management, region: c.region, name: *name, suffix: suffix, members: map[string]string{},
			arn: fmt.Sprintf("arn:aws:config:%s:%s:organization-config-rule/%s-%s", c.region, c.account(), *name, suffix)}
		s.orgRules[key] = o
	}
	o.meta, o.excluded, o.updated = *meta, slices.Clone(excluded), now
	want := map[string]bool{}
	for _, id := range who.accounts {
		if !slices.Contains(excluded, id) {
			want[id] = true
		}
	}
	// Accounts no longer in scope lose their member rule and its results.
	for id, rk := range o.members {
		if !want[id] {
			s.removeRule(rk)
			delete(o.members, id)
		}
	}
	for _, id := range who.accounts {
		if want[id] {
			s.deployMemberRule(o, id)
		}
	}
	return map[string]any{"OrganizationConfigRuleArn": o.arn}, nil
}

// deployMemberRule creates or updates the member rule of o in account.
// Called with s.mu held.
func (s *configState) deployMemberRule(o *orgConfigRule, account string) {
	m := o.meta
	name := "OrgConfigRule-" + o.name + "-" + o.suffix
	spec := configRuleJSON{ConfigRuleName: name, ConfigRuleState: "ACTIVE", CreatedBy: configOrgSP}
	if m.Description != nil {
		spec.Description = *m.Description
	}
	if m.InputParameters != nil {
		spec.InputParameters = *m.InputParameters
	}
	freq := ""
	if m.MaximumExecutionFrequency != nil {
		freq = *m.MaximumExecutionFrequency
	}
	spec.Source = &configSource{Owner: "CUSTOM_LAMBDA", SourceIdentifier: *m.LambdaFunctionArn}
	for _, t := range m.OrganizationConfigRuleTriggerTypes {
		d := configSourceDetail{EventSource: "aws.config", MessageType: t}
		if t == "ScheduledNotification" {
			if freq == "" {
				freq = "TwentyFour_Hours" // the default for a periodic rule
			}
			d.MaximumExecutionFrequency = freq
			spec.MaximumExecutionFrequency = freq
		}
		spec.Source.SourceDetails = append(spec.Source.SourceDetails, d)
	}
	if len(m.ResourceTypesScope) > 0 || m.ResourceIdScope != nil || m.TagKeyScope != nil {
		spec.Scope = &configScope{ComplianceResourceTypes: m.ResourceTypesScope}
		if m.ResourceIdScope != nil {
			spec.Scope.ComplianceResourceId = *m.ResourceIdScope
		}
		if m.TagKeyScope != nil {
			spec.Scope.TagKey = *m.TagKeyScope
		}
		if m.TagValueScope != nil {
			spec.Scope.TagValue = *m.TagValueScope
		}
	}
	key := account + "/" + o.region + "/" + name
	if r := s.rules[key]; r != nil {
		spec.ConfigRuleArn, spec.ConfigRuleId = r.spec.ConfigRuleArn, r.spec.ConfigRuleId
		r.spec = spec
		o.members[account] = key
		return
	}
	id := "config-rule-" + strings.ToLower(randomID(6))
	spec.ConfigRuleId = id
	spec.ConfigRuleArn = fmt.Sprintf("arn:aws:config:%s:%s:config-rule/aws-service-rule/%s/%s", o.region, account, configOrgSP, id)
	s.rules[key] = &configRule{spec: spec, account: account, region: o.region, evaluations: map[string]*configEvaluation{}}
	o.members[account] = key
}

// removeRule deletes a rule and the tokens issued for it. Called with
// s.mu held.
func (s *configState) removeRule(key string) {
	r := s.rules[key]
	if r == nil {
		return
	}
	delete(s.rules, key)
	for _, tok := range r.tokens {
		delete(s.tokens, tok)
	}
}

func noSuchOrgRule(name string) *apiError {
	return errorf(http.StatusBadRequest, "NoSuchOrganizationConfigRuleException", "The organization config rule '%s' provided in the request is invalid. Please check the rule name.", name)
}

// orgRulesOf are the organization's rules in the caller's region, by
// name, or the named ones. Called with s.mu held.
func (s *configState) orgRulesOf(c *call, management string, names []string) ([]*orgConfigRule, *apiError) {
	var list []*orgConfigRule
	if len(names) == 0 {
		for _, o := range s.orgRules {
			if o.org == management && o.region == c.region {
				list = append(list, o)
			}
		}
		sort.Slice(list, func(i, j int) bool { return list[i].name < list[j].name })
		return list, nil
	}
	for _, n := range names {
		o := s.orgRules[management+"/"+c.region+"/"+n]
		if o == nil {
			return nil, noSuchOrgRule(n)
		}
		list = append(list, o)
	}
	return list, nil
}

func orgPageSize(limit *int, max int) (int, *apiError) {
	if limit == nil || *limit == 0 {
		return max, nil
	}
	if *limit < 0 || *limit > max {
		return 0, validationError("Value '%d' at 'limit' failed to satisfy constraint: Member must have value less than or equal to %d", *limit, max)
	}
	return *limit, nil
}

func (e *Emulator) describeOrgConfigRules(s *configState, c *call, names []string, limit *int, next *string, statuses bool) (any, *apiError) {
	if len(names) > maxOrgRuleNames {
		return nil, validationError("Value at 'organizationConfigRuleNames' failed to satisfy constraint: Member must have length less than or equal to %d", maxOrgRuleNames)
	}
	size, err := orgPageSize(limit, 25)
	if err != nil {
		return nil, err
	}
	who, err := e.orgRuleCaller(c, false, nil)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rules, err := s.orgRulesOf(c, who.management, names)
	if err != nil {
		return nil, err
	}
	page, tok, err := configPage(rules, next, size)
	if err != nil {
		return nil, err
	}
	list := []map[string]any{}
	for _, o := range page {
		if statuses {
			// Deployment is immediate here: every account in scope got
			// its member rule.
			list = append(list, map[string]any{"OrganizationConfigRuleName": o.name, "OrganizationRuleStatus": "CREATE_SUCCESSFUL", "LastUpdateTime": epoch(o.updated)})
			continue
		}
		item := map[string]any{"OrganizationConfigRuleName": o.name, "OrganizationConfigRuleArn": o.arn,
			"OrganizationCustomRuleMetadata": o.meta, "LastUpdateTime": epoch(o.updated)}
		if len(o.excluded) > 0 {
			item["ExcludedAccounts"] = o.excluded
		}
		list = append(list, item)
	}
	if statuses {
		return map[string]any{"OrganizationConfigRuleStatuses": list, "NextToken": tok}, nil
	}
	return map[string]any{"OrganizationConfigRules": list, "NextToken": tok}, nil
}

var memberRuleStatuses = map[string]bool{"CREATE_SUCCESSFUL": true, "CREATE_IN_PROGRESS": true, "CREATE_FAILED": true, "DELETE_SUCCESSFUL": true,
	"DELETE_FAILED": true, "DELETE_IN_PROGRESS": true, "UPDATE_SUCCESSFUL": true, "UPDATE_IN_PROGRESS": true, "UPDATE_FAILED": true}

func (e *Emulator) orgRuleDetailedStatus(s *configState, c *call, name, account, status *string, limit *int, next *string) (any, *apiError) {
	if err := checkOrgRuleName(name); err != nil {
		return nil, err
	}
	if status != nil && !memberRuleStatuses[*status] {
		return nil, validationError("Value '%s' at 'filters.memberAccountRuleStatus' failed to satisfy constraint: Member must satisfy enum value set: [CREATE_SUCCESSFUL, CREATE_IN_PROGRESS, CREATE_FAILED, DELETE_SUCCESSFUL, DELETE_FAILED, DELETE_IN_PROGRESS, UPDATE_SUCCESSFUL, UPDATE_IN_PROGRESS, UPDATE_FAILED]", *status)
	}
	size, err := orgPageSize(limit, 100)
	if err != nil {
		return nil, err
	}
	who, err := e.orgRuleCaller(c, false, nil)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rules, err := s.orgRulesOf(c, who.management, []string{*name})
	if err != nil {
		return nil, err
	}
	o := rules[0]
	ids := make([]string, 0, len(o.members))
	for id := range o.members {
		if (account == nil || *account == id) && (status == nil || *status == "CREATE_SUCCESSFUL") {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	page, tok, err := configPage(ids, next, size)
	if err != nil {
		return nil, err
	}
	list := []map[string]any{}
	for _, id := range page {
		r := s.rules[o.members[id]]
		if r == nil {
			continue
		}
		list = append(list, map[string]any{"AccountId": id, "ConfigRuleName": r.spec.ConfigRuleName, "MemberAccountRuleStatus": "CREATE_SUCCESSFUL", "LastUpdateTime": epoch(o.updated)})
	}
	return map[string]any{"OrganizationConfigRuleDetailedStatus": list, "NextToken": tok}, nil
}

func (e *Emulator) deleteOrgConfigRule(s *configState, c *call, name *string) (any, *apiError) {
	if err := checkOrgRuleName(name); err != nil {
		return nil, err
	}
	who, err := e.orgRuleCaller(c, false, nil)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rules, err := s.orgRulesOf(c, who.management, []string{*name})
	if err != nil {
		return nil, err
	}
	o := rules[0]
	for _, rk := range o.members {
		s.removeRule(rk)
	}
	delete(s.orgRules, o.key())
	return struct{}{}, nil
}

// syncOrgRules deploys each organization rule to the accounts that joined
// its organization since, and removes it from those that left, so that
// membership changes reach AWS Config as on AWS. Called with s.mu held
// (configState's lock is taken before the emulator's).
func (e *Emulator) syncOrgRules(s *configState) {
	if len(s.orgRules) == 0 {
		return
	}
	active := map[string][]string{} // management → ACTIVE members
	e.mu.Lock()
	for _, o := range s.orgRules {
		if _, done := active[o.org]; done {
			continue
		}
		var ids []string
		if org := e.orgs[o.org]; org != nil {
			for _, id := range org.members {
				if a := e.accounts[id]; a != nil && (a.state == "" || a.state == "ACTIVE") {
					ids = append(ids, id)
				}
			}
		}
		active[o.org] = ids
	}
	e.mu.Unlock()
	for _, o := range s.orgRules {
		ids := active[o.org]
		for id, rk := range o.members {
			if !slices.Contains(ids, id) {
				s.removeRule(rk)
				delete(o.members, id)
			}
		}
		for _, id := range ids {
			if _, ok := o.members[id]; !ok && !slices.Contains(o.excluded, id) {
				s.deployMemberRule(o, id)
			}
		}
	}
}
