package access

import (
	"context"
	"io"
	"os"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/sync/errgroup"
	"oras.land/oras-go/v2"

	"github.com/wasmgate/wasmgate/artifact"
)

// FetchLockedApp reads the locked application of a Spin application m
// (its config, as Spin 1.x pushed it, else its locked-app layer) within
// limit bytes, its digest checked, parses it and matches it against m's
// layers ([artifact.LockedApp.Check]): nothing is fetched for a locked
// application that names a layer the manifest lacks.
func FetchLockedApp(ctx context.Context, src oras.ReadOnlyTarget, m *artifact.Manifest, limit int64) (*artifact.LockedApp, error) {
	desc := m.OCI.Config
	if m.Layers.LockedApp != nil {
		desc = *m.Layers.LockedApp
	}
	raw, err := FetchVerified(ctx, src, desc, limit, "Spin locked application")
	if err != nil {
		return nil, err
	}
	app, err := artifact.ParseLockedApp(raw)
	if err != nil {
		return nil, err
	}
	if err := app.Check(m.Layers); err != nil {
		return nil, err
	}
	return app, nil
}

// spinKinds fetches every component layer of m, checking each digest,
// and sets each component's Kind from its header. With w, each
// component's bytes also go to w(id) (nil: discarded).
func spinKinds(ctx context.Context, src oras.ReadOnlyTarget, m *artifact.Manifest, app *artifact.LockedApp, opts PullOptions, w func(c artifact.SpinComponent) (io.Writer, func(error) error, error)) error {
	descs := map[digest.Digest]ocispec.Descriptor{}
	for _, d := range m.Layers.Components {
		descs[d.Digest] = d
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(opts.Concurrency)
	for i := range app.Components {
		c := &app.Components[i]
		g.Go(func() error {
			desc := descs[c.Source] // LockedApp.Check found every source
			if desc.Size > opts.MaxLayerBytes {
				return &artifact.SizeError{What: "wasm layer of component " + c.ID, Digest: desc.Digest, Limit: opts.MaxLayerBytes, Actual: -1, Err: artifact.ErrTooLarge}
			}
			var header artifact.WasmHeader
			var dst io.Writer = &header
			done := func(err error) error { return err }
			if w != nil {
				out, finish, err := w(*c)
				if err != nil {
					return err
				}
				dst, done = io.MultiWriter(&header, out), finish
			}
			err := done(CopyVerified(gctx, dst, src, desc, opts.MaxLayerBytes, "wasm layer of component "+c.ID))
			if err != nil {
				return err
			}
			c.Kind, err = artifact.DetectKind(header.Bytes())
			return err
		})
	}
	return g.Wait()
}

// inspectSpin is Inspect for a Spin application: the config, the locked
// application checked against the manifest, every component's layer
// fetched and checked (its kind read from its header), data layers listed
// and not fetched.
func inspectSpin(ctx context.Context, src oras.ReadOnlyTarget, m *artifact.Manifest, opts PullOptions, in *artifact.Inspection) (*artifact.Inspection, error) {
	raw, err := FetchVerified(ctx, src, m.OCI.Config, opts.MaxConfigBytes, "config")
	if err != nil {
		return nil, err
	}
	cfg, err := artifact.ParseConfig(m.OCI.Config, raw)
	if err != nil {
		return nil, err
	}
	in.Config.Architecture, in.Config.OS = cfg.Architecture, cfg.OS
	app, err := FetchLockedApp(ctx, src, m, opts.MaxConfigBytes)
	if err != nil {
		return nil, err
	}
	if err := spinKinds(ctx, src, m, app, opts, nil); err != nil {
		return nil, err
	}
	in.Components = app.Components
	kinds := map[digest.Digest]artifact.Kind{}
	for _, c := range app.Components {
		kinds[c.Source] = c.Kind
	}
	if len(app.Components) == 1 {
		in.Kind = app.Components[0].Kind
	}
	for _, d := range m.OCI.Layers {
		li := artifact.LayerInfo{Role: m.LayerRole(d), MediaType: d.MediaType, Digest: d.Digest.String(), Size: d.Size, Title: artifact.Title(d)}
		if li.Role == artifact.RoleWasm {
			li.Kind = kinds[d.Digest]
		}
		in.Layers = append(in.Layers, li)
	}
	return in, nil
}

// pullSpin is PullManifest for a Spin application: the locked application
// is read and checked against the manifest first, then every component's
// layer is streamed, checked, into ID.wasm; all are renamed into place
// only after every one passed. Data layers are not written.
func pullSpin(ctx context.Context, src oras.ReadOnlyTarget, m *artifact.Manifest, dir string, opts PullOptions) (_ *Pulled, err error) {
	app, err := FetchLockedApp(ctx, src, m, opts.MaxConfigBytes)
	if err != nil {
		return nil, err
	}
	raw, err := FetchVerified(ctx, src, m.OCI.Config, opts.MaxConfigBytes, "config")
	if err != nil {
		return nil, err
	}
	p := &Pulled{Manifest: m}
	if p.Config, err = artifact.ParseConfig(m.OCI.Config, raw); err != nil {
		return nil, err
	}
	created, err := ensureDir(dir)
	if err != nil {
		return nil, err
	}
	st := &staging{dir: dir}
	defer func() {
		if err != nil {
			st.discard()
			if created {
				os.Remove(dir)
			}
		}
	}()
	err = spinKinds(ctx, src, m, app, opts, func(c artifact.SpinComponent) (io.Writer, func(error) error, error) {
		f, err := os.CreateTemp(dir, ".wasmgate-*.partial")
		if err != nil {
			return nil, nil, err
		}
		desc := ocispec.Descriptor{MediaType: artifact.MediaTypeWasmContentLayer, Digest: c.Source, Size: c.Size}
		st.add(&staged{desc: desc, role: artifact.RoleWasm, tmp: f.Name(), fixed: c.ID + ".wasm"})
		return f, func(err error) error {
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			return err
		}, nil
	})
	if err != nil {
		return nil, err
	}
	p.Components, p.Kind = app.Components, app.Components[0].Kind
	st.name(p.Kind)
	if err := st.commit(); err != nil {
		return nil, err
	}
	p.Files = st.files()
	return p, nil
}
