package control

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/configservice"
	cstypes "github.com/aws/aws-sdk-go-v2/service/configservice/types"

	"github.com/trailguard/trailguard"
)

// maxAnnotation is AWS Config's limit on Evaluation.Annotation, in
// characters.
const maxAnnotation = 256

// accountResource is the resource type a whole-account rule reports on.
const accountResource = "AWS::::Account"

// RuleParameters are the Config rule's input parameters. They are decoded
// strictly: an unknown key is a typo that would otherwise silently change
// the verdict. (A mutelist is not a parameter yet: the rule reports the
// control as it is.)
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

	var eval Evaluation
	switch {
	case ev.EventLeftScope:
		eval = Evaluation{ComplianceType: string(cstypes.ComplianceTypeNotApplicable)}
		resp.Status = ""
	default:
		res, topic := h.configVerdict(ctx, ev.RuleParameters, account)
		resp.Status, resp.Reasons = res.Status, res.Reasons
		eval = Evaluation{ComplianceType: complianceOf(res.Status), Annotation: Annotation(res)}
		if topic != "" && res.Status != trailguard.StatusPass && !resp.TestMode {
			// The rule's own topic hears of a failing evaluation; a test
			// run writes nothing.
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
	out, err := configservice.NewFromConfig(h.Config).PutEvaluations(ctx, in)
	if err != nil {
		return resp, fmt.Errorf("config:PutEvaluations for account %s: %w", account, err)
	}
	if len(out.FailedEvaluations) > 0 {
		return resp, fmt.Errorf("config:PutEvaluations for account %s: %d evaluation(s) refused", account, len(out.FailedEvaluations))
	}
	if len(resp.Errors) > 0 {
		return resp, fmt.Errorf("account %s: %s", account, strings.Join(resp.Errors, "; "))
	}
	return resp, nil
}

// configVerdict scans the account with the rule's parameters; parameters
// that do not parse are an ERROR verdict (reported NON_COMPLIANT), never
// a scan with defaults.
func (h *Handler) configVerdict(ctx context.Context, params, account string) (trailguard.Result, string) {
	p, err := ParseRuleParameters(params)
	if err != nil {
		return trailguard.Result{Account: account, Status: trailguard.StatusError, Reasons: []string{err.Error()}}, ""
	}
	res, _, _ := h.scan(ctx, account, p.ExecutionRoleName, bool(p.Strict))
	// Only the rule's own alertTopicArn hears of evaluations: the
	// environment's topic is for change events, which already alert once.
	return res, p.AlertTopicARN
}

// complianceOf maps a verdict to Config: only PASS is COMPLIANT; a verdict
// that could not be reached (UNKNOWN, ERROR) is NON_COMPLIANT, since
// reporting it COMPLIANT would be a false pass and INSUFFICIENT_DATA is
// not accepted from a custom rule.
func complianceOf(s trailguard.Status) string {
	if s == trailguard.StatusPass {
		return string(cstypes.ComplianceTypeCompliant)
	}
	return string(cstypes.ComplianceTypeNonCompliant)
}

// Annotation is the verdict in Config's annotation: the status first, then
// the reasons, with control and non-printing characters replaced and the
// whole cut, by characters, to AWS Config's 256.
func Annotation(r trailguard.Result) string {
	s := string(r.Status)
	if len(r.Reasons) > 0 {
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

func (h *Handler) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}
