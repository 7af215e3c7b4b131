package artifact

import (
	"fmt"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/wasmgate/wasmgate/permissions"
)

// ParsePolicyLayer parses the bytes of a permission-policy layer, strictly
// (package permissions); an error is a *FormatError wrapping
// ErrInvalidPolicy.
func ParsePolicyLayer(raw []byte) (*permissions.Policy, error) {
	pol, err := permissions.Parse(raw)
	if err != nil {
		return nil, &FormatError{What: "policy layer", Err: fmt.Errorf("%w: %w", ErrInvalidPolicy, err)}
	}
	return pol, nil
}

// Title is a layer's file name, as its org.opencontainers.image.title
// annotation gives it ("" without one). It is untrusted: see SafeName.
func Title(d ocispec.Descriptor) string { return d.Annotations[ocispec.AnnotationTitle] }

// WasmHeader keeps the first HeaderSize bytes written to it, for
// DetectKind while the rest streams elsewhere.
type WasmHeader struct {
	b [HeaderSize]byte
	n int
}

// Write keeps what fits in the header and accepts every byte.
func (h *WasmHeader) Write(p []byte) (int, error) {
	h.n += copy(h.b[h.n:], p)
	return len(p), nil
}

// Bytes is the header kept so far.
func (h *WasmHeader) Bytes() []byte { return h.b[:h.n] }
