package ocilayout

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/content"

	"github.com/wasmgate/wasmgate/artifact"
	"github.com/wasmgate/wasmgate/internal/boundedio"
)

// ValidTag is artifact.ValidTag.
var ValidTag = artifact.ValidTag

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

// maxRefNameLen bounds ref names under Options.AllowAnyRefName.
const maxRefNameLen = 4096

// refName is the tag an index.json entry carries, "" if none.
func refName(d ocispec.Descriptor) string { return d.Annotations[ocispec.AnnotationRefName] }

func (s *Store) checkRefName(ref string) error {
	if ref == "" {
		return ErrMissingReference
	}
	if _, err := digest.Parse(ref); err == nil {
		return fmt.Errorf("%w: a digest is not a tag", ErrInvalidReference)
	}
	if !s.anyRefName {
		if !ValidTag(ref) {
			return fmt.Errorf("%w: a tag is 1 to 128 of [a-zA-Z0-9._-], not starting with '.' or '-'", ErrInvalidReference)
		}
		return nil
	}
	if len(ref) > maxRefNameLen || !utf8.ValidString(ref) {
		return fmt.Errorf("%w: a ref name is at most %d bytes of UTF-8", ErrInvalidReference, maxRefNameLen)
	}
	for _, r := range ref {
		if unicode.IsSpace(r) || !unicode.IsPrint(r) {
			return fmt.Errorf("%w: a ref name has no spaces or control characters", ErrInvalidReference)
		}
	}
	return nil
}

// loadIndex reads index.json; the caller holds the index lock (or is a
// read-only store without one). It reads at most MaxIndexSize bytes.
func (s *Store) loadIndex() (*ocispec.Index, error) {
	b, err := boundedio.ReadFile(s.path(ocispec.ImageIndexFile), MaxIndexSize)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("%w: %w", ErrNotLayout, err)
	case errors.Is(err, boundedio.ErrTooLarge):
		return nil, fmt.Errorf("%w: %w", ErrSizeExceedsLimit, err)
	case err != nil:
		return nil, err
	}
	var idx ocispec.Index
	if err := json.Unmarshal(b, &idx); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidIndex, err)
	}
	if idx.SchemaVersion != 2 {
		return nil, fmt.Errorf("%w: schemaVersion is %d, want 2", ErrInvalidIndex, idx.SchemaVersion)
	}
	if idx.MediaType != "" && idx.MediaType != ocispec.MediaTypeImageIndex {
		return nil, fmt.Errorf("%w: mediaType is %q, want %q", ErrInvalidIndex, idx.MediaType, ocispec.MediaTypeImageIndex)
	}
	if err := artifact.ValidateDocument(ocispec.MediaTypeImageIndex, b); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidIndex, err)
	}
	return &idx, nil
}

// storeIndex replaces index.json; the caller holds the exclusive lock.
func (s *Store) storeIndex(idx *ocispec.Index) error {
	idx.SchemaVersion = 2
	idx.MediaType = ocispec.MediaTypeImageIndex
	if idx.Manifests == nil {
		idx.Manifests = []ocispec.Descriptor{} // "manifests": [] rather than null
	}
	b, err := json.Marshal(idx)
	if err != nil {
		return err
	}
	if len(b) > MaxIndexSize {
		return fmt.Errorf("%s would be %d bytes, over %d; untag or delete some entries: %w",
			ocispec.ImageIndexFile, len(b), MaxIndexSize, ErrSizeExceedsLimit)
	}
	return s.writeFileAtomic(ocispec.ImageIndexFile, b)
}

// readIndex reads index.json under the shared lock.
func (s *Store) readIndex(ctx context.Context) (*ocispec.Index, error) {
	lk, err := s.lockIndex(ctx, false)
	if err != nil {
		return nil, err
	}
	defer lk.release()
	return s.loadIndex()
}

// updateIndex is index.json's read-modify-write under the exclusive lock.
// mutate edits the index and says whether to write it; then, if not nil,
// runs after the write and still under the lock.
func (s *Store) updateIndex(ctx context.Context, mutate func(*ocispec.Index) (bool, error), then func() error) error {
	lk, err := s.lockIndex(ctx, true)
	if err != nil {
		return err
	}
	defer lk.release()
	idx, err := s.loadIndex()
	if err != nil {
		return err
	}
	changed, err := mutate(idx)
	if err != nil {
		return err
	}
	if changed {
		if err := s.storeIndex(idx); err != nil {
			return err
		}
	}
	if then != nil {
		return then()
	}
	return nil
}

// Tag points the tag ref at desc, replacing any earlier entry for ref. The
// blob must be stored, with desc's size. The entry is an index.json
// manifest descriptor annotated with org.opencontainers.image.ref.name,
// which oras, regctl and skopeo read as the tag. ref must match the OCI
// tag grammar unless the store was opened with Options.AllowAnyRefName.
func (s *Store) Tag(ctx context.Context, desc ocispec.Descriptor, ref string) error {
	if s.readOnly {
		return s.errf("tag", ref, desc.Digest, ErrReadOnly)
	}
	if err := s.checkRefName(ref); err != nil {
		return s.errf("tag", ref, desc.Digest, err)
	}
	if err := checkDigest(desc.Digest); err != nil {
		return s.errf("tag", ref, desc.Digest, err)
	}
	entry := desc
	entry.Annotations = maps.Clone(desc.Annotations)
	if entry.Annotations == nil {
		entry.Annotations = map[string]string{}
	}
	entry.Annotations[ocispec.AnnotationRefName] = ref

	err := s.updateIndex(ctx, func(idx *ocispec.Index) (bool, error) {
		// Checked under the lock, so a concurrent Delete cannot remove
		// the blob between this check and the write.
		fi, err := os.Stat(s.blobPath(desc.Digest))
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				err = fmt.Errorf("push the blob before tagging it: %w", ErrNotFound)
			}
			return false, err
		}
		if fi.Size() != desc.Size {
			return false, fmt.Errorf("descriptor says %d bytes, the stored blob has %d: %w",
				desc.Size, fi.Size(), ErrInvalidDescriptorSize)
		}
		if tagged(idx, ref, desc) {
			// Already so: nothing to write (the cache re-tags on every
			// digest-pinned pull).
			return false, nil
		}
		out := make([]ocispec.Descriptor, 0, len(idx.Manifests)+1)
		placed := false
		for _, m := range idx.Manifests {
			switch name := refName(m); {
			case name == ref:
				if !placed { // re-tagging keeps the entry's place
					out = append(out, entry)
					placed = true
				}
			case name == "" && m.Digest == desc.Digest:
				// an untagged entry for the same manifest is now redundant
			default:
				out = append(out, m)
			}
		}
		if !placed {
			out = append(out, entry)
		}
		idx.Manifests = out
		return true, nil
	}, nil)
	return s.errf("tag", ref, desc.Digest, err)
}

// tagged reports whether ref already names exactly desc in idx, with no
// redundant untagged entry for the same manifest left to drop.
func tagged(idx *ocispec.Index, ref string, desc ocispec.Descriptor) bool {
	found := false
	for _, m := range idx.Manifests {
		switch name := refName(m); {
		case name == ref:
			if found || m.Digest != desc.Digest || m.Size != desc.Size || m.MediaType != desc.MediaType {
				return false
			}
			found = true
		case name == "" && m.Digest == desc.Digest:
			return false
		}
	}
	return found
}

// Untag removes the index.json entries for ref. The blob stays. It fails
// with ErrNotFound if ref is not a tag, and ErrInvalidReference if it is a
// digest.
func (s *Store) Untag(ctx context.Context, ref string) error {
	if s.readOnly {
		return s.errf("untag", ref, "", ErrReadOnly)
	}
	if ref == "" {
		return s.errf("untag", ref, "", ErrMissingReference)
	}
	if _, err := digest.Parse(ref); err == nil {
		return s.errf("untag", ref, "", fmt.Errorf("%w: a digest is not a tag; use Delete", ErrInvalidReference))
	}
	err := s.updateIndex(ctx, func(idx *ocispec.Index) (bool, error) {
		n := len(idx.Manifests)
		idx.Manifests = slices.DeleteFunc(idx.Manifests, func(m ocispec.Descriptor) bool { return refName(m) == ref })
		if len(idx.Manifests) == n {
			return false, ErrNotFound
		}
		return true, nil
	}, nil)
	return s.errf("untag", ref, "", err)
}

// Resolve returns the descriptor for a tag, or for a digest string such as
// "sha256:…". A tag returns its index.json entry as stored, annotations
// included. A digest must name a stored blob and returns a plain
// descriptor (media type, digest, size): the media type comes from an
// index.json entry for the digest if there is one, otherwise from the
// blob itself if it is a manifest or index of at most 4 MiB (read and
// verified against the digest), otherwise application/octet-stream.
func (s *Store) Resolve(ctx context.Context, ref string) (ocispec.Descriptor, error) {
	if ref == "" {
		return ocispec.Descriptor{}, s.errf("resolve", ref, "", ErrMissingReference)
	}
	if d, err := digest.Parse(ref); err == nil {
		desc, err := s.resolveDigest(ctx, d)
		return desc, s.errf("resolve", "", d, err)
	}
	idx, err := s.readIndex(ctx)
	if err != nil {
		return ocispec.Descriptor{}, s.errf("resolve", ref, "", err)
	}
	for _, m := range idx.Manifests {
		if refName(m) == ref {
			return m, nil
		}
	}
	return ocispec.Descriptor{}, s.errf("resolve", ref, "", ErrNotFound)
}

// maxManifestSniff bounds the blob Resolve reads to learn a media type:
// oras-go's default limit for a manifest.
const maxManifestSniff = 4 << 20

func (s *Store) resolveDigest(ctx context.Context, d digest.Digest) (ocispec.Descriptor, error) {
	if err := checkDigest(d); err != nil {
		return ocispec.Descriptor{}, err
	}
	fi, err := os.Stat(s.blobPath(d))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			err = fmt.Errorf("%w: %w", ErrNotFound, err)
		}
		return ocispec.Descriptor{}, err
	}
	idx, err := s.readIndex(ctx)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	for _, m := range idx.Manifests {
		if m.Digest == d {
			return ocispec.Descriptor{MediaType: m.MediaType, Digest: d, Size: m.Size}, nil
		}
	}
	desc := ocispec.Descriptor{MediaType: "application/octet-stream", Digest: d, Size: fi.Size()}
	if fi.Size() > maxManifestSniff {
		return desc, nil
	}
	f, err := os.Open(s.blobPath(d))
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	defer f.Close()
	b, err := content.ReadAll(f, desc) // verifies: a corrupt blob does not resolve
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	if mt := sniffMediaType(b); mt != "" {
		desc.MediaType = mt
	}
	return desc, nil
}

// validMediaType: type/subtype, each [A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}
// (RFC 6838), written out for the same reason as ValidTag.
func validMediaType(s string) bool {
	typ, sub, ok := strings.Cut(s, "/")
	return ok && restrictedName(typ) && restrictedName(sub)
}

func restrictedName(s string) bool {
	if s == "" || len(s) > 127 || !isAlnum(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; !isAlnum(c) && !strings.ContainsRune("!#$&^_.+-", rune(c)) {
			return false
		}
	}
	return true
}

// sniffMediaType returns the media type a manifest or index declares, or
// infers from its shape; "" if b is not one.
func sniffMediaType(b []byte) string {
	var probe struct {
		SchemaVersion int             `json:"schemaVersion"`
		MediaType     string          `json:"mediaType"`
		Manifests     json.RawMessage `json:"manifests"`
		Config        json.RawMessage `json:"config"`
	}
	if json.Unmarshal(b, &probe) != nil || probe.SchemaVersion != 2 {
		return ""
	}
	switch {
	case probe.MediaType != "":
		if validMediaType(probe.MediaType) {
			return probe.MediaType
		}
		return ""
	case probe.Manifests != nil:
		return ocispec.MediaTypeImageIndex
	case probe.Config != nil:
		return ocispec.MediaTypeImageManifest
	}
	return ""
}

// Tags calls fn once with the layout's tags (ref names) in ascending
// order, starting after last if last is not empty. Its signature is
// registry.TagLister's, so registry.Tags works on a Store.
func (s *Store) Tags(ctx context.Context, last string, fn func(tags []string) error) error {
	idx, err := s.readIndex(ctx)
	if err != nil {
		return s.errf("tags", "", "", err)
	}
	var tags []string
	for _, m := range idx.Manifests {
		if t := refName(m); t != "" && (last == "" || t > last) {
			tags = append(tags, t)
		}
	}
	slices.Sort(tags)
	return fn(slices.Compact(tags))
}

// Manifests returns a copy of index.json's manifest descriptors, tagged
// and untagged, in file order. A tagged entry's tag is its
// org.opencontainers.image.ref.name annotation.
func (s *Store) Manifests(ctx context.Context) ([]ocispec.Descriptor, error) {
	idx, err := s.readIndex(ctx)
	if err != nil {
		return nil, s.errf("manifests", "", "", err)
	}
	return idx.Manifests, nil
}
