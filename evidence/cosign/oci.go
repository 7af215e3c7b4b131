package cosign

import (
	"context"
	"fmt"
	"strings"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"

	"github.com/wasmgate/wasmgate/access"
	"github.com/wasmgate/wasmgate/artifact"
	"github.com/wasmgate/wasmgate/evidence"
	"github.com/wasmgate/wasmgate/referrers"
)

// Bounds on what a registry can make the verifier read.
const (
	DefaultMaxSignatures = 32
	MaxBundleBytes       = 1 << 20
	MaxPayloadBytes      = 64 << 10
)

// Options shape [VerifyReferrers]. The zero value checks both formats.
type Options struct {
	// Format limits the check to one format; "" checks every cosign
	// signature found, in both (cosign itself checks one at a time).
	Format Format
	// MaxSignatures bounds the signatures tried; 0 means DefaultMaxSignatures.
	MaxSignatures int
}

// VerifyReferrers verifies every cosign signature among refs (as
// [referrers.Discover] returns them for subject) against auth, and returns
// one Result per signature tried. The subject is verified when any Result
// is. An error means the verdict could not be reached (the registry failed
// to serve a signature it listed); a bad signature is a failed Result.
func VerifyReferrers(ctx context.Context, src oras.ReadOnlyTarget, subject ocispec.Descriptor, refs []referrers.Referrer, auth Authority, opts Options) ([]Result, error) {
	max := opts.MaxSignatures
	if max <= 0 {
		max = DefaultMaxSignatures
	}
	var out []Result
	tried := 0
	budget := func() bool {
		if tried >= max {
			return false
		}
		tried++
		return true
	}
	for _, ref := range refs {
		switch {
		case ref.Kind == referrers.KindSigstoreBundle && referrers.IsSignature(ref.Kind, ref.PredicateType) && opts.Format != FormatLegacy:
			if !budget() {
				return append(out, *tooMany(max)), nil
			}
			r, err := verifyBundleReferrer(ctx, src, subject, ref, auth)
			if err != nil {
				return out, err
			}
			out = append(out, *r)
		case ref.Kind == referrers.KindCosignSignature && opts.Format != FormatBundle:
			for i, layer := range ref.Manifest.Layers {
				if layer.MediaType != evidence.MediaTypeSimpleSigning {
					continue
				}
				if !budget() {
					return append(out, *tooMany(max)), nil
				}
				payload, err := access.FetchVerified(ctx, src, layer, MaxPayloadBytes, "simple-signing payload")
				if err != nil {
					if artifact.IsBadContent(err) {
						out = append(out, *(&Result{Referrer: ref.Digest, Format: FormatLegacy, Layer: i}).fail(fmt.Errorf("%w: %w", ErrMalformed, err)))
						continue
					}
					return out, err
				}
				r := VerifyLegacy(payload, layer.Annotations, subject.Digest, auth)
				r.Referrer, r.Layer = ref.Digest, i
				out = append(out, *r)
			}
		}
	}
	return out, nil
}

func tooMany(max int) *Result {
	return (&Result{}).fail(fmt.Errorf("%w: stopped after %d", ErrTooManySignatures, max))
}

func verifyBundleReferrer(ctx context.Context, src oras.ReadOnlyTarget, subject ocispec.Descriptor, ref referrers.Referrer, auth Authority) (*Result, error) {
	r := &Result{Referrer: ref.Digest, Format: FormatBundle}
	if len(ref.Manifest.Layers) != 1 || !strings.HasPrefix(ref.Manifest.Layers[0].MediaType, "application/vnd.dev.sigstore.bundle") {
		return r.fail(fmt.Errorf("%w: a bundle referrer holds one bundle layer", ErrMalformed)), nil
	}
	raw, err := access.FetchVerified(ctx, src, ref.Manifest.Layers[0], MaxBundleBytes, "sigstore bundle")
	if err != nil {
		if artifact.IsBadContent(err) {
			return r.fail(fmt.Errorf("%w: %w", ErrMalformed, err)), nil
		}
		return nil, err
	}
	b, err := ParseBundle(raw)
	if err != nil {
		return r.fail(err), nil
	}
	res := VerifyBundle(b, subject.Digest, auth)
	res.Referrer = ref.Digest
	return res, nil
}

// Verified reports whether any result verified.
func Verified(rs []Result) bool {
	for _, r := range rs {
		if r.Verified {
			return true
		}
	}
	return false
}
