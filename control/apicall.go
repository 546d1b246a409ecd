package control

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/trailguard/trailguard"
)

// watched are the CloudTrail API calls that can make the control stop
// holding (or, StartLogging and CreateTrail, show it holds again).
var watched = map[string]bool{
	"StopLogging": true, "DeleteTrail": true, "UpdateTrail": true,
	"PutEventSelectors": true, "CreateTrail": true, "StartLogging": true,
}

// apiCallEvent is the part of the "AWS API Call via CloudTrail" envelope
// the handler reads. Every string in it comes from the caller of the API
// and is treated as hostile.
type apiCallEvent struct {
	Account string `json:"account"`
	Region  string `json:"region"`
	Time    string `json:"time"`
	Detail  struct {
		EventSource  string `json:"eventSource"`
		EventName    string `json:"eventName"`
		EventTime    string `json:"eventTime"`
		AWSRegion    string `json:"awsRegion"`
		SourceIP     string `json:"sourceIPAddress"`
		UserAgent    string `json:"userAgent"`
		ErrorCode    string `json:"errorCode"`
		Recipient    string `json:"recipientAccountId"`
		UserIdentity struct {
			ARN string `json:"arn"`
		} `json:"userIdentity"`
		RequestParameters json.RawMessage `json:"requestParameters"`
	} `json:"detail"`
}

var trailARNPattern = regexp.MustCompile(`^arn:(aws[a-z-]*):cloudtrail:([a-z0-9-]+):([0-9]{12}):trail/([A-Za-z0-9._-]{1,128})$`)
var regionPattern = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]$`)

// TrailARN normalises the trail an API call names (requestParameters
// name, or trailName for PutEventSelectors): an ARN stays as it is, a
// name becomes the ARN of that trail in the call's region and account, as
// CloudTrail resolves it. "" when the call names no trail.
func TrailARN(name, region, account string) string {
	name = strings.TrimSpace(name)
	if name == "" {
		return ""
	}
	if strings.HasPrefix(name, "arn:") {
		return name
	}
	return fmt.Sprintf("arn:%s:cloudtrail:%s:%s:trail/%s", trailguard.Partition(region), region, account, name)
}

func (e *apiCallEvent) trail() string {
	var p struct {
		Name      string `json:"name"`
		TrailName string `json:"trailName"`
	}
	_ = json.Unmarshal(e.Detail.RequestParameters, &p) // absent or odd parameters name no trail
	n := p.Name
	if n == "" {
		n = p.TrailName
	}
	region := e.Detail.AWSRegion
	if region == "" {
		region = e.Region
	}
	return TrailARN(n, region, e.Account)
}

func (h *Handler) handleAPICall(ctx context.Context, raw []byte) (Response, error) {
	var ev apiCallEvent
	if err := json.Unmarshal(raw, &ev); err != nil {
		return Response{Kind: "cloudtrail-event"}, fmt.Errorf("EventBridge event: %w", err)
	}
	resp := Response{Kind: "cloudtrail-event", Account: ev.Account}
	if ev.Detail.EventSource != "cloudtrail.amazonaws.com" || !watched[ev.Detail.EventName] {
		resp.Ignored = fmt.Sprintf("%s %s cannot change the control", quote(ev.Detail.EventSource, 80), quote(ev.Detail.EventName, 80))
		return resp, nil
	}
	if ev.Detail.Recipient != "" && ev.Detail.Recipient != ev.Account {
		// The account acted on is the recipient; the envelope's account is
		// where the event was delivered (the same for a call in one account).
		resp.Account = ev.Detail.Recipient
	}
	trailARN := ev.trail()
	resp.Event, resp.Trail = ev.Detail.EventName, trailARN
	res, acct, cfg := h.scan(ctx, resp.Account, h.Settings.ExecutionRoleName, h.Settings.Strict)

	if res.Status != trailguard.StatusPass && h.Settings.AutoRemediate {
		if ev.Detail.EventName != "StopLogging" || ev.Detail.ErrorCode != "" {
			resp.Remediation = "none: auto-remediation answers only a StopLogging call that succeeded"
		} else {
			resp.Remediation = h.startLogging(ctx, cfg, acct, resp.Account, trailARN)
			if strings.HasPrefix(resp.Remediation, "StartLogging on ") {
				res, _, _ = h.scan(ctx, resp.Account, h.Settings.ExecutionRoleName, h.Settings.Strict)
			}
		}
	}
	resp.Status, resp.Reasons = res.Status, res.Reasons

	if res.Status != trailguard.StatusPass || resp.Remediation != "" && strings.HasPrefix(resp.Remediation, "StartLogging on ") {
		if h.Settings.AlertTopicARN == "" {
			resp.Errors = append(resp.Errors, "no alert topic: "+EnvAlertTopic+" is not set")
		} else {
			id, err := h.publish(ctx, h.Settings.AlertTopicARN, subject(res, resp.Account), h.alert(&ev, trailARN, res, resp.Remediation))
			if err != nil {
				resp.Errors = append(resp.Errors, err.Error())
			}
			resp.AlertMessageID = id
		}
	}
	started, notice, err := h.reevaluate(ctx, resp.Account)
	if err != nil {
		resp.Errors = append(resp.Errors, err.Error())
	}
	if notice != "" {
		resp.Notices = append(resp.Notices, notice)
	}
	resp.RuleEvaluationStarted = started
	if len(resp.Errors) > 0 {
		return resp, fmt.Errorf("account %s: %s", resp.Account, strings.Join(resp.Errors, "; "))
	}
	return resp, nil
}

// startLogging is the one write the function may make. It acts only on
// the trail the event stopped, and only when this run read it as a
// multi-region trail of this account that is not logging: a write depends
// on a read. It returns what it did, or why it did nothing.
func (h *Handler) startLogging(ctx context.Context, cfg aws.Config, acct trailguard.Account, account, trailARN string) string {
	m := trailARNPattern.FindStringSubmatch(trailARN)
	if m == nil {
		return "none: the event names no trail ARN " + quote(trailARN, 200)
	}
	if m[3] != account {
		return "none: trail " + quote(trailARN, 200) + " is not of account " + account
	}
	var t *trailguard.Trail
	for i := range acct.Trails {
		if acct.Trails[i].ARN == trailARN {
			t = &acct.Trails[i]
		}
	}
	switch {
	case t == nil:
		return "none: trail " + quote(trailARN, 200) + " was not read in this run"
	case !t.IsMultiRegion:
		return "none: trail " + trailARN + " is not multi-region"
	case t.Status == nil:
		return "none: the status of trail " + trailARN + " could not be read: " + printable(t.StatusError)
	case t.Status.IsLogging:
		return "none: trail " + trailARN + " is logging"
	case !regionPattern.MatchString(t.HomeRegion):
		return "none: trail " + trailARN + " has no home region"
	}
	_, err := cloudtrail.NewFromConfig(cfg, func(o *cloudtrail.Options) { o.Region = t.HomeRegion }).
		StartLogging(ctx, &cloudtrail.StartLoggingInput{Name: aws.String(trailARN)})
	if err != nil {
		return "failed: cloudtrail:StartLogging on " + trailARN + ": " + printable(err.Error())
	}
	return "StartLogging on " + trailARN + " (it had been stopped)"
}

func subject(res trailguard.Result, account string) string {
	if res.Status == trailguard.StatusPass {
		return "trailguard: CIS 3.1 restored in account " + account
	}
	return "trailguard: CIS 3.1 " + string(res.Status) + " in account " + account
}

// alert is the message the security team reads. Every value from the
// event is quoted (escapes for control characters and non-ASCII), so
// that a forged user agent cannot write to the reader's terminal or fake
// a line of the alert.
func (h *Handler) alert(ev *apiCallEvent, trailARN string, res trailguard.Result, remediation string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "CloudTrail in account %s is %s after an API call (CIS AWS Foundations 3.1).\n\n", res.Account, res.Status)
	if res.Account == "" {
		b.Reset()
		fmt.Fprintf(&b, "CloudTrail in account %s is %s after an API call (CIS AWS Foundations 3.1).\n\n", quote(ev.Account, 40), res.Status)
	}
	when := ev.Detail.EventTime
	if when == "" {
		when = ev.Time
	}
	fmt.Fprintf(&b, "Who:   %s\n", quote(ev.Detail.UserIdentity.ARN, 300))
	fmt.Fprintf(&b, "What:  %s on trail %s\n", quote(ev.Detail.EventName, 80), quote(trailARN, 300))
	if ev.Detail.ErrorCode != "" {
		fmt.Fprintf(&b, "       (the call failed: %s)\n", quote(ev.Detail.ErrorCode, 80))
	}
	fmt.Fprintf(&b, "When:  %s\n", quote(when, 40))
	fmt.Fprintf(&b, "From:  %s, user agent %s\n\n", quote(ev.Detail.SourceIP, 80), quote(ev.Detail.UserAgent, 300))
	fmt.Fprintf(&b, "Verdict: %s\n", res.Status)
	for _, r := range res.Reasons {
		fmt.Fprintf(&b, "  - %s\n", printable(r))
	}
	if remediation != "" {
		fmt.Fprintf(&b, "\nAuto-remediation: %s\n", printable(remediation))
	}
	if res.Status != trailguard.StatusPass {
		fmt.Fprintf(&b, "\nTo fix, run with credentials of account %s:\n  %s\n", quote(res.Account, 40), h.fixCommand(res.Account))
	}
	return b.String()
}

// fixCommand is the exact trailguard command that plans the fix; every
// part of it is checked (account id, role name, flags) so it is safe to
// paste into a shell.
func (h *Handler) fixCommand(account string) string {
	cmd := "trailguard fix"
	if h.Settings.Strict {
		cmd += " --strict"
	}
	if h.self != "" && account != h.self && accountID.MatchString(account) {
		role := h.Settings.ExecutionRoleName
		if role == "" {
			role = "OrganizationAccountAccessRole"
		}
		cmd = fmt.Sprintf("echo %s > accounts.txt && %s --org --accounts-file accounts.txt --role-name %s", account, cmd, role)
	}
	return cmd + " --apply"
}

// publish sends one alert and returns its message id.
func (h *Handler) publish(ctx context.Context, topic, subj, msg string) (string, error) {
	out, err := sns.NewFromConfig(h.Config).Publish(ctx, &sns.PublishInput{
		TopicArn: aws.String(topic), Subject: aws.String(subj), Message: aws.String(msg)})
	if err != nil {
		return "", fmt.Errorf("sns:Publish to %s: %w", topic, err)
	}
	return aws.ToString(out.MessageId), nil
}

// verdictMessage is the alert of a Config evaluation that does not pass:
// no API call is behind it, only the verdict and the fix.
func (h *Handler) verdictMessage(res trailguard.Result, messageType string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "CloudTrail in account %s is %s at an AWS Config evaluation (%s) of CIS AWS Foundations 3.1.\n\nVerdict: %s\n",
		quote(res.Account, 40), res.Status, quote(messageType, 80), res.Status)
	for _, r := range res.Reasons {
		fmt.Fprintf(&b, "  - %s\n", printable(r))
	}
	fmt.Fprintf(&b, "\nTo fix, run with credentials of account %s:\n  %s\n", quote(res.Account, 40), h.fixCommand(res.Account))
	return b.String()
}
