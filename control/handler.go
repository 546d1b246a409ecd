package control

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"sync"
	"time"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/trailguard/trailguard"
	tgaws "github.com/trailguard/trailguard/aws"
)

// Environment variables the function reads (Settings.FromEnv).
const (
	EnvAlertTopic     = "TRAILGUARD_ALERT_TOPIC_ARN"
	EnvConfigRule     = "TRAILGUARD_CONFIG_RULE_NAME"
	EnvOrgConfigRule  = "TRAILGUARD_ORG_CONFIG_RULE_NAME"
	EnvAutoRemediate  = "TRAILGUARD_AUTO_REMEDIATE"
	EnvExecutionRole  = "TRAILGUARD_EXECUTION_ROLE_NAME"
	EnvStrict         = "TRAILGUARD_STRICT"
	RemediateStartLog = "start-logging"
)

// maxEvent bounds the event the handler decodes: Lambda's own invocation
// payload limit (6 MB) is far above any event Config or EventBridge sends.
const maxEvent = 1 << 20

// Settings are the function's configuration, from its environment.
type Settings struct {
	// AlertTopicARN is the SNS topic alerts go to ("" for none).
	AlertTopicARN string
	// ConfigRuleName is the Config rule re-evaluated after a change event.
	ConfigRuleName string
	// OrgConfigRuleName is the organization Config rule whose member rule,
	// in the account a change event names, is re-evaluated after it
	// (control/reevaluate.go).
	OrgConfigRuleName string
	// AutoRemediate allows the one write the function may make:
	// StartLogging on the multi-region trail an event stopped.
	AutoRemediate bool
	// ExecutionRoleName is assumed in an account other than the
	// function's own for change events (Config events name their own in
	// the rule parameters).
	ExecutionRoleName string
	// Strict is the --strict of scan for change events.
	Strict bool
}

// SettingsFromEnv reads Settings from the environment; a value it does not
// understand is an error, so that a typo does not silently switch
// remediation off or on.
func SettingsFromEnv(getenv func(string) string) (Settings, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	s := Settings{
		AlertTopicARN:     strings.TrimSpace(getenv(EnvAlertTopic)),
		ConfigRuleName:    strings.TrimSpace(getenv(EnvConfigRule)),
		OrgConfigRuleName: strings.TrimSpace(getenv(EnvOrgConfigRule)),
		ExecutionRoleName: strings.TrimSpace(getenv(EnvExecutionRole)),
	}
	switch v := strings.TrimSpace(getenv(EnvAutoRemediate)); v {
	case "", "off", "none":
	case RemediateStartLog:
		s.AutoRemediate = true
	default:
		return s, fmt.Errorf("%s=%q: want %q or empty", EnvAutoRemediate, v, RemediateStartLog)
	}
	switch v := strings.TrimSpace(getenv(EnvStrict)); v {
	case "", "false":
	case "true":
		s.Strict = true
	default:
		return s, fmt.Errorf("%s=%q: want true or false", EnvStrict, v)
	}
	if s.AlertTopicARN != "" && !snsARN.MatchString(s.AlertTopicARN) {
		return s, fmt.Errorf("%s=%q is not an SNS topic ARN", EnvAlertTopic, s.AlertTopicARN)
	}
	if s.OrgConfigRuleName != "" && !orgRuleName.MatchString(s.OrgConfigRuleName) {
		return s, fmt.Errorf("%s=%q is not an organization Config rule name (1 to 64 letters, digits, '-', '_')", EnvOrgConfigRule, s.OrgConfigRuleName)
	}
	if s.ExecutionRoleName != "" && !roleName.MatchString(s.ExecutionRoleName) {
		return s, fmt.Errorf("%s=%q is not an IAM role name", EnvExecutionRole, s.ExecutionRoleName)
	}
	return s, nil
}

var (
	accountID = regexp.MustCompile(`^[0-9]{12}$`)
	roleName  = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)
	snsARN    = regexp.MustCompile(`^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}$`)
)

// Handler is the function. Config is the function's own AWS
// configuration (its execution role); Settings come from the environment.
type Handler struct {
	Config   sdkaws.Config
	Settings Settings
	// Now stamps evaluations when an event carries no time (time.Now if nil).
	Now func() time.Time
	// Log receives what an operator must see in the function's log: an
	// evaluation that could not be written, expired mutelist entries
	// (os.Stderr, which Lambda sends to CloudWatch Logs, if nil).
	Log io.Writer

	once  sync.Once
	self  string
	selfE error

	// members caches the configuration of each member role assumed, so
	// that a warm instance assumes a role once, not once per invocation;
	// its credentials cache refreshes them when they expire. Credentials
	// only: every invocation reads the trails anew.
	membersMu sync.Mutex
	members   map[string]sdkaws.Config
}

// maxMemberConfigs bounds the member roles one instance caches (one per
// account of an organization); past it the cache is emptied and refilled.
const maxMemberConfigs = 10000

// memberConfig is the configuration that reaches account through role,
// assumed once per instance.
func (h *Handler) memberConfig(account, role string) sdkaws.Config {
	key := account + "/" + role
	h.membersMu.Lock()
	defer h.membersMu.Unlock()
	if cfg, ok := h.members[key]; ok {
		return cfg
	}
	if h.members == nil || len(h.members) >= maxMemberConfigs {
		h.members = map[string]sdkaws.Config{}
	}
	cfg := tgaws.MemberConfig(h.Config, account, tgaws.OrgOptions{RoleName: role})
	h.members[key] = cfg
	return cfg
}

// Response is what one invocation did, returned to Lambda as JSON.
type Response struct {
	Kind    string            `json:"kind"` // "config" or "cloudtrail-event"
	Account string            `json:"account,omitempty"`
	Status  trailguard.Status `json:"status,omitempty"`
	Reasons []string          `json:"reasons,omitempty"`
	// Event and Trail are the API call a change event reports and the
	// trail it names (as an ARN), as the event says them.
	Event string `json:"event,omitempty"`
	Trail string `json:"trail,omitempty"`
	// Ignored says why an event was not acted on (an API call that cannot
	// change the control).
	Ignored     string       `json:"ignored,omitempty"`
	Evaluations []Evaluation `json:"evaluations,omitempty"`
	TestMode    bool         `json:"test_mode,omitempty"`
	// AlertMessageID is the SNS message id of the alert published.
	AlertMessageID string `json:"alert_message_id,omitempty"`
	// Remediation says what was done (or why nothing was) when
	// auto-remediation is on.
	Remediation string `json:"remediation,omitempty"`
	// RuleEvaluationStarted names the Config rule asked to evaluate again
	// (with an organization rule, the account's member rule).
	RuleEvaluationStarted string `json:"rule_evaluation_started,omitempty"`
	// Notices name mutelist entries that expired and no longer mute, and
	// an account with no member rule of the organization rule to re-evaluate.
	Notices []string `json:"notices,omitempty"`
	// Errors are the writes that failed (alert, re-evaluation); the
	// invocation fails when one did, so that it is retried and seen.
	Errors []string `json:"errors,omitempty"`
}

// Evaluation is one evaluation reported to AWS Config.
type Evaluation struct {
	ResourceType      string    `json:"resource_type"`
	ResourceID        string    `json:"resource_id"`
	ComplianceType    string    `json:"compliance_type"`
	Annotation        string    `json:"annotation,omitempty"`
	OrderingTimestamp time.Time `json:"ordering_timestamp"`
}

// Handle decodes one raw event and dispatches it on its shape: a Config
// rule event carries invokingEvent and resultToken, an EventBridge event
// detail-type. Anything else is an error naming what was seen, never a
// silent success.
func (h *Handler) Handle(ctx context.Context, raw json.RawMessage) (Response, error) {
	if len(raw) > maxEvent {
		return Response{}, fmt.Errorf("event of %d bytes is over the %d-byte limit", len(raw), maxEvent)
	}
	var probe struct {
		InvokingEvent *string `json:"invokingEvent"`
		ResultToken   *string `json:"resultToken"`
		DetailType    *string `json:"detail-type"`
		Source        *string `json:"source"`
	}
	if err := json.Unmarshal(raw, &probe); err != nil {
		return Response{}, fmt.Errorf("event is not a JSON object: %w", err)
	}
	switch {
	case probe.InvokingEvent != nil && probe.ResultToken != nil:
		return h.handleConfig(ctx, raw)
	case probe.DetailType != nil:
		if *probe.DetailType != "AWS API Call via CloudTrail" {
			return Response{Kind: "cloudtrail-event", Ignored: "detail-type " + quote(*probe.DetailType, 80) + " is not an AWS API call"}, nil
		}
		return h.handleAPICall(ctx, raw)
	}
	return Response{}, errors.New("event is neither an AWS Config rule event (invokingEvent, resultToken) nor an EventBridge event (detail-type)")
}

// selfAccount is the function's own account, read once from STS.
func (h *Handler) selfAccount(ctx context.Context) (string, error) {
	h.once.Do(func() {
		out, err := sts.NewFromConfig(h.Config).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		if err != nil {
			h.selfE = fmt.Errorf("sts:GetCallerIdentity: %w", err)
			return
		}
		h.self = sdkaws.ToString(out.Account)
	})
	return h.self, h.selfE
}

// scan judges one account: the function's own through its own role,
// another through role (aws.MemberConfig). It always returns a result: an
// account that cannot be reached is ERROR with the reason.
func (h *Handler) scan(ctx context.Context, account, role string, strict bool) (trailguard.Result, trailguard.Account, sdkaws.Config) {
	fail := func(format string, args ...any) (trailguard.Result, trailguard.Account, sdkaws.Config) {
		return trailguard.Result{Account: account, Status: trailguard.StatusError, Reasons: []string{fmt.Sprintf(format, args...)}}, trailguard.Account{}, h.Config
	}
	if !accountID.MatchString(account) {
		return fail("the event names no valid account id (%s)", quote(account, 40))
	}
	self, err := h.selfAccount(ctx)
	if err != nil {
		return fail("the function's own account could not be read: %v", err)
	}
	cfg := h.Config
	if account != self {
		if role != "" && !roleName.MatchString(role) {
			return fail("executionRoleName %s is not an IAM role name", quote(role, 80))
		}
		cfg = h.memberConfig(account, role)
	}
	// The function reports only the verdict: the account id is known (its
	// own, or the one the role was assumed in) and the enabled regions
	// are read only when the account does not pass. That keeps a warm
	// evaluation of a member covered by an organization trail to
	// DescribeTrails, GetTrailStatus, GetEventSelectors (and the
	// PutEvaluations that reports it).
	out, err := tgaws.Scan(ctx, cfg, tgaws.ScanOptions{Evaluate: trailguard.Options{Strict: strict}, Account: account, VerdictOnly: true})
	if err != nil {
		return fail("scan: %v", err)
	}
	if len(out.Results) != 1 || len(out.Accounts) != 1 {
		return fail("scan returned %d results for one account", len(out.Results))
	}
	res := out.Results[0]
	if res.Account != "" && res.Account != account {
		// The credentials reached another account than the event names: its
		// verdict says nothing about this one.
		return fail("the scan read account %s, not %s", res.Account, account)
	}
	return res, out.Accounts[0], cfg
}

// quote makes hostile text safe for a terminal, an e-mail and a log: it is
// cut to max runes and printed as a Go string literal, so that control
// characters, ANSI escapes and invalid UTF-8 show as escapes.
func quote(s string, max int) string {
	r := []rune(s)
	if len(r) > max {
		s = string(r[:max]) + "…"
	}
	return fmt.Sprintf("%+q", s)
}

// decodeStrict decodes one JSON object into v, refusing unknown fields and
// trailing data.
func decodeStrict(data []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(data))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return err
	}
	if d.More() {
		return errors.New("data after the JSON object")
	}
	return nil
}
