package main

import (
	"bytes"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wasmgate/wasmgate/internal/sample"
	"github.com/wasmgate/wasmgate/internal/testrig/testkit"
	"github.com/wasmgate/wasmgate/internal/testrig/testregistry"
	"github.com/wasmgate/wasmgate/verify"
)

// cliEnv isolates a test's CLI runs: its own cache, no Docker
// credentials, plain HTTP to the test registry.
func cliEnv(t *testing.T, reg *testregistry.Registry) {
	t.Setenv("WASMGATE_CACHE", filepath.Join(t.TempDir(), "cache"))
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	if reg != nil {
		t.Setenv(envPlainHTTP, reg.Host)
	}
}

// wasmgate runs the command in process and returns its exit code and
// output.
func wasmgate(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(testkit.Context(t), append([]string{"wasmgate"}, args...), &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func sampleOnDisk(t *testing.T) (wasmPath, policyPath string) {
	dir := t.TempDir()
	wasmPath, policyPath = filepath.Join(dir, "hello.wasm"), filepath.Join(dir, "policy.yaml")
	if err := os.WriteFile(wasmPath, sample.HelloWasm(), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(policyPath, sample.PolicyYAML(), 0o644); err != nil {
		t.Fatal(err)
	}
	return wasmPath, policyPath
}

func TestPushPullInspectCLI(t *testing.T) {
	for _, kind := range testregistry.Kinds() {
		t.Run(string(kind), func(t *testing.T) {
			reg := testregistry.New(t, kind)
			cliEnv(t, reg)
			wasmPath, policyPath := sampleOnDisk(t)
			ref := reg.Ref("wasm/hello", "v1")

			// Flags after the positional arguments, as cosign and oras users type them.
			code, stdout, stderr := wasmgate(t, "push", wasmPath, ref, "--policy", policyPath, "--annotation", "org.opencontainers.image.source=https://example.test/hello")
			if code != 0 {
				t.Fatalf("push: exit %d: %s", code, stderr)
			}
			dgst := strings.TrimSpace(stdout)
			if !strings.HasPrefix(dgst, "sha256:") {
				t.Fatalf("push printed %q, want the digest", stdout)
			}

			out := filepath.Join(t.TempDir(), "out")
			code, stdout, stderr = wasmgate(t, "pull", ref, "-o", out, "--output", "json")
			if code != 0 {
				t.Fatalf("pull: exit %d: %s", code, stderr)
			}
			var pulled struct {
				Reference string `json:"reference"`
				Digest    string `json:"digest"`
				Kind      string `json:"kind"`
				Files     []struct {
					Role, Path, MediaType, Digest string
					Size                          int64
				} `json:"files"`
				Policy *struct {
					EnvKeys []string `json:"envKeys"`
				} `json:"policy"`
			}
			if err := json.Unmarshal([]byte(stdout), &pulled); err != nil {
				t.Fatalf("pull json: %v\n%s", err, stdout)
			}
			if pulled.Digest != dgst || pulled.Kind != "module" || len(pulled.Files) != 2 || pulled.Policy == nil || pulled.Policy.EnvKeys[0] != "GREETING" {
				t.Fatalf("pull json: %s", stdout)
			}
			if pulled.Reference != reg.Ref("wasm/hello", dgst) {
				t.Errorf("pull reports %s, want the pinned %s", pulled.Reference, reg.Ref("wasm/hello", dgst))
			}
			if got, _ := os.ReadFile(filepath.Join(out, "hello.wasm")); !bytes.Equal(got, sample.HelloWasm()) {
				t.Error("pulled hello.wasm differs")
			}
			if got, _ := os.ReadFile(filepath.Join(out, "policy.yaml")); !bytes.Equal(got, sample.PolicyYAML()) {
				t.Error("pulled policy.yaml differs")
			}

			code, stdout, stderr = wasmgate(t, "inspect", "--output=json", ref)
			if code != 0 {
				t.Fatalf("inspect: exit %d: %s", code, stderr)
			}
			var in struct {
				Digest      string            `json:"digest"`
				Kind        string            `json:"kind"`
				Annotations map[string]string `json:"annotations"`
				Config      struct{ OS string }
				Layers      []struct{ Role, MediaType, Kind string }
			}
			if err := json.Unmarshal([]byte(stdout), &in); err != nil {
				t.Fatal(err)
			}
			if in.Digest != dgst || in.Kind != "module" || in.Config.OS != "wasip1" || len(in.Layers) != 2 ||
				in.Layers[1].MediaType != "application/vnd.wasm.policy.v1+yaml" ||
				in.Annotations["org.opencontainers.image.source"] != "https://example.test/hello" {
				t.Errorf("inspect json: %s", stdout)
			}
			code, stdout, _ = wasmgate(t, "inspect", ref)
			if code != 0 || !strings.Contains(stdout, "environment GREETING") || !strings.Contains(stdout, "Kind:          module (os wasip1)") {
				t.Errorf("inspect text: exit %d\n%s", code, stdout)
			}
		})
	}
}

func TestPullFromCache(t *testing.T) {
	reg := testregistry.Distribution(t)
	cliEnv(t, reg)
	wasmPath, policyPath := sampleOnDisk(t)
	ref := reg.Ref("wasm/hello", "v1")
	code, stdout, stderr := wasmgate(t, "push", "--policy", policyPath, wasmPath, ref)
	if code != 0 {
		t.Fatalf("push: %s", stderr)
	}
	pinned := reg.Ref("wasm/hello", strings.TrimSpace(stdout))
	if code, _, stderr := wasmgate(t, "pull", ref, "-o", t.TempDir()); code != 0 {
		t.Fatalf("pull: %s", stderr)
	}

	// Pinned by digest and cached: no request at all.
	reg.Faults.ResetLog()
	if code, _, stderr := wasmgate(t, "pull", pinned, "-o", t.TempDir()); code != 0 {
		t.Fatalf("pinned pull: %s", stderr)
	}
	if n := len(reg.Faults.Requests()); n != 0 {
		t.Errorf("a cached, digest-pinned pull made %d requests: %+v", n, reg.Faults.Requests())
	}

	// Offline, the tag resolves through the pointer the first pull left.
	reg.Faults.Inject("", "", testregistry.Status(500, 0))
	out := t.TempDir()
	code, stdout, stderr = wasmgate(t, "pull", "--offline", ref, "-o", out, "--output", "json")
	if code != 0 {
		t.Fatalf("offline pull: %s", stderr)
	}
	if !strings.Contains(stdout, strings.TrimPrefix(pinned, reg.Host+"/wasm/hello@")) {
		t.Errorf("offline pull resolved elsewhere: %s", stdout)
	}
	if n := len(reg.Faults.Requests()); n != 0 {
		t.Errorf("offline pull made %d requests", n)
	}
	// Offline, an uncached tag fails, and says why.
	if code, _, stderr := wasmgate(t, "pull", "--offline", reg.Ref("wasm/hello", "v2"), "-o", t.TempDir()); code != 1 || !strings.Contains(stderr, "not in the cache") {
		t.Errorf("offline uncached: exit %d: %s", code, stderr)
	}

	code, stdout, _ = wasmgate(t, "cache", "ls")
	if code != 0 || !strings.Contains(stdout, ref) {
		t.Errorf("cache ls: exit %d\n%s", code, stdout)
	}
	code, stdout, stderr = wasmgate(t, "cache", "verify", "--output", "json")
	if code != 0 {
		t.Errorf("cache verify: exit %d: %s %s", code, stdout, stderr)
	}
}

func TestUsageErrors(t *testing.T) {
	cliEnv(t, nil)
	cases := [][]string{
		{"pull"},
		{"pull", "a", "b"},
		{"pull", "--output", "yaml", "registry.example/x:1"},
		{"push", "only-one-arg.wasm"},
		{"pull", "http://example.test/x.wasm"},
		{"pull", "--digest", "nonsense", "registry.example/x:1"},
		{"pull", "--bogus-flag", "registry.example/x:1"},
		{"push", "x.wasm", "registry.example/x:1", "--annotation", "novalue"},
	}
	for _, args := range cases {
		code, _, stderr := wasmgate(t, args...)
		if code != exitUsage {
			t.Errorf("%v: exit %d, want %d (%s)", args, code, exitUsage, stderr)
		}
	}
}

func TestPullHTTPSNeedsDigest(t *testing.T) {
	cliEnv(t, nil)
	code, _, stderr := wasmgate(t, "pull", "https://example.test/x.wasm", "-o", t.TempDir())
	if code != 1 || !strings.Contains(stderr, "--digest") {
		t.Errorf("exit %d: %s", code, stderr)
	}
}

func TestQuickstart(t *testing.T) {
	cliEnv(t, nil)
	code, stdout, stderr := wasmgate(t, "quickstart", "--output", "json")
	if code != 0 {
		t.Fatalf("quickstart: exit %d: %s", code, stderr)
	}
	var rep quickstartReport
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatal(err)
	}
	if !rep.ByteIdentical || rep.CachedRequests != 0 || rep.Kind != "module" || rep.Digest != rep.LayoutDigest || len(rep.Files) != 2 || rep.Verdict != verify.VerdictVerified || rep.TamperedVerdict != verify.VerdictDenied || !strings.Contains(rep.RunOutput, "greeting: hi from the host") {
		t.Errorf("quickstart: %+v", rep)
	}
}

func TestReorderArgs(t *testing.T) {
	app := newApp(nil, nil)
	cases := []struct{ in, want string }{
		{"wasmgate push a.wasm REF --policy p.yaml", "wasmgate push --policy p.yaml -- a.wasm REF"},
		{"wasmgate pull REF -o out --offline", "wasmgate pull -o out --offline -- REF"},
		{"wasmgate pull --output=json REF", "wasmgate pull --output=json -- REF"},
		{"wasmgate cache ls --output json", "wasmgate cache ls --output json"},
		{"wasmgate pull REF -- --not-a-flag", "wasmgate pull -- REF --not-a-flag"},
		{"wasmgate nosuch x --y", "wasmgate nosuch x --y"},
	}
	for _, tc := range cases {
		got := strings.Join(reorderArgs(app, strings.Fields(tc.in)), " ")
		if got != tc.want {
			t.Errorf("%q\n got %q\nwant %q", tc.in, got, tc.want)
		}
	}
}

// TestMain keeps every command off the internet, as on a machine without
// it: requests to anything but loopback go to a proxy on a closed loopback
// port and fail at once (Go's proxy rules never proxy loopback, so the
// in-process registries are reached directly). A keyless check with no
// --trusted-root then falls back as it would offline, to the trust root
// embedded in wasmgate.
func TestMain(m *testing.M) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	closed := "http://" + l.Addr().String()
	l.Close()
	for _, k := range []string{"HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy"} {
		os.Setenv(k, closed)
	}
	os.Unsetenv("NO_PROXY")
	os.Unsetenv("no_proxy")
	os.Exit(m.Run())
}
