package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wasmgate/wasmgate/internal/testrig/testregistry"
)

// probeWasm is loader's test module (loader/testdata/src/probe): its
// first argument picks what it does, such as "loop" (spin until stopped)
// or "alloc MIB".
var probeWasm = filepath.Join("..", "..", "loader", "testdata", "probe.wasm")

// signedProbe pushes the probe with the permission policy whose
// permissions mapping is perms, signs it with the key in dir (made on
// first use) and returns the reference and a trust policy trusting it.
func signedProbe(t *testing.T, reg *testregistry.Registry, dir, repo, perms string) (ref, trust string) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(dir, "release.key")); err != nil {
		if code, _, stderr := wasmgate(t, "generate-key-pair", "--output-key-prefix", filepath.Join(dir, "release")); code != 0 {
			t.Fatal(stderr)
		}
	}
	trust = filepath.Join(dir, "trust.yaml")
	policy := filepath.Join(dir, strings.ReplaceAll(repo, "/", "-")+".yaml")
	for path, text := range map[string]string{trust: runTrust, policy: "version: \"1.0\"\npermissions:\n" + perms} {
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ref = reg.Ref(repo, "v1")
	if code, _, stderr := wasmgate(t, "push", probeWasm, ref, "--policy", policy); code != 0 {
		t.Fatal(stderr)
	}
	if code, _, stderr := wasmgate(t, "sign", ref, "--key", filepath.Join(dir, "release.key")); code != 0 {
		t.Fatal(stderr)
	}
	return ref, trust
}

// Issue 21, items 2, 4 and 6: run's exit codes tell a module stopped by a
// sandbox limit (124 time, 137 memory) from wasmgate failing (125) and
// from a refusal (126); a refusal names the flag that grants what is
// missing; a policy over the host's limits is refused unless
// --clamp-limits, which runs it under them and says so. Every case runs
// the real probe module, verified, through the in-process CLI.
func TestRunLimitsExitCodes(t *testing.T) {
	reg := testregistry.Distribution(t)
	cliEnv(t, reg)
	t.Setenv("COSIGN_PASSWORD", "")
	dir := t.TempDir()
	plain, trust := signedProbe(t, reg, dir, "wasm/plain", "  resources:\n    limits:\n      cpu: \"1\"\n")
	asks5s, _ := signedProbe(t, reg, dir, "wasm/asks5s", "  resources:\n    limits:\n      timeout: \"5s\"\n")
	quick, _ := signedProbe(t, reg, dir, "wasm/quick", "  resources:\n    limits:\n      timeout: \"300ms\"\n")
	greedy, _ := signedProbe(t, reg, dir, "wasm/greedy", `  storage:
    allow:
      - uri: "fs:///data/**"
        access: [read, write]
  environment:
    allow:
      - key: GREETING
  network:
    allow:
      - host: "api.example.com"
  resources:
    limits:
      memory: "512Mi"
      timeout: "5s"
`)

	tests := []struct {
		name         string
		args         []string
		code         int
		stdout       []string
		stderr       []string
		stderrAbsent []string
	}{
		{
			name: "the module's own exit code passes through",
			args: []string{plain, "--", "env", "UNSET_VARIABLE"},
			code: 3,
		},
		{
			name:   "past the host's --max-time: 124, naming --max-time",
			args:   []string{plain, "--max-time", "300ms", "--", "loop"},
			code:   exitRunTimeLimit,
			stderr: []string{"time limit exceeded (limit 300ms)", "allow more with --max-time (maxTime in a --host-policy file)"},
		},
		{
			name:   "past the policy's own timeout: 124, and the host cannot raise it",
			args:   []string{quick, "--", "sleep", "3600"},
			code:   exitRunTimeLimit,
			stderr: []string{"time limit exceeded (limit 300ms)", "the one its publisher's policy sets (resources.limits.timeout)"},
		},
		{
			name:   "over the host's --max-memory: 137, naming --max-memory",
			args:   []string{plain, "--max-memory", "32Mi", "--", "alloc", "64"},
			code:   exitRunMemoryLimit,
			stderr: []string{"memory limit exceeded (limit 32 MiB)", "allow more with --max-memory (maxMemory in a --host-policy file)"},
		},
		{
			name:   "initial memory over the limit: 137 before it runs",
			args:   []string{plain, "--max-memory", "1Mi", "--", "env", "X"},
			code:   exitRunMemoryLimit,
			stderr: []string{"memory limit exceeded (limit 1 MiB)", "initial memory", "--max-memory"},
		},
		{
			name: "a policy over the host's ceiling: 126, each difference with the flag and the key that grant it",
			args: []string{greedy, "--max-time", "2s", "--max-memory", "64Mi"},
			code: exitRunRefused,
			stderr: []string{
				"environment GREETING: host does not allow it",
				"storage fs:///data/**: host allows no directory that contains /data",
				"memory 512 MiB: host allows at most 64 MiB",
				"timeout 5s: host allows at most 2s",
				"--allow-env GREETING", "env: {GREETING: null}",
				`--allow-dir /data=HOSTDIR:rw`, `dirs: ["/data=HOSTDIR:rw"]`,
				"--max-memory 512Mi", "maxMemory: 512Mi",
				"--max-time 5s", "maxTime: 5s",
				"--allow-no-network", "allowNoNetwork: true",
				"or --clamp-limits (clampLimits: true)",
			},
		},
		{
			name:   "5s asked, 2s allowed: refused by default, naming --max-time 5s and --clamp-limits",
			args:   []string{asks5s, "--max-time", "2s", "--print-permissions"},
			code:   exitRunRefused,
			stderr: []string{"timeout 5s: host allows at most 2s", "--max-time 5s", "--clamp-limits"},
		},
		{
			name:   "5s asked, 2s allowed, --clamp-limits: runs under 2s, printed",
			args:   []string{asks5s, "--max-time", "2s", "--clamp-limits", "--print-permissions"},
			code:   0,
			stdout: []string{"timeout 2s (clamped to the host's ceiling; the policy asks for 5s)"},
		},
		{
			name: "clamped and then past it: 124, naming what was clamped",
			args: []string{asks5s, "--max-time", "300ms", "--clamp-limits", "--", "loop"},
			code: exitRunTimeLimit,
			stderr: []string{
				"clamped to the host's ceiling: timeout 300ms, less than the 5s its policy asks for",
				"its policy asks for 5s; --clamp-limits ran it under the host's 300ms: give it what it asks with --max-time",
			},
		},
		{
			name:         "--clamp-limits changes nothing within the ceiling",
			args:         []string{asks5s, "--max-time", "10s", "--clamp-limits", "--print-permissions"},
			code:         0,
			stdout:       []string{"timeout 5s\n"},
			stderrAbsent: []string{"clamped"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := wasmgate(t, append([]string{"run", "--policy", trust}, tt.args...)...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.code, stdout, stderr)
			}
			for _, s := range tt.stdout {
				if !strings.Contains(stdout, s) {
					t.Errorf("stdout lacks %q:\n%s", s, stdout)
				}
			}
			for _, s := range tt.stderr {
				if !strings.Contains(stderr, s) {
					t.Errorf("stderr lacks %q:\n%s", s, stderr)
				}
			}
			for _, s := range tt.stderrAbsent {
				if strings.Contains(stdout+stderr, s) {
					t.Errorf("output has %q:\n%s\n%s", s, stdout, stderr)
				}
			}
		})
	}

	t.Run("print-permissions --output json says clampLimits and what was clamped", func(t *testing.T) {
		code, stdout, stderr := wasmgate(t, "run", "--policy", trust, asks5s, "--max-time", "2s", "--clamp-limits", "--print-permissions", "--output", "json")
		var got struct {
			ClampLimits bool `json:"clampLimits"`
			Sandbox     struct {
				Timeout string `json:"timeout"`
				Clamped []struct {
					Limit, Asked, Granted string
				} `json:"clamped"`
			} `json:"sandbox"`
		}
		if code != 0 || json.Unmarshal([]byte(stdout), &got) != nil {
			t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
		}
		if !got.ClampLimits || got.Sandbox.Timeout != "2s" || len(got.Sandbox.Clamped) != 1 || got.Sandbox.Clamped[0].Asked != "5s" || got.Sandbox.Clamped[0].Granted != "2s" {
			t.Errorf("json: %s", stdout)
		}
	})

	t.Run("clampLimits in a --host-policy file", func(t *testing.T) {
		hp := filepath.Join(dir, "host.yaml")
		if err := os.WriteFile(hp, []byte("maxTime: 2s\nclampLimits: true\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		code, stdout, stderr := wasmgate(t, "run", "--policy", trust, asks5s, "--host-policy", hp, "--print-permissions")
		if code != 0 || !strings.Contains(stdout, "timeout 2s (clamped") {
			t.Errorf("exit %d\n%s\n%s", code, stdout, stderr)
		}
	})
}

// run --help documents the exit codes that TestRunLimitsExitCodes pins.
func TestRunHelpExitCodes(t *testing.T) {
	code, stdout, stderr := wasmgate(t, "run", "--help")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	help := strings.Join(strings.Fields(stdout), " ")
	for _, s := range []string{
		"124 the sandbox's time limit stopped the module",
		"125 wasmgate could not decide",
		"126 refused",
		"137 the module needs more memory than the sandbox's limit",
		"--clamp-limits",
	} {
		if !strings.Contains(help, s) {
			t.Errorf("run --help lacks %q:\n%s", s, stdout)
		}
	}
}
