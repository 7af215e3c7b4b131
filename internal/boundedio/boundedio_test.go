package boundedio_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wasmgate/wasmgate/internal/boundedio"
)

func TestReadAll(t *testing.T) {
	for _, tc := range []struct {
		n, max  int
		tooLong bool
	}{{0, 0, false}, {10, 10, false}, {11, 10, true}, {9, 10, false}, {1 << 20, 10, true}} {
		got, err := boundedio.ReadAll(bytes.NewReader(make([]byte, tc.n)), int64(tc.max))
		if tc.tooLong {
			if !errors.Is(err, boundedio.ErrTooLarge) || got != nil {
				t.Errorf("%d of at most %d: %v, %d bytes", tc.n, tc.max, err, len(got))
			}
			continue
		}
		if err != nil || len(got) != tc.n {
			t.Errorf("%d of at most %d: %v, %d bytes", tc.n, tc.max, err, len(got))
		}
	}
}

func TestReadFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(p, []byte("12345"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, err := boundedio.ReadFile(p, 5); err != nil || string(got) != "12345" {
		t.Fatalf("%q %v", got, err)
	}
	_, err := boundedio.ReadFile(p, 4)
	var tl *boundedio.TooLargeError
	if !errors.As(err, &tl) || tl.What != p || tl.Max != 4 || !strings.Contains(err.Error(), p) {
		t.Fatalf("%v", err)
	}
	if _, err := boundedio.ReadFile(filepath.Join(t.TempDir(), "missing"), 4); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("%v", err)
	}
}
