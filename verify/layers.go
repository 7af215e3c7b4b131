package verify

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"

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
}

func (o *layersOut) summary() string {
	s := fmt.Sprintf("wasm %s (%s, %d bytes)", o.report.Wasm, o.kind, o.report.WasmBytes)
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
	if name == "" {
		name = "module"
	}
	return &Artifact{ref: pinned, name: name, manifest: m.Descriptor, wasmDesc: m.Layers.Wasm, kind: o.kind, wasm: o.wasm, policy: o.policy, perms: o.perms}
}

// checkLayers applies the layer rules, then fetches the config and every
// layer, checking each one's size and digest in the pass that reads it.
// The wasm layer is streamed (kept in memory only when keep), the policy
// layer parsed. Rule breaks wrap ErrLayers; bad bytes are artifact's
// typed errors; anything else is the registry's.
func checkLayers(ctx context.Context, src oras.ReadOnlyTarget, m *artifact.Manifest, rules LayerRules, keep bool) (*layersOut, error) {
	max := rules.MaxBytes
	if max <= 0 {
		max = DefaultMaxLayerBytes
	}
	l := m.Layers
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
	out := &layersOut{report: &LayerReport{Wasm: l.Wasm.Digest, WasmBytes: l.Wasm.Size}}
	if _, err := access.FetchVerified(ctx, src, m.OCI.Config, maxConfigBytes, "config"); err != nil {
		return nil, err
	}
	// The wasm layer: one pass for size, digest and the header.
	var sink io.Writer = io.Discard
	var buf bytes.Buffer
	if keep {
		sink = &buf
	}
	hw := &headerWriter{w: sink}
	if err := access.CopyVerified(ctx, hw, src, l.Wasm, max, "wasm layer"); err != nil {
		return nil, err
	}
	kind, err := artifact.DetectKind(hw.header[:hw.n])
	if err != nil {
		return nil, fmt.Errorf("%w: wasm layer %s: %w", ErrLayers, l.Wasm.Digest, err)
	}
	out.kind, out.report.Kind = kind, kind
	if keep {
		out.wasm = buf.Bytes()
	}
	if l.Policy != nil {
		raw, err := access.FetchVerified(ctx, src, *l.Policy, permissions.MaxSize, "policy layer")
		if err != nil {
			return nil, err
		}
		perms, err := permissions.Parse(raw)
		if err != nil {
			return nil, fmt.Errorf("%w: policy layer %s: %w", ErrLayers, l.Policy.Digest, err)
		}
		out.report.Policy, out.report.Permissions = l.Policy.Digest, perms.Summary()
		out.policy, out.perms = raw, perms
	}
	for _, d := range l.Unknown {
		if err := access.CopyVerified(ctx, io.Discard, src, d, max, "layer"); err != nil {
			return nil, err
		}
		out.report.Unknown = append(out.report.Unknown, d.Digest)
	}
	return out, nil
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
