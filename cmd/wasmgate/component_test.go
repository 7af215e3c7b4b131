package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/wasmgate/wasmgate/internal/testrig/testregistry"
)

// inspect shows a component's imports and exports, for a local file and
// for a registry artifact, in text and JSON.
func TestInspectComponentCLI(t *testing.T) {
	reg := testregistry.Distribution(t)
	cliEnv(t, reg)
	file := filepath.Join("..", "..", "testdata", "wasm", "sockets.wasm")
	ref := reg.Ref("wasm/sockets", "v1")
	if code, _, stderr := wasmgate(t, "push", file, ref); code != 0 {
		t.Fatal(stderr)
	}
	for _, target := range []string{file, ref} {
		code, stdout, stderr := wasmgate(t, "inspect", target)
		if code != 0 || !strings.Contains(stdout, "Imports:       wasi:sockets/tcp@0.2.0\n") || !strings.Contains(stdout, "Exports:       run\n") {
			t.Errorf("inspect %s: exit %d\n%s\n%s", target, code, stdout, stderr)
		}
		code, stdout, stderr = wasmgate(t, "inspect", target, "--output", "json")
		var out struct {
			Component *struct{ Imports, Exports []string }
		}
		if err := json.Unmarshal([]byte(stdout), &out); code != 0 || err != nil || out.Component == nil ||
			!slices.Equal(out.Component.Imports, []string{"wasi:sockets/tcp@0.2.0"}) || !slices.Equal(out.Component.Exports, []string{"run"}) {
			t.Errorf("inspect %s --output json: exit %d %v\n%s\n%s", target, code, err, stdout, stderr)
		}
	}
}

// pull --verified is strict: the sockets component, signed with a policy
// that grants no network, is refused and nothing is written; signed with
// a network grant, it is written.
func TestPullVerifiedStrictComponent(t *testing.T) {
	reg := testregistry.Distribution(t)
	cliEnv(t, reg)
	t.Setenv("COSIGN_PASSWORD", "")
	dir := t.TempDir()
	if code, _, stderr := wasmgate(t, "generate-key-pair", "--output-key-prefix", filepath.Join(dir, "release")); code != 0 {
		t.Fatal(stderr)
	}
	trust := filepath.Join(dir, "trust.yaml")
	if err := os.WriteFile(trust, []byte(runTrust), 0o644); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join("..", "..", "testdata", "wasm", "sockets.wasm")
	publish := func(repo, policy string) string {
		p := filepath.Join(dir, repo+".yaml")
		if err := os.WriteFile(p, []byte("version: \"1.0\"\npermissions:\n"+policy), 0o644); err != nil {
			t.Fatal(err)
		}
		ref := reg.Ref("wasm/"+repo, "v1")
		if code, _, stderr := wasmgate(t, "push", file, ref, "--policy", p); code != 0 {
			t.Fatal(stderr)
		}
		if code, _, stderr := wasmgate(t, "sign", ref, "--key", filepath.Join(dir, "release.key")); code != 0 {
			t.Fatal(stderr)
		}
		return ref
	}
	noNetwork := publish("no-network", "  storage:\n    allow:\n      - uri: \"fs:///data/**\"\n        access: [read]\n")
	network := publish("network", "  network:\n    allow:\n      - host: \"api.example.com\"\n")

	out := filepath.Join(dir, "out")
	code, _, stderr := wasmgate(t, "pull", "--verified", "--policy", trust, noNetwork, "-o", out)
	if code != exitDenied || !strings.Contains(stderr, "wasi:sockets/tcp@0.2.0 needs network permission") {
		t.Errorf("pull --verified without network: exit %d\n%s", code, stderr)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("a refused component left %s", out)
	}
	code, stdout, stderr := wasmgate(t, "pull", "--verified", "--policy", trust, network, "-o", out)
	if code != 0 || !strings.Contains(stdout, filepath.Join(out, "network.wasm")) {
		t.Errorf("pull --verified with network: exit %d\n%s\n%s", code, stdout, stderr)
	}
}
