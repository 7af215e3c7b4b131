// Package atomicfile writes a file so that readers see either the old
// content or the whole new content, never part of it: a temporary file
// in the same directory, written, closed, then renamed into place.
package atomicfile

import (
	"os"
	"path/filepath"
)

// Write replaces path with data, mode 0644. On any failure the temporary
// file is removed and path is left as it was.
func Write(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".wasmgate-*.partial")
	if err != nil {
		return err
	}
	_, werr := f.Write(data)
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Chmod(f.Name(), 0o644)
	}
	if werr == nil {
		werr = os.Rename(f.Name(), path)
	}
	if werr != nil {
		os.Remove(f.Name())
	}
	return werr
}
