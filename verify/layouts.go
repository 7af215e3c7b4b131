package verify

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/sync/errgroup"
	"oras.land/oras-go/v2/errdef"

	"github.com/wasmgate/wasmgate/access"
	"github.com/wasmgate/wasmgate/artifact"
	"github.com/wasmgate/wasmgate/evidence"
	"github.com/wasmgate/wasmgate/evidence/intoto"
	"github.com/wasmgate/wasmgate/referrers"
)

// Bounds of what the layout requirements of one verification read, on
// top of intoto's per-file bounds (MaxLayoutBytes, MaxLinkBytes,
// MaxLinks). Past them a requirement fails: more referrers than a supply
// chain needs make no layout pass, and never make one pass.
const (
	// maxLayoutReferrers bounds the layout referrers tried.
	maxLayoutReferrers = 64
	// maxLinkBytesTotal bounds the links held in memory at once.
	maxLinkBytesTotal = 128 << 20
	// fetchConcurrency is how many layers are fetched at once.
	fetchConcurrency = 8
)

// layoutEvidence is the layout and link referrers of one verification,
// their layers fetched and checked once for every requirement.
type layoutEvidence struct {
	layouts []fetched
	links   []fetched
	// linkKeys are, for each link, the steps and signers intoto.LinksOf
	// files it under: how a counted functionary maps back to a referrer.
	linkKeys []map[[2]string]bool
	// tooMany says why no layout can be decided on: a bound was passed.
	tooMany error
}

// fetched is a referrer's one layer, or why it could not be read.
type fetched struct {
	referrer digest.Digest
	data     []byte
	refused  error
}

// fetchLayoutEvidence fetches the layer of every layout and link referrer
// among refs, digest and size checked. An error is the registry's (no
// verdict); content that is bad or absent refuses that referrer only.
func fetchLayoutEvidence(ctx context.Context, src source, refs []referrers.Referrer) (*layoutEvidence, error) {
	ev := &layoutEvidence{}
	var layouts, links []referrers.Referrer
	for _, r := range refs {
		switch r.Kind {
		case referrers.KindInTotoLayout:
			layouts = append(layouts, r)
		case referrers.KindInTotoLink:
			links = append(links, r)
		}
	}
	switch {
	case len(layouts) > maxLayoutReferrers:
		ev.tooMany = fmt.Errorf("%d in-toto layout referrers, more than %d", len(layouts), maxLayoutReferrers)
		return ev, nil
	case len(links) > intoto.MaxLinks:
		ev.tooMany = &intoto.LayoutError{Kind: intoto.ErrInvalidLink, Err: fmt.Errorf("%d in-toto link referrers, more than %d", len(links), intoto.MaxLinks)}
		return ev, nil
	}
	ev.layouts, ev.links = make([]fetched, len(layouts)), make([]fetched, len(links))
	var total int64
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(fetchConcurrency)
	fetch := func(dst *fetched, r referrers.Referrer, limit int64, what string) {
		dst.referrer = r.Digest
		g.Go(func() error {
			if n := len(r.Manifest.Layers); n != 1 {
				dst.refused = fmt.Errorf("the %s referrer has %d layers; it must have one, the %s itself", what, n, what)
				return nil
			}
			layer := r.Manifest.Layers[0]
			if what == "link" {
				mu.Lock()
				total += max(layer.Size, 0)
				over := total > maxLinkBytesTotal
				mu.Unlock()
				if over {
					return &intoto.LayoutError{Kind: intoto.ErrInvalidLink, Err: fmt.Errorf("the link referrers hold more than %d bytes", maxLinkBytesTotal)}
				}
			}
			data, err := access.FetchVerified(gctx, src, ocispec.Descriptor{MediaType: layer.MediaType, Digest: layer.Digest, Size: layer.Size}, limit, "in-toto "+what)
			switch {
			case err == nil:
				dst.data = data
			case artifact.IsBadContent(err) || errors.Is(err, errdef.ErrNotFound) || errors.Is(err, errdef.ErrSizeExceedsLimit):
				dst.refused = err
			default:
				return err
			}
			return nil
		})
	}
	for i, r := range layouts {
		fetch(&ev.layouts[i], r, intoto.MaxLayoutBytes, "layout")
	}
	for i, r := range links {
		fetch(&ev.links[i], r, intoto.MaxLinkBytes, "link")
	}
	if err := g.Wait(); err != nil {
		var le *intoto.LayoutError
		if errors.As(err, &le) {
			ev.tooMany = err
			return ev, nil
		}
		return nil, err
	}
	ev.linkKeys = make([]map[[2]string]bool, len(ev.links))
	for i, l := range ev.links {
		ev.linkKeys[i] = map[[2]string]bool{}
		if l.data == nil {
			continue
		}
		one, err := intoto.LinksOf([][]byte{l.data})
		if err != nil {
			continue // VerifyLayoutFor leaves it out for the same reason
		}
		for step, byKey := range one.Steps {
			for id := range byKey {
				ev.linkKeys[i][[2]string{step, id}] = true
			}
		}
	}
	return ev, nil
}

// linkData is the bytes of every link that could be read, in order.
func (ev *layoutEvidence) linkData() [][]byte {
	var out [][]byte
	for _, l := range ev.links {
		if l.data != nil {
			out = append(out, l.data)
		}
	}
	return out
}

// counted are the link referrers whose links res counted: for each step
// and functionary, the last link filed there, as intoto.LinksOf keeps the
// last.
func (ev *layoutEvidence) counted(res *intoto.LayoutResult) []digest.Digest {
	var out []digest.Digest
	for _, s := range res.Steps {
		for _, id := range s.Functionaries {
			for i := len(ev.links) - 1; i >= 0; i-- {
				if ev.linkKeys[i][[2]string{s.Name, id}] {
					out = append(out, ev.links[i].referrer)
					break
				}
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// layout checks one layout requirement: each layout referrer in turn,
// until one verifies with the rule's keys, the links, and product among
// its final products.
func (v *Verifier) layout(r *LayoutRule, product digest.Digest, ev *layoutEvidence, evErr error) LayoutReport {
	out := LayoutReport{Name: r.Name, OwnerKeys: r.KeyIDs(), Product: r.Product, ProductDigest: product, Results: []LayoutResult{}}
	switch {
	case evErr != nil:
		out.Err = evErr
	case ev.tooMany != nil:
		out.Results = append(out.Results, LayoutResult{Verified: false, Reason: ev.tooMany.Error(), Err: ev.tooMany})
	default:
		links := ev.linkData()
		for _, l := range ev.layouts {
			res := LayoutResult{Referrer: l.referrer}
			if l.refused != nil {
				res.Reason, res.Err = l.refused.Error(), l.refused
				out.Results = append(out.Results, res)
				continue
			}
			lr, err := intoto.VerifyLayoutFor(l.data, r.Keys, links, product)
			res.fill(lr)
			if err == nil && lr.Verified {
				out.Verified, out.Layout, out.Links = true, l.referrer, ev.counted(lr)
				out.Results = append(out.Results, res)
				break
			}
			res.Err = err
			res.Unsupported = errors.Is(err, intoto.ErrInspections)
			out.Results = append(out.Results, res)
		}
	}
	if out.Err != nil {
		out.Error = out.Err.Error()
	}
	return out
}

func (r *LayoutResult) fill(lr *intoto.LayoutResult) {
	if lr == nil {
		return
	}
	r.Verified, r.Expires, r.OwnerKeys, r.Steps, r.Product = lr.Verified, lr.Expires, lr.OwnerKeys, lr.Steps, lr.Product
	r.Inspections, r.Warnings, r.FailedStep, r.FailedRule, r.Reason = lr.Inspections, lr.Warnings, lr.FailedStep, lr.FailedRule, lr.Reason
}

// layoutCheck passes when one layout referrer verified. Short of it, a
// registry that failed makes the check an error: the layout might be met.
// Otherwise it fails, wrapping ErrLayout and the refusals' intoto errors;
// a layout with inspections fails too (as a Notation signature that needs
// a plugin does): wasmgate never runs them, so no retry could meet it.
func layoutCheck(c *Check, rep *LayoutReport) {
	if rep.Verified {
		c.pass(fmt.Sprintf("layout %s verified with owner key %s: steps %s; final product %s is the %s",
			rep.Layout, shortKeyIDs(rep.OwnerKeys), stepsWords(rep.Results[len(rep.Results)-1].Steps),
			rep.Results[len(rep.Results)-1].Product, productWords(rep.Product)))
		return
	}
	if rep.Err != nil {
		c.error(rep.Err)
		return
	}
	var unsupported, refused reasonList
	for _, r := range rep.Results {
		switch {
		case r.Unsupported:
			unsupported.add(r.Reason, r.Err)
		case r.Err != nil:
			refused.add(r.Reason, r.Err)
		}
	}
	switch {
	case len(unsupported.errs) > 0 && len(refused.errs) == 0:
		c.fail(fmt.Errorf("%w: cannot be verified by wasmgate: %w", ErrLayout, unsupported))
	case len(rep.Results) == 0:
		c.fail(fmt.Errorf("%w: no in-toto layout attached (artifact type %s)", ErrLayout, evidence.ArtifactTypeInTotoLayout))
	default:
		c.fail(fmt.Errorf("%w: %d of %d layouts verified: %w", ErrLayout, 0, len(rep.Results), refused))
	}
}

// reasonList is several refusals as one error: their reasons, each once,
// on one line, and every error for errors.Is.
type reasonList struct {
	reasons []string
	errs    []error
}

func (l *reasonList) add(reason string, err error) {
	l.reasons, l.errs = append(l.reasons, reason), append(l.errs, err)
}

func (l reasonList) Error() string   { return strings.Join(dedupe(slices.Clone(l.reasons)), "; ") }
func (l reasonList) Unwrap() []error { return l.errs }

func shortKeyIDs(ids []string) string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = shortKeyID(id)
	}
	return strings.Join(out, " and ")
}

// stepsWords is each step with the functionaries whose links counted.
func stepsWords(steps []intoto.StepResult) string {
	out := make([]string, len(steps))
	for i, s := range steps {
		out[i] = s.Name + " by " + shortKeyIDs(s.Functionaries)
	}
	return strings.Join(out, ", ")
}

func productWords(p LayoutProduct) string {
	if p == ProductManifest {
		return "manifest"
	}
	return "wasm layer"
}
