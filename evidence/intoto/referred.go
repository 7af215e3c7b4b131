package intoto

import (
	"fmt"
	"slices"

	in_toto "github.com/in-toto/in-toto-golang/in_toto"
	"github.com/opencontainers/go-digest"
)

// LinksOf files links found as referrers (the layer bytes of referrers of
// artifact type evidence.ArtifactTypeInTotoLink, in any order) for
// VerifyLayout: each under the step its signed content names and every
// key ID that signed it. Nothing outside the signed bytes (a tag, an
// annotation) places a link. A link that does not parse is left out, as
// VerifyLayout leaves out links it cannot load; a sublayout cannot be
// placed (a layout names no step) and is left out too: sublayouts need a
// LinkDir or Links.Sublayouts. More than MaxLinks links, or one larger than
// MaxLinkBytes, is an error (ErrInvalidLink).
func LinksOf(links [][]byte) (*Links, error) {
	if len(links) > MaxLinks {
		return nil, &LayoutError{Kind: ErrInvalidLink, Err: fmt.Errorf("%d links, more than %d", len(links), MaxLinks)}
	}
	v := &verification{}
	defer v.close()
	out := &Links{Steps: map[string]map[string][]byte{}}
	for i, raw := range links {
		if len(raw) > MaxLinkBytes {
			return nil, &LayoutError{Kind: ErrInvalidLink, Err: fmt.Errorf("link %d is larger than %d bytes", i, MaxLinkBytes)}
		}
		md, err := v.load(raw)
		if err != nil {
			continue
		}
		link, ok := md.GetPayload().(in_toto.Link)
		if !ok {
			continue
		}
		for _, sig := range md.Sigs() {
			if out.Steps[link.Name] == nil {
				out.Steps[link.Name] = map[string][]byte{}
			}
			out.Steps[link.Name][sig.KeyID] = raw
		}
	}
	return out, nil
}

// VerifyLayoutFor verifies a layout and links found as referrers of an
// artifact (bytes handed in: this package reaches no registry) and that
// the supply chain made the artifact: one of its final products (the
// last step's) has the digest product, such as the digest of the wasm
// layer the referrers are attached to. Without that check a valid layout
// and links for another artifact would verify; it fails with
// ErrSubjectMismatch. Result.Product names the matching product.
func VerifyLayoutFor(layout []byte, owners []in_toto.Key, links [][]byte, product digest.Digest) (*LayoutResult, error) {
	src, err := LinksOf(links)
	if err != nil {
		res := &LayoutResult{}
		return fail(res, err), err
	}
	res, err := VerifyLayout(layout, owners, src)
	if err != nil {
		return res, err
	}
	names := make([]string, 0, len(res.Products))
	for name := range res.Products {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		h := res.Products[name]
		if h[string(product.Algorithm())] == product.Encoded() {
			res.Product = name
			return res, nil
		}
	}
	err = &LayoutError{Kind: ErrSubjectMismatch, Err: fmt.Errorf("no final product of the layout has digest %s", product)}
	res.Verified = false
	return fail(res, err), err
}
