package attest

import (
	"context"
	"fmt"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/wasmgate/wasmgate/access"
	"github.com/wasmgate/wasmgate/artifact"
	"github.com/wasmgate/wasmgate/evidence"
	"github.com/wasmgate/wasmgate/evidence/cosign"
	"github.com/wasmgate/wasmgate/evidence/intoto"
	"github.com/wasmgate/wasmgate/evidence/notation"
	"github.com/wasmgate/wasmgate/referrers"
)

// inToto verifies an in-toto referrer (kind referrers.KindInToto): a
// signed DSSE envelope, or an unsigned statement whose referrer manifest
// carries a cosign signature.
func (v *verifier) inToto(ctx context.Context, ref referrers.Referrer) (*Result, error) {
	r := &Result{Referrer: ref.Digest, PredicateType: ref.PredicateType}
	if len(ref.Manifest.Layers) != 1 {
		return r.fail(fmt.Errorf("%w: an in-toto referrer holds one layer, not %d", ErrMalformed, len(ref.Manifest.Layers))), nil
	}
	layer := ref.Manifest.Layers[0]
	switch layer.MediaType {
	case evidence.MediaTypeDSSE:
		r.Format = FormatDSSE
		return v.dsse(ctx, r, layer)
	case evidence.PayloadTypeInToto:
		r.Format = FormatInTotoSigned
		return v.signedStatement(ctx, r, ref, layer)
	}
	return r.fail(fmt.Errorf("%w: an in-toto referrer's layer is %q, neither a DSSE envelope nor an in-toto statement", ErrMalformed, layer.MediaType)), nil
}

// dsse verifies a DSSE envelope referrer: the envelope is checked like a
// legacy .att layer without annotations, that is against the authority's
// keys (there is no certificate to check an identity by).
func (v *verifier) dsse(ctx context.Context, r *Result, layer ocispec.Descriptor) (*Result, error) {
	return v.envelope(ctx, r, layer, nil)
}

// signedStatement verifies an unsigned in-toto statement referrer by the
// signatures over the referrer manifest: cosign's (the referrer's own
// referrers, a bundle, or legacy .sig tag) against the authority, else
// Notation's against Options.Notation. A signature over the manifest
// covers the statement layer through its digest.
func (v *verifier) signedStatement(ctx context.Context, r *Result, ref referrers.Referrer, layer ocispec.Descriptor) (*Result, error) {
	// The signatures are not of the artifact type or kinds the caller may
	// have filtered the attestations by.
	opts := v.discover
	opts.ArtifactType, opts.Kinds = "", signatureKinds()
	desc := ref.Descriptor()
	found, err := referrers.Discover(ctx, v.src, desc, opts)
	if err != nil {
		return nil, err
	}
	sigs, err := cosign.VerifyReferrers(ctx, v.src, desc, found.Referrers, v.auth, cosign.Options{})
	if err != nil {
		return nil, err
	}
	var res *cosign.Result
	for i := range sigs {
		if sigs[i].Verified {
			res = &sigs[i]
			break
		}
	}
	if res == nil && v.notation != nil {
		nt := v.notation
		nres, err := notation.VerifyReferrers(ctx, v.src, nt.Scope, desc, found.Referrers, nt.Trust, nt.Options)
		if err != nil {
			return nil, err
		}
		for _, n := range nres {
			if n.Verified && n.Referrer != "" {
				// Notation's signing time is the signer's claim unless
				// timestamped; maxAge then falls back to the predicate.
				res, r.NotationSigner = &cosign.Result{Verified: true}, n.Signer
				break
			}
		}
	}
	if res == nil {
		err := fmt.Errorf("%w: the in-toto referrer carries no trusted signature (%d tried)", ErrSignature, len(sigs))
		if len(sigs) > 0 && sigs[0].Err != nil {
			err = fmt.Errorf("%w: the in-toto referrer carries no trusted signature (%d tried): %w", ErrSignature, len(sigs), sigs[0].Err)
		}
		return r.fail(err), nil
	}
	r.KeyID, r.Identity = res.KeyID, res.Identity
	raw, err := access.FetchVerified(ctx, v.src, layer, MaxEnvelopeBytes, "in-toto statement")
	if err != nil {
		if artifact.IsBadContent(err) {
			return r.fail(fmt.Errorf("%w: %w", ErrMalformed, err)), nil
		}
		return nil, err
	}
	st, err := intoto.ParseStatement(raw, v.subject.Digest)
	if err != nil {
		return r.fail(err), nil
	}
	return v.checkStatement(ctx, r, res, st), nil
}
