package referrers

import (
	"context"
	"slices"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"
)

// CopyOptions shape [Copy]. The zero value copies the artifact alone.
type CopyOptions struct {
	// Recursive copies every referrer, and their referrers, too.
	Recursive bool
	// Depth bounds the recursion; 0 means 8 levels.
	Depth int
	// Discover shapes the discovery on the source.
	Discover Options
}

// CopyResult says what [Copy] copied.
type CopyResult struct {
	Descriptor ocispec.Descriptor `json:"descriptor"`
	Referrers  []Referrer         `json:"referrers,omitempty"`
	Rejected   []Rejected         `json:"rejected,omitempty"`
}

// Copy copies the artifact srcRef names from src to dst, tagged dstRef
// (when dstRef is a tag), digests preserved, and with Recursive every
// referrer that passes discovery: the air-gap path, registry to OCI
// layout to registry. cosign's legacy .sig and .att tags are recreated on
// the destination; other referrers are indexed the way the destination
// needs (the Referrers API, else the tag schema). Rejected referrers are
// not copied.
func Copy(ctx context.Context, src oras.ReadOnlyTarget, srcRef string, dst oras.Target, dstRef string, opts CopyOptions) (*CopyResult, error) {
	desc, err := oras.Copy(ctx, src, srcRef, dst, dstRef, oras.DefaultCopyOptions)
	if err != nil {
		return nil, err
	}
	res := &CopyResult{Descriptor: desc}
	if !opts.Recursive {
		return res, nil
	}
	depth := opts.Depth
	if depth <= 0 {
		depth = 8
	}
	tree, err := Tree(ctx, src, desc, depth, opts.Discover)
	if err != nil {
		return nil, err
	}
	if err := copyReferrers(ctx, src, dst, desc, tree.Referrers); err != nil {
		return nil, err
	}
	res.Referrers, res.Rejected = tree.Referrers, tree.Rejected
	return res, nil
}

func copyReferrers(ctx context.Context, src oras.ReadOnlyTarget, dst oras.Target, subject ocispec.Descriptor, refs []Referrer) error {
	if len(refs) > 0 {
		if err := prepare(ctx, dst, subject); err != nil {
			return err
		}
	}
	for _, r := range refs {
		desc := ocispec.Descriptor{MediaType: r.MediaType, Digest: r.Digest, Size: r.Size}
		if err := oras.CopyGraph(ctx, src, dst, desc, oras.DefaultCopyGraphOptions); err != nil {
			return err
		}
		switch {
		case hasPath(r.Found, PathCosignSig):
			if err := dst.Tag(ctx, desc, TagSchema(subject.Digest)+".sig"); err != nil {
				return err
			}
		case hasPath(r.Found, PathCosignAtt):
			if err := dst.Tag(ctx, desc, TagSchema(subject.Digest)+".att"); err != nil {
				return err
			}
		default:
			if err := indexReferrer(ctx, dst, subject, desc); err != nil {
				return err
			}
		}
		if err := copyReferrers(ctx, src, dst, desc, r.Referrers); err != nil {
			return err
		}
	}
	return nil
}

func hasPath(ps []Path, p Path) bool { return slices.Contains(ps, p) }
