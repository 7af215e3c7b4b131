package main

import (
	"bytes"
	"path/filepath"
	"testing"

	"github.com/wasmgate/wasmgate/internal/testrig/testkit"
	"github.com/wasmgate/wasmgate/internal/testrig/testregistry"
)

// BenchmarkVerifyKeyCLI is `wasmgate verify REF --key --format bundle`
// after start-up (in process: package initialisation is measured by
// bench/verify.sh's start-up row): flags, the one-off policy, resolve,
// the 2.3 MB layer hashed, discovery, one bundle, the report.
func BenchmarkVerifyKeyCLI(b *testing.B) {
	reg := testregistry.GGCR(b)
	b.Setenv("WASMGATE_CACHE", filepath.Join(b.TempDir(), "cache"))
	b.Setenv("DOCKER_CONFIG", b.TempDir())
	b.Setenv(envPlainHTTP, reg.Host)
	b.Setenv("COSIGN_PASSWORD", "")
	dir := b.TempDir()
	prefix := filepath.Join(dir, "release")
	run1 := func(args ...string) string {
		var o, e bytes.Buffer
		if code := run(testkit.Context(b), append([]string{"wasmgate"}, args...), &o, &e); code != 0 {
			b.Fatalf("%v: %s", args, e.String())
		}
		return o.String()
	}
	run1("generate-key-pair", "--output-key-prefix", prefix)
	ref := reg.Ref("wasm/hello", "v1")
	run1("push", "../../internal/sample/hello.wasm", ref)
	run1("sign", ref, "--key", prefix+".key", "--format", "bundle")
	b.ResetTimer()
	for b.Loop() {
		run1("verify", ref, "--key", prefix+".pub", "--insecure-ignore-tlog", "--format", "bundle", "--no-cache")
	}
}
