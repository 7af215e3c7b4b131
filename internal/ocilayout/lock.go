package ocilayout

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"time"
)

// lockName is the file, in the layout root, that index.json writers lock
// exclusively and readers lock shared. It is separate from index.json
// because index.json is replaced by rename: a lock on the old inode would
// not exclude a writer that opens the new one.
const lockName = "index.json.lock"

// lockedFile is a held lock on the lock file; release unlocks and closes it.
type lockedFile struct{ f *os.File }

func (l *lockedFile) release() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := unlockFile(l.f)
	if cerr := l.f.Close(); err == nil {
		err = cerr
	}
	return err
}

// lockPollMax caps the back-off between attempts to take a busy lock. The
// lock is polled rather than waited for so that ctx can end the wait; the
// writers it waits for hold it for one small read-modify-write.
const lockPollMax = 20 * time.Millisecond

// lockIndex takes the index lock, exclusive or shared, waiting until ctx is
// done. Each call opens the lock file anew: flock and LockFileEx locks
// belong to the open file, so two goroutines of one process exclude each
// other exactly as two processes do.
//
// A read-only store opens the lock file without creating it; if it is
// absent (a layout never written by this package) it reads unlocked, which
// is still safe against this package's writers because they replace
// index.json by rename.
func (s *Store) lockIndex(ctx context.Context, exclusive bool) (*lockedFile, error) {
	var f *os.File
	var err error
	if s.readOnly {
		f, err = os.Open(s.path(lockName))
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission) {
			return &lockedFile{}, nil
		}
	} else {
		f, err = os.OpenFile(s.path(lockName), os.O_RDWR|os.O_CREATE, 0o644)
	}
	if err != nil {
		return nil, err
	}
	wait := time.Millisecond
	for {
		ok, err := tryLockFile(f, exclusive)
		if err != nil {
			f.Close()
			return nil, err
		}
		if ok {
			return &lockedFile{f: f}, nil
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			f.Close()
			return nil, ctx.Err()
		case <-t.C:
		}
		wait = min(2*wait, lockPollMax)
	}
}
