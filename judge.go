package trailguard

// The yes/no questions other packages ask of the control. A source asks
// whether an account already passes (to spare reads that cannot change the
// verdict), a planner whether the selectors it means to write record every
// management event. Each is answered by the code Evaluate itself runs, so
// the answer can never drift from the verdict.

// SatisfiesControl reports whether trail t, listed in account account (""
// when not known, as for code), satisfies every condition of 3.1 on its
// own: it counts for the account (its own trail, or an organization
// trail), is multi-region and logging, records all management events read
// and write (with opts.Strict, leaving no event source out), in a
// configuration AWS accepts, from facts that were read and do not
// conflict. It is TrailVerdict.Satisfies without the rest of the verdict.
func SatisfiesControl(account string, t Trail, opts Options) bool {
	return judgeTrail(account, t, opts).Satisfies
}

// Passes reports whether Evaluate(acct, opts) is PASS — the account was
// read and one of its trails satisfies the control — without building the
// result (reasons, trail verdicts, region table).
func Passes(acct Account, opts Options) bool {
	if acct.Error != "" {
		return false
	}
	opts = opts.forAccount(acct)
	for _, t := range FoldTrails(acct.Trails) {
		if v := judgeTrail(acct.ID, t, opts); v.Satisfies && v.Candidate {
			return true
		}
	}
	return false
}

// RecordsAllManagementEvents reports whether the selectors record all
// management events, read and write, as 3.1 reads them: one selector does
// so on its own (other selectors, for data events, do not matter), AWS
// accepts the configuration, and with opts.Strict that selector leaves no
// event source out. No selectors at all record nothing: the AWS default
// applies only when GetEventSelectors says so, as a selector.
func (s EventSelectors) RecordsAllManagementEvents(opts Options) bool {
	if len(rejectedSelectors(s)) > 0 {
		return false
	}
	return managementCoverage(s).counts(opts)
}

// RecordsAllManagementEvents reports whether this basic selector, on its
// own, records all management events: IncludeManagementEvents with
// ReadWriteType All, in a form AWS accepts, and with opts.Strict no
// excluded event source.
func (sel EventSelector) RecordsAllManagementEvents(opts Options) bool {
	return EventSelectors{Basic: []EventSelector{sel}}.RecordsAllManagementEvents(opts)
}

// RecordsAllManagementEvents reports whether this advanced selector, on its
// own, records all management events: eventCategory Equals Management with
// no readOnly field selector and no other field that narrows it, in a form
// AWS accepts, and with opts.Strict no eventSource left out.
func (sel AdvancedEventSelector) RecordsAllManagementEvents(opts Options) bool {
	return EventSelectors{Advanced: []AdvancedEventSelector{sel}}.RecordsAllManagementEvents(opts)
}

// SelectsManagementEvents reports whether the advanced selector is one for
// management events (a field selector eventCategory Equals Management). It
// may still record only some of them: see RecordsAllManagementEvents.
func (sel AdvancedEventSelector) SelectsManagementEvents() bool {
	for _, f := range sel.FieldSelectors {
		if f.Field != "eventCategory" {
			continue
		}
		for _, v := range f.Equals {
			if v == "Management" {
				return true
			}
		}
	}
	return false
}
