package verify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/sync/errgroup"
	"oras.land/oras-go/v2"

	"github.com/wasmgate/wasmgate/access"
	"github.com/wasmgate/wasmgate/artifact"
	"github.com/wasmgate/wasmgate/permissions"
)

// maxConfigBytes bounds the config blob, as pull does.
const maxConfigBytes = 1 << 20

// layersOut is what checkLayers found, and kept when asked.
type layersOut struct {
	report *LayerReport
	kind   artifact.Kind
	wasm   []byte
	policy []byte
	perms  *permissions.Policy
	// components: a Spin application's component count (0 otherwise).
	components int
	// wasmDesc is the wasm layer checked as the wasm: the only one, or
	// the component picked (id).
	wasmDesc ocispec.Descriptor
	id       string
	// pickErr: the component asked for is not there (ErrNoSuchComponent);
	// every layer was checked all the same.
	pickErr *ComponentError
}

func (o *layersOut) summary() string {
	s := fmt.Sprintf("wasm %s (%s, %d bytes)", o.report.Wasm, o.kind, o.report.WasmBytes)
	switch {
	case o.id != "":
		s = fmt.Sprintf("Spin application of %d components, component %s %s (%s, %d bytes)", o.components, o.id, o.report.Wasm, o.kind, o.report.WasmBytes)
	case o.components > 1:
		s = fmt.Sprintf("Spin application of %d components, the first %s (%s, %d bytes)", o.components, o.report.Wasm, o.kind, o.report.WasmBytes)
	}
	if o.report.Policy != "" {
		s += ", policy " + o.report.Policy.String()
	}
	if n := len(o.report.Unknown); n > 0 {
		s += fmt.Sprintf(", %d other layers", n)
	}
	return s + ": every digest checked"
}

func (o *layersOut) artifact(pinned, repo string, m *artifact.Manifest) *Artifact {
	name := repo[strings.LastIndex(repo, "/")+1:]
	if o.id != "" {
		name = o.id // a Spin component id is a file name (artifact.ParseLockedApp)
	}
	if name == "" {
		name = "module"
	}
	return &Artifact{ref: pinned, name: name, component: o.id, manifest: m.Descriptor, wasmDesc: o.wasmDesc, kind: o.kind, wasm: o.wasm, policy: o.policy, perms: o.perms, source: o.source()}
}

// source is where the policy came from: the layer, or nowhere yet.
func (o *layersOut) source() PolicySource {
	if o.report.Policy == "" {
		return PolicySource{}
	}
	return PolicySource{From: PolicyFromLayer, Digest: o.report.Policy}
}

// checkLayers applies the layer rules, then fetches the config and every
// layer, checking each one's size and digest in the pass that reads it.
// The wasm layer is streamed (kept in memory only when keep), the policy
// layer parsed. With a memo, a layer another verification of the run
// checked is taken from it. Rule breaks wrap ErrLayers; bad bytes are artifact's
// typed errors; anything else is the registry's.
//
// With keep, component picks the component of a Spin application whose
// wasm is kept (its id in the locked application); "" keeps the only
// wasm, and a Spin application of several is ErrMultipleComponents. A
// component that is not there is reported in pickErr, after every layer
// was checked all the same.
func checkLayers(ctx context.Context, src oras.ReadOnlyTarget, m *artifact.Manifest, rules LayerRules, keep bool, component string, memo *LayerMemo) (*layersOut, error) {
	max := rules.MaxBytes
	if max <= 0 {
		max = DefaultMaxLayerBytes
	}
	l := m.Layers
	// A Spin application has one wasm layer per component: the first (or
	// the one picked) is reported as the wasm, every one is checked, and
	// one module is handed out: the only one, or the one picked.
	spin := m.Shape == artifact.ShapeSpin
	primary := l.Wasm
	if spin && len(l.Components) > 1 {
		primary = l.Components[0]
	}
	out := &layersOut{components: len(l.Components)}
	var app *artifact.LockedApp
	if spin && keep {
		// Which component is handed out is the locked application's to
		// say, so it is read first. Its digest is checked, and it must
		// name exactly the manifest's components and data.
		var err error
		if app, err = access.FetchLockedApp(ctx, src, m, maxConfigBytes); errors.Is(err, artifact.ErrInvalidSpinApp) {
			return nil, fmt.Errorf("%w: %w", ErrLayers, err)
		} else if err != nil {
			return nil, err
		}
		c, ok := app.Component(component)
		switch {
		case component == "" && len(l.Components) > 1:
			return nil, &ComponentError{IDs: app.IDs(), Err: ErrMultipleComponents}
		case component == "":
		case !ok:
			out.pickErr, keep = &ComponentError{Name: component, IDs: app.IDs(), Err: ErrNoSuchComponent}, false
		default:
			i := slices.IndexFunc(l.Components, func(d ocispec.Descriptor) bool { return d.Digest == c.Source })
			primary, out.id = l.Components[i], c.ID // LockedApp.Check found every source
		}
	} else if keep && component != "" {
		out.pickErr, keep = &ComponentError{Name: component, Err: ErrNoSuchComponent}, false
	}
	if l.Policy == nil && rules.RequirePolicy {
		return nil, fmt.Errorf("%w: the policy requires a permission policy layer and the artifact has none", ErrLayers)
	}
	if len(l.Unknown) > 0 && !rules.AllowUnknown {
		return nil, fmt.Errorf("%w: %d layers are neither wasm nor policy (first: %s, %s); the policy does not allow unknown layers", ErrLayers, len(l.Unknown), l.Unknown[0].MediaType, l.Unknown[0].Digest)
	}
	for _, d := range m.OCI.Layers {
		if d.Size > max {
			return nil, fmt.Errorf("%w: layer %s is %d bytes; the policy allows at most %d", ErrLayers, d.Digest, d.Size, max)
		}
	}
	out.report, out.wasmDesc = &LayerReport{Wasm: primary.Digest, WasmBytes: primary.Size}, primary
	var configRaw []byte
	// A component's imports are read from the bytes kept for the host, or,
	// when none are kept, from a ComponentBuffer (which keeps nothing of a
	// core module): one copy of a component in memory, never two.
	var imports *artifact.ComponentBuffer
	if !keep {
		imports = &artifact.ComponentBuffer{Max: max}
	}
	// Config, wasm, policy and other layers are fetched at the same time:
	// one round trip to the registry, not one per blob.
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		var err error
		configRaw, err = access.FetchVerified(gctx, src, m.OCI.Config, maxConfigBytes, "config")
		return err
	})
	g.Go(func() error {
		// The wasm layer: one pass for size, digest and the header.
		var sink io.Writer = imports
		var buf bytes.Buffer
		if keep {
			sink = &buf
		}
		hw := &headerWriter{w: sink}
		// A compat layer (artifact.Layers.Archive) is a tar+gzip: the
		// module is extracted, bounded, in the pass that checks the layer.
		ww := access.NewWasmWriter(hw, l, max)
		if err := ww.Finish(memo.copy(gctx, ww, src, primary, max, "wasm layer")); errors.Is(err, artifact.ErrInvalidArchive) {
			return fmt.Errorf("%w: wasm layer %s: %w", ErrLayers, primary.Digest, err)
		} else if err != nil {
			return err
		}
		kind, err := artifact.DetectKind(hw.header[:hw.n])
		if err != nil {
			return fmt.Errorf("%w: wasm layer %s: %w", ErrLayers, primary.Digest, err)
		}
		out.kind, out.report.Kind = kind, kind
		if keep {
			out.wasm = buf.Bytes()
		}
		return nil
	})
	if l.Policy != nil {
		g.Go(func() error {
			raw, err := access.FetchVerified(gctx, src, *l.Policy, permissions.MaxSize, "policy layer")
			if err != nil {
				return err
			}
			perms, err := permissions.Parse(raw)
			if err != nil {
				return fmt.Errorf("%w: policy layer %s: %w", ErrLayers, l.Policy.Digest, err)
			}
			out.report.Policy, out.report.Permissions = l.Policy.Digest, perms.Summary()
			out.policy, out.perms = raw, perms
			return nil
		})
	}
	if spin {
		g.Go(func() error {
			// The locked application must name exactly the manifest's
			// components and data: nothing unnamed runs.
			if app != nil {
				// Read and matched above.
			} else if _, err := access.FetchLockedApp(gctx, src, m, maxConfigBytes); errors.Is(err, artifact.ErrInvalidSpinApp) {
				return fmt.Errorf("%w: %w", ErrLayers, err)
			} else if err != nil {
				return err
			}
			for _, d := range append(slices.Clone(l.Components), l.Data...) {
				if d.Digest == primary.Digest {
					continue
				}
				if err := memo.copy(gctx, io.Discard, src, d, max, "layer"); err != nil {
					return err
				}
			}
			return nil
		})
	}
	g.Go(func() error {
		for _, d := range l.Unknown {
			if err := memo.copy(gctx, io.Discard, src, d, max, "layer"); err != nil {
				return err
			}
			out.report.Unknown = append(out.report.Unknown, d.Digest)
		}
		return nil
	})
	if err := g.Wait(); err != nil {
		return nil, err
	}
	var info *artifact.ComponentInfo
	var err error
	switch {
	case imports != nil:
		info, err = imports.Info()
	case out.kind == artifact.KindComponent:
		info, err = artifact.ReadComponentInfo(out.wasm)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: wasm layer %s: %w", ErrLayers, primary.Digest, err)
	}
	if err := checkComponentConfig(m, configRaw, info); err != nil {
		return nil, err
	}
	return out, nil
}

// checkComponentConfig refuses a component whose config (wkg's
// "component" field) leaves out one of the imports its binary has: the
// config would hide a capability from whoever reads it. Modules pass.
func checkComponentConfig(m *artifact.Manifest, configRaw []byte, info *artifact.ComponentInfo) error {
	if info == nil {
		return nil
	}
	cfg, err := artifact.ParseConfig(m.OCI.Config, configRaw)
	if err == nil {
		err = cfg.CheckComponent("config "+m.OCI.Config.Digest.String(), info)
	}
	if err != nil {
		return fmt.Errorf("%w: %w", ErrLayers, err)
	}
	return nil
}

// headerWriter passes bytes through and keeps the first HeaderSize.
type headerWriter struct {
	w      io.Writer
	header [artifact.HeaderSize]byte
	n      int
}

func (h *headerWriter) Write(p []byte) (int, error) {
	if h.n < len(h.header) {
		h.n += copy(h.header[h.n:], p)
	}
	return h.w.Write(p)
}
