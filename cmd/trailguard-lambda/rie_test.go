package main

// The harness that runs the function as Lambda runs it: the bootstrap
// binary built from this package, under AWS's Lambda runtime interface
// emulator (RIE), pointed at an in-process awsemu over HTTP. Nothing here
// calls package control: what the tests see is what the binary does.

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/trailguard/trailguard/internal/awsemu"
)

// invokePath is the RIE's invoke endpoint for its one function (the path of
// Lambda's Invoke API, function name "function").
const invokePath = "/2015-03-31/functions/function/invocations"

// TestMain removes the bootstrap binary the tests built.
func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

var (
	buildOnce sync.Once
	buildDir  string
	buildPath string
	buildErr  error
)

// bootstrap builds the function binary once per test binary, as it is
// deployed (static, stripped, lambda.norpc) but for the host, since the
// RIE runs it directly, with no container; it returns its path. Only
// -trimpath is left out: it would compile every package again rather than
// reuse what go test already built, for a few kilobytes of paths.
func bootstrap(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "trailguard-lambda-")
		if buildErr != nil {
			return
		}
		buildPath = filepath.Join(buildDir, "bootstrap")
		// The package under test is the working directory.
		cmd := exec.Command(goTool(), "build", "-ldflags=-s -w", "-tags", "lambda.norpc", "-o", buildPath, ".")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build of the bootstrap: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return buildPath
}

// goTool is the go command of the toolchain running the tests.
func goTool() string {
	p := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(p); err == nil {
		return p
	}
	return "go"
}

// rieBinary finds aws-lambda-rie: $TRAILGUARD_RIE, else the one go install
// puts in $GOPATH/bin (~/go/bin by default), else on PATH. Without it the
// test fails when TRAILGUARD_REQUIRE_RIE is set (as in CI) and is skipped
// otherwise.
func rieBinary(t testing.TB) string {
	t.Helper()
	candidates := []string{os.Getenv("TRAILGUARD_RIE")}
	if gp := os.Getenv("GOPATH"); gp != "" {
		candidates = append(candidates, filepath.Join(strings.Split(gp, string(os.PathListSeparator))[0], "bin", "aws-lambda-rie"))
	}
	if home, err := os.UserHomeDir(); err == nil {
		candidates = append(candidates, filepath.Join(home, "go", "bin", "aws-lambda-rie"))
	}
	for _, c := range candidates {
		if c == "" {
			continue
		}
		if st, err := os.Stat(c); err == nil && !st.IsDir() {
			return c
		}
	}
	if p, err := exec.LookPath("aws-lambda-rie"); err == nil {
		return p
	}
	const install = "go install github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@v0.0.0-20261030222936-bef5c4ba774d"
	if os.Getenv("TRAILGUARD_REQUIRE_RIE") != "" {
		t.Fatalf("the Lambda runtime interface emulator is required here: %s (or set TRAILGUARD_RIE)", install)
	}
	t.Skipf("the Lambda runtime interface emulator is not installed (%s; .ci/run installs it)", install)
	return ""
}

// freePort reserves a loopback port and releases it for the RIE to bind.
func freePort(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// syncBuffer collects a process's output while tests read it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.b.Len() > 1<<20 { // keep the head: it says why a start failed
		return len(p), nil
	}
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// lambdaProcess is one bootstrap process under one RIE.
type lambdaProcess struct {
	// URL is the RIE's invoke endpoint.
	URL string
	// Started is when the RIE process was started.
	Started time.Time

	cmd  *exec.Cmd
	logs *syncBuffer
	done chan struct{}
	// serial lets one invocation at a time through to the RIE (see Serve).
	serial sync.Mutex
}

// startFunction starts the RIE with the bootstrap on free loopback ports,
// with exactly env as the function's environment, and waits until the RIE
// accepts connections. Everything is stopped at cleanup: the RIE and the
// bootstrap share a process group, which is killed whole.
func startFunction(t testing.TB, env []string) *lambdaProcess {
	t.Helper()
	// A port released by freePort may be taken by another process before
	// the RIE binds it: the RIE then exits at once, and a new pair is
	// tried.
	for attempt := 1; ; attempt++ {
		f, err := tryStartFunction(t, env)
		if err == nil {
			return f
		}
		if attempt == 3 {
			t.Fatal(err)
		}
		t.Logf("retrying with other ports: %v", err)
	}
}

func tryStartFunction(t testing.TB, env []string) (*lambdaProcess, error) {
	t.Helper()
	rie, boot := rieBinary(t), bootstrap(t)
	addr, apiAddr := freePort(t), freePort(t)
	f := &lambdaProcess{URL: "http://" + addr + invokePath, logs: &syncBuffer{}, done: make(chan struct{})}
	f.cmd = exec.Command(rie, "--runtime-interface-emulator-address", addr, "--runtime-api-address", apiAddr, boot)
	f.cmd.Dir = filepath.Dir(boot)
	f.cmd.Env = env
	f.cmd.Stdout, f.cmd.Stderr = f.logs, f.logs
	f.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	f.Started = time.Now()
	if err := f.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", rie, err)
	}
	go func() { f.cmd.Wait(); close(f.done) }()
	t.Cleanup(f.stop)
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return f, nil
		}
		select {
		case <-f.done:
			return nil, fmt.Errorf("the RIE exited before it listened on %s: %v\n%s", addr, f.cmd.ProcessState, f.logs)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("the RIE did not listen on %s within 30s: %v\n%s", addr, err, f.logs)
		}
		time.Sleep(time.Millisecond)
	}
}

// stop kills the RIE and the bootstrap (one process group) and waits.
func (f *lambdaProcess) stop() {
	if f.cmd.Process == nil {
		return
	}
	syscall.Kill(-f.cmd.Process.Pid, syscall.SIGKILL)
	select {
	case <-f.done:
	case <-time.After(10 * time.Second):
	}
}

// Logs is what the RIE and the function printed.
func (f *lambdaProcess) Logs() string { return f.logs.String() }

// Invoke posts one event to the RIE and returns the HTTP status and the
// function's response.
func (f *lambdaProcess) Invoke(ctx context.Context, event []byte) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, f.URL, bytes.NewReader(event))
	if err != nil {
		return 0, nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 6<<20))
	return resp.StatusCode, b, err
}

// Serve is the function's invoke endpoint as the emulator sees it: it
// hands each invocation to the RIE, one at a time. The RIE runs one
// invocation at a time and refuses a second one that arrives meanwhile,
// whereas Lambda queues asynchronous invocations (EventBridge's, AWS
// Config's) and runs them when an instance is free; the function's own
// StartConfigRulesEvaluation and StartLogging cause such invocations
// while it runs. The bodies and statuses pass through unchanged.
func (f *lambdaProcess) Serve() *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 6<<20))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		f.serial.Lock()
		status, out, err := f.Invoke(r.Context(), body)
		f.serial.Unlock()
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		w.WriteHeader(status)
		w.Write(out)
	}))
}

// PeakRSS is the bootstrap process's peak resident set (VmHWM), read from
// /proc while it runs; 0 where /proc does not say.
func (f *lambdaProcess) PeakRSS() int64 {
	pid := f.bootstrapPID()
	if pid == 0 {
		return 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err == nil {
				return kb << 10
			}
		}
	}
	return 0
}

// bootstrapPID finds the RIE's child process (the bootstrap) in /proc.
func (f *lambdaProcess) bootstrapPID() int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0
	}
	parent := f.cmd.Process.Pid
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces, so cut at the
		// last parenthesis.
		s := string(stat)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		fields := strings.Fields(s[i+1:])
		if len(fields) > 1 && fields[1] == strconv.Itoa(parent) && strings.Contains(s[:i], "bootstrap") {
			return pid
		}
	}
	return 0
}

// lambdaEnv is the environment of a function of account creds in region,
// reaching the emulator at endpoint, plus extra (TRAILGUARD_* settings).
// It holds nothing of the test process's own environment, so that no
// credentials or AWS configuration of the machine leak in.
func lambdaEnv(endpoint string, creds awsemu.Credentials, region string, extra ...string) []string {
	env := []string{
		"AWS_ACCESS_KEY_ID=" + creds.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY=" + creds.SecretAccessKey,
		"AWS_REGION=" + region,
		"AWS_DEFAULT_REGION=" + region,
		"AWS_ENDPOINT_URL=" + endpoint,
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_CONFIG_FILE=" + os.DevNull, // no profile of the machine's
		"AWS_SHARED_CREDENTIALS_FILE=" + os.DevNull,
		"AWS_LAMBDA_FUNCTION_NAME=trailguard",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=128",
		"AWS_LAMBDA_FUNCTION_TIMEOUT=60",
		"LOG_LEVEL=warn",
	}
	if creds.SessionToken != "" {
		env = append(env, "AWS_SESSION_TOKEN="+creds.SessionToken)
	}
	return append(env, extra...)
}

// waitFor polls cond until it holds or a minute passes; on timeout the
// test fails with what was expected and what cond last reported.
func waitFor(t testing.TB, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		ok, state := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("waited a minute for %s; last seen: %s", what, state)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
