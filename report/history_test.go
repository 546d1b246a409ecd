package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/trailguard/trailguard"
)

func sampleHistory(actor string) *History {
	since := time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)
	return &History{Since: since, Until: since.Add(90 * 24 * time.Hour), Calls: 7, Accounts: []HistoryAccount{{
		Account: "111111111111", StatusNow: trailguard.StatusPass, Regions: []string{"us-east-1"},
		Events: []HistoryEvent{
			{Time: since.Add(30 * 24 * time.Hour), Event: "StopLogging", Trail: "arn:aws:cloudtrail:us-east-1:111111111111:trail/main", Actor: actor, SourceIP: "203.0.113.9", UserAgent: "aws-cli/2", Effect: "covered → not covered"},
			{Time: since.Add(33 * 24 * time.Hour), Event: "StartLogging", Trail: "arn:aws:cloudtrail:us-east-1:111111111111:trail/main", Actor: actor, Effect: "not covered → covered"},
		},
		Uncovered: []HistoryInterval{{From: since.Add(30 * 24 * time.Hour), To: since.Add(33 * 24 * time.Hour), Certain: true}},
	}}}
}

func TestHistoryJSON(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteHistoryJSON(&buf, sampleHistory("arn:aws:iam::111111111111:user/mallory")); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Accounts []struct {
			Account   string                       `json:"account"`
			Events    []map[string]json.RawMessage `json:"events"`
			Uncovered []map[string]json.RawMessage `json:"uncovered"`
		} `json:"accounts"`
		Calls *int `json:"calls"`
	}
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got.Calls == nil || *got.Calls != 7 || len(got.Accounts) != 1 || got.Accounts[0].Account != "111111111111" {
		t.Fatalf("got %s", buf.String())
	}
	for _, k := range []string{"time", "event", "trail", "actor", "source_ip", "user_agent", "error_code", "effect"} {
		if _, ok := got.Accounts[0].Events[0][k]; !ok {
			t.Errorf("event lacks %q: %s", k, buf.String())
		}
	}
	for _, k := range []string{"from", "to", "certain"} {
		if _, ok := got.Accounts[0].Uncovered[0][k]; !ok {
			t.Errorf("interval lacks %q", k)
		}
	}
}

func TestHistoryTextAndHTMLEscapeEventData(t *testing.T) {
	hostile := "arn:aws:iam::111111111111:user/\x1b[31mevil\u202e<script>alert(1)</script>"
	h := sampleHistory(hostile)
	tests := []struct {
		name  string
		write func(*bytes.Buffer) error
		bad   []string
	}{
		{"text", func(b *bytes.Buffer) error { return WriteHistoryText(b, h) }, []string{"\x1b", "\u202e"}},
		{"html", func(b *bytes.Buffer) error {
			rep := New("test", Scan{}, []trailguard.Result{{Account: "111111111111", Status: trailguard.StatusPass}}, nil)
			rep.History = h
			return HTML{}.Write(b, rep)
		}, []string{"\x1b", "\u202e", "<script>"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := tc.write(&buf); err != nil {
				t.Fatal(err)
			}
			out := buf.String()
			for _, b := range tc.bad {
				if strings.Contains(out, b) {
					t.Errorf("output holds %q unescaped", b)
				}
			}
			if !strings.Contains(out, "StopLogging") || !strings.Contains(out, "covered → not covered") {
				t.Errorf("output lacks the event and its effect:\n%s", out)
			}
		})
	}
}

func TestHistoryHTMLStrip(t *testing.T) {
	rep := New("test", Scan{}, []trailguard.Result{{Account: "111111111111", Status: trailguard.StatusPass}}, nil)
	rep.History = sampleHistory("someone")
	var buf bytes.Buffer
	if err := (HTML{}).Write(&buf, rep); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	// 30 days covered, 3 not, 57 covered, of 90.
	for _, want := range []string{`class="gap" style="width: 3.333%"`, `class="cov" style="width: 33.333%"`} {
		if !strings.Contains(out, want) {
			t.Errorf("strip lacks %s", want)
		}
	}
}

func TestHistoryExitCode(t *testing.T) {
	h := sampleHistory("x")
	if got := h.ExitCode(); got != 1 {
		t.Errorf("certain gap: exit %d, want 1", got)
	}
	h.Accounts[0].Uncovered[0].Certain = false
	if got := h.ExitCode(); got != 2 {
		t.Errorf("uncertain gap: exit %d, want 2", got)
	}
	h.Accounts[0].Uncovered = nil
	if got := h.ExitCode(); got != 0 {
		t.Errorf("covered throughout: exit %d, want 0", got)
	}
}
