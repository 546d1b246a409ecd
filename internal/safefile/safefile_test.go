package safefile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestRead(t *testing.T) {
	dir := t.TempDir()
	regular := filepath.Join(dir, "ok.yaml")
	os.WriteFile(regular, []byte("mutes: []\n"), 0o644)
	big := filepath.Join(dir, "big.yaml")
	os.WriteFile(big, make([]byte, 101), 0o644)
	fifo := filepath.Join(dir, "fifo.yaml")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	zero := filepath.Join(dir, "zero.yaml")
	os.Symlink("/dev/zero", zero)
	link := filepath.Join(dir, "link.yaml")
	os.Symlink(regular, link)

	for _, c := range []struct {
		name, path string
		want       string // "" reads; else a text of the error
		notRegular bool
		tooLarge   bool
	}{
		{name: "regular_file", path: regular},
		{name: "symlink_to_a_regular_file", path: link},
		{name: "over_the_limit", path: big, want: "101 bytes, larger than the 100-byte limit", tooLarge: true},
		{name: "fifo_is_not_opened", path: fifo, want: "a named pipe (FIFO)", notRegular: true},
		{name: "symlink_to_dev_zero", path: zero, want: "a character device", notRegular: true},
		{name: "directory", path: dir, want: "a directory", notRegular: true},
		{name: "missing", path: filepath.Join(dir, "absent"), want: "no such file"},
	} {
		t.Run(c.name, func(t *testing.T) {
			done := make(chan struct{})
			var b []byte
			var err error
			go func() { b, err = Read(c.path, 100); close(done) }()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("Read blocked") // a FIFO opened for reading would block here
			}
			if c.want == "" {
				if err != nil || string(b) != "mutes: []\n" {
					t.Fatalf("Read = %q, %v", b, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one saying %q", err, c.want)
			}
			var nr *NotRegularError
			var tl *TooLargeError
			if errors.As(err, &nr) != c.notRegular || errors.As(err, &tl) != c.tooLarge {
				t.Errorf("error type %T", err)
			}
		})
	}
}
