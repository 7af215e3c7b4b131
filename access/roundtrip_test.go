package access_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"oras.land/oras-go/v2"

	"github.com/wasmgate/wasmgate/access"
	"github.com/wasmgate/wasmgate/artifact"
	"github.com/wasmgate/wasmgate/internal/ocilayout"
	"github.com/wasmgate/wasmgate/internal/testrig/testkit"
	"github.com/wasmgate/wasmgate/internal/testrig/testregistry"
)

// targets returns a fresh destination of each kind: distribution (no
// Referrers API), go-containerregistry (Referrers API) and an OCI layout.
func targets(t *testing.T) map[string]func(t *testing.T) oras.Target {
	return map[string]func(t *testing.T) oras.Target{
		"distribution": func(t *testing.T) oras.Target {
			dst, _ := registryTarget(t, testregistry.Distribution(t), "wasm/hello", 5*time.Second)
			return dst
		},
		"ggcr": func(t *testing.T) oras.Target {
			dst, _ := registryTarget(t, testregistry.GGCR(t), "wasm/hello", 5*time.Second)
			return dst
		},
		"layout": func(t *testing.T) oras.Target {
			s, err := ocilayout.Open(filepath.Join(t.TempDir(), "layout"), ocilayout.Options{})
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
	}
}

func TestPushPullRoundTrip(t *testing.T) {
	helloPath, policy := sampleFiles(t)
	cases := []struct {
		name     string
		wasmPath string
		policy   []byte
		kind     artifact.Kind
		os       string
	}{
		{"module with policy", helloPath, policy, artifact.KindModule, "wasip1"},
		{"component without policy", fixture("wasm/component.wasm"), nil, artifact.KindComponent, "wasip2"},
	}
	for name, open := range targets(t) {
		for _, tc := range cases {
			t.Run(name+"/"+tc.name, func(t *testing.T) {
				ctx := testkit.Context(t)
				dst := open(t)
				pkg, err := artifact.Pack(tc.wasmPath, tc.policy, artifact.BuildOptions{})
				if err != nil {
					t.Fatal(err)
				}
				if err := access.Push(ctx, dst, pkg, "v1", access.PushOptions{}); err != nil {
					t.Fatal(err)
				}
				out := filepath.Join(t.TempDir(), "out")
				p, err := access.Pull(ctx, dst, "v1", out, access.PullOptions{})
				if err != nil {
					t.Fatal(err)
				}
				if p.Manifest.Descriptor.Digest != pkg.Manifest.Digest {
					t.Errorf("pulled manifest %s, pushed %s", p.Manifest.Descriptor.Digest, pkg.Manifest.Digest)
				}
				if p.Kind != tc.kind || p.Config.OS != tc.os || p.Config.Architecture != "wasm" {
					t.Errorf("kind %s os %s arch %s, want %s %s wasm", p.Kind, p.Config.OS, p.Config.Architecture, tc.kind, tc.os)
				}
				wantFiles := 1
				if tc.policy != nil {
					wantFiles = 2
				}
				if len(p.Files) != wantFiles {
					t.Fatalf("wrote %d files, want %d: %+v", len(p.Files), wantFiles, p.Files)
				}
				if got := testkit.ReadFile(t, p.Files[0].Path); !bytes.Equal(got, testkit.ReadFile(t, tc.wasmPath)) {
					t.Error("pulled wasm differs from the pushed file")
				}
				if filepath.Base(p.Files[0].Path) != filepath.Base(tc.wasmPath) {
					t.Errorf("wasm written as %s, want its title %s", p.Files[0].Path, filepath.Base(tc.wasmPath))
				}
				if tc.policy != nil {
					if got := testkit.ReadFile(t, p.Files[1].Path); !bytes.Equal(got, tc.policy) {
						t.Error("pulled policy differs from the pushed one")
					}
					if p.Policy == nil || len(p.Policy.Summary().EnvKeys) != 1 {
						t.Errorf("policy not parsed: %+v", p.Policy)
					}
				}

				// Inspect sees the same artifact, and says so in JSON.
				in, err := access.Inspect(ctx, dst, "v1", access.PullOptions{})
				if err != nil {
					t.Fatal(err)
				}
				raw, err := json.Marshal(in)
				if err != nil {
					t.Fatal(err)
				}
				var got struct {
					Digest string `json:"digest"`
					Kind   string `json:"kind"`
					Layers []struct {
						Role, MediaType, Digest, Kind string
						Size                          int64
					} `json:"layers"`
				}
				if err := json.Unmarshal(raw, &got); err != nil {
					t.Fatal(err)
				}
				if got.Digest != pkg.Manifest.Digest.String() || got.Kind != string(tc.kind) || len(got.Layers) != wantFiles {
					t.Fatalf("inspect: %s", raw)
				}
				l := got.Layers[0]
				if l.Role != "wasm" || l.MediaType != artifact.MediaTypeWasm || l.Digest != pkg.Wasm.Digest.String() || l.Size != pkg.Wasm.Size || l.Kind != string(tc.kind) {
					t.Errorf("inspect wasm layer: %+v", l)
				}
				if tc.policy != nil {
					l := got.Layers[1]
					if l.Role != "policy" || l.MediaType != artifact.MediaTypePolicy || l.Digest != pkg.Policy.Digest.String() || l.Size != int64(len(tc.policy)) {
						t.Errorf("inspect policy layer: %+v", l)
					}
				}
			})
		}
	}
}

// A manifest built twice from the same inputs has the same digest: created
// is left out unless asked for.
func TestPackIsReproducible(t *testing.T) {
	wasmPath, policy := sampleFiles(t)
	a, err := artifact.Pack(wasmPath, policy, artifact.BuildOptions{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := artifact.Pack(wasmPath, policy, artifact.BuildOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if a.Manifest.Digest != b.Manifest.Digest {
		t.Errorf("same inputs, digests %s and %s", a.Manifest.Digest, b.Manifest.Digest)
	}
	created := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	c, err := artifact.Pack(wasmPath, policy, artifact.BuildOptions{Created: created})
	if err != nil {
		t.Fatal(err)
	}
	if c.Manifest.Digest == a.Manifest.Digest {
		t.Error("created did not change the digest")
	}
	var cfg artifact.Config
	if err := json.Unmarshal(c.ConfigJSON, &cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.Created == nil || !cfg.Created.Equal(created) || len(cfg.LayerDigests) != 2 || cfg.LayerDigests[0] != c.Wasm.Digest.String() {
		t.Errorf("config: %s", c.ConfigJSON)
	}
}

func TestPackRejectsBadInput(t *testing.T) {
	wasmPath, _ := sampleFiles(t)
	if _, err := artifact.Pack(fixture("wasm/tiny.wat"), nil, artifact.BuildOptions{}); !errors.Is(err, artifact.ErrNotWasm) {
		t.Errorf("text file: %v, want ErrNotWasm", err)
	}
	if _, err := artifact.Pack(wasmPath, []byte("version: \"1.0\"\nbogus: true\n"), artifact.BuildOptions{}); !errors.Is(err, artifact.ErrInvalidPolicy) {
		t.Errorf("bad policy: %v, want ErrInvalidPolicy", err)
	}
}
