package ocilayout

import (
	"context"
	_ "crypto/sha256" // go-digest hashes through crypto.Hash, which needs these linked in
	_ "crypto/sha512"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/content"
)

// checkDigest accepts well-formed sha256 and sha512 digests only. A
// well-formed digest is also a safe path: Validate pins the encoded part to
// lowercase hex of the algorithm's length.
func checkDigest(d digest.Digest) error {
	if err := d.Validate(); err != nil {
		if errors.Is(err, digest.ErrDigestUnsupported) {
			return ErrUnsupportedAlgorithm
		}
		return fmt.Errorf("%w: %w", ErrInvalidDigest, err)
	}
	switch d.Algorithm() {
	case digest.SHA256, digest.SHA512:
		return nil
	}
	return ErrUnsupportedAlgorithm
}

// blobPath is where the blob d lives; d must have passed Validate.
func (s *Store) blobPath(d digest.Digest) string {
	return s.path(ocispec.ImageBlobsDir, d.Algorithm().String(), d.Encoded())
}

// Push stores the content read from r as the blob expected describes.
//
// The digest must be sha256 or sha512 and the size at most
// Options.MaxBlobSize. r is streamed into a temporary file next to the
// blob, checked against expected's size and digest in the same pass, synced,
// and renamed into place, so the blob path only ever holds verified content;
// on any failure the temporary file is removed. Content shorter than
// expected.Size fails with io.ErrUnexpectedEOF, longer with
// ErrTrailingData, different with ErrMismatchedDigest.
//
// Pushing a blob that is already stored returns nil without reading r:
// content addressing makes the two the same. A stored file whose size is
// wrong is not the same, and is replaced; one corrupted without a change
// of size is left for Fsck to find. Concurrent pushes of one digest,
// from goroutines or processes, each write their own temporary file and
// the renames replace identical content.
func (s *Store) Push(ctx context.Context, expected ocispec.Descriptor, r io.Reader) error {
	d := expected.Digest
	if s.readOnly {
		return s.errf("push", "", d, ErrReadOnly)
	}
	if err := checkDigest(d); err != nil {
		return s.errf("push", "", d, err)
	}
	switch {
	case expected.Size < 0:
		return s.errf("push", "", d, fmt.Errorf("size %d: %w", expected.Size, ErrInvalidDescriptorSize))
	case expected.Size > s.maxBlobSize:
		return s.errf("push", "", d, fmt.Errorf("blob is %d bytes, the limit is %d (Options.MaxBlobSize): %w",
			expected.Size, s.maxBlobSize, ErrSizeExceedsLimit))
	}
	if err := ctx.Err(); err != nil {
		return s.errf("push", "", d, err)
	}
	final := s.blobPath(d)
	if fi, err := os.Stat(final); err == nil && fi.Mode().IsRegular() && fi.Size() == expected.Size {
		return nil
	}
	dir := filepath.Dir(final)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return s.errf("push", "", d, err)
	}
	if err := writeVerified(ctx, dir, final, expected, r); err != nil {
		return s.errf("push", "", d, err)
	}
	return nil
}

func writeVerified(ctx context.Context, dir, final string, expected ocispec.Descriptor, r io.Reader) (err error) {
	f, err := createTemp(dir)
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	vr := content.NewVerifyReader(r, expected)
	n, err := copyCtx(ctx, f, vr, expected.Size)
	if err != nil {
		return shortContent(err, expected.Size, n)
	}
	if err := vr.Verify(); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, final); err != nil {
		// Windows refuses to replace a file another process has open; if
		// a concurrent push already put this blob in place, that is done.
		if fi, serr := os.Stat(final); serr == nil && fi.Mode().IsRegular() && fi.Size() == expected.Size {
			os.Remove(tmp)
			return nil
		}
		return err
	}
	return syncDir(dir)
}

// Fetch opens the blob target describes. The file is not checked: a disk
// error or another program can change it after Push verified it, so
// callers read it through content.NewVerifyReader (or content.FetchAll,
// oras.Copy) as they would a registry's response. Fsck finds such files.
func (s *Store) Fetch(ctx context.Context, target ocispec.Descriptor) (io.ReadCloser, error) {
	d := target.Digest
	if err := checkDigest(d); err != nil {
		return nil, s.errf("fetch", "", d, err)
	}
	if err := ctx.Err(); err != nil {
		return nil, s.errf("fetch", "", d, err)
	}
	f, err := os.Open(s.blobPath(d))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			err = fmt.Errorf("%w: %w", ErrNotFound, err)
		}
		return nil, s.errf("fetch", "", d, err)
	}
	return f, nil
}

// Exists reports whether the blob target describes is stored. Like Fetch,
// it does not check the content.
func (s *Store) Exists(ctx context.Context, target ocispec.Descriptor) (bool, error) {
	d := target.Digest
	if err := checkDigest(d); err != nil {
		return false, s.errf("exists", "", d, err)
	}
	if err := ctx.Err(); err != nil {
		return false, s.errf("exists", "", d, err)
	}
	fi, err := os.Stat(s.blobPath(d))
	switch {
	case err == nil:
		return fi.Mode().IsRegular(), nil
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	default:
		return false, s.errf("exists", "", d, err)
	}
}

// Delete removes the blob target describes, and every index.json entry
// (tagged or not) that points at it, so the layout stays readable by tools
// that load every manifest the index names. It does not look for other
// manifests that reference the blob. Deleting a blob that is neither
// stored nor indexed fails with ErrNotFound.
func (s *Store) Delete(ctx context.Context, target ocispec.Descriptor) error {
	d := target.Digest
	if s.readOnly {
		return s.errf("delete", "", d, ErrReadOnly)
	}
	if err := checkDigest(d); err != nil {
		return s.errf("delete", "", d, err)
	}
	// The blob is removed under the index lock too, so that a Tag that
	// checked the blob exists cannot interleave and leave a dangling tag.
	var unindexed bool
	err := s.updateIndex(ctx, func(idx *ocispec.Index) (bool, error) {
		kept := idx.Manifests[:0]
		for _, m := range idx.Manifests {
			if m.Digest != d {
				kept = append(kept, m)
			}
		}
		unindexed = len(kept) != len(idx.Manifests)
		idx.Manifests = kept
		return unindexed, nil
	}, func() error {
		err := os.Remove(s.blobPath(d))
		if errors.Is(err, fs.ErrNotExist) {
			if unindexed {
				return nil
			}
			return fmt.Errorf("%w: %w", ErrNotFound, err)
		}
		if err != nil {
			return err
		}
		return syncDir(filepath.Dir(s.blobPath(d)))
	})
	return s.errf("delete", "", d, err)
}
