package access

import (
	"context"
	"io"
	"time"

	"golang.org/x/sync/errgroup"
	"oras.land/oras-go/v2"

	"github.com/wasmgate/wasmgate/artifact"
	"github.com/wasmgate/wasmgate/permissions"
)

// Inspect fetches the manifest reference names, its config and every
// known layer, checking each digest (the wasm layer is streamed and
// discarded; a component's bytes are kept to read its imports and
// exports), and describes them. Unknown layers are listed, not fetched. A
// component whose config (wkg's "component" field) leaves out one of its
// imports is refused with an error wrapping [artifact.ErrConfigHidesImport].
func Inspect(ctx context.Context, src oras.ReadOnlyTarget, reference string, opts PullOptions) (*artifact.Inspection, error) {
	opts = opts.withDefaults()
	m, err := FetchManifest(ctx, src, reference, opts.MaxManifestBytes)
	if err != nil {
		return nil, err
	}
	in := &artifact.Inspection{
		Digest:       m.Descriptor.Digest.String(),
		MediaType:    m.Descriptor.MediaType,
		ArtifactType: m.ArtifactType(),
		Size:         m.Descriptor.Size,
		Annotations:  m.OCI.Annotations,
		Shape:        m.Shape,
		Config: artifact.ConfigInfo{
			MediaType: m.OCI.Config.MediaType, Digest: m.OCI.Config.Digest.String(), Size: m.OCI.Config.Size,
		},
	}
	if m.Shape == artifact.ShapeSpin {
		return inspectSpin(ctx, src, m, opts, in)
	}
	if m.Layers.Wasm.Size > opts.MaxLayerBytes {
		return nil, &artifact.SizeError{What: "wasm layer", Digest: m.Layers.Wasm.Digest, Limit: opts.MaxLayerBytes, Actual: -1, Err: artifact.ErrTooLarge}
	}
	header := &artifact.ComponentBuffer{Max: opts.MaxLayerBytes}
	var cfg artifact.Config
	var policy *permissions.Policy
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(opts.Concurrency)
	g.Go(func() error {
		raw, err := FetchVerified(gctx, src, m.OCI.Config, opts.MaxConfigBytes, "config")
		if err != nil {
			return err
		}
		cfg, err = artifact.ParseConfig(m.OCI.Config, raw)
		in.Config.Architecture, in.Config.OS = cfg.Architecture, cfg.OS
		if cfg.Created != nil {
			in.Config.Created = cfg.Created.Format(time.RFC3339)
		}
		return err
	})
	g.Go(func() error {
		if err := checkable(m.Layers.Wasm, "wasm layer"); err != nil {
			return err
		}
		rc, err := src.Fetch(gctx, m.Layers.Wasm)
		if err != nil {
			return err
		}
		defer rc.Close()
		ww := NewWasmWriter(header, m.Layers, opts.MaxLayerBytes)
		var w io.Writer = ww
		if opts.Progress != nil {
			if pw := opts.Progress(m.Layers.Wasm, artifact.Title(m.Layers.Wasm)); pw != nil {
				defer pw.Close()
				w = io.MultiWriter(w, pw)
			}
		}
		return ww.Finish(copyVerified(w, rc, m.Layers.Wasm, "wasm layer"))
	})
	if pd := m.Layers.Policy; pd != nil {
		g.Go(func() error {
			raw, err := FetchVerified(gctx, src, *pd, permissions.MaxSize, "policy layer")
			if err != nil {
				return err
			}
			policy, err = artifact.ParsePolicyLayer(raw)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	if in.Kind, err = artifact.DetectKind(header.Header()); err != nil {
		return nil, err
	}
	if in.Component, err = header.Info(); err != nil {
		return nil, err
	}
	if err := cfg.CheckComponent("config "+m.OCI.Config.Digest.String(), in.Component); err != nil {
		return nil, err
	}
	if policy != nil {
		s := policy.Summary()
		in.Policy = &s
	}
	for _, d := range m.OCI.Layers {
		li := artifact.LayerInfo{Role: m.LayerRole(d), MediaType: d.MediaType, Digest: d.Digest.String(), Size: d.Size, Title: artifact.Title(d)}
		if li.Role == artifact.RoleWasm {
			li.Kind = in.Kind
		}
		in.Layers = append(in.Layers, li)
	}
	return in, nil
}
