//go:build windows

package ocilayout

import (
	"errors"
	"os"

	"golang.org/x/sys/windows"
)

// tryLockFile takes a LockFileEx lock on the first byte without blocking;
// ok is false if another open file holds a conflicting lock.
func tryLockFile(f *os.File, exclusive bool) (ok bool, err error) {
	flags := uint32(windows.LOCKFILE_FAIL_IMMEDIATELY)
	if exclusive {
		flags |= windows.LOCKFILE_EXCLUSIVE_LOCK
	}
	ol := new(windows.Overlapped)
	err = windows.LockFileEx(windows.Handle(f.Fd()), flags, 0, 1, 0, ol)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, windows.ERROR_LOCK_VIOLATION):
		return false, nil
	default:
		return false, &os.PathError{Op: "LockFileEx", Path: f.Name(), Err: err}
	}
}

func unlockFile(f *os.File) error {
	return windows.UnlockFileEx(windows.Handle(f.Fd()), 0, 1, 0, new(windows.Overlapped))
}

// syncDir is a no-op: Windows cannot open a directory for FlushFileBuffers
// through os.Open, and NTFS journals the rename itself.
func syncDir(string) error { return nil }
