package referrers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/errdef"
	"oras.land/oras-go/v2/registry/remote/errcode"

	"github.com/wasmgate/wasmgate/access"
)

// list asks the Referrers API or the tag schema, by mode.
func (d *discovery) list(ctx context.Context) error {
	switch d.opts.Mode {
	case ModeTag:
		d.res.Listing = PathTag
		return d.tagSchema(ctx)
	case ModeAPI, ModeAuto:
	default:
		return fmt.Errorf("unknown referrers mode %q (auto, api or tag)", d.opts.Mode)
	}
	if d.opts.API == nil {
		if d.opts.Mode == ModeAPI {
			return fmt.Errorf("%w: the source has no registry API", ErrNoAPI)
		}
		d.res.Listing = PathTag
		return d.tagSchema(ctx)
	}
	err := d.opts.API.Referrers(ctx, d.subject, "", func(descs []ocispec.Descriptor) error {
		for _, desc := range descs {
			if err := d.add(desc, PathAPI); err != nil {
				return err
			}
		}
		return nil
	})
	switch {
	case err == nil:
		d.res.Listing = PathAPI
		if d.opts.Mode == ModeAuto {
			return d.tagSchema(ctx)
		}
		return nil
	case noAPI(err) && d.opts.Mode == ModeAuto:
		d.res.Listing = PathTag
		return d.tagSchema(ctx)
	case noAPI(err):
		return fmt.Errorf("%w: %w", ErrNoAPI, err)
	}
	return err
}

// noAPI reports the answers by which registries say they have no Referrers
// API: oras-go's ErrUnsupported (a 404, or something other than an image
// index), and the odd statuses some registries send for an endpoint they
// do not know (400, 405, 406, 501).
func noAPI(err error) bool {
	if errors.Is(err, errdef.ErrUnsupported) {
		return true
	}
	var resp *errcode.ErrorResponse
	if errors.As(err, &resp) {
		switch resp.StatusCode {
		case http.StatusBadRequest, http.StatusNotFound, http.StatusMethodNotAllowed, http.StatusNotAcceptable, http.StatusNotImplemented:
			return true
		}
	}
	return false
}

// tagSchema reads the fallback index tagged TagSchema(subject).
func (d *discovery) tagSchema(ctx context.Context) error {
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
	for _, desc := range idx.Manifests {
		if err := d.add(desc, PathTag); err != nil {
			return err
		}
	}
	return nil
}

// legacy adds what cosign's legacy tag (subject tag + suffix) names.
func (d *discovery) legacy(ctx context.Context, suffix string, p Path) error {
	desc, err := d.src.Resolve(ctx, TagSchema(d.subject.Digest)+suffix)
	if errors.Is(err, errdef.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	return d.add(desc, p)
}
