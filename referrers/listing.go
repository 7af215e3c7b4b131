package referrers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/sync/errgroup"
	"oras.land/oras-go/v2/errdef"

	"github.com/wasmgate/wasmgate/access"
	"github.com/wasmgate/wasmgate/artifact"
	"github.com/wasmgate/wasmgate/remote"
)

// probe is one way of listing referrers and what it listed.
type probe struct {
	path  Path
	descs []ocispec.Descriptor
	// noAPI: the Referrers API probe learnt that the registry has none.
	noAPI error
}

// list asks, at the same time, every listing the mode and the wanted kinds
// call for (the Referrers API, the fallback index, cosign's .sig and .att
// tags), then adds what they listed in that fixed order, so the result
// does not depend on which answered first.
func (d *discovery) list(ctx context.Context) error {
	var probes []*probe
	switch d.opts.Mode {
	case ModeTag:
		probes = append(probes, &probe{path: PathTag})
	case ModeAPI, ModeAuto:
		if d.opts.API == nil {
			if d.opts.Mode == ModeAPI {
				return fmt.Errorf("%w: the source has no registry API", ErrNoAPI)
			}
			probes = append(probes, &probe{path: PathTag})
			break
		}
		probes = append(probes, &probe{path: PathAPI})
		if d.opts.Mode == ModeAuto {
			// A registry that gained the API keeps older referrers only in
			// the fallback index: read it either way.
			probes = append(probes, &probe{path: PathTag})
		}
	default:
		return fmt.Errorf("unknown referrers mode %q (auto, api or tag)", d.opts.Mode)
	}
	if !d.opts.NoLegacyTags && d.wants(KindCosignSignature) {
		probes = append(probes, &probe{path: PathCosignSig})
	}
	if !d.opts.NoLegacyTags && d.wants(KindCosignAttestation) {
		probes = append(probes, &probe{path: PathCosignAtt})
	}

	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(d.opts.Concurrency)
	for _, p := range probes {
		g.Go(func() error { return d.run(gctx, p) })
	}
	if err := g.Wait(); err != nil {
		return err
	}

	d.res.Listing = PathTag
	for _, p := range probes {
		if p.path == PathAPI {
			if p.noAPI != nil {
				if d.opts.Mode == ModeAPI {
					return fmt.Errorf("%w: %w", ErrNoAPI, p.noAPI)
				}
				continue
			}
			d.res.Listing = PathAPI
		}
		for _, desc := range p.descs {
			if err := d.add(desc, p.path); err != nil {
				return err
			}
		}
	}
	return nil
}

// run lists what one probe asks for. Each probe stops at MaxReferrers
// entries; add bounds them together.
func (d *discovery) run(ctx context.Context, p *probe) error {
	switch p.path {
	case PathAPI:
		err := d.opts.API.Referrers(ctx, d.subject, "", func(descs []ocispec.Descriptor) error {
			if len(p.descs)+len(descs) > d.opts.MaxReferrers {
				return fmt.Errorf("%w: more than %d listed for %s", ErrTooManyReferrers, d.opts.MaxReferrers, d.subject.Digest)
			}
			p.descs = append(p.descs, descs...)
			return nil
		})
		if remote.IsNoReferrersAPI(err) {
			p.descs, p.noAPI = nil, err
			return nil
		}
		return err
	case PathTag:
		return d.tagSchema(ctx, p)
	case PathCosignSig:
		return d.legacy(ctx, p, ".sig")
	case PathCosignAtt:
		return d.legacy(ctx, p, ".att")
	}
	return fmt.Errorf("referrers: no probe for %s", p.path)
}

// tagSchema reads the fallback index tagged TagSchema(subject).
func (d *discovery) tagSchema(ctx context.Context, p *probe) error {
	idxDesc, err := d.src.Resolve(ctx, TagSchema(d.subject.Digest))
	if errors.Is(err, errdef.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if idxDesc.Digest == d.subject.Digest {
		d.reject(idxDesc.Digest, PathTag, ErrSelfReference)
		return nil
	}
	raw, err := access.FetchVerified(ctx, d.src, idxDesc, d.opts.MaxIndexBytes, "fallback index")
	if err != nil {
		if rejectable(err) {
			d.reject(idxDesc.Digest, PathTag, err)
			return nil
		}
		return err
	}
	var idx ocispec.Index
	if err := json.Unmarshal(raw, &idx); err != nil || idx.MediaType != ocispec.MediaTypeImageIndex {
		d.reject(idxDesc.Digest, PathTag, fmt.Errorf("%w (mediaType %q)", ErrNotIndex, idx.MediaType))
		return nil
	}
	if err := artifact.ValidateDocument(ocispec.MediaTypeImageIndex, raw); err != nil {
		d.reject(idxDesc.Digest, PathTag, fmt.Errorf("%w: %w", ErrNotIndex, err))
		return nil
	}
	p.descs = idx.Manifests
	return nil
}

// legacy reads what cosign's legacy tag (subject tag + suffix) names.
func (d *discovery) legacy(ctx context.Context, p *probe, suffix string) error {
	desc, err := d.src.Resolve(ctx, TagSchema(d.subject.Digest)+suffix)
	if errors.Is(err, errdef.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	p.descs = []ocispec.Descriptor{desc}
	return nil
}

// wants reports whether referrers of kind k are kept.
func (d *discovery) wants(k Kind) bool {
	return len(d.opts.Kinds) == 0 || slices.Contains(d.opts.Kinds, k)
}
