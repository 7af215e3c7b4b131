package artifact_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/wasmgate/wasmgate/artifact"
)

// FuzzDetectKind: any first bytes of a wasm layer are a module, a
// component, or an error; only the real preambles are accepted.
func FuzzDetectKind(f *testing.F) {
	f.Add([]byte("\x00asm\x01\x00\x00\x00"))
	f.Add([]byte("\x00asm\x0d\x00\x01\x00"))
	f.Add([]byte("\x00asm"))
	f.Add([]byte("MZ\x90\x00"))
	f.Fuzz(func(t *testing.T, header []byte) {
		k, err := artifact.DetectKind(header)
		switch {
		case err != nil:
			if k != "" {
				t.Fatalf("kind %q with an error", k)
			}
		case k == artifact.KindModule:
			if !bytes.HasPrefix(header, []byte("\x00asm\x01\x00\x00\x00")) {
				t.Fatalf("module from %x", header)
			}
		case k == artifact.KindComponent:
			if !bytes.HasPrefix(header, []byte("\x00asm")) || bytes.HasPrefix(header, []byte("\x00asm\x01\x00\x00\x00")) {
				t.Fatalf("component from %x", header)
			}
		default:
			t.Fatalf("kind %q", k)
		}
	})
}

// FuzzParseConfig: any config blob either decodes or fails with
// ErrInvalidConfig-like typed errors; never a panic.
func FuzzParseConfig(f *testing.F) {
	f.Add([]byte(`{"architecture":"wasm","os":"wasip1","layerDigests":["sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"],"created":"2026-01-01T00:00:00Z"}`), artifact.MediaTypeConfig)
	f.Add([]byte(`{}`), ocispec.MediaTypeImageConfig)
	f.Add([]byte(`{"os":7}`), artifact.MediaTypeConfigV1)
	f.Fuzz(func(t *testing.T, raw []byte, mediaType string) {
		desc := ocispec.Descriptor{MediaType: mediaType, Digest: digest.FromBytes(raw), Size: int64(len(raw))}
		_, err := artifact.ParseConfig(desc, raw)
		var fe *artifact.FormatError
		var me *artifact.MediaTypeError
		if err != nil && !errors.As(err, &fe) && !errors.As(err, &me) && !errors.Is(err, artifact.ErrInvalidManifest) {
			t.Fatalf("untyped error: %v", err)
		}
	})
}

// FuzzComponentInterfaces: any bytes give names within the bounds or a
// FormatError wrapping ErrInvalidComponent; never a panic, never a name
// that is not in the input.
func FuzzComponentInterfaces(f *testing.F) {
	for _, name := range []string{"component.wasm", "sockets.wasm", "capabilities.wasm", "tiny.wasm"} {
		f.Add(readFixture(f, name))
	}
	f.Add([]byte("\x00asm\x0d\x00\x01\x00\x0a\xff\xff\x03\x01"))
	f.Fuzz(func(t *testing.T, wasm []byte) {
		imports, exports, err := artifact.ComponentInterfaces(wasm)
		var fe *artifact.FormatError
		if err != nil {
			if !errors.Is(err, artifact.ErrInvalidComponent) || !errors.As(err, &fe) {
				t.Fatalf("untyped error: %v", err)
			}
			return
		}
		if len(imports)+len(exports) > artifact.MaxComponentNames {
			t.Fatalf("%d names", len(imports)+len(exports))
		}
		for _, n := range append(imports, exports...) {
			if len(n) > artifact.MaxComponentNameLen || !bytes.Contains(wasm, []byte(n)) {
				t.Fatalf("name %q", n)
			}
		}
	})
}
