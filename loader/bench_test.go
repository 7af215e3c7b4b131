package loader_test

import (
	"context"
	"testing"

	"github.com/wasmgate/wasmgate/loader"
)

// BenchmarkLoadCold compiles the probe every time: no CacheDir.
func BenchmarkLoadCold(b *testing.B) {
	benchmarkLoad(b, "")
}

// BenchmarkLoadWarm loads the probe with a CacheDir that already holds its
// compiled code, as a second `wasmgate run` of the same module does.
func BenchmarkLoadWarm(b *testing.B) {
	dir := b.TempDir()
	ctx := context.Background()
	m, err := loader.LoadUnsafe(ctx, probeWasm, nil, loader.Host{CacheDir: dir})
	if err != nil {
		b.Fatal(err)
	}
	m.Close(ctx)
	benchmarkLoad(b, dir)
}

func benchmarkLoad(b *testing.B, cacheDir string) {
	ctx := context.Background()
	b.SetBytes(int64(len(probeWasm)))
	for b.Loop() {
		m, err := loader.LoadUnsafe(ctx, probeWasm, nil, loader.Host{CacheDir: cacheDir})
		if err != nil {
			b.Fatal(err)
		}
		m.Close(ctx)
	}
}
