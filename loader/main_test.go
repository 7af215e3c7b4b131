package loader_test

import (
	"bytes"
	"context"
	_ "embed"
	"fmt"
	"os"
	"testing"

	"github.com/wasmgate/wasmgate/loader"
	"github.com/wasmgate/wasmgate/permissions"
)

// probeWasm is a Go WASI preview 1 command (testdata/src/probe) that reads,
// writes, reads the environment, allocates or loops, as its arguments say.
// Built by testdata/regen.sh.
//
//go:embed testdata/probe.wasm
var probeWasm []byte

// cacheDir is a compilation cache shared by the tests and examples, so
// that the probe is compiled once per test binary, not once per test.
// TestMain's load, into the empty directory, is that one compile;
// TestCompilationCache checks what it left.
var cacheDir string

func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "loader-cache-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	cacheDir = dir
	ctx := context.Background()
	mod, err := loader.LoadUnsafe(ctx, probeWasm, nil, loader.Host{CacheDir: cacheDir})
	if err != nil {
		fmt.Fprintln(os.Stderr, "compile the probe:", err)
		return 1
	}
	mod.Close(ctx)
	return m.Run()
}

// runResult is what one run of the probe did.
type runResult struct {
	code           uint32
	stdout, stderr string
	err            error
}

// runProbe loads the probe with LoadUnsafe (the tests of the sandbox do not
// need a signed artifact) and runs it once with args.
func runProbe(t testing.TB, perms *permissions.Policy, host loader.Host, args ...string) runResult {
	t.Helper()
	var stdout, stderr bytes.Buffer
	host.Args = append([]string{"probe"}, args...)
	host.Stdout, host.Stderr = &stdout, &stderr
	host.CacheDir = cacheDir
	if host.Env == nil {
		host.Env = noEnv
	}
	ctx := context.Background()
	m, err := loader.LoadUnsafe(ctx, probeWasm, perms, host)
	if err != nil {
		t.Fatalf("LoadUnsafe: %v", err)
	}
	defer m.Close(ctx)
	code, err := m.Run(ctx)
	return runResult{code, stdout.String(), stderr.String(), err}
}
