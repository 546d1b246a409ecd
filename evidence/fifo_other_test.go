//go:build !unix

package evidence

import "errors"

func mkfifo(string) error { return errors.New("no FIFOs on this system") }
