package access_test

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"oras.land/oras-go/v2/content/memory"

	"github.com/wasmgate/wasmgate/access"
	"github.com/wasmgate/wasmgate/artifact"
	"github.com/wasmgate/wasmgate/internal/testrig/testkit"
)

// The sockets component (testdata/wasm) under configs as wkg writes them,
// and as a publisher would write one to hide its network import.
func TestInspectAndPullComponentConfigCrossCheck(t *testing.T) {
	wasm, err := os.ReadFile(fixture(filepath.Join("wasm", "sockets.wasm")))
	if err != nil {
		t.Fatal(err)
	}
	const head = `{"architecture":"wasm","os":"wasip2"`
	for _, tc := range []struct {
		name, config string
		want         error
	}{
		{"wkg's config", head + `,"component":{"exports":["run"],"imports":["wasi:sockets/tcp@0.2.0"],"target":null}}`, nil},
		{"no component field", head + `}`, nil},
		{"component field without imports", head + `,"component":{"exports":["run"]}}`, nil},
		{"config lists more than the binary", head + `,"component":{"exports":["run"],"imports":["wasi:sockets/tcp@0.2.0","wasi:cli/stdout@0.2.0"]}}`, nil},
		{"config hides the import", head + `,"component":{"exports":["run"],"imports":[]}}`, artifact.ErrConfigHidesImport},
		{"config hides it behind another", head + `,"component":{"exports":["run"],"imports":["wasi:sockets/udp@0.2.0"]}}`, artifact.ErrConfigHidesImport},
		{"not wkg's shape", head + `,"component":{"imports":"wasi:sockets/tcp@0.2.0"}}`, artifact.ErrInvalidConfig},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := testkit.Context(t)
			store := memory.New()
			seed(t, store, "v1", "", blob{mediaType: artifact.MediaTypeConfig, data: []byte(tc.config)},
				blob{mediaType: artifact.MediaTypeWasm, data: wasm, title: "sockets.wasm"})

			in, err := access.Inspect(ctx, store, "v1", access.PullOptions{})
			dir := filepath.Join(t.TempDir(), "out")
			p, perr := access.Pull(ctx, store, "v1", dir, access.PullOptions{})
			if tc.want != nil {
				if !errors.Is(err, tc.want) || !errors.Is(perr, tc.want) {
					t.Fatalf("inspect: %v\npull: %v\nwant %v", err, perr, tc.want)
				}
				if _, err := os.Stat(dir); !os.IsNotExist(err) {
					t.Errorf("a refused pull left %s", dir)
				}
				return
			}
			if err != nil || perr != nil {
				t.Fatalf("inspect: %v\npull: %v", err, perr)
			}
			want := []string{"wasi:sockets/tcp@0.2.0"}
			if in.Component == nil || !slices.Equal(in.Component.Imports, want) || !slices.Equal(in.Component.Exports, []string{"run"}) {
				t.Errorf("inspect component = %+v", in.Component)
			}
			if p.Component == nil || !slices.Equal(p.Component.Imports, want) {
				t.Errorf("pull component = %+v", p.Component)
			}
		})
	}
}

// A core module has no component description.
func TestInspectModuleHasNoComponent(t *testing.T) {
	ctx := testkit.Context(t)
	store := memory.New()
	wasmPath, policy := sampleFiles(t)
	testkit.Push(t, store, wasmPath, policy, "v1")
	in, err := access.Inspect(ctx, store, "v1", access.PullOptions{})
	if err != nil || in.Kind != artifact.KindModule || in.Component != nil {
		t.Fatalf("Inspect = %+v, %v", in, err)
	}
}
