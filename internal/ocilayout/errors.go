package ocilayout

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/opencontainers/go-digest"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/errdef"
)

// Sentinel errors. Where oras-go already names the condition the sentinel is
// the oras-go value itself, so code written against oras.Target can keep
// testing errors.Is(err, errdef.ErrNotFound) and friends. New conditions wrap
// the closest errdef value so that both tests succeed.
var (
	// ErrNotFound: the blob, tag or digest is not in the layout.
	ErrNotFound = errdef.ErrNotFound
	// ErrInvalidDigest: the descriptor's digest does not parse.
	ErrInvalidDigest = errdef.ErrInvalidDigest
	// ErrInvalidReference: the tag or ref name breaks the grammar, or a
	// digest was given where a tag is required.
	ErrInvalidReference = errdef.ErrInvalidReference
	// ErrMissingReference: an empty tag or ref name.
	ErrMissingReference = errdef.ErrMissingReference
	// ErrSizeExceedsLimit: a blob larger than Options.MaxBlobSize, or an
	// index.json larger than MaxIndexSize.
	ErrSizeExceedsLimit = errdef.ErrSizeExceedsLimit
	// ErrUnsupportedVersion: the oci-layout file names a version other
	// than 1.0.0.
	ErrUnsupportedVersion = errdef.ErrUnsupportedVersion
	// ErrMismatchedDigest: pushed content hashes to another digest.
	ErrMismatchedDigest = content.ErrMismatchedDigest
	// ErrTrailingData: pushed content is longer than the descriptor's size.
	// Content that is shorter fails with io.ErrUnexpectedEOF.
	ErrTrailingData = content.ErrTrailingData
	// ErrInvalidDescriptorSize: a negative size, or a size that does not
	// match the blob already stored under that digest.
	ErrInvalidDescriptorSize = content.ErrInvalidDescriptorSize

	// ErrUnsupportedAlgorithm: a digest algorithm other than sha256 or
	// sha512. Also matches errdef.ErrUnsupported.
	ErrUnsupportedAlgorithm = fmt.Errorf("digest algorithm not accepted (use sha256 or sha512): %w", errdef.ErrUnsupported)
	// ErrReadOnly: a write on a store from OpenReadOnly. Also matches
	// errdef.ErrUnsupported.
	ErrReadOnly = fmt.Errorf("layout opened read-only: %w", errdef.ErrUnsupported)
	// ErrNotLayout: the directory is not an OCI image layout (and, for
	// Open, is not empty either, so one is not created in it).
	ErrNotLayout = errors.New("not an OCI image layout")
	// ErrInvalidIndex: index.json does not decode as an OCI image index.
	ErrInvalidIndex = errors.New("invalid index.json")
)

// Error records the operation, layout, reference and digest an error
// happened on. Unwrap returns the cause, so errors.Is sees the sentinels
// above, errdef values, fs errors and context errors through it.
type Error struct {
	Op     string        // "push", "fetch", "tag", "resolve", ...
	Dir    string        // layout directory
	Ref    string        // tag or ref name, if any
	Digest digest.Digest // blob digest, if any
	Err    error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("ocilayout: ")
	b.WriteString(e.Op)
	if e.Ref != "" {
		fmt.Fprintf(&b, " %q", e.Ref)
	}
	if e.Digest != "" {
		b.WriteString(" ")
		b.WriteString(string(e.Digest))
	}
	if e.Dir != "" {
		b.WriteString(" in ")
		b.WriteString(e.Dir)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

func (s *Store) errf(op, ref string, dgst digest.Digest, err error) error {
	if err == nil {
		return nil
	}
	return &Error{Op: op, Dir: s.dir, Ref: ref, Digest: dgst, Err: err}
}

// shortContent turns io.ErrUnexpectedEOF from a VerifyReader into a message
// that says what the size mismatch was, keeping the cause for errors.Is.
func shortContent(err error, want, got int64) error {
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("content is %d bytes, descriptor says %d: %w", got, want, err)
	}
	return err
}
