package report

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestHTML_is_self_contained_and_escaped(t *testing.T) {
	rep := mixedReport(t)
	rep.Results[1].AccountName = `<script>alert(1)</script>`
	out := string(render(t, HTML{}, rep))
	if strings.Contains(out, "<script>alert") {
		t.Error("account name not escaped")
	}
	// Nothing is fetched: no scripts, no external stylesheets, fonts or
	// images.
	if regexp.MustCompile(`(?i)<script|<link|<img|<iframe|url\(|src=|@import`).MatchString(out) {
		t.Error("the page loads something")
	}
	for _, want := range []string{`data-account="222222222222"`, "not logging", "infra/audit.tf:12", "sandbox, closing in Q1", "How this report was made", "1.2.3"} {
		if !strings.Contains(out, want) {
			t.Errorf("page lacks %q", want)
		}
	}
}

// TestHTML_in_chromium renders the report of a multi-account scan in
// headless Chromium, driven over the WebDriver protocol by chromedriver,
// and checks what a person sees: the failing account's row and its reason
// are displayed. It keeps a screenshot (TRAILGUARD_ARTIFACTS, else
// testdata/artifacts under the module root).
func TestHTML_in_chromium(t *testing.T) {
	chromium, driver := "/usr/bin/chromium", "/usr/bin/chromedriver"
	for _, p := range []string{chromium, driver} {
		if _, err := os.Stat(p); err != nil {
			if os.Getenv("TRAILGUARD_REQUIRE_CHROMIUM") != "" {
				t.Fatalf("%s is required here (Debian packages chromium, chromium-driver): %v", p, err)
			}
			t.Skipf("%s is not installed (Debian packages chromium, chromium-driver; .ci/run installs them)", p)
		}
	}
	page := filepath.Join(t.TempDir(), "report.html")
	if err := os.WriteFile(page, render(t, HTML{}, mixedReport(t)), 0o644); err != nil {
		t.Fatal(err)
	}

	wd := startDriver(t, driver)
	sess := wd.newSession(t, chromium)
	sess.do(t, "POST", "/url", map[string]any{"url": "file://" + page}, nil)

	row := sess.find(t, `tr[data-account="222222222222"]`)
	if !sess.displayed(t, row) || !strings.Contains(sess.text(t, row), "FAIL") {
		t.Errorf("failing account's row: displayed %v, text %q", sess.displayed(t, row), sess.text(t, row))
	}
	// WebDriver's element text is the rendered, visible text only.
	detail := sess.find(t, `#acct-222222222222`)
	if !sess.displayed(t, detail) || !strings.Contains(sess.text(t, detail), "✗ multi-region trail arn:aws:cloudtrail:us-east-1:222222222222:trail/main: not logging") {
		t.Errorf("failing account's reason: displayed %v, text %q", sess.displayed(t, detail), sess.text(t, detail))
	}
	if s := sess.text(t, sess.find(t, "#summary")); !strings.Contains(s, "FAIL\n2") || !strings.Contains(s, "PASS\n1") {
		t.Errorf("summary reads %q", s)
	}
	// A covered cell and a gap are both on screen, with their meaning.
	gap := sess.find(t, `tr[data-account="222222222222"] td.gap`)
	if !sess.displayed(t, gap) || sess.text(t, gap) != "✗" {
		t.Errorf("uncovered region cell %q", sess.text(t, gap))
	}

	var shot string
	sess.do(t, "GET", "/screenshot", nil, &shot)
	png, err := base64.StdEncoding.DecodeString(shot)
	if err != nil || !bytes.HasPrefix(png, []byte("\x89PNG")) {
		t.Fatalf("screenshot: %v", err)
	}
	dir := os.Getenv("TRAILGUARD_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join("..", "testdata", "artifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err == nil {
		os.WriteFile(filepath.Join(dir, "html-report.png"), png, 0o644)
	}
}

// webDriver is the least of the W3C WebDriver protocol this test needs,
// written here because a client library would be a large dependency for
// five endpoints.
type webDriver struct{ base string }

type wdSession struct {
	webDriver
	id string
}

func startDriver(t *testing.T, driver string) webDriver {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	cmd := exec.Command(driver, fmt.Sprintf("--port=%d", port))
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	wd := webDriver{base: fmt.Sprintf("http://127.0.0.1:%d", port)}
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(wd.base + "/status")
		if err == nil {
			resp.Body.Close()
			return wd
		}
		if time.Now().After(deadline) {
			t.Fatalf("chromedriver did not start: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (wd webDriver) call(t *testing.T, method, path string, in, out any) {
	t.Helper()
	var body bytes.Buffer
	if in != nil {
		json.NewEncoder(&body).Encode(in)
	}
	req, _ := http.NewRequest(method, wd.base+path, &body)
	req.Header.Set("Content-Type", "application/json")
	resp, err := (&http.Client{Timeout: 60 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	var env struct{ Value json.RawMessage }
	if err := json.NewDecoder(resp.Body).Decode(&env); err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s %s: %s %s", method, path, resp.Status, env.Value)
	}
	if out != nil {
		if err := json.Unmarshal(env.Value, out); err != nil {
			t.Fatalf("%s %s: %v in %s", method, path, err, env.Value)
		}
	}
}

func (wd webDriver) newSession(t *testing.T, chromium string) *wdSession {
	t.Helper()
	var v struct {
		SessionID string `json:"sessionId"`
	}
	wd.call(t, "POST", "/session", map[string]any{"capabilities": map[string]any{"alwaysMatch": map[string]any{
		"goog:chromeOptions": map[string]any{"binary": chromium, "args": []string{"--headless", "--no-sandbox", "--disable-gpu", "--window-size=1280,1600"}},
	}}}, &v)
	s := &wdSession{webDriver: wd, id: v.SessionID}
	t.Cleanup(func() { wd.call(t, "DELETE", "/session/"+s.id, nil, nil) })
	return s
}

func (s *wdSession) do(t *testing.T, method, path string, in, out any) {
	t.Helper()
	s.call(t, method, "/session/"+s.id+path, in, out)
}

func (s *wdSession) find(t *testing.T, css string) string {
	t.Helper()
	var el map[string]string
	s.do(t, "POST", "/element", map[string]any{"using": "css selector", "value": css}, &el)
	for _, id := range el {
		return id
	}
	t.Fatalf("no element %s", css)
	return ""
}

func (s *wdSession) displayed(t *testing.T, el string) bool {
	t.Helper()
	var v bool
	s.do(t, "GET", "/element/"+el+"/displayed", nil, &v)
	return v
}

func (s *wdSession) text(t *testing.T, el string) string {
	t.Helper()
	var v string
	s.do(t, "GET", "/element/"+el+"/text", nil, &v)
	return v
}
