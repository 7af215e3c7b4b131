package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/wasmgate/wasmgate/internal/testrig/testregistry"
	"github.com/wasmgate/wasmgate/loader"
	"github.com/wasmgate/wasmgate/permissions"
)

// pull --verified of a component writes, beside the wasm and policy.yaml,
// the wasmtime flags and the Wassette policy of its effective
// capabilities: without ceiling flags what the policy asks, with them
// the intersection; a core module gets neither, and refuses the flags.
func TestPullVerifiedWritesCapabilities(t *testing.T) {
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
	const perms = `  storage:
    allow:
      - uri: "fs:///data/**"
        access: [read]
  network:
    allow:
      - host: "api.example.com"
  environment:
    allow:
      - key: GREETING
`
	publish := func(repo, file string) string {
		p := filepath.Join(dir, repo+".yaml")
		if err := os.WriteFile(p, []byte("version: \"1.0\"\npermissions:\n"+perms), 0o644); err != nil {
			t.Fatal(err)
		}
		ref := reg.Ref("wasm/"+repo, "v1")
		if code, _, stderr := wasmgate(t, "push", filepath.Join("..", "..", "testdata", "wasm", file), ref, "--policy", p); code != 0 {
			t.Fatal(stderr)
		}
		if code, _, stderr := wasmgate(t, "sign", ref, "--key", filepath.Join(dir, "release.key")); code != 0 {
			t.Fatal(stderr)
		}
		return ref
	}
	component := publish("capabilities", "capabilities.wasm")

	// read returns the flags (comments left out) and the parsed policy.
	read := func(out string) ([]string, permissions.Permissions) {
		t.Helper()
		raw, err := os.ReadFile(filepath.Join(out, loader.WasmtimeFlagsFile))
		if err != nil {
			t.Fatal(err)
		}
		var lines []string
		for _, l := range strings.Split(strings.TrimSuffix(string(raw), "\n"), "\n") {
			if !strings.HasPrefix(l, "#") {
				lines = append(lines, l)
			}
		}
		praw, err := os.ReadFile(filepath.Join(out, loader.EffectivePolicyFile))
		if err != nil {
			t.Fatal(err)
		}
		p, err := permissions.Parse(praw)
		if err != nil {
			t.Fatalf("%s does not parse: %v\n%s", loader.EffectivePolicyFile, err, praw)
		}
		return lines, p.Permissions
	}

	t.Run("no ceiling", func(t *testing.T) {
		out := filepath.Join(dir, "out")
		code, stdout, stderr := wasmgate(t, "pull", "--verified", "--policy", trust, component, "-o", out)
		if code != 0 {
			t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
		}
		for _, name := range []string{"capabilities.wasm", "policy.yaml", loader.WasmtimeFlagsFile, loader.EffectivePolicyFile} {
			if !strings.Contains(stdout, filepath.Join(out, name)+"\n") {
				t.Errorf("stdout does not name %s:\n%s", name, stdout)
			}
		}
		if !strings.Contains(stderr, "wasmgate: wasmtime: storage /data is read-only in the policy") {
			t.Errorf("stderr does not say the read-only directory is left out:\n%s", stderr)
		}
		flags, got := read(out)
		want := []string{"--env GREETING", "-S inherit-network=y", "-S allow-ip-name-lookup=y", "-S http=y"}
		if !slices.Equal(flags, want) {
			t.Errorf("flags %q, want %q", flags, want)
		}
		signed, err := permissions.Parse([]byte("version: \"1.0\"\npermissions:\n" + perms))
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, signed.Permissions) {
			t.Errorf("effective policy %+v, want the signed %+v", got, signed.Permissions)
		}
	})

	t.Run("narrower ceiling", func(t *testing.T) {
		out := filepath.Join(dir, "narrow")
		data := filepath.Join(dir, "data")
		code, stdout, stderr := wasmgate(t, "pull", "--verified", "--policy", trust, component, "-o", out,
			"--allow-dir", "/data="+data, "--allow-no-network", "--output", "json")
		if code != 0 {
			t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
		}
		var res struct {
			Capabilities struct {
				Files   loader.CapabilityFiles
				Dropped []string
			}
		}
		if err := json.Unmarshal([]byte(stdout), &res); err != nil {
			t.Fatal(err, stdout)
		}
		if res.Capabilities.Files.Wasmtime != filepath.Join(out, loader.WasmtimeFlagsFile) || res.Capabilities.Files.Policy != filepath.Join(out, loader.EffectivePolicyFile) {
			t.Errorf("json files %+v", res.Capabilities.Files)
		}
		wantDropped := []string{"environment GREETING: the host does not allow it", "network: the host runs it without network (allowNoNetwork)"}
		if !slices.Equal(res.Capabilities.Dropped, wantDropped) {
			t.Errorf("dropped %q, want %q", res.Capabilities.Dropped, wantDropped)
		}
		flags, got := read(out)
		if len(flags) != 0 {
			t.Errorf("flags %q, want none (the one directory is read-only)", flags)
		}
		want := permissions.Permissions{Storage: permissions.StoragePermissions{Allow: []permissions.StorageRule{{URI: "fs:///data/**", Access: []permissions.Access{permissions.AccessRead}}}}}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("effective policy %+v, want %+v", got, want)
		}
	})

	t.Run("core module", func(t *testing.T) {
		module := publish("tiny", "tiny.wasm")
		out := filepath.Join(dir, "core")
		code, _, stderr := wasmgate(t, "pull", "--verified", "--policy", trust, module, "-o", out, "--allow-env", "GREETING")
		if code != 2 || !strings.Contains(stderr, "--allow-env is a ceiling for a component") {
			t.Errorf("exit %d\n%s", code, stderr)
		}
		if _, err := os.Stat(out); !os.IsNotExist(err) {
			t.Errorf("a refused pull left %s", out)
		}
		if code, _, stderr := wasmgate(t, "pull", "--verified", "--policy", trust, module, "-o", out); code != 0 {
			t.Fatal(stderr)
		}
		for _, name := range []string{loader.WasmtimeFlagsFile, loader.EffectivePolicyFile} {
			if _, err := os.Stat(filepath.Join(out, name)); !os.IsNotExist(err) {
				t.Errorf("a core module got %s", name)
			}
		}
	})

	t.Run("ceiling without --verified", func(t *testing.T) {
		code, _, stderr := wasmgate(t, "pull", component, "-o", filepath.Join(dir, "plain"), "--allow-dir", "/data")
		if code != 2 || !strings.Contains(stderr, "--allow-dir is a host ceiling for pull --verified") {
			t.Errorf("exit %d\n%s", code, stderr)
		}
	})
}
