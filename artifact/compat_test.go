package artifact_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"testing"

	"github.com/wasmgate/wasmgate/artifact"
)

// tarEntry is one entry of a compat layer built by compatLayer.
type tarEntry struct {
	hdr  tar.Header
	data []byte
}

func file(name string, data []byte) tarEntry {
	return tarEntry{tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o644, Size: int64(len(data))}, data}
}

// compatLayer gzips a tar of entries. A header whose Size exceeds its data
// is written as is (the tar stream then ends early), which is how a
// declared size is tested without the bytes.
func compatLayer(t testing.TB, entries ...tarEntry) []byte {
	t.Helper()
	var tb bytes.Buffer
	tw := tar.NewWriter(&tb)
	short := false
	for _, e := range entries {
		h := e.hdr
		if err := tw.WriteHeader(&h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(e.data); err != nil {
			t.Fatal(err)
		}
		short = short || int64(len(e.data)) < h.Size
	}
	if err := tw.Close(); err != nil && !short {
		t.Fatal(err)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(tb.Bytes())
	zw.Close()
	return gz.Bytes()
}

var pluginWasm = []byte("\x00asm\x01\x00\x00\x00")

func TestExtractCompat(t *testing.T) {
	config := []byte(`{"type":"envoy_proxy"}`)
	t.Run("plugin and runtime config", func(t *testing.T) {
		layer := compatLayer(t, file("./plugin.wasm", pluginWasm), file("runtime-config.json", config))
		var out bytes.Buffer
		src := bytes.NewReader(layer)
		c, err := artifact.ExtractCompat(src, &out, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out.Bytes(), pluginWasm) || c.WasmSize != int64(len(pluginWasm)) || !bytes.Equal(c.RuntimeConfig, config) {
			t.Errorf("got %q, %+v", out.Bytes(), c)
		}
		if src.Len() != 0 {
			t.Errorf("%d bytes of the layer left unread: a hash over the stream would miss them", src.Len())
		}
	})
	link := file("plugin.wasm", nil)
	link.hdr.Typeflag, link.hdr.Linkname = tar.TypeSymlink, "/etc/passwd"
	hard := file("plugin.wasm", nil)
	hard.hdr.Typeflag, hard.hdr.Linkname = tar.TypeLink, "runtime-config.json"
	dir := tarEntry{hdr: tar.Header{Typeflag: tar.TypeDir, Name: "plugin.wasm/", Mode: 0o755}}
	huge := file("plugin.wasm", nil)
	huge.hdr.Size = 4 << 30
	hugeConfig := file("runtime-config.json", nil)
	hugeConfig.hdr.Size = artifact.MaxRuntimeConfigBytes + 1
	cases := []struct {
		name  string
		layer []byte
		max   int64
		want  error
	}{
		{"two plugin files", compatLayer(t, file("plugin.wasm", pluginWasm), file("./plugin.wasm", pluginWasm)), 1 << 20, artifact.ErrInvalidArchive},
		{"a symlink", compatLayer(t, link), 1 << 20, artifact.ErrInvalidArchive},
		{"a hard link", compatLayer(t, file("runtime-config.json", config), hard), 1 << 20, artifact.ErrInvalidArchive},
		{"a directory", compatLayer(t, dir), 1 << 20, artifact.ErrInvalidArchive},
		{"a ../ path", compatLayer(t, file("../plugin.wasm", pluginWasm)), 1 << 20, artifact.ErrInvalidArchive},
		{"a path through ..", compatLayer(t, file("x/../plugin.wasm", pluginWasm)), 1 << 20, artifact.ErrInvalidArchive},
		{"an absolute path", compatLayer(t, file("/plugin.wasm", pluginWasm)), 1 << 20, artifact.ErrInvalidArchive},
		{"a third file", compatLayer(t, file("plugin.wasm", pluginWasm), file("README", []byte("hi"))), 1 << 20, artifact.ErrInvalidArchive},
		{"no plugin.wasm", compatLayer(t, file("runtime-config.json", config)), 1 << 20, artifact.ErrInvalidArchive},
		{"a 4 GiB declared size", compatLayer(t, huge), artifact.DefaultMaxLayerBytes, artifact.ErrTooLarge},
		{"runtime config over its bound", compatLayer(t, file("plugin.wasm", pluginWasm), hugeConfig), artifact.DefaultMaxLayerBytes, artifact.ErrTooLarge},
		{"uncompressed over the layer limit", compatLayer(t, file("plugin.wasm", make([]byte, 64<<10))), 32 << 10, artifact.ErrTooLarge},
		{"not gzip", []byte("plugin.wasm"), 1 << 20, artifact.ErrInvalidArchive},
		{"truncated", compatLayer(t, file("plugin.wasm", pluginWasm))[:40], 1 << 20, artifact.ErrInvalidArchive},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// A reader that counts proves a refusal by declared size reads
			// nothing like 4 GiB.
			src := &countingReader{r: bytes.NewReader(tc.layer)}
			_, err := artifact.ExtractCompat(src, io.Discard, tc.max)
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			if src.n > 1<<20 {
				t.Errorf("read %d bytes before refusing", src.n)
			}
		})
	}
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// FuzzExtractCompat: any bytes as a compat layer either give plugin.wasm
// within the bound or fail with ErrInvalidArchive or ErrTooLarge; never a
// panic, never more written than the bound.
func FuzzExtractCompat(f *testing.F) {
	f.Add(compatLayer(f, file("plugin.wasm", pluginWasm), file("runtime-config.json", []byte(`{}`))))
	f.Add(compatLayer(f, file("./plugin.wasm", pluginWasm)))
	f.Add([]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff})
	const max = 1 << 16
	f.Fuzz(func(t *testing.T, layer []byte) {
		var out bytes.Buffer
		c, err := artifact.ExtractCompat(bytes.NewReader(layer), &out, max)
		if err != nil {
			if !errors.Is(err, artifact.ErrInvalidArchive) && !errors.Is(err, artifact.ErrTooLarge) {
				t.Fatalf("error without a sentinel: %v", err)
			}
			return
		}
		if out.Len() > max || int64(out.Len()) != c.WasmSize || len(c.RuntimeConfig) > artifact.MaxRuntimeConfigBytes {
			t.Fatalf("wrote %d bytes, said %d", out.Len(), c.WasmSize)
		}
	})
}
