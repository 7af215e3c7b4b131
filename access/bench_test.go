package access_test

import (
	"crypto/rand"
	"crypto/sha256"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/wasmgate/wasmgate/access"
	"github.com/wasmgate/wasmgate/artifact"
	"github.com/wasmgate/wasmgate/internal/testrig/testkit"
	"github.com/wasmgate/wasmgate/internal/testrig/testregistry"
)

const benchLayerSize = 64 << 20

// bigWasm writes a 64 MiB file that starts with the wasm preamble.
func bigWasm(b *testing.B) string {
	b.Helper()
	data := make([]byte, benchLayerSize)
	if _, err := rand.Read(data); err != nil {
		b.Fatal(err)
	}
	copy(data, []byte{0x00, 'a', 's', 'm', 0x01, 0x00, 0x00, 0x00})
	return testkit.TempFile(b, "big.wasm", data)
}

// BenchmarkPull64MiB pulls a 64 MiB wasm layer from an in-process
// distribution registry over loopback HTTP, with every digest checked and
// the file written, no cache. Compare its MB/s with BenchmarkSHA256_64MiB,
// the hashing limit on the same machine.
func BenchmarkPull64MiB(b *testing.B) {
	reg := testregistry.Distribution(b)
	dst, _ := registryTarget(b, reg, "bench/big", 30*time.Second)
	pkg, err := artifact.Pack(bigWasm(b), nil, artifact.BuildOptions{})
	if err != nil {
		b.Fatal(err)
	}
	if err := access.Push(testkit.Context(b), dst, pkg, "v1", access.PushOptions{}); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(benchLayerSize)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		out := filepath.Join(b.TempDir(), "out")
		if _, err := access.Pull(testkit.Context(b), dst, "v1", out, access.PullOptions{}); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		os.RemoveAll(out)
		b.StartTimer()
	}
}

// BenchmarkSHA256_64MiB hashes 64 MiB in memory: the ceiling for any
// verified pull.
func BenchmarkSHA256_64MiB(b *testing.B) {
	data := make([]byte, benchLayerSize)
	b.SetBytes(benchLayerSize)
	for i := 0; i < b.N; i++ {
		sha256.Sum256(data)
	}
}
