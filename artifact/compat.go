package artifact

import (
	"archive/tar"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
)

// Files of Istio's compat layer.
const (
	CompatWasmFile   = "plugin.wasm"
	CompatConfigFile = "runtime-config.json"
	// MaxRuntimeConfigBytes bounds runtime-config.json, which is kept in
	// memory.
	MaxRuntimeConfigBytes = DefaultMaxConfigBytes
)

// CompatLayer is what [ExtractCompat] found besides the module.
type CompatLayer struct {
	WasmSize int64 // bytes of plugin.wasm written out
	// RuntimeConfig is runtime-config.json verbatim; nil when the layer
	// has none. It is metadata for Envoy and decides nothing here.
	RuntimeConfig []byte
}

// errUncompressedTooLarge marks the uncompressed bound, told apart from the
// end of the stream.
var errUncompressedTooLarge = errors.New("uncompressed layer exceeds the limit")

// boundedReader fails, rather than ending, past its bound.
type boundedReader struct {
	r    io.Reader
	left int64
}

func (b *boundedReader) Read(p []byte) (int, error) {
	if b.left <= 0 {
		// One byte more than allowed tells a stream that ends exactly at
		// the bound from one that goes on.
		var one [1]byte
		if n, _ := io.ReadFull(b.r, one[:]); n == 0 {
			return 0, io.EOF
		}
		return 0, errUncompressedTooLarge
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.r.Read(p)
	b.left -= int64(n)
	return n, err
}

// ExtractCompat reads r, the bytes of a compat layer (tar+gzip), and
// writes plugin.wasm to wasm as it streams. max bounds the uncompressed
// layer (tar headers included) and so every file in it; a declared size
// over it is refused before a byte of the file is read. Only regular
// files named plugin.wasm or runtime-config.json (optionally "./"-prefixed)
// are accepted, each at most once, plugin.wasm required: a link, a
// directory, a device, an absolute or ".." path, any other name is refused
// with [ErrInvalidArchive]. r is read to its end (the gzip trailer's CRC
// included) so a caller hashing r sees every byte. wasm has seen bytes by
// the time an error is returned: discard what it holds on error.
func ExtractCompat(r io.Reader, wasm io.Writer, max int64) (*CompatLayer, error) {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return nil, archiveErr("gzip header: %w", err)
	}
	defer zr.Close()
	br := &boundedReader{r: zr, left: max}
	tr := tar.NewReader(br)
	out := &CompatLayer{}
	seenWasm := false
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, bounded(err, max, "tar header: %w")
		}
		name := hdr.Name
		if len(name) > 2 && name[:2] == "./" {
			name = name[2:]
		}
		if name != CompatWasmFile && name != CompatConfigFile {
			return nil, archiveErr("entry %q: only %s and %s are expected", hdr.Name, CompatWasmFile, CompatConfigFile)
		}
		if hdr.Typeflag != tar.TypeReg && hdr.Typeflag != '\x00' {
			return nil, archiveErr("entry %q: type %q is not a regular file (links, directories and devices are refused)", hdr.Name, hdr.Typeflag)
		}
		limit := max
		if name == CompatConfigFile {
			limit = MaxRuntimeConfigBytes
		}
		if hdr.Size < 0 || hdr.Size > limit {
			return nil, &SizeError{What: "compat layer entry " + name, Limit: limit, Actual: hdr.Size, Err: ErrTooLarge}
		}
		switch name {
		case CompatWasmFile:
			if seenWasm {
				return nil, archiveErr("entry %q: a second %s", hdr.Name, CompatWasmFile)
			}
			seenWasm = true
			n, err := io.Copy(wasm, tr)
			if err != nil {
				return nil, bounded(err, max, "reading %s: %w", CompatWasmFile)
			}
			out.WasmSize = n
		case CompatConfigFile:
			if out.RuntimeConfig != nil {
				return nil, archiveErr("entry %q: a second %s", hdr.Name, CompatConfigFile)
			}
			// hdr.Size is bounded above; this reads at most that.
			b, err := io.ReadAll(io.LimitReader(tr, hdr.Size))
			if err != nil {
				return nil, bounded(err, max, "reading %s: %w", CompatConfigFile)
			}
			out.RuntimeConfig = b
		}
	}
	if !seenWasm {
		return nil, archiveErr("no %s", CompatWasmFile)
	}
	// The rest of the tar (its end blocks) and the gzip trailer, whose
	// CRC checks the whole stream.
	if _, err := io.Copy(io.Discard, br); err != nil {
		return nil, bounded(err, max, "after the archive: %w")
	}
	return out, nil
}

func archiveErr(format string, args ...any) error {
	return &FormatError{What: "compat layer", Err: fmt.Errorf("%w: "+format, append([]any{ErrInvalidArchive}, args...)...)}
}

// bounded turns the uncompressed bound into a SizeError and anything else
// the readers say into ErrInvalidArchive, keeping the cause.
func bounded(err error, max int64, format string, args ...any) error {
	if errors.Is(err, errUncompressedTooLarge) {
		return &SizeError{What: "uncompressed compat layer", Limit: max, Actual: -1, Err: ErrTooLarge}
	}
	return archiveErr(format, append(args, err)...)
}
