package artifact

import (
	"errors"
	"fmt"
	"strings"

	"github.com/opencontainers/go-digest"
)

// Sentinel errors. Every error this package returns wraps one of them (or a
// sentinel of package remote, for registry failures, which it does not
// import),
// so callers branch with errors.Is, never on text.
var (
	ErrInvalidReference = errors.New("invalid reference")
	ErrDigestRequired   = errors.New("a pinned digest is required")
	ErrUnsupported      = errors.New("unsupported operation for this kind of reference")
	ErrNotWasm          = errors.New("not a WebAssembly binary")
	// ErrInvalidComponent: bytes that are not a component binary that
	// [ComponentInterfaces] can read: a core module, a length or count
	// beyond the bytes left, a name over the bounds.
	ErrInvalidComponent = errors.New("not a readable wasm component binary")
	// ErrConfigHidesImport: the config's description of a component
	// (wkg's component.imports) leaves out an import the binary has.
	ErrConfigHidesImport = errors.New("the config does not list every import of the component")
	ErrNotWasmArtifact   = errors.New("not a wasm artifact")
	ErrNoWasmLayer       = errors.New("no wasm layer")
	ErrMultipleWasm      = errors.New("more than one wasm layer")
	ErrMultiplePolicies  = errors.New("more than one policy layer")
	ErrInvalidManifest   = errors.New("invalid manifest")
	ErrInvalidConfig     = errors.New("invalid config")
	ErrInvalidPolicy     = errors.New("invalid permission policy")
	// ErrInvalidArchive: a compat layer ([ExtractCompat]) that is not a
	// gzip'd tar holding plugin.wasm and at most runtime-config.json as
	// regular files: a link, a path outside the layer, a third file, a
	// second plugin.wasm, a truncated stream.
	// ErrInvalidSpinApp: a Spin locked application that wasmgate cannot
	// read as pushed (a source by URL, a duplicate id), or that names a
	// layer its manifest does not have.
	ErrInvalidSpinApp = errors.New("invalid Spin locked application")
	ErrInvalidArchive = errors.New("not a wasm compat layer (a tar+gzip of plugin.wasm and optional runtime-config.json)")
	ErrTooLarge       = errors.New("content exceeds the size limit")
	ErrSizeMismatch   = errors.New("content size does not match its descriptor")
	// ErrDigestMismatch: content, or the digest a registry claims for it,
	// that does not match the digest asked for. remote's is this one, so a
	// registry caught lying in a header and content that hashes wrong are
	// the same failure to callers.
	ErrDigestMismatch = errors.New("content digest does not match")
	// ErrUnsupportedDigest: a valid digest of an algorithm wasmgate cannot
	// compute (sha256+b64:…), met where the content it addresses must be
	// read and checked. The descriptor itself is valid.
	ErrUnsupportedDigest = errors.New("valid digest, but its algorithm cannot be computed here, so the content it addresses cannot be verified")
	// ErrInvalidDocument: an OCI manifest, index, config or descriptor
	// that breaks a rule of the image-spec ([ValidateDocument]).
	ErrInvalidDocument = errors.New("not a valid OCI document under the image-spec")
	// ErrObsoleteManifest: Docker's image manifest schema 1
	// ([MediaTypeDockerManifestV1Signed]), deprecated by Docker and
	// dropped by registries; it is refused (always with
	// [ErrInvalidManifest]): push the image again with a current client
	// to get schema 2 or OCI.
	ErrObsoleteManifest = errors.New("Docker image manifest schema 1 is obsolete")
)

// Error records an operation on a reference that failed.
type Error struct {
	Op        string // "pull", "push", "inspect", "fetch manifest", ...
	Reference string
	Err       error
}

func (e *Error) Error() string {
	if e.Reference == "" {
		return e.Op + ": " + e.Err.Error()
	}
	return e.Op + " " + e.Reference + ": " + e.Err.Error()
}

func (e *Error) Unwrap() error { return e.Err }

// DigestError reports content whose digest is not the one it was fetched
// or pinned by.
type DigestError struct {
	What     string // "manifest", "config", "layer application/wasm", ...
	Expected digest.Digest
	Actual   digest.Digest
}

func (e *DigestError) Error() string {
	return fmt.Sprintf("%s digest mismatch: expected %s, got %s", e.What, e.Expected, e.Actual)
}

func (e *DigestError) Unwrap() error { return ErrDigestMismatch }

// SizeError reports content that is larger than a limit or whose length
// differs from its descriptor. Err is [ErrTooLarge] or [ErrSizeMismatch].
type SizeError struct {
	What   string
	Digest digest.Digest
	Limit  int64 // the limit or the descriptor's size
	Actual int64 // -1 when the content was not read to its end
	Err    error
}

func (e *SizeError) Error() string {
	if errors.Is(e.Err, ErrTooLarge) {
		return fmt.Sprintf("%s %s is larger than the limit of %d bytes", e.What, e.Digest, e.Limit)
	}
	if e.Actual < 0 {
		return fmt.Sprintf("%s %s: %v (descriptor says %d bytes)", e.What, e.Digest, e.Err, e.Limit)
	}
	return fmt.Sprintf("%s %s is %d bytes, descriptor says %d", e.What, e.Digest, e.Actual, e.Limit)
}

func (e *SizeError) Unwrap() error { return e.Err }

// MediaTypeError reports a media type that is not one wasmgate reads, with
// what it would have accepted.
type MediaTypeError struct {
	What     string // "artifactType", "config", "layer 2"
	Found    string
	Expected []string
	Err      error // ErrNotWasmArtifact, ErrNoWasmLayer, ...
}

func (e *MediaTypeError) Error() string {
	found := e.Found
	if found == "" {
		found = "(none)"
	}
	return fmt.Sprintf("%v: %s is %q, expected one of: %s", e.Err, e.What, found, strings.Join(e.Expected, ", "))
}

func (e *MediaTypeError) Unwrap() error { return e.Err }

// FormatError reports malformed content: a manifest that is not JSON, a
// config with a wrong field, a policy that fails validation. Err wraps a
// sentinel of this package and, where there is one, the parser's error.
type FormatError struct {
	What string // "manifest sha256:…", "config", "policy layer"
	Err  error
}

func (e *FormatError) Error() string { return e.What + ": " + e.Err.Error() }

func (e *FormatError) Unwrap() error { return e.Err }

// IsBadContent reports whether err condemns the content itself (its bytes
// do not match their digest, length or bound, its digest cannot be
// checked, or it breaks the image-spec), as opposed to a registry that failed to answer. Verifiers
// reject the one signature or referrer for it and go on; they stop, with
// no verdict, for anything else.
func IsBadContent(err error) bool {
	for _, target := range []error{ErrDigestMismatch, ErrSizeMismatch, ErrTooLarge, ErrUnsupportedDigest, ErrInvalidDocument} {
		if errors.Is(err, target) {
			return true
		}
	}
	return false
}
