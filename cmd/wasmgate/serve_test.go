package main

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// `wasmgate serve` runs wasmgate-serve, found on PATH, with its arguments,
// and exits with its code; without it, a usage error says how to install
// it.
func TestServeRunsTheServeBinary(t *testing.T) {
	bin := t.TempDir()
	if out, err := exec.Command("go", "build", "-o", filepath.Join(bin, "wasmgate-serve"), "../wasmgate-serve").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	t.Setenv("PATH", t.TempDir()) // nothing there
	code, _, stderr := wasmgate(t, "serve", "--policy", "trust.yaml")
	if code != exitUsage || !strings.Contains(stderr, "go install github.com/wasmgate/wasmgate/cmd/wasmgate-serve") {
		t.Fatalf("without wasmgate-serve: exit %d: %s", code, stderr)
	}

	t.Setenv("PATH", bin)
	code, _, stderr = wasmgate(t, "serve", "--policy", filepath.Join(t.TempDir(), "absent.yaml"), "--insecure-listen-http", "--addr", "127.0.0.1:0")
	if code != exitUsage || !strings.Contains(stderr, "absent.yaml") {
		t.Fatalf("wasmgate serve with a missing policy: exit %d: %s", code, stderr)
	}
}
