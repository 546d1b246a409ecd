// Package benchproc holds what the project's benchmark commands
// (cmd/orgbench, cmd/logbench) share to run trailguard and a peer as
// separate processes: building the binary, an environment without the
// caller's AWS settings, and the peak memory of a child process.
package benchproc

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Trailguard returns bin when it is set; otherwise it builds the trailguard
// command into a temporary directory and returns its path and a cleanup
// that removes it.
func Trailguard(ctx context.Context, bin, prefix string) (string, func(), error) {
	if bin != "" {
		return bin, func() {}, nil
	}
	dir, err := os.MkdirTemp("", prefix)
	if err != nil {
		return "", nil, err
	}
	cleanup := func() { os.RemoveAll(dir) }
	bin = filepath.Join(dir, "trailguard")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/trailguard/trailguard/cmd/trailguard")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		cleanup()
		return "", nil, fmt.Errorf("build trailguard: %w", err)
	}
	return bin, cleanup, nil
}

// WithoutAWS is env without any AWS_ variable, so that a benchmarked
// process reaches only what the benchmark points it at.
func WithoutAWS(env []string) []string {
	var out []string
	for _, kv := range env {
		if !strings.HasPrefix(kv, "AWS_") {
			out = append(out, kv)
		}
	}
	return out
}

// WatchHWM polls the process's VmHWM (peak resident set since exec) until
// it exits and sends the last value read, in bytes.
func WatchHWM(pid int) <-chan int64 {
	ch := make(chan int64, 1)
	go func() {
		var last int64
		path := fmt.Sprintf("/proc/%d/status", pid)
		for {
			b, err := os.ReadFile(path)
			if err != nil {
				break
			}
			if strings.Contains(string(b), "\nState:\tZ") {
				break // exited, not yet reaped: its memory is gone
			}
			for line := range strings.SplitSeq(string(b), "\n") {
				if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
					kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
					last = max(last, kb*1024)
				}
			}
			time.Sleep(2 * time.Millisecond)
		}
		ch <- last
	}()
	return ch
}
