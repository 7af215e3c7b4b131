package access

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/errdef"

	"github.com/wasmgate/wasmgate/artifact"
	"github.com/wasmgate/wasmgate/remote"
)

// copyVerified copies the content of desc from src to dst, reading at most
// desc.Size+1 bytes, and fails unless exactly desc.Size bytes whose digest
// is desc.Digest arrived. Size and digest are checked in the same pass
// that writes; dst has seen every byte by the time an error is returned,
// so callers must discard dst on error.
// copyBuffers hold the buffers blobs are copied through: large enough that
// a layer is read in a few system calls, not one per 32 KiB.
var copyBuffers = sync.Pool{New: func() any { b := make([]byte, 256<<10); return &b }}

func copyVerified(dst io.Writer, src io.Reader, desc ocispec.Descriptor, what string) error {
	if err := checkable(desc, what); err != nil {
		return err
	}
	digester := desc.Digest.Algorithm().Digester()
	buf := copyBuffers.Get().(*[]byte)
	defer copyBuffers.Put(buf)
	n, err := io.CopyBuffer(io.MultiWriter(dst, digester.Hash()), io.LimitReader(src, desc.Size+1), *buf)
	if errors.Is(err, io.ErrUnexpectedEOF) {
		// The connection ended before the promised length.
		return &artifact.SizeError{What: what, Digest: desc.Digest, Limit: desc.Size, Actual: n, Err: errors.Join(artifact.ErrSizeMismatch, err)}
	}
	if err != nil {
		return fmt.Errorf("reading %s %s: %w", what, desc.Digest, err)
	}
	if n != desc.Size {
		return &artifact.SizeError{What: what, Digest: desc.Digest, Limit: desc.Size, Actual: n, Err: artifact.ErrSizeMismatch}
	}
	if got := digester.Digest(); got != desc.Digest {
		return &artifact.DigestError{What: what, Expected: desc.Digest, Actual: got}
	}
	return nil
}

// checkable refuses, before any request, a descriptor whose content
// could not be checked once read: a digest that is not one (invalid), or
// one of an algorithm wasmgate cannot compute (valid under the
// image-spec, but unverifiable here: sha256+b64u:…).
func checkable(desc ocispec.Descriptor, what string) error {
	err := desc.Digest.Validate()
	switch {
	case err == nil:
		return nil
	case errors.Is(err, digest.ErrDigestUnsupported):
		return &artifact.FormatError{What: fmt.Sprintf("%s %s", what, desc.Digest),
			Err: fmt.Errorf("%w: algorithm %q (wasmgate computes sha256, sha384 and sha512)", artifact.ErrUnsupportedDigest, desc.Digest.Algorithm())}
	default:
		return &artifact.FormatError{What: what, Err: fmt.Errorf("%w: digest %q: %w", artifact.ErrInvalidDocument, desc.Digest, err)}
	}
}

// readVerified reads the content of desc into memory. It refuses before
// reading when desc.Size exceeds limit, and never buffers more than
// limit+1 bytes whatever the server sends.
func readVerified(src io.Reader, desc ocispec.Descriptor, limit int64, what string) ([]byte, error) {
	if desc.Size > limit {
		return nil, &artifact.SizeError{What: what, Digest: desc.Digest, Limit: limit, Actual: -1, Err: artifact.ErrTooLarge}
	}
	var buf bytes.Buffer
	if err := copyVerified(&buf, src, desc, what); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// FetchVerified fetches desc from src and reads it into memory: refused
// before reading when desc.Size exceeds limit, never buffering more than
// limit+1 bytes, and returned only when size and digest match desc. what
// names the content in errors ("referrer manifest", ...).
func FetchVerified(ctx context.Context, src oras.ReadOnlyTarget, desc ocispec.Descriptor, limit int64, what string) ([]byte, error) {
	if err := checkable(desc, what); err != nil {
		return nil, err
	}
	if desc.Size > limit {
		return nil, &artifact.SizeError{What: what, Digest: desc.Digest, Limit: limit, Actual: -1, Err: artifact.ErrTooLarge}
	}
	rc, err := src.Fetch(ctx, desc)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return readVerified(rc, desc, limit, what)
}

// CopyVerified fetches desc from src and streams it into dst, refusing
// before reading when desc.Size exceeds limit, and fails unless exactly
// desc.Size bytes whose digest is desc.Digest arrived: one pass, nothing
// buffered. dst has seen the bytes by the time an error is returned, so
// the caller discards what dst holds on error.
func CopyVerified(ctx context.Context, dst io.Writer, src oras.ReadOnlyTarget, desc ocispec.Descriptor, limit int64, what string) error {
	if err := checkable(desc, what); err != nil {
		return err
	}
	if desc.Size > limit {
		return &artifact.SizeError{What: what, Digest: desc.Digest, Limit: limit, Actual: -1, Err: artifact.ErrTooLarge}
	}
	rc, err := src.Fetch(ctx, desc)
	if err != nil {
		return err
	}
	defer rc.Close()
	return copyVerified(dst, rc, desc, what)
}

// FetchManifest resolves reference (a tag or a digest) in src exactly once
// and returns the manifest it names, read within limit bytes (0 means
// [DefaultMaxManifestBytes]), its digest checked, parsed and classified.
// When reference is a digest the manifest must have that digest; for a
// tag, the digest of the bytes received is the one every later step uses.
// Anything that is not a wasm artifact is refused (see FetchSubject).
func FetchManifest(ctx context.Context, src oras.ReadOnlyTarget, reference string, limit int64) (*artifact.Manifest, error) {
	desc, raw, err := fetchManifestBytes(ctx, src, reference, limit)
	if err != nil {
		return nil, err
	}
	return artifact.ParseManifest(desc, raw)
}

// FetchSubject is FetchManifest for a subject of any kind: a wasm
// artifact, a container image, another artifact or an image index (see
// [artifact.ParseSubject]), resolved once, its digest checked and
// validated against the image-spec.
func FetchSubject(ctx context.Context, src oras.ReadOnlyTarget, reference string, limit int64) (*artifact.Subject, error) {
	desc, raw, err := fetchManifestBytes(ctx, src, reference, limit)
	if err != nil {
		return nil, err
	}
	return artifact.ParseSubject(desc, raw)
}

func fetchManifestBytes(ctx context.Context, src oras.ReadOnlyTarget, reference string, limit int64) (ocispec.Descriptor, []byte, error) {
	if limit <= 0 {
		limit = artifact.DefaultMaxManifestBytes
	}
	var pinned digest.Digest
	if d, err := digest.Parse(reference); err == nil {
		pinned = d
	}
	desc, rc, err := oras.Fetch(ctx, src, reference, oras.DefaultFetchOptions)
	if errors.Is(err, errdef.ErrSizeExceedsLimit) {
		// oras-go refused first because it had to hash a body that came
		// without a digest header; same verdict, our error.
		return desc, nil, &artifact.SizeError{What: "manifest", Digest: pinned, Limit: remote.DefaultMaxMetadataBytes, Actual: -1, Err: errors.Join(artifact.ErrTooLarge, err)}
	}
	if err != nil {
		return desc, nil, err
	}
	defer rc.Close()
	if pinned != "" && desc.Digest != pinned {
		return desc, nil, &artifact.DigestError{What: "manifest", Expected: pinned, Actual: desc.Digest}
	}
	raw, err := readVerified(rc, desc, limit, "manifest")
	if err != nil {
		return desc, nil, err
	}
	if desc.MediaType == "" {
		desc.MediaType = ocispec.MediaTypeImageManifest
	}
	return desc, raw, nil
}
