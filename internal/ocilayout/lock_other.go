//go:build !unix && !windows

package ocilayout

import (
	"fmt"
	"os"
	"runtime"

	"oras.land/oras-go/v2/errdef"
)

// tryLockFile grants shared locks, which readers can do without (writers
// replace index.json by rename), and refuses exclusive ones: without a file
// lock, two writers would lose each other's tags.
func tryLockFile(f *os.File, exclusive bool) (bool, error) {
	if exclusive {
		return false, fmt.Errorf("no file locking on %s, cannot write index.json safely: %w", runtime.GOOS, errdef.ErrUnsupported)
	}
	return true, nil
}

func unlockFile(*os.File) error { return nil }

func syncDir(string) error { return nil }
