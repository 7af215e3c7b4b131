package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/content"

	"github.com/wasmgate/wasmgate/artifact"
	"github.com/wasmgate/wasmgate/internal/testrig/peers"
	"github.com/wasmgate/wasmgate/internal/testrig/testkit"
	"github.com/wasmgate/wasmgate/internal/testrig/testregistry"
)

const shapesTrust = `version: v1
policies:
  - name: plugins
    scopes: ["*"]
    signatures:
      authorities:
        - name: release
          cosign: {key: cosign.pub, insecureIgnoreTlog: true}
`

// Wasm shapes other tools publish (testdata/shapes), pushed byte for byte
// to both registry kinds and signed by the cosign CLI: inspect names the
// shape, pull writes the module byte-identical, verify accepts each as a
// wasm subject under a policy that trusts the key, and run reads the
// module (a WASI command) out of each.
func TestShapesInTheWildCLI(t *testing.T) {
	peers.Binary(t, "cosign")
	t.Setenv("COSIGN_PASSWORD", "")
	dir, key, _ := peers.CosignKeys(t)
	trust := filepath.Join(dir, "trust.yaml")
	if err := os.WriteFile(trust, []byte(shapesTrust), 0o644); err != nil {
		t.Fatal(err)
	}
	plugin := testkit.ReadFile(t, filepath.Join("..", "..", "testdata", "shapes", "plugin.wasm"))
	for _, kind := range testregistry.Kinds() {
		reg := testregistry.New(t, kind)
		for _, tc := range []struct {
			layout string
			shape  artifact.Shape
			file   string
		}{
			{"wasme", artifact.ShapeWasme, "filter.wasm"},
			{"istio-compat", artifact.ShapeIstioCompat, "plugin.wasm"},
			{"istio-compat-docker", artifact.ShapeIstioCompat, "plugin.wasm"},
			{"runwasi", artifact.ShapeRunwasi, "module.wasm"},
			{"wasmcloud", artifact.ShapeWasmCloud, "module.wasm"},
		} {
			t.Run(string(kind)+"/"+tc.layout, func(t *testing.T) {
				cliEnv(t, reg)
				repo := "plugins/" + tc.layout
				desc := testkit.PushLayout(t, reg.Repository(t, repo), testkit.ShapeLayout(t, tc.layout), "v1")
				pinned := reg.Ref(repo, desc.Digest.String())
				peers.CosignSign(t, key, pinned, peers.CosignBundle)

				code, stdout, stderr := wasmgate(t, "inspect", pinned)
				if code != exitOK || !strings.Contains(stdout, "Shape:         "+string(tc.shape)) || strings.Contains(stdout, "Pull:") {
					t.Errorf("inspect: exit %d\n%s%s", code, stdout, stderr)
				}
				out := t.TempDir()
				if code, stdout, stderr := wasmgate(t, "pull", pinned, "-o", out); code != exitOK {
					t.Fatalf("pull: exit %d\n%s%s", code, stdout, stderr)
				}
				if got := testkit.ReadFile(t, filepath.Join(out, tc.file)); !bytes.Equal(got, plugin) {
					t.Errorf("pull: %s is not plugin.wasm", tc.file)
				}
				// The verified pipeline extracts the module itself.
				verified := t.TempDir()
				if code, stdout, stderr := wasmgate(t, "pull", "--verified", "--policy", trust, pinned, "-o", verified); code != exitOK {
					t.Fatalf("pull --verified: exit %d\n%s%s", code, stdout, stderr)
				}
				if files, _ := filepath.Glob(filepath.Join(verified, "*.wasm")); len(files) != 1 || !bytes.Equal(testkit.ReadFile(t, files[0]), plugin) {
					t.Errorf("pull --verified wrote %v, not plugin.wasm's bytes", files)
				}
				code, stdout, stderr = wasmgate(t, "verify", "--policy", trust, pinned, "--output", "json")
				if code != exitOK {
					t.Fatalf("verify: exit %d\n%s%s", code, stdout, stderr)
				}
				if res := verifyResult(t, stdout); res.SubjectKind != artifact.SubjectWasm {
					t.Errorf("verify: subject %s, want wasm", res.SubjectKind)
				}
				// No shape of these tools carries a permission policy, so
				// strict mode refuses to run them, after verifying, for that
				// reason alone; without verification the module (extracted
				// from the compat archive too) runs with no permissions.
				code, stdout, stderr = wasmgate(t, "run", "--policy", trust, pinned)
				if code != exitRunRefused || stdout != "" || !strings.Contains(stderr, "no policy layer") {
					t.Errorf("run: exit %d\n%q\n%s", code, stdout, stderr)
				}
				code, stdout, stderr = wasmgate(t, "run", "--insecure-skip-verify", pinned)
				if code != exitOK || stdout != "hello from a wasm plugin\n" {
					t.Errorf("run --insecure-skip-verify: exit %d\n%q\n%s", code, stdout, stderr)
				}
			})
		}
	}
}

// A signed compat image whose layer holds a symlink named plugin.wasm is
// denied by verify (the layer rules) and refused by pull, on both
// registry kinds: a signature does not make a hostile archive readable.
func TestShapesCompatHostileCLI(t *testing.T) {
	peers.Binary(t, "cosign")
	t.Setenv("COSIGN_PASSWORD", "")
	dir, key, _ := peers.CosignKeys(t)
	trust := filepath.Join(dir, "trust.yaml")
	if err := os.WriteFile(trust, []byte(shapesTrust), 0o644); err != nil {
		t.Fatal(err)
	}
	var tb, gz bytes.Buffer
	tw := tar.NewWriter(&tb)
	tw.WriteHeader(&tar.Header{Name: "plugin.wasm", Typeflag: tar.TypeSymlink, Linkname: "/etc/passwd"})
	tw.Close()
	zw := gzip.NewWriter(&gz)
	zw.Write(tb.Bytes())
	zw.Close()
	cfgBytes := []byte(`{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}`)
	for _, kind := range testregistry.Kinds() {
		t.Run(string(kind), func(t *testing.T) {
			reg := testregistry.New(t, kind)
			cliEnv(t, reg)
			repo := reg.Repository(t, "plugins/hostile")
			ctx := testkit.Context(t)
			cfg := content.NewDescriptorFromBytes(ocispec.MediaTypeImageConfig, cfgBytes)
			layer := content.NewDescriptorFromBytes(ocispec.MediaTypeImageLayerGzip, gz.Bytes())
			for d, b := range map[*ocispec.Descriptor][]byte{&cfg: cfgBytes, &layer: gz.Bytes()} {
				if err := repo.Push(ctx, *d, bytes.NewReader(b)); err != nil {
					t.Fatal(err)
				}
			}
			m := ocispec.Manifest{MediaType: ocispec.MediaTypeImageManifest, Config: cfg, Layers: []ocispec.Descriptor{layer},
				Annotations: map[string]string{artifact.AnnotationWasmVariant: artifact.WasmVariantCompat}}
			m.SchemaVersion = 2
			raw, _ := json.Marshal(m)
			desc, err := oras.TagBytes(ctx, repo, ocispec.MediaTypeImageManifest, raw, "v1")
			if err != nil {
				t.Fatal(err)
			}
			pinned := reg.Ref("plugins/hostile", desc.Digest.String())
			peers.CosignSign(t, key, pinned, peers.CosignBundle)
			code, stdout, stderr := wasmgate(t, "verify", "--policy", trust, pinned)
			if code != exitDenied || !strings.Contains(stdout, "not a regular file") {
				t.Errorf("verify: exit %d, want %d\n%s%s", code, exitDenied, stdout, stderr)
			}
			out := filepath.Join(t.TempDir(), "out")
			if code, _, stderr := wasmgate(t, "pull", pinned, "-o", out); code == exitOK || !strings.Contains(stderr, "not a regular file") {
				t.Errorf("pull: exit %d\n%s", code, stderr)
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Errorf("pull left %s behind: %v", out, err)
			}
		})
	}
}

// A Spin application (testdata/shapes/spin, two components) on both
// registry kinds, signed by the cosign CLI: inspect lists the components;
// pull writes each byte-identical; verify accepts it as a wasm subject
// (every component layer and the data checked, the locked application
// matched against the manifest); run refuses the whole app with the
// reason and runs one component with --component.
func TestShapesSpinCLI(t *testing.T) {
	peers.Binary(t, "cosign")
	t.Setenv("COSIGN_PASSWORD", "")
	dir, key, _ := peers.CosignKeys(t)
	trust := filepath.Join(dir, "trust.yaml")
	if err := os.WriteFile(trust, []byte(shapesTrust), 0o644); err != nil {
		t.Fatal(err)
	}
	plugin := testkit.ReadFile(t, filepath.Join("..", "..", "testdata", "shapes", "plugin.wasm"))
	tiny := testkit.ReadFile(t, filepath.Join("..", "..", "testdata", "wasm", "tiny.wasm"))
	for _, kind := range testregistry.Kinds() {
		t.Run(string(kind), func(t *testing.T) {
			reg := testregistry.New(t, kind)
			cliEnv(t, reg)
			desc := testkit.PushLayout(t, reg.Repository(t, "apps/spin"), testkit.ShapeLayout(t, "spin"), "v1")
			pinned := reg.Ref("apps/spin", desc.Digest.String())
			peers.CosignSign(t, key, pinned, peers.CosignBundle)

			code, stdout, stderr := wasmgate(t, "inspect", pinned)
			if code != exitOK || !strings.Contains(stdout, "Shape:         spin") || strings.Contains(stdout, "Pull:") {
				t.Errorf("inspect: exit %d\n%s%s", code, stdout, stderr)
			}
			for _, want := range []string{"hello", "adder", digestOfBytes(plugin), digestOfBytes(tiny)} {
				if !strings.Contains(stdout, want) {
					t.Errorf("inspect does not list %s:\n%s", want, stdout)
				}
			}
			out := t.TempDir()
			if code, stdout, stderr := wasmgate(t, "pull", pinned, "-o", out); code != exitOK {
				t.Fatalf("pull: exit %d\n%s%s", code, stdout, stderr)
			}
			for name, want := range map[string][]byte{"hello.wasm": plugin, "adder.wasm": tiny} {
				if !bytes.Equal(testkit.ReadFile(t, filepath.Join(out, name)), want) {
					t.Errorf("pull: %s differs", name)
				}
			}
			code, stdout, stderr = wasmgate(t, "verify", "--policy", trust, pinned, "--output", "json")
			if code != exitOK {
				t.Fatalf("verify: exit %d\n%s%s", code, stdout, stderr)
			}
			if res := verifyResult(t, stdout); res.SubjectKind != artifact.SubjectWasm {
				t.Errorf("verify: subject %s", res.SubjectKind)
			}
			code, stdout, stderr = wasmgate(t, "run", "--insecure-skip-verify", pinned)
			if code != exitRunRefused || stdout != "" || !strings.Contains(stderr, "hello, adder") || !strings.Contains(stderr, "--component") {
				t.Errorf("run without --component: exit %d\n%q\n%s", code, stdout, stderr)
			}
			code, stdout, stderr = wasmgate(t, "run", "--policy", trust, pinned)
			if code != exitRunRefused || !strings.Contains(stdout+stderr, "Spin application of 2 components") {
				t.Errorf("verified run: exit %d\n%q\n%s", code, stdout, stderr)
			}
			code, stdout, stderr = wasmgate(t, "run", "--insecure-skip-verify", "--component", "hello", pinned)
			if code != exitOK || stdout != "hello from a wasm plugin\n" {
				t.Errorf("run --component hello: exit %d\n%q\n%s", code, stdout, stderr)
			}
			if code, _, stderr := wasmgate(t, "run", "--insecure-skip-verify", "--component", "nope", pinned); code != exitUsage || !strings.Contains(stderr, "hello, adder") {
				t.Errorf("run --component nope: exit %d\n%s", code, stderr)
			}
		})
	}
}

func digestOfBytes(b []byte) string { return digest.FromBytes(b).String() }
