package notation

import (
	"context"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"

	"github.com/wasmgate/wasmgate/evidence"
	"github.com/wasmgate/wasmgate/referrers"
)

// Report is the outcome of [Check].
type Report struct {
	Subject  ocispec.Descriptor   `json:"subject"`
	Scope    string               `json:"scope"`
	Verified bool                 `json:"verified"`
	Results  []Result             `json:"signatures"`
	Listing  referrers.Path       `json:"listing"`
	Rejected []referrers.Rejected `json:"rejectedReferrers,omitempty"`
}

// Check discovers the Notation signatures of subject in src and verifies
// each against trust for scope (see [VerifyReferrers]). Discovery follows
// discover, except that an empty ArtifactType becomes Notation's and
// cosign's legacy tags are not read. An error means no verdict (the
// registry failed, the scope or the trust material is wrong);
// Report.Verified is the verdict.
func Check(ctx context.Context, src oras.ReadOnlyTarget, scope string, subject ocispec.Descriptor, discover referrers.Options, trust *Trust, opts Options) (*Report, error) {
	if err := validScope(scope, subject.Digest); err != nil {
		return nil, err
	}
	if trust != nil {
		if _, _, err := trust.applicable(scope, subject.Digest); err != nil {
			return nil, err
		}
	}
	if discover.ArtifactType == "" {
		discover.ArtifactType = evidence.ArtifactTypeNotation
	}
	discover.NoLegacyTags = true
	discover.Kinds = []referrers.Kind{referrers.KindNotation}
	found, err := referrers.Discover(ctx, src, subject, discover)
	if err != nil {
		return nil, err
	}
	results, err := VerifyReferrers(ctx, src, scope, subject, found.Referrers, trust, opts)
	if err != nil {
		return nil, err
	}
	if results == nil {
		results = []Result{}
	}
	return &Report{Subject: subject, Scope: scope, Verified: Verified(results), Results: results, Listing: found.Listing, Rejected: found.Rejected}, nil
}
