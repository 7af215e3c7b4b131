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

// Check discovers the cosign signatures of subject in src (through the
// Referrers API, the tag schema and the legacy .sig tag, as discovery
// options say) and verifies each against auth. An error means no verdict
// (the registry failed); Report.Verified is the verdict.
func Check(ctx context.Context, src oras.ReadOnlyTarget, subject ocispec.Descriptor, discover referrers.Options, auth Authority, opts Options) (*Report, error) {
	if err := auth.Validate(); err != nil {
		return nil, err
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
