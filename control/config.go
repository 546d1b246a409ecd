package control

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/configservice"
	cstypes "github.com/aws/aws-sdk-go-v2/service/configservice/types"

	"github.com/trailguard/trailguard"
	tgaws "github.com/trailguard/trailguard/aws"
	"github.com/trailguard/trailguard/mutelist"
)

// maxAnnotation is AWS Config's limit on Evaluation.Annotation, in
// characters.
const maxAnnotation = 256

// accountResource is the resource type a whole-account rule reports on.
const accountResource = "AWS::::Account"

// RuleParameters are the Config rule's input parameters. They are decoded
// strictly: an unknown key is a typo that would otherwise silently change
// the verdict.
type RuleParameters struct {
	// Strict is scan's --strict; AWS Config passes parameter values as
	// strings, so "true" and true are both accepted.
	Strict flexBool `json:"strict"`
	// ExecutionRoleName is the role assumed in an account other than the
	// function's own.
	ExecutionRoleName string `json:"executionRoleName"`
	// AlertTopicARN, when set, is told of every evaluation that does not
	// pass (change events alert to the environment's topic).
	AlertTopicARN string `json:"alertTopicArn"`
	// Mutelist holds the exceptions of trailguard scan --mutelist, inline
	// or in S3 (MutelistParam). A muted account is NOT_APPLICABLE, never
	// COMPLIANT; a mutelist that cannot be read or parsed is an ERROR.
	Mutelist MutelistParam `json:"mutelist"`
}

// flexBool is a bool given as JSON true/false or as the string "true"/"false".
type flexBool bool

func (b *flexBool) UnmarshalJSON(data []byte) error {
	s := string(data)
	if uq, err := strconv.Unquote(s); err == nil {
		s = uq
	}
	v, err := strconv.ParseBool(strings.TrimSpace(s))
	if err != nil {
		return fmt.Errorf("want true or false, got %s", quote(string(data), 40))
	}
	*b = flexBool(v)
	return nil
}

// ParseRuleParameters reads the ruleParameters string of a Config event.
func ParseRuleParameters(s string) (RuleParameters, error) {
	var p RuleParameters
	if strings.TrimSpace(s) == "" {
		return p, nil
	}
	if err := decodeStrict([]byte(s), &p); err != nil {
		return p, fmt.Errorf("rule parameters: %w", err)
	}
	if p.ExecutionRoleName != "" && !roleName.MatchString(p.ExecutionRoleName) {
		return p, fmt.Errorf("rule parameters: executionRoleName %s is not an IAM role name", quote(p.ExecutionRoleName, 80))
	}
	if p.AlertTopicARN != "" && !snsARN.MatchString(p.AlertTopicARN) {
		return p, fmt.Errorf("rule parameters: alertTopicArn %s is not an SNS topic ARN", quote(p.AlertTopicARN, 300))
	}
	return p, nil
}

// invokingEvent is the part of a Config invoking event the rule reads.
type invokingEvent struct {
	MessageType              string `json:"messageType"`
	AWSAccountID             string `json:"awsAccountId"`
	NotificationCreationTime string `json:"notificationCreationTime"`
	ConfigurationItem        *struct {
		AWSAccountID string `json:"awsAccountId"`
		ResourceType string `json:"resourceType"`
	} `json:"configurationItem"`
	ConfigurationItemSummary *struct {
		AWSAccountID string `json:"awsAccountId"`
		ResourceType string `json:"resourceType"`
	} `json:"configurationItemSummary"`
}

func (h *Handler) handleConfig(ctx context.Context, raw []byte) (Response, error) {
	var ev events.ConfigEvent
	if err := json.Unmarshal(raw, &ev); err != nil {
		return Response{}, fmt.Errorf("config rule event: %w", err)
	}
	resp := Response{Kind: "config", TestMode: ev.ResultToken == "TESTMODE"}
	var inv invokingEvent
	if err := json.Unmarshal([]byte(ev.InvokingEvent), &inv); err != nil {
		// Without the invoking event the account and the time are unknown:
		// nothing can be reported against the token.
		return resp, fmt.Errorf("config rule event: invokingEvent: %w", err)
	}
	account := inv.AWSAccountID
	switch inv.MessageType {
	case "ScheduledNotification":
	case "ConfigurationItemChangeNotification":
		if inv.ConfigurationItem != nil && account == "" {
			account = inv.ConfigurationItem.AWSAccountID
		}
	case "OversizedConfigurationItemChangeNotification":
		if inv.ConfigurationItemSummary != nil && account == "" {
			account = inv.ConfigurationItemSummary.AWSAccountID
		}
	default:
		return resp, fmt.Errorf("config rule event: messageType %s is not one this rule handles", quote(inv.MessageType, 80))
	}
	if account == "" {
		account = ev.AccountID
	}
	resp.Account = account
	when := h.now()
	if inv.NotificationCreationTime != "" {
		t, err := time.Parse(time.RFC3339Nano, inv.NotificationCreationTime)
		if err != nil {
			return resp, fmt.Errorf("config rule event: notificationCreationTime %s: %w", quote(inv.NotificationCreationTime, 40), err)
		}
		when = t
	}

	p, perr := ParseRuleParameters(ev.RuleParameters)
	var eval Evaluation
	var scanCfg *aws.Config
	switch {
	case ev.EventLeftScope:
		eval = Evaluation{ComplianceType: string(cstypes.ComplianceTypeNotApplicable)}
		resp.Status = ""
	default:
		res, cfg, notices := h.configVerdict(ctx, p, perr, account)
		scanCfg = cfg
		for _, n := range notices {
			h.logf("account %s: %s", account, n)
		}
		resp.Status, resp.Reasons, resp.Notices = res.Status, res.Reasons, notices
		eval = Evaluation{ComplianceType: complianceOf(res.Status), Annotation: Annotation(res)}
		// The rule's own topic hears of a failing evaluation; a test run
		// writes nothing, and a muted account is an exception its owner
		// granted, not news at every period.
		if topic := p.AlertTopicARN; perr == nil && topic != "" && res.Status != trailguard.StatusPass && res.Status != trailguard.StatusMuted && !resp.TestMode {
			id, err := h.publish(ctx, topic, subject(res, account), h.verdictMessage(res, inv.MessageType))
			if err != nil {
				resp.Errors = append(resp.Errors, err.Error())
			}
			resp.AlertMessageID = id
		}
	}
	eval.ResourceType, eval.ResourceID, eval.OrderingTimestamp = accountResource, account, when
	resp.Evaluations = []Evaluation{eval}

	in := &configservice.PutEvaluationsInput{ResultToken: aws.String(ev.ResultToken), TestMode: resp.TestMode,
		Evaluations: []cstypes.Evaluation{{
			ComplianceResourceType: aws.String(eval.ResourceType), ComplianceResourceId: aws.String(eval.ResourceID),
			ComplianceType: cstypes.ComplianceType(eval.ComplianceType), OrderingTimestamp: aws.Time(eval.OrderingTimestamp)}}}
	if eval.Annotation != "" {
		in.Evaluations[0].Annotation = aws.String(eval.Annotation)
	}
	// The result token belongs to the rule that invoked the function, in
	// the event's accountId: an organization rule's member rule lives in
	// the member account, so its evaluation is written from there.
	ruleAccount := ev.AccountID
	if !accountID.MatchString(ruleAccount) {
		ruleAccount = account
	}
	role := ""
	if perr == nil {
		role = p.ExecutionRoleName
	}
	wcfg, err := h.evaluationConfig(ctx, ruleAccount, account, role, resp.TestMode, scanCfg)
	if err != nil {
		h.logf("%v", err)
		resp.Errors = append(resp.Errors, err.Error())
		return resp, err
	}
	out, err := configservice.NewFromConfig(wcfg).PutEvaluations(ctx, in)
	if err != nil {
		err = fmt.Errorf("config:PutEvaluations for account %s: %w", account, err)
		h.logf("%v", err)
		return resp, err
	}
	if len(out.FailedEvaluations) > 0 {
		return resp, fmt.Errorf("config:PutEvaluations for account %s: %d evaluation(s) refused", account, len(out.FailedEvaluations))
	}
	if len(resp.Errors) > 0 {
		return resp, fmt.Errorf("account %s: %s", account, strings.Join(resp.Errors, "; "))
	}
	return resp, nil
}

// evaluationConfig is the configuration PutEvaluations is called with.
// A result token is good only in the account of the rule it was issued
// for (AWS Config refuses it from another account with
// InvalidResultTokenException). An organization custom rule runs as a
// member rule in each member account and invokes the central function,
// so the function writes each member's evaluation through the member
// role, as the AWS Config RDK's assume-role mode does (its rules create
// their config client, PutEvaluations included, with the credentials of
// the executionRoleName in the event's account). In test mode nothing is
// stored and the token names no rule: the function's own role writes.
// The credentials are retrieved first, so that a role that cannot be
// assumed is one error naming it and what to grant.
func (h *Handler) evaluationConfig(ctx context.Context, ruleAccount, scanned, role string, testMode bool, scanCfg *aws.Config) (aws.Config, error) {
	if testMode {
		return h.Config, nil
	}
	self, err := h.selfAccount(ctx)
	if err != nil {
		return h.Config, fmt.Errorf("config:PutEvaluations for account %s not written: the function's own account could not be read: %w", ruleAccount, err)
	}
	if ruleAccount == self || !accountID.MatchString(ruleAccount) {
		// An event that names no valid account is answered (ERROR) where
		// the function runs: no role can be named for it.
		return h.Config, nil
	}
	cfg := tgaws.MemberConfig(h.Config, ruleAccount, tgaws.OrgOptions{RoleName: role})
	// The scan's member credentials are the same role's, cached: reusing
	// them saves a second AssumeRole. Pointers are compared, not the
	// providers (an interface comparison panics on a provider that is not
	// comparable).
	if scanCfg != nil && scanned == ruleAccount {
		own, _ := h.Config.Credentials.(*aws.CredentialsCache)
		if c, ok := scanCfg.Credentials.(*aws.CredentialsCache); ok && c != own {
			cfg = *scanCfg
		}
	}
	if _, err := cfg.Credentials.Retrieve(ctx); err != nil {
		arn := MemberRoleARN(ruleAccount, role)
		return cfg, fmt.Errorf("config:PutEvaluations for account %s not written: its rule's result token is good only in that account, "+
			"so the evaluation is written through role %s, which could not be assumed (%v). "+
			"Allow the function's role sts:AssumeRole on %s, make that role trust the function's role, and allow it config:PutEvaluations "+
			"and the scan's reads (cloudtrail:DescribeTrails, cloudtrail:GetTrailStatus, cloudtrail:GetEventSelectors, ec2:DescribeRegions)",
			ruleAccount, arn, err, arn)
	}
	return cfg, nil
}

// MemberRoleARN is the role the function assumes in another account:
// executionRoleName, or the role AWS Organizations creates in the
// accounts it creates when the rule names none.
func MemberRoleARN(account, role string) string {
	if role == "" {
		role = tgaws.DefaultRoleName
	}
	return "arn:aws:iam::" + account + ":role/" + role
}

// configVerdict scans the account with the rule's parameters and applies
// the rule's mutelist. Parameters that do not parse are an ERROR verdict
// (reported NON_COMPLIANT), never a scan with defaults; so is a mutelist
// that cannot be read or parsed, whatever the scan found, since an
// exception silently dropped would report a granted exception as a
// failure and one silently half-read could hide a failure. cfg is the
// configuration that reached the account (nil when no scan ran); notices
// name expired mutelist entries.
func (h *Handler) configVerdict(ctx context.Context, p RuleParameters, perr error, account string) (res trailguard.Result, cfg *aws.Config, notices []string) {
	if perr != nil {
		return trailguard.Result{Account: account, Status: trailguard.StatusError, Reasons: []string{perr.Error()}}, nil, nil
	}
	var list *mutelist.List
	var lerr error
	if p.Mutelist.Set() {
		list, lerr = h.loadMutelist(ctx, p.Mutelist)
	}
	res, _, c := h.scan(ctx, account, p.ExecutionRoleName, bool(p.Strict))
	cfg = &c
	switch {
	case lerr != nil:
		res = trailguard.Result{Account: account, Status: trailguard.StatusError,
			Reasons: []string{fmt.Sprintf("mutelist not applied (verdict without it: %s): %v", res.Status, lerr)}}
	case list != nil:
		results := []trailguard.Result{res}
		notices = list.Apply(results, h.now())
		res = results[0]
	}
	return res, cfg, notices
}

// complianceOf maps a verdict to Config: only PASS is COMPLIANT; a verdict
// that could not be reached (UNKNOWN, ERROR) is NON_COMPLIANT, since
// reporting it COMPLIANT would be a false pass and INSUFFICIENT_DATA is
// not accepted from a custom rule. A MUTED account is NOT_APPLICABLE: an
// exception is not a pass (DESIGN.md keeps the underlying status), so
// COMPLIANT would tell an auditor the control holds where it does not;
// NON_COMPLIANT would make the exception its owner granted pointless.
// NOT_APPLICABLE is AWS Config's "the rule does not apply here": it stays
// in the rule's results with the annotation saying who muted it, why and
// until when, and does not count toward the rule's compliance, as MUTED
// does not fail a scan.
func complianceOf(s trailguard.Status) string {
	switch s {
	case trailguard.StatusPass:
		return string(cstypes.ComplianceTypeCompliant)
	case trailguard.StatusMuted:
		return string(cstypes.ComplianceTypeNotApplicable)
	}
	return string(cstypes.ComplianceTypeNonCompliant)
}

// Annotation is the verdict in Config's annotation: the status first, then
// the reasons, with control and non-printing characters replaced and the
// whole cut, by characters, to AWS Config's 256.
func Annotation(r trailguard.Result) string {
	s := string(r.Status)
	if r.Status == trailguard.StatusMuted {
		// Who muted it and why come first: the reasons may be cut.
		s += " (" + string(r.Underlying) + "): " + r.MuteReason
		if len(r.Reasons) > 0 {
			s += "; " + strings.Join(r.Reasons, "; ")
		}
	} else if len(r.Reasons) > 0 {
		s += ": " + strings.Join(r.Reasons, "; ")
	} else if r.Status == trailguard.StatusPass && r.CoveringTrail != "" {
		s += ": covered by " + r.CoveringTrail
	}
	return clip(printable(s), maxAnnotation)
}

// printable replaces every rune that is not printable (control characters,
// ANSI escapes, bidi overrides, invalid UTF-8) with a space and collapses
// runs of spaces.
func printable(s string) string {
	var b strings.Builder
	space := false
	for _, r := range s {
		if r == unicode.ReplacementChar || !unicode.IsPrint(r) {
			r = ' '
		}
		if r == ' ' {
			if space {
				continue
			}
			space = true
		} else {
			space = false
		}
		b.WriteRune(r)
	}
	return strings.TrimSpace(b.String())
}

// clip cuts s to at most max runes, ending with "…" when cut.
func clip(s string, max int) string {
	r := []rune(s)
	if len(r) <= max {
		return s
	}
	return string(r[:max-1]) + "…"
}

// logf writes one line to the function's log (CloudWatch Logs on Lambda).
func (h *Handler) logf(format string, args ...any) {
	w := h.Log
	if w == nil {
		w = os.Stderr
	}
	fmt.Fprintf(w, "trailguard: "+format+"\n", args...)
}

func (h *Handler) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}
