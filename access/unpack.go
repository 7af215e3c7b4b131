package access

import (
	"errors"
	"io"

	"github.com/opencontainers/go-digest"

	"github.com/wasmgate/wasmgate/artifact"
)

// WasmWriter is where the bytes of a manifest's wasm layer go as they
// stream, so that the module reaches dst in the same pass that checks the
// layer's size and digest: the layer itself when it is the module, and
// plugin.wasm extracted ([artifact.ExtractCompat]) when it is Istio's
// compat tar+gzip. Call Finish after the copy, whatever the copy
// returned: it waits for the extraction and returns its error.
type WasmWriter struct {
	dst    io.Writer
	pw     *io.PipeWriter
	done   chan error
	compat *artifact.CompatLayer
	sum    digest.Digester
}

// NewWasmWriter returns the writer for the wasm layer of l, extracting
// within max uncompressed bytes when the layer is an archive.
func NewWasmWriter(dst io.Writer, l artifact.Layers, max int64) *WasmWriter {
	w := &WasmWriter{dst: dst}
	if !l.Archive {
		return w
	}
	w.sum = digest.SHA256.Digester()
	pr, pw := io.Pipe()
	w.pw, w.done = pw, make(chan error, 1)
	go func() {
		c, err := artifact.ExtractCompat(pr, io.MultiWriter(dst, w.sum.Hash()), max)
		if err == nil {
			// gzip read its stream to the end; nothing is left, but the
			// writer must never block on a reader that has gone.
			_, err = io.Copy(io.Discard, pr)
		}
		w.compat = c
		pr.CloseWithError(err) // nil: later writes fail with ErrClosedPipe
		w.done <- err
	}()
	return w
}

func (w *WasmWriter) Write(p []byte) (int, error) {
	if w.pw == nil {
		return w.dst.Write(p)
	}
	return w.pw.Write(p)
}

// Finish ends the stream once the copy into w returned copyErr, waits for
// the extraction, and returns the error that tells what went wrong: the
// extraction's when it failed first (the copy then failed only because
// the extraction stopped reading), else copyErr. A registry that failed
// mid-layer therefore stays a registry failure, not a bad archive.
func (w *WasmWriter) Finish(copyErr error) error {
	if w.pw == nil {
		return copyErr
	}
	if copyErr != nil {
		w.pw.CloseWithError(copyErr)
		xerr := <-w.done
		if xerr != nil && errors.Is(copyErr, xerr) {
			return xerr
		}
		return copyErr
	}
	w.pw.Close()
	return <-w.done
}

// Compat is what the compat layer held besides the module, after a
// successful Close; nil for a layer that is the module.
func (w *WasmWriter) Compat() *artifact.CompatLayer { return w.compat }

// ExtractedDigest is the sha256 of the module extracted from an archive,
// after a successful Finish; "" for a layer that is the module (its digest
// is the layer's).
func (w *WasmWriter) ExtractedDigest() digest.Digest {
	if w.sum == nil {
		return ""
	}
	return w.sum.Digest()
}
