package referrers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/errdef"
	"oras.land/oras-go/v2/registry/remote"

	"github.com/wasmgate/wasmgate/access"
	wgremote "github.com/wasmgate/wasmgate/remote"
)

// Blob is one layer of a referrer to attach.
type Blob struct {
	MediaType   string
	Data        []byte
	Annotations map[string]string
}

// AttachOptions shape [Attach]. The zero value is fine.
type AttachOptions struct {
	// Annotations go on the referrer manifest (and, where a fallback index
	// is kept, on its entry there).
	Annotations map[string]string
	// Config, when set, is the manifest's config blob instead of the empty
	// one: Notation writes its signatures with the config media type
	// application/vnd.cncf.notary.signature and no artifactType, the shape
	// OCI 1.0 registries accept. The artifact type may then be empty.
	Config *Blob
}

// Attach pushes a referrer of subject to dst: an OCI 1.1 image manifest
// with artifactType, the empty config, the given layers and subject. On a
// registry without the Referrers API, oras-go keeps the tag schema index
// (and removes the index it replaced); on other targets (OCI layouts)
// Attach keeps it itself, with each entry's artifactType and annotations
// lifted from its manifest, as the spec asks.
func Attach(ctx context.Context, dst oras.Target, subject ocispec.Descriptor, artifactType string, layers []Blob, opts AttachOptions) (ocispec.Descriptor, error) {
	if artifactType == "" && opts.Config == nil {
		return ocispec.Descriptor{}, fmt.Errorf("attach: an artifact type is required")
	}
	if len(layers) == 0 {
		return ocispec.Descriptor{}, fmt.Errorf("attach: at least one file is required")
	}
	descs := make([]ocispec.Descriptor, 0, len(layers))
	for _, l := range layers {
		d := content.NewDescriptorFromBytes(l.MediaType, l.Data)
		d.Annotations = l.Annotations
		if err := access.PushIfAbsent(ctx, dst, d, l.Data); err != nil {
			return ocispec.Descriptor{}, err
		}
		descs = append(descs, d)
	}
	var config *ocispec.Descriptor
	if c := opts.Config; c != nil {
		d := content.NewDescriptorFromBytes(c.MediaType, c.Data)
		if err := access.PushIfAbsent(ctx, dst, d, c.Data); err != nil {
			return ocispec.Descriptor{}, err
		}
		config = &d
	}
	if err := prepare(ctx, dst, subject); err != nil {
		return ocispec.Descriptor{}, err
	}
	desc, err := oras.PackManifest(ctx, dst, oras.PackManifestVersion1_1, artifactType, oras.PackManifestOptions{
		Subject:             &subject,
		Layers:              descs,
		ConfigDescriptor:    config,
		ManifestAnnotations: opts.Annotations,
	})
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	if err := indexReferrer(ctx, dst, subject, desc); err != nil {
		return ocispec.Descriptor{}, err
	}
	return desc, nil
}

// errProbed stops a probe listing after its first page.
var errProbed = errors.New("probed")

// prepare lets oras-go learn whether a registry has the Referrers API
// before a referrer is pushed: it otherwise decides from the OCI-Subject
// response header, which some registries with the API (go-containerregistry's)
// do not send, and would keep a needless fallback index there.
func prepare(ctx context.Context, dst oras.Target, subject ocispec.Descriptor) error {
	repo, ok := dst.(*remote.Repository)
	if !ok {
		return nil
	}
	err := repo.Referrers(ctx, subject, "", func([]ocispec.Descriptor) error { return errProbed })
	switch {
	case err == nil, errors.Is(err, errProbed):
		return nil
	case wgremote.IsNoReferrersAPI(err):
		// An odd status oras-go does not read as "no API": say it, so the
		// push keeps the fallback index. (Already decided: nothing to do.)
		_ = repo.SetReferrersCapability(false)
		return nil
	}
	return err
}

// indexReferrer adds ref to the tag schema index of subject on targets
// that oras-go does not index itself (anything but a remote repository).
// Concurrent writers of one layout's index may lose an entry; wasmgate
// commands do not attach to one layout concurrently.
func indexReferrer(ctx context.Context, dst oras.Target, subject, ref ocispec.Descriptor) error {
	if _, ok := dst.(*remote.Repository); ok {
		return nil
	}
	raw, err := access.FetchVerified(ctx, dst, ref, DefaultMaxManifestBytes, "referrer manifest")
	if err != nil {
		return err
	}
	var m ocispec.Manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		return fmt.Errorf("%w: %w", ErrNotManifest, err)
	}
	entry := ocispec.Descriptor{MediaType: ref.MediaType, Digest: ref.Digest, Size: ref.Size, ArtifactType: ArtifactType(m), Annotations: m.Annotations}
	tag := TagSchema(subject.Digest)
	idx := ocispec.Index{MediaType: ocispec.MediaTypeImageIndex, Manifests: []ocispec.Descriptor{}}
	idx.SchemaVersion = 2
	old, err := dst.Resolve(ctx, tag)
	switch {
	case errors.Is(err, errdef.ErrNotFound):
	case err != nil:
		return err
	default:
		raw, err := access.FetchVerified(ctx, dst, old, DefaultMaxIndexBytes, "fallback index")
		if err != nil {
			return err
		}
		if err := json.Unmarshal(raw, &idx); err != nil || idx.MediaType != ocispec.MediaTypeImageIndex {
			return fmt.Errorf("%s: %w", tag, ErrNotIndex)
		}
	}
	if slices.ContainsFunc(idx.Manifests, func(d ocispec.Descriptor) bool { return d.Digest == ref.Digest }) {
		return nil
	}
	idx.Manifests = append(idx.Manifests, entry)
	newRaw, err := json.Marshal(idx)
	if err != nil {
		return err
	}
	if _, err := oras.TagBytes(ctx, dst, ocispec.MediaTypeImageIndex, newRaw, tag); err != nil {
		return err
	}
	// The replaced index is referenced by nothing now.
	if del, ok := dst.(content.Deleter); ok && old.Digest != "" {
		if err := del.Delete(ctx, old); err != nil && !errors.Is(err, errdef.ErrNotFound) {
			return err
		}
	}
	return nil
}
