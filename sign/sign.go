package sign

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	sgsign "github.com/sigstore/sigstore-go/pkg/sign"
	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/sigstore/sigstore/pkg/signature/options"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/structpb"
	"oras.land/oras-go/v2"

	intoto "github.com/in-toto/attestation/go/v1"

	"github.com/wasmgate/wasmgate/evidence"
	"github.com/wasmgate/wasmgate/evidence/cosign"
	"github.com/wasmgate/wasmgate/referrers"
)

// Format is one of cosign's two signature formats.
type Format = cosign.Format

const (
	FormatBundle = cosign.FormatBundle
	FormatLegacy = cosign.FormatLegacy
)

// Options shape a signature. The zero value writes a bundle referrer.
type Options struct {
	Format Format
	// Repository is the repository the artifact lives in ("host/path"),
	// written into a legacy payload as its docker-reference.
	Repository string
	// Created is the referrer's creation time; zero means now.
	Created time.Time
	// Keyless, when set, signs keylessly (bundle format only) and the
	// signer passed to Cosign is ignored.
	Keyless *Keyless
}

// Cosign signs subject (by digest) with signer and stores the signature
// in dst in the chosen format. It returns the descriptor of what it wrote:
// the bundle referrer, or the legacy .sig manifest.
func Cosign(ctx context.Context, dst oras.Target, subject ocispec.Descriptor, signer crypto.Signer, opts Options) (ocispec.Descriptor, error) {
	if subject.Digest.Algorithm() != digest.SHA256 {
		return ocispec.Descriptor{}, fmt.Errorf("sign: cosign signs sha256 manifests, not %s", subject.Digest)
	}
	switch opts.Format {
	case "", FormatBundle:
		return bundleReferrer(ctx, dst, subject, signer, opts)
	case FormatLegacy:
		if err := legacyAllowed(opts); err != nil {
			return ocispec.Descriptor{}, err
		}
		return legacySignature(ctx, dst, subject, signer, opts)
	}
	return ocispec.Descriptor{}, fmt.Errorf("sign: unknown format %q (bundle or legacy)", opts.Format)
}

// Statement is the in-toto statement cosign v3 signs for an image: the
// manifest digest as subject, the cosign sign predicate, empty.
func Statement(subject digest.Digest) ([]byte, error) {
	st := &intoto.Statement{
		Type:          intoto.StatementTypeUri,
		Subject:       []*intoto.ResourceDescriptor{{Digest: map[string]string{"sha256": subject.Encoded()}}},
		PredicateType: evidence.PredicateTypeCosignSign,
		Predicate:     &structpb.Struct{},
	}
	if err := st.Validate(); err != nil {
		return nil, err
	}
	return protojson.Marshal(st)
}

// Bundle signs payload (an in-toto statement) as a DSSE envelope in a
// sigstore bundle v0.3, with the public-key hint as verification material.
func Bundle(payload []byte, signer crypto.Signer) ([]byte, error) {
	kp, err := newKeypair(signer)
	if err != nil {
		return nil, err
	}
	pb, err := sgsign.Bundle(&sgsign.DSSEData{Data: payload, PayloadType: "application/vnd.in-toto+json"}, kp, sgsign.BundleOptions{})
	if err != nil {
		return nil, err
	}
	return protojson.Marshal(pb)
}

func bundleReferrer(ctx context.Context, dst oras.Target, subject ocispec.Descriptor, signer crypto.Signer, opts Options) (ocispec.Descriptor, error) {
	st, err := Statement(subject.Digest)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	b, err := bundleFor(ctx, st, signer, opts)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	created := opts.Created
	if created.IsZero() {
		created = time.Now()
	}
	return referrers.Attach(ctx, dst, subject, evidence.ArtifactTypeSigstoreBundle,
		[]referrers.Blob{{MediaType: evidence.ArtifactTypeSigstoreBundle, Data: b}},
		referrers.AttachOptions{Annotations: map[string]string{
			"dev.sigstore.bundle.content":          "dsse-envelope",
			evidence.AnnotationBundlePredicateType: evidence.PredicateTypeCosignSign,
			ocispec.AnnotationCreated:              created.UTC().Format(time.RFC3339),
		}})
}

// SimpleSigningPayload is the legacy payload for subject in repository.
func SimpleSigningPayload(repository string, subject digest.Digest) ([]byte, error) {
	var ss cosign.SimpleSigning
	ss.Critical.Identity.DockerReference = repository
	ss.Critical.Image.DockerManifestDigest = subject.String()
	ss.Critical.Type = "cosign container image signature"
	return json.Marshal(ss)
}

func legacySignature(ctx context.Context, dst oras.Target, subject ocispec.Descriptor, signer crypto.Signer, opts Options) (ocispec.Descriptor, error) {
	payload, err := SimpleSigningPayload(opts.Repository, subject.Digest)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	sv, err := signature.LoadSigner(signer, crypto.SHA256)
	if err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("unsupported signing key: %w", err)
	}
	sig, err := sv.SignMessage(bytes.NewReader(payload), options.WithRand(rand.Reader))
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	// cosign keeps every signature of an image in one manifest: append.
	return appendLegacy(ctx, dst, subject, ".sig", evidence.MediaTypeSimpleSigning, payload,
		map[string]string{evidence.AnnotationCosignSignature: base64.StdEncoding.EncodeToString(sig)})
}
