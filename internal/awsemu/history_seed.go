package awsemu

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"
)

// SeedHistory gives every account of the emulator a realistic past in
// CloudTrail event history, consistent with its trails now, so that a
// history read through LookupEvents replays to the state a scan reads. It
// is SeedHistoryWithin(now, EventRetention).
func (e *Emulator) SeedHistory(now time.Time) error {
	return e.SeedHistoryWithin(now, EventRetention)
}

// SeedHistoryWithin seeds the past as SeedHistory does, keeping only the
// events of the span before now (at most the 90 days event history
// keeps). The stories follow from each account's state now, so the demo
// organization (internal/demo) and a generated one both get them:
//
//   - the first multi-region trail that logs now (the demo's organization
//     trail): logging stopped for three days last month by an IAM user from
//     one IP (StopLogging, then StartLogging), a StopLogging by an assumed
//     role that was denied, and its event selectors narrowed to read-only
//     and widened back to what they are now;
//   - every other multi-region trail that logs now, in turn: deleted and
//     recreated with the same settings within the hour (its state before
//     the deletion is one the window never shows), or its selectors
//     narrowed to read-only and widened back;
//   - a multi-region trail that does not log now: created two months ago,
//     logging started, then stopped nine days ago;
//   - a single-region trail: created and started ten weeks ago (a change
//     that never covers the account);
//   - an account that sees no trail at all: its multi-region trail
//     "legacy-trail", created before the window, deleted fifteen days ago.
//
// Trail start and stop times (GetTrailStatus) are set to agree, and a
// trail whose selectors were put back has custom selectors from then on
// (the same as the default), as on AWS. Calling it twice adds the stories
// twice: seed once.
func (e *Emulator) SeedHistoryWithin(now time.Time, span time.Duration) error {
	now = now.UTC().Truncate(time.Minute)
	span = min(span, EventRetention)
	e.mu.Lock()
	var evs []CloudTrailEvent
	var multiLogging, stopped, single []*trail
	hasTrail := map[string]bool{}
	for _, t := range e.trails {
		hasTrail[t.account] = true
		switch {
		case t.multiRegion && t.logging:
			multiLogging = append(multiLogging, t)
		case t.multiRegion:
			stopped = append(stopped, t)
		default:
			single = append(single, t)
		}
	}
	// By account, then ARN: the stories fall on the same trails every
	// time, the first on the lowest account's (the demo's management
	// account, whose organization trail it is).
	byARN := func(ts []*trail) {
		sort.Slice(ts, func(i, j int) bool {
			if ts[i].account != ts[j].account {
				return ts[i].account < ts[j].account
			}
			return ts[i].arn < ts[j].arn
		})
	}
	byARN(multiLogging)
	byARN(stopped)
	byARN(single)
	day := 24 * time.Hour
	for i, t := range multiLogging {
		s := seedStory{t: t, now: now}
		switch {
		case i == 0:
			stop, start := now.Add(-35*day-2*time.Hour), now.Add(-32*day-2*time.Hour+17*time.Minute)
			evs = append(evs,
				s.call(stop, "StopLogging", s.iamUser("ops-admin"), "203.0.113.45", cliAgent("stop-logging"), "", map[string]any{"name": t.name}, nil),
				s.call(start, "StartLogging", s.iamUser("ops-admin"), "203.0.113.45", cliAgent("start-logging"), "", map[string]any{"name": t.name}, nil),
				s.call(now.Add(-12*day+5*time.Hour), "StopLogging", s.role("Developer", "mallory"), "198.51.100.77", cliAgent("stop-logging"),
					"AccessDenied", map[string]any{"name": t.arn}, nil),
			)
			evs = append(evs, s.narrowed(now.Add(-20*day+3*time.Hour), time.Hour+40*time.Minute)...)
			t.startLogging = start
		case i%2 == 1:
			del := now.Add(-45*day + 9*time.Hour)
			create := del.Add(38 * time.Minute)
			evs = append(evs,
				s.call(del, "DeleteTrail", s.role("Admin", "alice"), "192.0.2.10", consoleAgent, "", map[string]any{"name": t.arn}, nil),
				s.create(create, s.role("Admin", "alice")),
			)
			if sel := s.selectors(); sel != nil {
				evs = append(evs, s.call(create.Add(2*time.Minute), "PutEventSelectors", s.role("Admin", "alice"), "192.0.2.10", consoleAgent, "",
					mergeMaps(map[string]any{"trailName": t.name}, sel), mergeMaps(map[string]any{"trailARN": t.arn}, sel)))
			}
			start := create.Add(3 * time.Minute)
			evs = append(evs, s.call(start, "StartLogging", s.role("Admin", "alice"), "192.0.2.10", consoleAgent, "", map[string]any{"name": t.name}, nil))
			t.startLogging = start
		default:
			evs = append(evs, s.narrowed(now.Add(-25*day+14*time.Hour), 26*time.Hour)...)
		}
	}
	for _, t := range stopped {
		s := seedStory{t: t, now: now}
		create, stop := now.Add(-60*day+10*time.Hour), now.Add(-9*day+23*time.Hour+12*time.Minute)
		evs = append(evs,
			s.create(create, s.iamUser("terraform")),
			s.call(create.Add(time.Minute), "StartLogging", s.iamUser("terraform"), "192.0.2.200", terraformAgent, "", map[string]any{"name": t.name}, nil),
			s.call(stop, "StopLogging", s.iamUser("ops-admin"), "203.0.113.45", cliAgent("stop-logging"), "", map[string]any{"name": t.name}, nil),
		)
		t.startLogging, t.stopLogging = create.Add(time.Minute), stop
	}
	for _, t := range single {
		s := seedStory{t: t, now: now}
		create := now.Add(-70*day + 11*time.Hour)
		evs = append(evs,
			s.create(create, s.iamUser("terraform")),
			s.call(create.Add(time.Minute), "StartLogging", s.iamUser("terraform"), "192.0.2.200", terraformAgent, "", map[string]any{"name": t.name}, nil),
		)
		if t.logging {
			t.startLogging = create.Add(time.Minute)
		}
	}
	var bare []string
	for id := range e.accounts {
		if hasTrail[id] {
			continue
		}
		reached := false
		for _, t := range e.trails {
			if e.orgTrailReaches(t, id) {
				reached = true
				break
			}
		}
		if !reached {
			bare = append(bare, id)
		}
	}
	sort.Strings(bare)
	for _, id := range bare {
		t := &trail{account: id, name: "legacy-trail", home: "us-east-1", arn: trailARN(id, "us-east-1", "legacy-trail"), multiRegion: true}
		s := seedStory{t: t, now: now}
		evs = append(evs, s.call(now.Add(-15*day+4*time.Hour+21*time.Minute), "DeleteTrail", s.iamUser("ops-admin"), "203.0.113.45",
			cliAgent("delete-trail"), "", map[string]any{"name": "legacy-trail"}, nil))
	}
	cutoff := now.Add(-span)
	retention := e.now().Add(-EventRetention)
	for _, ev := range evs {
		if ev.at.Before(cutoff) {
			continue
		}
		e.evState().log.add(ev.RecipientAccountID+"/"+ev.AWSRegion, ev, retention)
	}
	e.mu.Unlock()
	return nil
}

const (
	consoleAgent   = "AWS Internal"
	terraformAgent = "APN/1.0 HashiCorp/1.0 Terraform/1.9.5 (+https://www.terraform.io) terraform-provider-aws/5.70.0 aws-sdk-go-v2/1.32.2 api/cloudtrail#1.44.2"
)

func cliAgent(command string) string {
	return "aws-cli/2.17.20 md/awscrt#0.20.11 ua/2.0 os/linux#6.8.0 md/arch#x86_64 lang/python#3.11.9 md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe md/distrib#ubuntu.24 md/prompt#off md/command#cloudtrail." + command
}

// seedStory builds the events of one trail's past.
type seedStory struct {
	t   *trail
	now time.Time
}

func (s seedStory) iamUser(name string) UserIdentity {
	a := s.t.account
	return UserIdentity{Type: "IAMUser", PrincipalID: "AIDA" + strings.ToUpper(name[:min(4, len(name))]) + a[:8], ARN: "arn:aws:iam::" + a + ":user/" + name,
		AccountID: a, AccessKeyID: "AKIA" + a[:10] + "HIST", UserName: name}
}

func (s seedStory) role(roleName, session string) UserIdentity {
	a := s.t.account
	pid := "AROA" + strings.ToUpper(roleName[:min(4, len(roleName))]) + a[:8]
	return UserIdentity{Type: "AssumedRole", PrincipalID: pid + ":" + session, ARN: "arn:aws:sts::" + a + ":assumed-role/" + roleName + "/" + session,
		AccountID: a, AccessKeyID: "ASIA" + a[:10] + "HIST",
		SessionContext: &SessionContext{SessionIssuer: SessionIssuer{Type: "Role", PrincipalID: pid, ARN: "arn:aws:iam::" + a + ":role/" + roleName, AccountID: a, UserName: roleName}}}
}

func (s seedStory) call(at time.Time, name string, who UserIdentity, ip, agent, errorCode string, params, response map[string]any) CloudTrailEvent {
	ev := CloudTrailEvent{
		EventVersion: "1.09", UserIdentity: who, EventTime: at.Format(time.RFC3339), EventSource: "cloudtrail.amazonaws.com",
		EventName: name, AWSRegion: s.t.home, SourceIPAddress: ip, UserAgent: agent, RequestParameters: params,
		RequestID: newRequestID(), EventID: newRequestID(), EventType: "AwsApiCall", ManagementEvent: true,
		RecipientAccountID: s.t.account, EventCategory: "Management", at: at,
	}
	if errorCode != "" {
		ev.ErrorCode = errorCode
		ev.ErrorMessage = fmt.Sprintf("User: %s is not authorized to perform: cloudtrail:%s on resource: %s with an explicit deny in a service control policy", who.ARN, name, s.t.arn)
	} else {
		ev.ResponseElements = response
	}
	return ev
}

// create is the CreateTrail of the trail with its settings now.
func (s seedStory) create(at time.Time, who UserIdentity) CloudTrailEvent {
	t := s.t
	params := map[string]any{
		"name": t.name, "s3BucketName": t.bucket, "isMultiRegionTrail": t.multiRegion,
		"includeGlobalServiceEvents": t.globalEvents, "enableLogFileValidation": t.validation, "isOrganizationTrail": t.org,
	}
	if t.kmsKey != "" {
		params["kmsKeyId"] = t.kmsKey
	}
	response := map[string]any{
		"name": t.name, "s3BucketName": t.bucket, "isMultiRegionTrail": t.multiRegion, "includeGlobalServiceEvents": t.globalEvents,
		"trailARN": t.arn, "logFileValidationEnabled": t.validation, "isOrganizationTrail": t.org,
	}
	agent := consoleAgent
	if who.Type == "IAMUser" {
		agent = terraformAgent
	}
	return s.call(at, "CreateTrail", who, "192.0.2.200", agent, "", params, response)
}

// selectors are the trail's event selectors now as PutEventSelectors'
// request parameters name them; nil for a trail that never had any put.
func (s seedStory) selectors() map[string]any {
	var v any
	switch {
	case len(s.t.advanced) > 0:
		v = map[string]any{"AdvancedEventSelectors": s.t.advanced}
	case s.t.custom:
		v = map[string]any{"EventSelectors": s.t.basic}
	default:
		return nil
	}
	b, _ := json.Marshal(v)
	var m map[string]any
	json.Unmarshal(b, &m)
	return lowerKeys(m, 0).(map[string]any)
}

// narrowed is a PutEventSelectors that records read-only management
// events only, then, after gap, one that puts back the selectors the trail
// has now (all management events, read and write, for a trail without
// custom selectors).
func (s seedStory) narrowed(at time.Time, gap time.Duration) []CloudTrailEvent {
	t := s.t
	narrow := map[string]any{"eventSelectors": []any{map[string]any{
		"readWriteType": "ReadOnly", "includeManagementEvents": true, "dataResources": []any{}, "excludeManagementEventSources": []any{},
	}}}
	back := s.selectors()
	if back == nil {
		// Put back as the default it had: from then on the trail has
		// custom selectors that say the same, as on AWS.
		var in selectorsIn
		if decodeJSON([]byte(`{"EventSelectors":[{"ReadWriteType":"All","IncludeManagementEvents":true}]}`), &in) == nil {
			if basic, adv, err := validateSelectors(in); err == nil {
				t.basic, t.advanced, t.custom = basic, adv, true
			}
		}
		back = s.selectors()
	}
	who := s.role("Admin", "bob")
	return []CloudTrailEvent{
		s.call(at, "PutEventSelectors", who, "192.0.2.10", consoleAgent, "",
			mergeMaps(map[string]any{"trailName": t.name}, narrow), mergeMaps(map[string]any{"trailARN": t.arn}, narrow)),
		s.call(at.Add(gap), "PutEventSelectors", who, "192.0.2.10", consoleAgent, "",
			mergeMaps(map[string]any{"trailName": t.name}, back), mergeMaps(map[string]any{"trailARN": t.arn}, back)),
	}
}

func mergeMaps(a, b map[string]any) map[string]any {
	out := make(map[string]any, len(a)+len(b))
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}
