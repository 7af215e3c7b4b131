package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wasmgate/wasmgate/internal/testrig/testregistry"
)

const runTrust = `version: v1
policies:
  - name: hello
    scopes: ["*"]
    signatures:
      authorities:
        - name: release
          cosign: {key: release.pub, insecureIgnoreTlog: true}
    layers: {requirePolicy: true}
`

// signedSample pushes the sample module with its policy to repo, signs it
// with a fresh key when sign is set, and returns the reference and a trust
// policy that trusts that key.
func signedSample(t *testing.T, reg *testregistry.Registry, dir, repo string, sign bool) (ref, trust string) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(dir, "release.key")); err != nil {
		if code, _, stderr := wasmgate(t, "generate-key-pair", "--output-key-prefix", filepath.Join(dir, "release")); code != 0 {
			t.Fatal(stderr)
		}
	}
	trust = filepath.Join(dir, "trust.yaml")
	if err := os.WriteFile(trust, []byte(runTrust), 0o644); err != nil {
		t.Fatal(err)
	}
	wasmPath, policyPath := sampleOnDisk(t)
	ref = reg.Ref(repo, "v1")
	if code, _, stderr := wasmgate(t, "push", wasmPath, ref, "--policy", policyPath); code != 0 {
		t.Fatal(stderr)
	}
	if sign {
		if code, _, stderr := wasmgate(t, "sign", ref, "--key", filepath.Join(dir, "release.key")); code != 0 {
			t.Fatal(stderr)
		}
	}
	return ref, trust
}

// run end to end: the signed sample prints under its policy; the host's
// ceiling decides what it gets; an unsigned or tampered copy is refused
// before any wasm is compiled (the compilation cache stays empty).
func TestRunCLI(t *testing.T) {
	reg := testregistry.Distribution(t)
	cliEnv(t, reg)
	t.Setenv("COSIGN_PASSWORD", "")
	dir := t.TempDir()
	ref, trust := signedSample(t, reg, dir, "wasm/hello", true)
	unsigned, _ := signedSample(t, reg, dir, "wasm/unsigned", false)
	data := filepath.Join(dir, "data")
	if err := os.MkdirAll(data, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(data, "x.txt"), []byte("some data"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("GREETING", "hi")
	t.Setenv("SECRET", "not for the module")
	grants := []string{"--allow-env", "GREETING", "--allow-env", "SECRET", "--allow-dir", "/data=" + data}
	compiled := filepath.Join(os.Getenv("WASMGATE_CACHE"), "compiled")

	// Refused before compiling: nothing reaches the compilation cache.
	code, stdout, stderr := wasmgate(t, append([]string{"run", "--policy", trust, unsigned}, grants...)...)
	if code != exitRunRefused || strings.Contains(stdout, "hello from wasmgate") || !strings.Contains(stderr, "no signature found") {
		t.Errorf("unsigned: exit %d\n%s\n%s", code, stdout, stderr)
	}
	rule := reg.Faults.Inject("GET", "/blobs/sha256:", testregistry.TamperBody())
	code, stdout, stderr = wasmgate(t, append([]string{"run", "--policy", trust, ref, "--no-cache"}, grants...)...)
	reg.Faults.Remove(rule)
	if code != exitRunRefused || strings.Contains(stdout, "hello from wasmgate") || !strings.Contains(stderr, "digest mismatch") {
		t.Errorf("tampered: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if entries, _ := os.ReadDir(compiled); len(entries) != 0 {
		t.Errorf("something was compiled before verification passed: %v", entries)
	}

	code, stdout, stderr = wasmgate(t, append(append([]string{"run", "--policy", trust, ref}, grants...), "--", "/data/x.txt")...)
	if code != 0 || !strings.Contains(stdout, "hello from wasmgate\ngreeting: hi\nfile /data/x.txt: some data") {
		t.Fatalf("run: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if entries, _ := os.ReadDir(compiled); len(entries) == 0 {
		t.Error("the compilation cache is empty after a run")
	}
	// Outside the mount: nothing there. The policy does not ask for
	// SECRET, so granting it changes nothing.
	code, stdout, _ = wasmgate(t, append(append([]string{"run", "--policy", trust, ref}, grants...), "--", "/etc/passwd")...)
	if code == 0 || strings.Contains(stdout, "root:") {
		t.Errorf("outside the mounts: exit %d\n%s", code, stdout)
	}
	code, stdout, _ = wasmgate(t, append([]string{"run", "--policy", trust, ref, "--print-permissions"}, grants...)...)
	if code != 0 || !strings.Contains(stdout, "mount /data read-only (host "+data+")") || !strings.Contains(stdout, "env GREETING") || strings.Contains(stdout, "SECRET") || strings.Contains(stdout, "hello from wasmgate") {
		t.Errorf("print-permissions: exit %d\n%s", code, stdout)
	}
	// The ceiling: without GREETING the publisher asks for more than the
	// host allows; refused, with the difference.
	code, _, stderr = wasmgate(t, "run", "--policy", trust, ref, "--allow-dir", "/data="+data)
	if code != exitRunRefused || !strings.Contains(stderr, "environment GREETING: host does not allow it") || !strings.Contains(stderr, "--allow-env GREETING") {
		t.Errorf("ceiling: exit %d\n%s", code, stderr)
	}
	code, _, stderr = wasmgate(t, "run", ref)
	if code != exitUsage || !strings.Contains(stderr, "--policy") {
		t.Errorf("no policy: exit %d %s", code, stderr)
	}
	code, stdout, stderr = wasmgate(t, append([]string{"run", "--insecure-skip-verify", unsigned}, grants...)...)
	if code != 0 || !strings.Contains(stderr, "WARNING: --insecure-skip-verify") || !strings.Contains(stdout, "hello from wasmgate") {
		t.Errorf("insecure: exit %d\n%s\n%s", code, stdout, stderr)
	}

	// pull --verified writes the verified files, and nothing when denied.
	out := filepath.Join(dir, "out")
	if code, _, stderr := wasmgate(t, "pull", "--verified", "--policy", trust, unsigned, "-o", out); code != exitDenied {
		t.Errorf("pull --verified unsigned: exit %d %s", code, stderr)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("pull --verified of a denied artifact left %s", out)
	}
	if code, stdout, stderr := wasmgate(t, "pull", "--verified", "--policy", trust, ref, "-o", out); code != 0 || !strings.Contains(stdout, filepath.Join(out, "hello.wasm")) {
		t.Errorf("pull --verified: exit %d %s %s", code, stdout, stderr)
	}
}

// apply with 20 components: ten applied before are present and not
// fetched again, one unsigned is denied, the others are applied, and the
// exit code says some were denied.
func TestApplyCLI(t *testing.T) {
	reg := testregistry.Distribution(t)
	cliEnv(t, reg)
	t.Setenv("COSIGN_PASSWORD", "")
	dir := t.TempDir()
	if code, _, stderr := wasmgate(t, "generate-key-pair", "--output-key-prefix", filepath.Join(dir, "release")); code != 0 {
		t.Fatal(stderr)
	}
	if err := os.WriteFile(filepath.Join(dir, "trust.yaml"), []byte(runTrust), 0o644); err != nil {
		t.Fatal(err)
	}
	policy := filepath.Join(dir, "policy.yaml")
	if err := os.WriteFile(policy, []byte("version: \"1.0\"\npermissions:\n  environment:\n    allow: [{key: GREETING}]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tiny := filepath.Join("..", "..", "testdata", "wasm", "tiny.wasm")
	var entries []string
	for i := range 20 {
		repo := fmt.Sprintf("wasm/c%02d", i)
		ref := reg.Ref(repo, "v1")
		code, digest, stderr := wasmgate(t, "push", tiny, ref, "--policy", policy)
		if code != 0 {
			t.Fatal(stderr)
		}
		if i != 13 {
			if code, _, stderr := wasmgate(t, "sign", ref, "--key", filepath.Join(dir, "release.key")); code != 0 {
				t.Fatal(stderr)
			}
		}
		entries = append(entries, fmt.Sprintf("  - name: c%02d\n    ref: %s\n    grants: {env: {GREETING: hello}}\n", i, reg.Ref(repo, strings.TrimSpace(digest))))
	}
	spec := func(n int) string {
		path := filepath.Join(dir, fmt.Sprintf("components-%d.yaml", n))
		if err := os.WriteFile(path, []byte("version: v1\npolicy: trust.yaml\ncomponents:\n"+strings.Join(entries[:n], "")), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	out := filepath.Join(dir, "components")
	if code, stdout, stderr := wasmgate(t, "apply", "-f", spec(10), "--dir", out); code != 0 {
		t.Fatalf("first apply: exit %d\n%s\n%s", code, stdout, stderr)
	}
	reg.Faults.ResetLog()
	code, stdout, stderr := wasmgate(t, "apply", "-f", spec(20), "--dir", out, "--output", "json")
	if code != exitDenied {
		t.Fatalf("second apply: exit %d\n%s\n%s", code, stdout, stderr)
	}
	for i := range 10 {
		if n := reg.Faults.Count("", fmt.Sprintf("/wasm/c%02d/", i)); n != 0 {
			t.Errorf("c%02d was present but fetched again: %d requests", i, n)
		}
	}
	want := map[string]string{}
	for i := range 20 {
		want[fmt.Sprintf("c%02d", i)] = map[bool]string{true: "present", false: "applied"}[i < 10]
	}
	want["c13"] = "denied"
	var rep struct {
		Components []struct {
			Name   string `json:"name"`
			Status string `json:"status"`
		} `json:"components"`
	}
	if err := jsonUnmarshal(stdout, &rep); err != nil || len(rep.Components) != 20 {
		t.Fatalf("report: %v\n%s", err, stdout)
	}
	for _, c := range rep.Components {
		if c.Status != want[c.Name] {
			t.Errorf("%s: %s, want %s", c.Name, c.Status, want[c.Name])
		}
	}
	if _, err := os.Stat(filepath.Join(out, "c13")); !os.IsNotExist(err) {
		t.Errorf("the denied component left files: %v", err)
	}
	if _, err := os.Stat(filepath.Join(out, "c19", "c19.wasm")); err != nil {
		t.Errorf("c19 not written: %v", err)
	}
}

func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }
