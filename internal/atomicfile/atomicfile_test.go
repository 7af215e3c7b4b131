package atomicfile_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/wasmgate/wasmgate/internal/atomicfile"
)

func TestWrite(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f")
	if err := os.WriteFile(path, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := atomicfile.Write(path, []byte("new")); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil || string(got) != "new" {
		t.Fatalf("%q %v", got, err)
	}
	// A directory in the way: the write fails, nothing is left behind.
	if err := atomicfile.Write(dir, []byte("x")); err == nil {
		t.Fatal("replaced a directory")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("left %d entries, want only f", len(entries))
	}
}
