package artifact

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// IsOCIDocument reports whether [ValidateDocument] has the image-spec's
// schema for mediaType.
func IsOCIDocument(mediaType string) bool {
	switch mediaType {
	case ocispec.MediaTypeImageManifest, ocispec.MediaTypeImageIndex, ocispec.MediaTypeImageConfig,
		ocispec.MediaTypeDescriptor, ocispec.MediaTypeLayoutHeader:
		return true
	}
	return false
}

// ValidateDocument checks raw, a document of the given OCI media type
// (image manifest, image index, image config, content descriptor, or the
// oci-layout file), against the OCI image-spec: its JSON schema, then the
// rules image-spec checks in Go (the document decodes into its Go type,
// every Env entry of a config is NAME=value) and those the spec states
// for descriptors that a schema cannot: the digest of a registered
// algorithm has its exact encoding, and embedded data (base64) is the
// content the descriptor names.
//
// A digest of an algorithm wasmgate cannot compute (sha256+b64:…, any
// grammatical algorithm not registered with go-digest) is valid here:
// only reading the content it addresses fails, with
// [ErrUnsupportedDigest].
//
// Docker's schema 2 manifest and manifest list ([IsDockerDocument]) are
// validated by the same rules, with Docker's additions (see dockerShapes).
//
// A failure is a [*SchemaError] wrapping [ErrInvalidDocument]; a media
// type that is not one of those above wraps it too.
func ValidateDocument(mediaType string, raw []byte) error {
	s, ok := documentShapes()[mediaType]
	if !ok {
		s, ok = dockerShapes()[mediaType]
	}
	if !ok {
		return &SchemaError{MediaType: mediaType, Err: fmt.Errorf("%w: no image-spec or Docker schema for media type %q", ErrInvalidDocument, mediaType)}
	}
	fail := func(rule string, err error) error {
		return &SchemaError{MediaType: mediaType, Rule: rule, Err: fmt.Errorf("%w: %w", ErrInvalidDocument, err)}
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return fail("", fmt.Errorf("not JSON: %w", err))
	}
	if dec.More() {
		return fail("", errors.New("trailing data after the JSON document"))
	}
	if err := s.check(doc, ""); err != nil {
		return fail(err.at, err)
	}
	return goRules(ociEquivalent(mediaType), raw, fail)
}

// envEntry is image-spec's rule for a config's Env (a small program,
// unlike the schema's patterns).
var envEntry = regexp.MustCompile(`^[^=]+=.*$`)

// goRules are the checks beyond the schema, on the Go types.
func goRules(mediaType string, raw []byte, fail func(string, error) error) error {
	var descs []located
	switch mediaType {
	case ocispec.MediaTypeImageManifest:
		var m ocispec.Manifest
		if err := json.Unmarshal(raw, &m); err != nil {
			return fail("", fmt.Errorf("manifest format mismatch: %w", err))
		}
		descs = append(descs, located{"/config", m.Config})
		for i, l := range m.Layers {
			descs = append(descs, located{fmt.Sprintf("/layers/%d", i), l})
		}
		if m.Subject != nil {
			descs = append(descs, located{"/subject", *m.Subject})
		}
	case ocispec.MediaTypeImageIndex:
		var idx ocispec.Index
		if err := json.Unmarshal(raw, &idx); err != nil {
			return fail("", fmt.Errorf("index format mismatch: %w", err))
		}
		for i, d := range idx.Manifests {
			descs = append(descs, located{fmt.Sprintf("/manifests/%d", i), d})
		}
		if idx.Subject != nil {
			descs = append(descs, located{"/subject", *idx.Subject})
		}
	case ocispec.MediaTypeDescriptor:
		var d ocispec.Descriptor
		if err := json.Unmarshal(raw, &d); err != nil {
			return fail("", fmt.Errorf("descriptor format mismatch: %w", err))
		}
		descs = append(descs, located{"", d})
	case ocispec.MediaTypeImageConfig:
		var img ocispec.Image
		if err := json.Unmarshal(raw, &img); err != nil {
			return fail("", fmt.Errorf("config format mismatch: %w", err))
		}
		for i, e := range img.Config.Env {
			if !envEntry.MatchString(e) {
				return fail(fmt.Sprintf("/config/Env/%d", i), fmt.Errorf("env entry %q is not NAME=value", e))
			}
		}
		for i, d := range img.RootFS.DiffIDs {
			if err := validDigest(d); err != nil {
				return fail(fmt.Sprintf("/rootfs/diff_ids/%d", i), err)
			}
		}
	}
	for _, l := range descs {
		if err := validDescriptor(l.desc); err != nil {
			return fail(l.at, err)
		}
	}
	return nil
}

type located struct {
	at   string
	desc ocispec.Descriptor
}

// validDescriptor applies the descriptor rules a schema cannot express.
func validDescriptor(d ocispec.Descriptor) error {
	if err := validDigest(d.Digest); err != nil {
		return err
	}
	if d.Size < 0 {
		return fmt.Errorf("size %d: a size in bytes is not negative", d.Size)
	}
	if d.Data == nil {
		return nil
	}
	if int64(len(d.Data)) != d.Size {
		return fmt.Errorf("embedded data is %d bytes, size says %d", len(d.Data), d.Size)
	}
	if d.Digest.Algorithm().Available() && d.Digest.Algorithm().FromBytes(d.Data) != d.Digest {
		return fmt.Errorf("embedded data does not hash to %s", d.Digest)
	}
	return nil
}

// validDigest accepts a digest of any algorithm the grammar allows, and
// for those go-digest knows (sha256, sha384, sha512), only their exact
// encoding.
func validDigest(d digest.Digest) error {
	err := d.Validate()
	if err == nil || errors.Is(err, digest.ErrDigestUnsupported) {
		return nil
	}
	return fmt.Errorf("digest %q: %w", d, err)
}

// SchemaError reports an OCI document that breaks a rule of the
// image-spec: which document, where in it (a JSON pointer), and why.
type SchemaError struct {
	MediaType string // the document's media type
	What      string // "manifest sha256:…", when the caller knows
	Rule      string // the JSON pointer of the offending value; "" for the whole document
	Err       error  // wraps ErrInvalidDocument
}

func (e *SchemaError) Error() string {
	var b strings.Builder
	if e.What != "" {
		b.WriteString(e.What + ": ")
	}
	b.WriteString(e.Err.Error())
	if e.Rule != "" {
		b.WriteString(" at " + e.Rule)
	}
	return b.String()
}

func (e *SchemaError) Unwrap() error { return e.Err }
