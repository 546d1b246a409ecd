package awscli

import (
	"testing"
	"time"
)

// FuzzReadTimestamp checks the one value with several written forms: any
// string or number accepted as a timestamp prints in the CLI v2 form and
// reads back as the same instant.
func FuzzReadTimestamp(f *testing.F) {
	for _, s := range []string{`"2026-11-25T04:41:00.123000+00:00"`, `"2026-11-25T04:41:00Z"`, `1795581660.123`, `1795581660`, `"1795581660.5"`,
		`"2026-11-25 04:41:00+02:00"`, `1.7955816601234567e9`, `"0001-01-01T00:00:00Z"`, `253402300799.999999999`, `-62135596800`, `null`, `true`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var v Time
		if err := v.UnmarshalJSON(data); err != nil {
			return
		}
		printed, err := v.MarshalJSON()
		if err != nil {
			t.Fatalf("cannot print %s: %v", data, err)
		}
		var again Time
		if err := again.UnmarshalJSON(printed); err != nil {
			t.Fatalf("printed %s does not read back: %v", printed, err)
		}
		if !time.Time(again).Equal(time.Time(v)) {
			t.Fatalf("%s → %s: %v ≠ %v", data, printed, time.Time(again), time.Time(v))
		}
	})
}
