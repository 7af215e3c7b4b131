package sign

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	intoto "github.com/in-toto/attestation/go/v1"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/sigstore/sigstore/pkg/signature"
	sigdsse "github.com/sigstore/sigstore/pkg/signature/dsse"
	"github.com/sigstore/sigstore/pkg/signature/options"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/structpb"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/errdef"

	"github.com/wasmgate/wasmgate/access"
	"github.com/wasmgate/wasmgate/evidence"
	statement "github.com/wasmgate/wasmgate/evidence/intoto"
	"github.com/wasmgate/wasmgate/referrers"
)

// Attestation storage formats.
const (
	// FormatDSSE stores the DSSE envelope itself as a referrer
	// (artifactType application/vnd.dsse.envelope.v1+json).
	FormatDSSE Format = "dsse"
)

// AttestOptions shape an attestation. The zero value writes a bundle
// referrer, as `cosign attest` v3 does.
type AttestOptions struct {
	// Format is FormatBundle, FormatLegacy (the .att tag) or FormatDSSE.
	Format Format
	// Keyless, when set, signs keylessly (bundle format only).
	Keyless *Keyless
	// Created is the referrer's creation time; zero means now.
	Created time.Time
}

// AttestationStatement is the in-toto Statement v1 over subject with the
// given predicate (a JSON object).
func AttestationStatement(subject digest.Digest, predicateType string, predicate []byte) ([]byte, error) {
	var p map[string]any
	if err := json.Unmarshal(predicate, &p); err != nil {
		return nil, fmt.Errorf("%w: the predicate is not a JSON object: %w", ErrAttestOptions, err)
	}
	pb, err := structpb.NewStruct(p)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrAttestOptions, err)
	}
	st := &intoto.Statement{
		Type:          intoto.StatementTypeUri,
		Subject:       []*intoto.ResourceDescriptor{{Digest: map[string]string{string(subject.Algorithm()): subject.Encoded()}}},
		PredicateType: evidence.PredicateTypeURI(predicateType),
		Predicate:     pb,
	}
	if err := st.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrAttestOptions, err)
	}
	// What verify would refuse is not published: a SLSA v1 provenance
	// without its required fields, say.
	if err := statement.ValidatePredicate(st); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrAttestOptions, err)
	}
	return protojson.Marshal(st)
}

// Attest signs an in-toto statement about subject (predicateType and
// predicate, a JSON object) and stores it in dst: as a sigstore bundle
// referrer (cosign v3), in cosign's legacy .att tag, or as a plain DSSE
// referrer.
func Attest(ctx context.Context, dst oras.Target, subject ocispec.Descriptor, signer crypto.Signer, predicateType string, predicate []byte, opts AttestOptions) (ocispec.Descriptor, error) {
	pt := evidence.PredicateTypeURI(predicateType)
	st, err := AttestationStatement(subject.Digest, pt, predicate)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	created := opts.Created
	if created.IsZero() {
		created = time.Now()
	}
	switch opts.Format {
	case "", FormatBundle:
		b, err := bundleFor(ctx, st, signer, Options{Keyless: opts.Keyless})
		if err != nil {
			return ocispec.Descriptor{}, err
		}
		return referrers.Attach(ctx, dst, subject, evidence.ArtifactTypeSigstoreBundle,
			[]referrers.Blob{{MediaType: evidence.ArtifactTypeSigstoreBundle, Data: b}},
			referrers.AttachOptions{Annotations: map[string]string{
				"dev.sigstore.bundle.content":          "dsse-envelope",
				evidence.AnnotationBundlePredicateType: pt,
				ocispec.AnnotationCreated:              created.UTC().Format(time.RFC3339),
			}})
	case FormatLegacy, FormatDSSE:
		if opts.Keyless != nil {
			return ocispec.Descriptor{}, ErrKeylessLegacy
		}
		env, err := envelope(st, signer)
		if err != nil {
			return ocispec.Descriptor{}, err
		}
		if opts.Format == FormatDSSE {
			return referrers.Attach(ctx, dst, subject, evidence.MediaTypeDSSE,
				[]referrers.Blob{{MediaType: evidence.MediaTypeDSSE, Data: env}},
				referrers.AttachOptions{Annotations: map[string]string{
					evidence.AnnotationInTotoPredicateType: pt,
					ocispec.AnnotationCreated:              created.UTC().Format(time.RFC3339),
				}})
		}
		return appendLegacy(ctx, dst, subject, ".att", evidence.MediaTypeDSSE, env, map[string]string{
			"predicateType":                      pt,
			"dev.cosignproject.cosign/signature": "",
		})
	}
	return ocispec.Descriptor{}, fmt.Errorf("%w: format %q (bundle, legacy or dsse)", ErrAttestOptions, opts.Format)
}

// envelope signs statement as a DSSE envelope (JSON), as cosign's legacy
// attestations are.
func envelope(statement []byte, signer crypto.Signer) ([]byte, error) {
	sv, err := signature.LoadSigner(signer, crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("unsupported signing key: %w", err)
	}
	return sigdsse.WrapSigner(sv, evidence.PayloadTypeInToto).SignMessage(bytes.NewReader(statement), options.WithRand(rand.Reader))
}

// appendLegacy adds a layer to cosign's legacy manifest under the subject's
// tag plus suffix (".sig" or ".att"), creating it when absent, with the
// config cosign writes (an image config listing the layers).
func appendLegacy(ctx context.Context, dst oras.Target, subject ocispec.Descriptor, suffix, mediaType string, data []byte, annotations map[string]string) (ocispec.Descriptor, error) {
	layer := content.NewDescriptorFromBytes(mediaType, data)
	layer.Annotations = annotations
	if err := access.PushIfAbsent(ctx, dst, layer, data); err != nil {
		return ocispec.Descriptor{}, err
	}
	tag := referrers.TagSchema(subject.Digest) + suffix
	var layers []ocispec.Descriptor
	if old, err := dst.Resolve(ctx, tag); err == nil {
		raw, err := access.FetchVerified(ctx, dst, old, referrers.DefaultMaxManifestBytes, "signature manifest")
		if err != nil {
			return ocispec.Descriptor{}, err
		}
		var m ocispec.Manifest
		if err := json.Unmarshal(raw, &m); err != nil {
			return ocispec.Descriptor{}, fmt.Errorf("existing %s is not a manifest: %w", tag, err)
		}
		layers = m.Layers
	} else if !errors.Is(err, errdef.ErrNotFound) {
		return ocispec.Descriptor{}, err
	}
	layers = append(layers, layer)
	diffIDs := make([]string, len(layers))
	for i, l := range layers {
		diffIDs[i] = l.Digest.String()
	}
	cfg, err := json.Marshal(map[string]any{
		"architecture": "", "os": "", "created": "0001-01-01T00:00:00Z",
		"config": map[string]any{}, "rootfs": map[string]any{"type": "layers", "diff_ids": diffIDs},
	})
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	cfgDesc := content.NewDescriptorFromBytes(ocispec.MediaTypeImageConfig, cfg)
	if err := access.PushIfAbsent(ctx, dst, cfgDesc, cfg); err != nil {
		return ocispec.Descriptor{}, err
	}
	m := ocispec.Manifest{MediaType: ocispec.MediaTypeImageManifest, Config: cfgDesc, Layers: layers}
	m.SchemaVersion = 2
	raw, err := json.Marshal(m)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	return oras.TagBytes(ctx, dst, ocispec.MediaTypeImageManifest, raw, tag)
}
