package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/content"

	"github.com/wasmgate/wasmgate/artifact"
	"github.com/wasmgate/wasmgate/internal/testrig/peers"
	"github.com/wasmgate/wasmgate/internal/testrig/testkit"
	"github.com/wasmgate/wasmgate/internal/testrig/testregistry"
)

// spinTrust trusts the cosign CLI's key for artifacts and for their
// permission policies, and requires a policy.
const spinTrust = `version: v1
policies:
  - name: spin
    scopes: ["*"]
    signatures:
      authorities:
        - name: release
          cosign: {key: cosign.pub, insecureIgnoreTlog: true}
    permissionPolicy:
      signedBy: [release]
    layers: {requirePolicy: true}
`

// spinPolicy is the permission policy attached to the application: its
// components may read GREETING.
const spinPolicy = "version: \"1.0\"\npermissions:\n  environment:\n    allow:\n      - key: GREETING\n"

// signSpin signs the application pinned with the cosign CLI, attaches
// the permission policy at policyPath as a referrer with wasmgate attach
// and signs that with wasmgate sign, as a publisher of a Spin
// application (which has no policy layer) would.
func signSpin(t *testing.T, reg *testregistry.Registry, repo, pinned, key, policyPath string) {
	t.Helper()
	peers.CosignSign(t, key, pinned, peers.CosignBundle)
	code, stdout, stderr := wasmgate(t, "attach", "--policy", policyPath, pinned)
	if code != exitOK {
		t.Fatalf("attach: %s", stderr)
	}
	if code, _, stderr := wasmgate(t, "sign", reg.Host+"/"+repo+"@"+strings.TrimSpace(stdout), "--key", key); code != exitOK {
		t.Fatalf("sign the policy referrer: %s", stderr)
	}
}

// One component of a verified Spin application (testdata/shapes/spin:
// hello, a WASI command, and adder), in strict mode, on both registry
// kinds: the application signed with the cosign CLI, its permission
// policy a signed referrer. run --component hello verifies the whole
// application and runs hello under the policy within the host's ceiling;
// a tampered hello layer is refused before anything is compiled; a name
// not in the application is a usage error (2) that lists the ids; run
// and pull --verified without --component refuse (126, 1), naming the
// ids and --component; pull --verified --component writes that
// component and the policy, nothing else.
func TestRunSpinComponentCLI(t *testing.T) {
	peers.Binary(t, "cosign")
	t.Setenv("COSIGN_PASSWORD", "")
	dir, key, _ := peers.CosignKeys(t)
	trust, policyPath := filepath.Join(dir, "trust.yaml"), filepath.Join(dir, "policy.yaml")
	for path, data := range map[string]string{trust: spinTrust, policyPath: spinPolicy} {
		if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	plugin := testkit.ReadFile(t, filepath.Join("..", "..", "testdata", "shapes", "plugin.wasm"))
	for _, kind := range testregistry.Kinds() {
		t.Run(string(kind), func(t *testing.T) {
			reg := testregistry.New(t, kind)
			cliEnv(t, reg)
			t.Setenv("GREETING", "hi")
			desc := testkit.PushLayout(t, reg.Repository(t, "apps/spin"), testkit.ShapeLayout(t, "spin"), "v1")
			pinned := reg.Ref("apps/spin", desc.Digest.String())
			signSpin(t, reg, "apps/spin", pinned, key, policyPath)
			compiled := filepath.Join(os.Getenv("WASMGATE_CACHE"), "compiled")

			// Tampered in flight: refused before anything is compiled.
			rule := reg.Faults.Inject("GET", "/blobs/"+digestOfBytes(plugin), testregistry.TamperBody())
			code, stdout, stderr := wasmgate(t, "run", "--policy", trust, pinned, "--component", "hello", "--allow-env", "GREETING", "--no-cache")
			reg.Faults.Remove(rule)
			if code != exitRunRefused || stdout != "" || !strings.Contains(stderr, "digest mismatch") {
				t.Errorf("tampered: exit %d\n%q\n%s", code, stdout, stderr)
			}
			if entries, _ := os.ReadDir(compiled); len(entries) != 0 {
				t.Errorf("something was compiled before verification passed: %v", entries)
			}

			code, stdout, stderr = wasmgate(t, "run", "--policy", trust, pinned, "--component", "hello", "--allow-env", "GREETING")
			if code != exitOK || stdout != "hello from a wasm plugin\n" {
				t.Errorf("run --component hello: exit %d\n%q\n%s", code, stdout, stderr)
			}
			// The policy asks for GREETING: a host that does not grant it
			// refuses, naming the flag.
			code, stdout, stderr = wasmgate(t, "run", "--policy", trust, pinned, "--component", "hello")
			if code != exitRunRefused || stdout != "" || !strings.Contains(stderr, "--allow-env GREETING") {
				t.Errorf("beyond the ceiling: exit %d\n%q\n%s", code, stdout, stderr)
			}
			code, stdout, stderr = wasmgate(t, "run", "--policy", trust, pinned, "--component", "nope")
			if code != exitUsage || stdout != "" || !strings.Contains(stderr, `"nope"`) || !strings.Contains(stderr, "hello, adder") {
				t.Errorf("run --component nope: exit %d\n%q\n%s", code, stdout, stderr)
			}
			code, stdout, stderr = wasmgate(t, "run", "--policy", trust, pinned)
			if code != exitRunRefused || stdout != "" || !strings.Contains(stderr, "Spin application of 2 components (hello, adder)") || !strings.Contains(stderr, "--component") {
				t.Errorf("run without --component: exit %d\n%q\n%s", code, stdout, stderr)
			}

			out := filepath.Join(t.TempDir(), "out")
			if code, stdout, stderr := wasmgate(t, "pull", "--verified", "--policy", trust, "--component", "hello", pinned, "-o", out); code != exitOK {
				t.Fatalf("pull --verified --component hello: exit %d\n%s%s", code, stdout, stderr)
			}
			entries, _ := os.ReadDir(out)
			if len(entries) != 2 || !bytes.Equal(testkit.ReadFile(t, filepath.Join(out, "hello.wasm")), plugin) ||
				string(testkit.ReadFile(t, filepath.Join(out, "policy.yaml"))) != spinPolicy {
				t.Errorf("pull --verified --component hello wrote %v", entries)
			}
			out = filepath.Join(t.TempDir(), "all")
			code, stdout, stderr = wasmgate(t, "pull", "--verified", "--policy", trust, pinned, "-o", out)
			if code != exitDenied || !strings.Contains(stderr, "hello, adder") || !strings.Contains(stderr, "--component") {
				t.Errorf("pull --verified without --component: exit %d\n%s%s", code, stdout, stderr)
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Errorf("a refused pull left %s: %v", out, err)
			}
			if code, _, stderr := wasmgate(t, "pull", "--component", "hello", pinned, "-o", out); code != exitUsage {
				t.Errorf("pull --component without --verified: exit %d\n%s", code, stderr)
			}
		})
	}
}

// --component on what is not a Spin application is a usage error (2);
// a component of a Spin application that is a component-model binary,
// not a core module, is refused as run refuses any component (126).
func TestRunSpinComponentNotRunnableCLI(t *testing.T) {
	peers.Binary(t, "cosign")
	t.Setenv("COSIGN_PASSWORD", "")
	dir, key, _ := peers.CosignKeys(t)
	trust, policyPath := filepath.Join(dir, "trust.yaml"), filepath.Join(dir, "policy.yaml")
	for path, data := range map[string]string{trust: spinTrust, policyPath: spinPolicy} {
		if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	reg := testregistry.Distribution(t)
	cliEnv(t, reg)

	wasmPath, samplePolicy := sampleOnDisk(t)
	code, stdout, stderr := wasmgate(t, "push", wasmPath, "--permissions", samplePolicy, reg.Ref("wasm/hello", "v1"))
	if code != exitOK {
		t.Fatal(stderr)
	}
	module := reg.Ref("wasm/hello", strings.TrimSpace(stdout))
	peers.CosignSign(t, key, module, peers.CosignBundle)
	code, stdout, stderr = wasmgate(t, "run", "--policy", trust, module, "--component", "hello")
	if code != exitUsage || stdout != "" || !strings.Contains(stderr, "not a Spin application") {
		t.Errorf("--component on a module: exit %d\n%q\n%s", code, stdout, stderr)
	}

	plugin := testkit.ReadFile(t, filepath.Join("..", "..", "testdata", "shapes", "plugin.wasm"))
	comp := testkit.ReadFile(t, filepath.Join("..", "..", "testdata", "wasm", "component.wasm"))
	desc := pushSpinApp(t, reg.Repository(t, "apps/mixed"), []string{"hello", "comp"}, [][]byte{plugin, comp})
	pinned := reg.Ref("apps/mixed", desc.Digest.String())
	signSpin(t, reg, "apps/mixed", pinned, key, policyPath)
	code, stdout, stderr = wasmgate(t, "run", "--policy", trust, pinned, "--component", "comp", "--allow-env", "GREETING")
	if code != exitRunRefused || stdout != "" || !strings.Contains(stderr, "component runtime") {
		t.Errorf("run --component comp: exit %d\n%q\n%s", code, stdout, stderr)
	}
	code, stdout, stderr = wasmgate(t, "run", "--policy", trust, pinned, "--component", "hello", "--allow-env", "GREETING")
	if code != exitOK || stdout != "hello from a wasm plugin\n" {
		t.Errorf("run --component hello: exit %d\n%q\n%s", code, stdout, stderr)
	}
}

// pushSpinApp pushes a Spin application of the components (ids[i] runs
// wasm[i]) as
// spin registry push lays one out: a wasm layer each, then the locked
// application naming them by digest, and tags it v1.
func pushSpinApp(t *testing.T, dst oras.Target, ids []string, wasm [][]byte) ocispec.Descriptor {
	t.Helper()
	ctx := testkit.Context(t)
	push := func(mediaType string, data []byte) ocispec.Descriptor {
		d := content.NewDescriptorFromBytes(mediaType, data)
		if err := dst.Push(ctx, d, bytes.NewReader(data)); err != nil {
			t.Fatal(err)
		}
		return d
	}
	type source struct {
		ContentType string `json:"content_type"`
		Digest      string `json:"digest"`
	}
	type component struct {
		ID     string `json:"id"`
		Source source `json:"source"`
	}
	locked := struct {
		Version    int         `json:"spin_lock_version"`
		Components []component `json:"components"`
	}{}
	m := ocispec.Manifest{MediaType: ocispec.MediaTypeImageManifest}
	m.SchemaVersion = 2
	for i, id := range ids {
		d := push(artifact.MediaTypeWasmContentLayer, wasm[i])
		m.Layers = append(m.Layers, d)
		locked.Components = append(locked.Components, component{ID: id, Source: source{ContentType: "application/wasm", Digest: d.Digest.String()}})
	}
	raw, err := json.Marshal(locked)
	if err != nil {
		t.Fatal(err)
	}
	m.Layers = append(m.Layers, push(artifact.MediaTypeSpinApp, raw))
	m.Config = push(ocispec.MediaTypeImageConfig, []byte(`{"architecture":"wasm","os":"wasip1","rootfs":{"type":"layers","diff_ids":[]}}`))
	if raw, err = json.Marshal(m); err != nil {
		t.Fatal(err)
	}
	desc := content.NewDescriptorFromBytes(ocispec.MediaTypeImageManifest, raw)
	if err := dst.Push(ctx, desc, bytes.NewReader(raw)); err != nil {
		t.Fatal(err)
	}
	if err := dst.Tag(ctx, desc, "v1"); err != nil {
		t.Fatal(err)
	}
	return desc
}
