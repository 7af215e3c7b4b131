// Package boundedio reads what a file, a registry or a client controls with
// a bound: at most max bytes, or an error that says the bound. The size a
// reader announces never sizes an allocation; one byte past the bound is
// read to tell "exactly max" from "more".
package boundedio

import (
	"errors"
	"fmt"
	"io"
	"os"
)

// ErrTooLarge: more than the bound.
var ErrTooLarge = errors.New("larger than its bound")

// TooLargeError is ErrTooLarge with the bound and what was read.
type TooLargeError struct {
	What string // a file's path, or "" for a stream
	Max  int64
}

func (e *TooLargeError) Error() string {
	if e.What == "" {
		return fmt.Sprintf("more than %d bytes", e.Max)
	}
	return fmt.Sprintf("%s is larger than %d bytes", e.What, e.Max)
}

// Unwrap makes errors.Is(err, ErrTooLarge) true.
func (e *TooLargeError) Unwrap() error { return ErrTooLarge }

// ReadAll reads r to its end: at most max bytes, else a *TooLargeError.
func ReadAll(r io.Reader, max int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > max {
		return nil, &TooLargeError{Max: max}
	}
	return data, nil
}

// ReadFile reads the file at path: at most max bytes, else a
// *TooLargeError naming it.
func ReadFile(path string, max int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := ReadAll(f, max)
	var tl *TooLargeError
	if errors.As(err, &tl) {
		tl.What = path
	}
	return data, err
}
