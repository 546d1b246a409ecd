package awscli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Time is a timestamp as either AWS CLI prints it. CLI v2 prints ISO 8601
// ("2026-11-25T04:41:00.123000+00:00", in the local offset of the machine
// that ran it); CLI v1 prints what the wire carried, epoch seconds for
// CloudTrail ("1764045660.123"). Hand-edited files may use "Z". All are
// read; MarshalJSON prints the CLI v2 form in UTC.
type Time time.Time

// Earliest and latest instants a timestamp may name: the years 1 to 9999
// that ISO 8601 writes with four digits (and that the CLI's Python can
// represent).
var (
	minTime = time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)
	maxTime = time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC)
)

// timeError is a timestamp that could not be read. It keeps the raw value
// so that the caller can find its line in the file.
type timeError struct {
	raw []byte
	why string
}

func (e *timeError) Error() string {
	return fmt.Sprintf("cannot read timestamp %s: %s", e.raw, e.why)
}

func (t *Time) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if string(b) == "null" {
		return nil
	}
	var (
		v   time.Time
		err error
	)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return &timeError{raw: b, why: err.Error()}
		}
		v, err = parseTimeString(s)
	} else {
		v, err = parseEpoch(string(b))
	}
	if err != nil {
		return &timeError{raw: b, why: err.Error()}
	}
	*t = Time(v)
	return nil
}

func (t Time) MarshalJSON() ([]byte, error) {
	return json.Marshal(formatTime(time.Time(t)))
}

// domain returns the timestamp as the domain holds it: nil when absent.
func (t *Time) domain() *time.Time {
	if t == nil {
		return nil
	}
	v := time.Time(*t)
	return &v
}

func timeOf(t *time.Time) *Time {
	if t == nil {
		return nil
	}
	v := Time(*t)
	return &v
}

// formatTime prints t as CLI v2 does (Python's isoformat in UTC): seconds,
// then microseconds only when there are any, then "+00:00". Nanoseconds,
// which Python cannot hold but Go can, are printed too rather than lost.
func formatTime(t time.Time) string {
	t = t.UTC()
	layout := "2006-01-02T15:04:05"
	switch ns := t.Nanosecond(); {
	case ns%1000 != 0:
		layout += ".000000000"
	case ns != 0:
		layout += ".000000"
	}
	return t.Format(layout + "+00:00")
}

// Layouts tried, in order, for a timestamp string. Those without an offset
// are read as UTC.
var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999Z0700",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999",
}

func parseTimeString(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, fmt.Errorf("empty")
	}
	if c := s[0]; c >= '0' && c <= '9' && !strings.ContainsAny(s, "-:T ") {
		// Epoch seconds written as a string.
		return parseEpoch(s)
	}
	for _, layout := range timeLayouts {
		if v, err := time.Parse(layout, s); err == nil {
			return inRange(v.UTC())
		}
	}
	return time.Time{}, fmt.Errorf("want ISO 8601 (2026-11-25T04:41:00+00:00) or epoch seconds")
}

// parseEpoch reads epoch seconds with an optional fraction, exactly to the
// nanosecond when written in plain decimal (no float rounding).
func parseEpoch(s string) (time.Time, error) {
	intPart, frac, hasFrac := strings.Cut(s, ".")
	if digits(intPart) && (!hasFrac || digits(frac)) && len(intPart) <= 12 {
		sec, err := strconv.ParseInt(intPart, 10, 64)
		if err != nil {
			return time.Time{}, err
		}
		if len(frac) > 9 {
			frac = frac[:9]
		}
		var ns int64
		if frac != "" {
			ns, _ = strconv.ParseInt(frac+strings.Repeat("0", 9-len(frac)), 10, 64)
		}
		return inRange(time.Unix(sec, ns).UTC())
	}
	// Exponent or sign: rare, read as a float.
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return time.Time{}, fmt.Errorf("want ISO 8601 (2026-11-25T04:41:00+00:00) or epoch seconds")
	}
	if f < float64(minTime.Unix()) || f > float64(maxTime.Unix()) {
		return time.Time{}, fmt.Errorf("out of range")
	}
	sec := math.Floor(f)
	ns := math.Round((f - sec) * 1e6) // a float holds about microseconds
	return inRange(time.Unix(int64(sec), int64(ns)*1000).UTC())
}

func inRange(t time.Time) (time.Time, error) {
	if t.Before(minTime) || t.After(maxTime) {
		return time.Time{}, fmt.Errorf("out of range")
	}
	return t, nil
}

func digits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
