// Package safefile reads a file named by the user or found in a walk —
// a template, a mutelist, an accounts file, a plan — as input that may be
// hostile: only a regular file is read, and never more than a limit.
//
// A FIFO blocks a reader forever and a device such as /dev/zero never
// ends, so the mode is checked before the open and again on the open file
// (opened non-blocking, in case it was swapped in between), and the read
// itself stops one byte past the limit.
package safefile

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"
)

// NotRegularError says that a path is not a regular file, and what it is.
type NotRegularError struct {
	Path string
	Mode fs.FileMode
}

func (e *NotRegularError) Error() string {
	return fmt.Sprintf("%s: %s, not a regular file", e.Path, Kind(e.Mode))
}

// TooLargeError says that a file is larger than the limit of its kind.
// Size is -1 when the file grew past the limit while it was read.
type TooLargeError struct {
	Path  string
	Size  int64
	Limit int64
}

func (e *TooLargeError) Error() string {
	if e.Size < 0 {
		return fmt.Sprintf("%s: larger than the %d-byte limit of this kind of file", e.Path, e.Limit)
	}
	return fmt.Sprintf("%s: %d bytes, larger than the %d-byte limit of this kind of file", e.Path, e.Size, e.Limit)
}

// Kind names what a file that is not a regular one is.
func Kind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe (FIFO)"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a device"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m.IsRegular():
		return "a regular file"
	}
	return "a file of mode " + m.String()
}

// Read returns the content of the regular file at path (a symbolic link
// to one is followed), at most limit bytes. Errors: *NotRegularError,
// *TooLargeError, or the error of the stat, open or read.
func Read(path string, limit int64) ([]byte, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !info.Mode().IsRegular() {
		return nil, &NotRegularError{Path: path, Mode: info.Mode()}
	}
	if info.Size() > limit {
		return nil, &TooLargeError{Path: path, Size: info.Size(), Limit: limit}
	}
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if info, err = f.Stat(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if !info.Mode().IsRegular() { // swapped between the two looks
		return nil, &NotRegularError{Path: path, Mode: info.Mode()}
	}
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if int64(len(b)) > limit {
		return nil, &TooLargeError{Path: path, Size: -1, Limit: limit}
	}
	return b, nil
}
