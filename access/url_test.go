package access_test

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/wasmgate/wasmgate/access"
	"github.com/wasmgate/wasmgate/artifact"
	"github.com/wasmgate/wasmgate/internal/testrig/testkit"
	"github.com/wasmgate/wasmgate/remote"
)

// A plain .wasm over https is fetched with the same bounds as a layer and
// kept only when it has the pinned digest.
func TestFetchURL(t *testing.T) {
	tiny := testkit.ReadFile(t, fixture("wasm/tiny.wasm"))
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/tiny.wasm":
			w.Write(tiny)
		case "/big.wasm":
			w.Write(bytes.Repeat([]byte{0}, 4096))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	c := testkit.Client(t, nil, remote.Options{Transport: srv.Client().Transport, Timeout: 5 * time.Second})
	ref := func(path string) artifact.Reference {
		r, err := artifact.ParseReference(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}

	out := filepath.Join(t.TempDir(), "out")
	f, kind, err := access.FetchURL(testkit.Context(t), c.HTTPClient(), ref("/tiny.wasm"), digestOf(tiny), out, 0)
	if err != nil {
		t.Fatal(err)
	}
	if kind != artifact.KindModule || filepath.Base(f.Path) != "tiny.wasm" || f.Size != int64(len(tiny)) || !bytes.Equal(testkit.ReadFile(t, f.Path), tiny) {
		t.Errorf("fetched %+v %s", f, kind)
	}

	cases := []struct {
		name   string
		path   string
		pinned string
		max    int64
		want   error
	}{
		{"no digest", "/tiny.wasm", "", 0, artifact.ErrDigestRequired},
		{"wrong digest", "/tiny.wasm", digestOf([]byte("other")).String(), 0, artifact.ErrDigestMismatch},
		{"over the size bound", "/big.wasm", digestOf(bytes.Repeat([]byte{0}, 4096)).String(), 1024, artifact.ErrTooLarge},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out")
			_, _, err := access.FetchURL(testkit.Context(t), c.HTTPClient(), ref(tc.path), digestFromString(tc.pinned), out, tc.max)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			assertNoFiles(t, out)
		})
	}
}
