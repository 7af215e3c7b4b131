package cosign

import (
	"context"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"

	"github.com/wasmgate/wasmgate/referrers"
)

// Report is the outcome of [Check].
type Report struct {
	Subject  ocispec.Descriptor   `json:"subject"`
	Verified bool                 `json:"verified"`
	Results  []Result             `json:"signatures"`
	Listing  referrers.Path       `json:"listing"`
	Rejected []referrers.Rejected `json:"rejectedReferrers,omitempty"`
}

// Kinds are the kinds of referrer that hold cosign signatures of format
// ("" for both): what discovery needs to ask for (see
// [referrers.Options.Kinds]).
func Kinds(format Format) []referrers.Kind {
	switch format {
	case FormatBundle:
		return []referrers.Kind{referrers.KindSigstoreBundle}
	case FormatLegacy:
		return []referrers.Kind{referrers.KindCosignSignature}
	}
	return []referrers.Kind{referrers.KindSigstoreBundle, referrers.KindCosignSignature}
}

// Check discovers the cosign signatures of subject in src (through the
// Referrers API, the tag schema and the legacy .sig tag, as discovery
// options say; unless they name kinds, only those of [Kinds]) and verifies
// each against auth. An error means no verdict
// (the registry failed); Report.Verified is the verdict.
func Check(ctx context.Context, src oras.ReadOnlyTarget, subject ocispec.Descriptor, discover referrers.Options, auth Authority, opts Options) (*Report, error) {
	if err := auth.Validate(); err != nil {
		return nil, err
	}
	if len(discover.Kinds) == 0 {
		discover.Kinds = Kinds(opts.Format)
	}
	found, err := referrers.Discover(ctx, src, subject, discover)
	if err != nil {
		return nil, err
	}
	results, err := VerifyReferrers(ctx, src, subject, found.Referrers, auth, opts)
	if err != nil {
		return nil, err
	}
	if results == nil {
		results = []Result{}
	}
	return &Report{Subject: subject, Verified: Verified(results), Results: results, Listing: found.Listing, Rejected: found.Rejected}, nil
}
