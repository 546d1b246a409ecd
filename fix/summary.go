package fix

import (
	"sort"
	"strings"

	"github.com/trailguard/trailguard"
)

// Summary is the totals of a fix over many accounts (`fix --org`), which
// an owner reads before, or instead of, a thousand plans: how many
// accounts have steps, the steps by kind, and which accounts cannot be
// planned or fixed, and why.
type Summary struct {
	// Accounts is every account asked for: Passing, WithSteps and
	// NotPlanned add up to it.
	Accounts int `json:"accounts"`
	// Passing have nothing to do; WithSteps have a plan.
	Passing   int `json:"passing"`
	WithSteps int `json:"with_steps"`
	Steps     int `json:"steps"`
	// StepsByKind counts the steps of every plan by kind.
	StepsByKind map[Action]int `json:"steps_by_kind"`
	// NotPlanned are the accounts with no steps that do not pass: a read
	// the plan needs failed (UNKNOWN, ERROR, or a bucket or key not
	// read), or nothing can be done from here (the notes say why).
	NotPlanned []NotPlanned `json:"not_planned"`
	// Applied, Failed and PassingAfter count, with --apply, the accounts
	// whose every step was done, those where a step failed, and those
	// that pass in the scan made after the steps.
	Applied      int `json:"applied,omitempty"`
	Failed       int `json:"failed,omitempty"`
	PassingAfter int `json:"passing_after,omitempty"`
}

// NotPlanned is an account with no plan, and why.
type NotPlanned struct {
	Account string            `json:"account"`
	Status  trailguard.Status `json:"status,omitempty"`
	// Why is the same text for accounts stopped for the same reason
	// (the permissions a read needed), so that they can be grouped.
	Why string `json:"why"`
}

// AddNotPlanned counts an account that got no plan because it was not
// scanned at all (the scan was cut short, the account is not ACTIVE, or
// not in the organization), with why; status is "" when there is no
// verdict.
func (s *Summary) AddNotPlanned(account string, status trailguard.Status, why string) {
	s.Accounts++
	s.NotPlanned = append(s.NotPlanned, NotPlanned{Account: account, Status: status, Why: why})
}

// Summarize totals the reports of a fix.
func Summarize(rs []Report) Summary {
	s := Summary{Accounts: len(rs), StepsByKind: map[Action]int{}, NotPlanned: []NotPlanned{}}
	for _, r := range rs {
		switch {
		case len(r.Steps) > 0:
			s.WithSteps++
			s.Steps += len(r.Steps)
			for _, st := range r.Steps {
				s.StepsByKind[st.Action]++
			}
		case r.Status == trailguard.StatusPass && len(r.Unreadable) == 0:
			s.Passing++
		default:
			s.NotPlanned = append(s.NotPlanned, NotPlanned{Account: r.Account, Status: r.Status, Why: whyNotPlanned(r.Plan)})
		}
		if a := r.Applied; a != nil {
			if a.Error == "" {
				s.Applied++
			} else {
				s.Failed++
			}
			if a.StatusAfter == string(trailguard.StatusPass) {
				s.PassingAfter++
			}
		}
	}
	return s
}

// whyNotPlanned is why a plan has no steps, worded the same for every
// account stopped for the same reason: the permissions the failed reads
// need, else the first note.
func whyNotPlanned(p Plan) string {
	if len(p.Unreadable) > 0 {
		perms := map[string]bool{}
		for _, u := range p.Unreadable {
			if u.Permission != "" {
				perms[u.Permission] = true
			}
		}
		if len(perms) == 0 {
			return "could not be read: " + p.Unreadable[0].Error
		}
		names := make([]string, 0, len(perms))
		for n := range perms {
			names = append(names, n)
		}
		sort.Strings(names)
		return "could not be read: needs " + strings.Join(names, ", ")
	}
	if len(p.Notes) > 0 {
		return p.Notes[0]
	}
	return "nothing can be planned"
}
