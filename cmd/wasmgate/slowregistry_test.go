package main

import (
	"encoding/base64"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/wasmgate/wasmgate/internal/sample"
	"github.com/wasmgate/wasmgate/internal/testrig/testregistry"
	"github.com/wasmgate/wasmgate/remote"
)

// pushedSample pushes the sample module and its policy to reg as
// wasm/hello:v1 and returns the reference.
func pushedSample(t *testing.T, reg *testregistry.Registry) string {
	t.Helper()
	wasmPath, policyPath := sampleOnDisk(t)
	ref := reg.Ref("wasm/hello", "v1")
	if code, _, stderr := wasmgate(t, "push", wasmPath, ref, "--policy", policyPath); code != 0 {
		t.Fatalf("push: exit %d: %s", code, stderr)
	}
	return ref
}

func blobPath(data []byte) string { return "/blobs/" + digest.FromBytes(data).String() }

func emptyDir(t *testing.T, dir string) {
	t.Helper()
	if entries, err := os.ReadDir(dir); err != nil || len(entries) != 0 {
		t.Errorf("%s after a failed pull: %v %v, want it empty", dir, entries, err)
	}
}

// Issue 21, item 8: a registry that sends the wasm layer one byte every
// 50 ms never pauses long enough for --timeout, and kept pull running for
// 32 hours (2.3 MB). The minimum rate fails it within about a window,
// with the exit code of a registry timeout.
func TestPullFailsOnATrickleRegistry(t *testing.T) {
	reg := testregistry.GGCR(t)
	cliEnv(t, reg)
	ref := pushedSample(t, reg)
	reg.Faults.Inject("GET", blobPath(sample.HelloWasm()), testregistry.Slow(20))

	out := t.TempDir()
	start := time.Now()
	code, _, stderr := wasmgate(t, "pull", ref, "-o", out, "--min-rate", "1Ki", "--min-rate-window", "100ms")
	took := time.Since(start)
	if want := exitCode(remote.ErrTimeout); code != want || want == exitOK {
		t.Errorf("exit %d, want %d (a registry timeout's)", code, want)
	}
	for _, want := range []string{"registry timed out", "below the minimum rate of 1024 bytes/s", "--min-rate"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if took > 5*time.Second {
		t.Errorf("pull took %s to give up, want about the 100ms window", took)
	}
	emptyDir(t, out)
}

// A policy layer trickled at 1000 B/s: refused under --min-rate 10Ki,
// pulled with --min-rate 0 (in about half a second); the same pull without
// the trickle passes under a short window, and bad values are usage errors.
func TestMinRateFlag(t *testing.T) {
	reg := testregistry.GGCR(t)
	cliEnv(t, reg)
	ref := pushedSample(t, reg)
	strict := []string{"--min-rate", "10Ki/s", "--min-rate-window", "100ms"}

	if code, _, stderr := wasmgate(t, append([]string{"pull", ref, "-o", t.TempDir()}, strict...)...); code != 0 {
		t.Fatalf("a fast pull under a 100ms window: exit %d: %s", code, stderr)
	}

	rule := reg.Faults.Inject("GET", blobPath(sample.PolicyYAML()), testregistry.Slow(1000))
	if code, _, stderr := wasmgate(t, append([]string{"pull", ref, "-o", t.TempDir(), "--no-cache"}, strict...)...); code != exitCode(remote.ErrTimeout) {
		t.Errorf("trickled policy at --min-rate 10Ki: exit %d, want a timeout's: %s", code, stderr)
	}
	if code, _, stderr := wasmgate(t, "pull", ref, "-o", t.TempDir(), "--no-cache", "--min-rate", "0", "--min-rate-window", "100ms"); code != 0 {
		t.Errorf("trickled policy at --min-rate 0: exit %d: %s", code, stderr)
	}
	if rule.Applied() != 2 {
		t.Errorf("the trickle served %d pulls, want 2", rule.Applied())
	}

	for _, bad := range [][]string{{"--min-rate", "1KiB"}, {"--min-rate", "-5"}, {"--min-rate-window", "-1s"}, {"--deadline", "-1s"}} {
		if code, _, stderr := wasmgate(t, append([]string{"pull", ref, "-o", t.TempDir()}, bad...)...); code != exitUsage {
			t.Errorf("%v: exit %d, want %d: %s", bad, code, exitUsage, stderr)
		}
	}
}

func TestMinRateDefault(t *testing.T) {
	n, err := parseMinRate(defaultMinRate)
	if err != nil || n != remote.DefaultMinRate {
		t.Errorf("--min-rate's default %q reads as %d, %v; want remote.DefaultMinRate (%d)", defaultMinRate, n, err, remote.DefaultMinRate)
	}
}

// A registry that answers every request just inside --timeout never
// trips it; --deadline bounds the whole command, and --deadline 0 lifts
// the bound.
func TestDeadlineBoundsACommand(t *testing.T) {
	reg := testregistry.GGCR(t)
	cliEnv(t, reg)
	ref := pushedSample(t, reg)
	reg.Faults.Inject("", "^/v2/", testregistry.Delay(250*time.Millisecond))

	for _, args := range [][]string{
		{"pull", ref, "-o", t.TempDir()},
		{"inspect", ref},
	} {
		t.Run(args[0], func(t *testing.T) {
			start := time.Now()
			code, _, stderr := wasmgate(t, append(args, "--no-cache", "--timeout", "1s", "--deadline", "400ms")...)
			took := time.Since(start)
			if want := exitCode(remote.ErrTimeout); code != want {
				t.Errorf("exit %d, want %d (a registry timeout's)", code, want)
			}
			for _, want := range []string{"not done within the deadline of 400ms", "--deadline 400ms"} {
				if !strings.Contains(stderr, want) {
					t.Errorf("stderr lacks %q:\n%s", want, stderr)
				}
			}
			if took < 400*time.Millisecond || took > 5*time.Second {
				t.Errorf("took %s, want about the 400ms deadline", took)
			}
		})
	}
	if code, _, stderr := wasmgate(t, "inspect", ref, "--no-cache", "--timeout", "1s", "--deadline", "0"); code != 0 {
		t.Errorf("--deadline 0: exit %d: %s", code, stderr)
	}
}

// --debug traces a real authenticated exchange (login, then a pull,
// through the registry token flow: Basic credentials at the token
// endpoint, a token in its JSON answer, Bearer requests after) on stderr,
// and never prints the password or the token.
func TestDebugTraceRedactsSecrets(t *testing.T) {
	const user, pass, token = "alice", "pass-4e1b77", "TOKEN-9ad2c3"
	reg := testregistry.GGCR(t)
	cliEnv(t, reg)
	reg.Faults.Inject("", "", testregistry.TokenAuth(user, pass, token))

	code, _, loginErr := wasmgate(t, "login", reg.Host, "-u", user, "-p", pass, "--debug")
	if code != 0 {
		t.Fatalf("login: exit %d: %s", code, loginErr)
	}
	ref := pushedSample(t, reg)
	code, _, pullErr := wasmgate(t, "pull", ref, "-o", t.TempDir(), "--no-cache", "-d")
	if code != 0 {
		t.Fatalf("pull: exit %d: %s", code, pullErr)
	}
	base := "http://" + reg.Host
	for name, trace := range map[string]string{"login": loginErr, "pull": pullErr} {
		for _, want := range []string{
			"> GET " + base + "/v2/",
			"< 401 Unauthorized",
			"> GET " + base + "/token?",
			"[Authorization: Basic REDACTED]",
			"< 200 OK",
		} {
			if !strings.Contains(trace, want) {
				t.Errorf("%s trace lacks %q:\n%s", name, want, trace)
			}
		}
		for what, secret := range map[string]string{
			"password": pass, "token": token, "Basic credentials": base64.StdEncoding.EncodeToString([]byte(user + ":" + pass)),
		} {
			if strings.Contains(trace, secret) {
				t.Errorf("%s trace shows the %s:\n%s", name, what, trace)
			}
		}
	}
	for _, want := range []string{"/v2/wasm/hello/manifests/v1", "[Authorization: Bearer REDACTED]", blobPath(sample.HelloWasm()), "< body 2354185 bytes"} {
		if !strings.Contains(pullErr, want) {
			t.Errorf("pull trace lacks %q:\n%s", want, pullErr)
		}
	}
	// Without --debug, nothing is traced.
	if code, _, stderr := wasmgate(t, "inspect", ref); code != 0 || strings.Contains(stderr, "http #") {
		t.Errorf("inspect without --debug: exit %d, stderr:\n%s", code, stderr)
	}
}
