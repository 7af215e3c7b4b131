package verify

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/sync/errgroup"
	"oras.land/oras-go/v2"

	"github.com/wasmgate/wasmgate/access"
	"github.com/wasmgate/wasmgate/artifact"
	"github.com/wasmgate/wasmgate/referrers"
)

// Digests are what became of a subject's layer digests.
const (
	DigestsChecked = "checked"
	DigestsSkipped = "skipped"
)

// ContentReport is the layer check of a subject that is not wasm: its
// config (always read and checked) and its layers.
type ContentReport struct {
	Config digest.Digest `json:"config"`
	Layers int           `json:"layers"`
	// Bytes is the layers' declared size, in all.
	Bytes int64 `json:"bytes"`
	// Digests is checked (every layer streamed and hashed) or skipped
	// (layers.digests: skip), with Reason.
	Digests string `json:"digests"`
	Reason  string `json:"reason,omitempty"`
}

func (c *ContentReport) summary() string {
	s := fmt.Sprintf("config %s, %d layers (%d bytes)", c.Config, c.Layers, c.Bytes)
	if c.Digests == DigestsSkipped {
		return s + ": layer digests skipped (" + c.Reason + ")"
	}
	return s + ": every digest checked"
}

// PlatformReport is one platform manifest of an index checked under
// platforms: each.
type PlatformReport struct {
	// Platform is os/architecture[/variant], "unknown" when the index
	// names none.
	Platform   string               `json:"platform"`
	Digest     digest.Digest        `json:"digest"`
	Kind       artifact.SubjectKind `json:"kind,omitempty"`
	Verified   bool                 `json:"verified"`
	Layers     *LayerReport         `json:"layers,omitempty"`
	Content    *ContentReport       `json:"content,omitempty"`
	Signatures *SignatureReport     `json:"signatures,omitempty"`
	Reason     string               `json:"reason,omitempty"`
}

// kindWords names a subject's kind for a reason.
func kindWords(s *artifact.Subject) string {
	switch s.Kind {
	case artifact.SubjectImage:
		return "a container image (config " + s.ArtifactType() + ")"
	case artifact.SubjectIndex:
		return fmt.Sprintf("an image index of %d manifests", len(s.Index.Manifests))
	case artifact.SubjectArtifact:
		return "an artifact of type " + s.ArtifactType()
	}
	return "a wasm artifact"
}

// kindError is the denial of a subject the statement does not accept.
func kindError(st *Statement, s *artifact.Subject) error {
	add := string(s.Kind)
	return fmt.Errorf("%w: %s is %s; policy %s (line %d) accepts artifacts: %s: to verify it, add %s (or any) to the statement's artifacts",
		ErrArtifactKind, s.Descriptor.Digest, kindWords(s), st.Name, st.Line, st.artifactsText(), add)
}

// MaxContentLayers bounds the layers of a subject that is not wasm: each
// is a request, and a 4 MiB manifest could list twenty thousand.
const MaxContentLayers = 256

// checkContent checks the config and, unless the rules skip them, every
// layer of a manifest that is not wasm: declared sizes bounded by
// MaxBytes, each layer streamed and hashed (four at a time; nothing kept).
// Rule breaks wrap ErrLayers; bad bytes are artifact's typed errors.
func checkContent(ctx context.Context, src oras.ReadOnlyTarget, m *ocispec.Manifest, rules LayerRules, memo *LayerMemo) (*ContentReport, error) {
	max := rules.MaxBytes
	if max <= 0 {
		max = DefaultMaxLayerBytes
	}
	if len(m.Layers) > MaxContentLayers {
		return nil, fmt.Errorf("%w: %d layers; wasmgate reads at most %d (a container image has at most 127 on overlayfs)", ErrLayers, len(m.Layers), MaxContentLayers)
	}
	out := &ContentReport{Config: m.Config.Digest, Layers: len(m.Layers), Digests: DigestsChecked}
	for _, d := range m.Layers {
		if d.Size > max {
			return nil, fmt.Errorf("%w: layer %s is %d bytes; the policy allows at most %d (layers.maxBytes)", ErrLayers, d.Digest, d.Size, max)
		}
		out.Bytes += d.Size
	}
	raw, err := access.FetchVerified(ctx, src, m.Config, maxConfigBytes, "config")
	if err != nil {
		return nil, err
	}
	if cfgType := m.Config.MediaType; artifact.IsOCIDocument(cfgType) || cfgType == artifact.MediaTypeDockerConfig {
		if cfgType == artifact.MediaTypeDockerConfig {
			// Docker's image config is the image-spec's ancestor and
			// meets its rules.
			cfgType = ocispec.MediaTypeImageConfig
		}
		if err := artifact.ValidateDocument(cfgType, raw); err != nil {
			return nil, &artifact.FormatError{What: "config " + m.Config.Digest.String(), Err: fmt.Errorf("%w: %w", artifact.ErrInvalidConfig, err)}
		}
	}
	if rules.SkipDigestsUnsafe {
		out.Digests, out.Reason = DigestsSkipped, "the policy says layers.digests: skip"
		return out, nil
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(4)
	for _, d := range m.Layers {
		g.Go(func() error { return memo.copy(gctx, io.Discard, src, d, max, "layer") })
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return out, nil
}

// platformLabel is os/architecture[/variant] of an index entry.
func platformLabel(d ocispec.Descriptor) string {
	p := d.Platform
	if p == nil || p.OS == "" {
		return "unknown"
	}
	s := p.OS + "/" + p.Architecture
	if p.Variant != "" {
		s += "/" + p.Variant
	}
	return s
}

// platformChecks are the checks platforms: each adds for idx: one per
// platform manifest, or a single failed one when there are too many.
func platformChecks(idx *ocispec.Index) []Check {
	if len(idx.Manifests) > MaxPlatforms {
		err := fmt.Errorf("%w: the index lists %d manifests; platforms: each checks at most %d", ErrPlatform, len(idx.Manifests), MaxPlatforms)
		return []Check{{Name: CheckPlatform, Status: StatusFailed, Reason: err.Error(), Err: err}}
	}
	checks := make([]Check, len(idx.Manifests))
	for i, d := range idx.Manifests {
		checks[i] = Check{Name: CheckPlatform, Subject: platformLabel(d) + " " + d.Digest.String(), Status: StatusNotRun}
	}
	return checks
}

// checkPlatforms checks each platform manifest of idx as a subject of its
// own (its digest, the image-spec, its layers) and its signatures against
// the statement's threshold, four at a time.
func (v *Verifier) checkPlatforms(ctx context.Context, src oras.ReadOnlyTarget, ref artifact.Reference, res *Result, st *Statement, idx *ocispec.Index) {
	if len(idx.Manifests) > MaxPlatforms {
		return // the check failed when it was planned
	}
	reports := make([]PlatformReport, len(idx.Manifests))
	checks := make([]*Check, len(idx.Manifests))
	for i, d := range idx.Manifests {
		checks[i] = res.check(CheckPlatform, platformLabel(d)+" "+d.Digest.String())
	}
	sem := make(chan struct{}, 4)
	var wg sync.WaitGroup
	for i, d := range idx.Manifests {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			reports[i] = v.platform(ctx, src, ref, res.Repository, st, d, checks[i])
		})
	}
	wg.Wait()
	res.Platforms = reports
}

func (v *Verifier) platform(ctx context.Context, src oras.ReadOnlyTarget, ref artifact.Reference, repo string, st *Statement, d ocispec.Descriptor, c *Check) PlatformReport {
	rep := PlatformReport{Platform: platformLabel(d), Digest: d.Digest}
	failed := func(err error) PlatformReport {
		if artifact.IsBadContent(err) || errors.Is(err, ErrLayers) || errors.Is(err, ErrThreshold) || errors.Is(err, artifact.ErrInvalidManifest) {
			c.fail(fmt.Errorf("%w: %s %s: %w", ErrPlatform, rep.Platform, d.Digest, err))
		} else {
			c.error(classify(ref, "platform", err))
		}
		rep.Reason = c.Reason
		return rep
	}
	raw, err := access.FetchVerified(ctx, src, d, artifact.DefaultMaxManifestBytes, "platform manifest")
	if err != nil {
		return failed(err)
	}
	s, err := artifact.ParseSubject(d, raw)
	if err != nil {
		return failed(err)
	}
	rep.Kind = s.Kind
	var layers string
	switch s.Kind {
	case artifact.SubjectIndex:
		return failed(fmt.Errorf("%w: an index inside an index; platforms: each checks one level", artifact.ErrInvalidManifest))
	case artifact.SubjectWasm:
		out, err := checkLayers(ctx, src, s.Wasm, st.Layers, false, "", v.opts.Layers)
		if err != nil {
			return failed(err)
		}
		rep.Layers, layers = out.report, out.summary()
	default:
		out, err := checkContent(ctx, src, s.Manifest, st.Layers, v.opts.Layers)
		if err != nil {
			return failed(err)
		}
		rep.Content, layers = out, out.summary()
	}
	msrc := newMemo(src)
	ropts := v.opts.Discover
	ropts.API, ropts.ArtifactType = v.opener.ReferrersAPI(ref), ""
	ropts.Kinds = v.kinds(&Statement{Threshold: st.Threshold, Authorities: st.Authorities})
	found, err := referrers.Discover(ctx, msrc, d, ropts)
	if err != nil {
		return failed(err)
	}
	authorities := make([]AuthorityResult, len(st.Authorities))
	var wg sync.WaitGroup
	for i, a := range st.Authorities {
		wg.Go(func() { authorities[i] = v.authority(ctx, msrc, repo, a, d, found.Referrers) })
	}
	wg.Wait()
	rep.Signatures = &SignatureReport{Threshold: st.Threshold, Authorities: authorities}
	var sig Check
	thresholdCheck(&sig, rep.Signatures)
	switch sig.Status {
	case StatusPassed:
		rep.Verified = true
		c.pass(fmt.Sprintf("%s %s: %s; %s", rep.Platform, d.Digest, sig.Reason, layers))
		rep.Reason = c.Reason
		return rep
	case StatusFailed:
		return failed(sig.Err)
	}
	c.error(sig.Err)
	rep.Reason = c.Reason
	return rep
}

// subjectWords is the manifest check's reason.
func subjectWords(s *artifact.Subject) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s, %d bytes, digest checked, valid under the image-spec: %s", s.Descriptor.Digest, s.Descriptor.Size, kindWords(s))
	return b.String()
}
