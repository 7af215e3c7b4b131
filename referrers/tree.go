package referrers

import (
	"context"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"
)

// Tree discovers the referrers of subject and, down to depth levels, the
// referrers of each referrer (a signature on an SBOM, say). depth 1 is
// [Discover]. A referrer seen twice is expanded once.
func Tree(ctx context.Context, src oras.ReadOnlyTarget, subject ocispec.Descriptor, depth int, opts Options) (*Result, error) {
	seen := map[digest.Digest]bool{subject.Digest: true}
	return tree(ctx, src, subject, depth, opts, seen)
}

func tree(ctx context.Context, src oras.ReadOnlyTarget, subject ocispec.Descriptor, depth int, opts Options, seen map[digest.Digest]bool) (*Result, error) {
	res, err := Discover(ctx, src, subject, opts)
	if err != nil || depth <= 1 {
		return res, err
	}
	// The type filter chooses the first level; below it, everything that
	// refers to a chosen referrer belongs to it.
	opts.ArtifactType = ""
	for i := range res.Referrers {
		r := &res.Referrers[i]
		if seen[r.Digest] {
			continue
		}
		seen[r.Digest] = true
		sub, err := tree(ctx, src, r.Descriptor(), depth-1, opts, seen)
		if err != nil {
			return nil, err
		}
		r.Referrers = sub.Referrers
		res.Rejected = append(res.Rejected, sub.Rejected...)
	}
	return res, nil
}
