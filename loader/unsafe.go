package loader

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"oras.land/oras-go/v2"

	"github.com/wasmgate/wasmgate/access"
	"github.com/wasmgate/wasmgate/artifact"
	"github.com/wasmgate/wasmgate/internal/boundedio"
	"github.com/wasmgate/wasmgate/permissions"
)

// FetchUnsafe reads the wasm layer and the permission policy of the
// artifact object names in src with NO signature verified: the manifest is
// resolved once and every digest is checked, so the bytes are the ones the
// manifest names — integrity, nothing more. It is what `wasmgate run
// --insecure-skip-verify` loads; give what it returns to [LoadUnsafe].
// perms is nil when the artifact carries no policy layer.
func FetchUnsafe(ctx context.Context, src oras.ReadOnlyTarget, object string) (wasm []byte, perms *permissions.Policy, err error) {
	return FetchUnsafeComponent(ctx, src, object, "")
}

// FetchUnsafeComponent is [FetchUnsafe] that can pick one component of a
// Spin application: component names it (its id in the locked application,
// which must name only layers of the manifest). With component "", a Spin
// application of several components is refused with
// [ErrMultipleComponents], naming them; a component named on anything but
// a Spin application, or not in it, is [ErrNoSuchComponent].
func FetchUnsafeComponent(ctx context.Context, src oras.ReadOnlyTarget, object, component string) (wasm []byte, perms *permissions.Policy, err error) {
	m, err := access.FetchManifest(ctx, src, object, 0)
	if err != nil {
		return nil, nil, err
	}
	if m.Shape == artifact.ShapeSpin && (component != "" || len(m.Layers.Components) > 1) {
		return fetchSpinComponent(ctx, src, m, component)
	}
	if component != "" {
		return nil, nil, fmt.Errorf("%w: %q: %s is a %s artifact, not a Spin application", ErrNoSuchComponent, component, m.Descriptor.Digest, m.Shape)
	}
	var buf bytes.Buffer
	// A compat layer is extracted in the pass that checks it.
	ww := access.NewWasmWriter(&buf, m.Layers, artifact.DefaultMaxLayerBytes)
	if err := ww.Finish(access.CopyVerified(ctx, ww, src, m.Layers.Wasm, artifact.DefaultMaxLayerBytes, "wasm layer")); err != nil {
		return nil, nil, err
	}
	wasm = buf.Bytes()
	if m.Layers.Policy != nil {
		raw, err := access.FetchVerified(ctx, src, *m.Layers.Policy, permissions.MaxSize, "policy layer")
		if err != nil {
			return nil, nil, err
		}
		if perms, err = artifact.ParsePolicyLayer(raw); err != nil {
			return nil, nil, err
		}
	}
	return wasm, perms, nil
}

// ReadFilesUnsafe reads a local wasm file and, when policyPath is not "",
// its permission policy file: bounded, parsed strictly, and verified by
// nobody. Give what it returns to [LoadUnsafe].
func ReadFilesUnsafe(wasmPath, policyPath string) (wasm []byte, perms *permissions.Policy, err error) {
	if wasm, err = boundedio.ReadFile(wasmPath, artifact.DefaultMaxLayerBytes); err != nil {
		if errors.Is(err, boundedio.ErrTooLarge) {
			err = fmt.Errorf("%w: %w", artifact.ErrTooLarge, err)
		}
		return nil, nil, err
	}
	if policyPath == "" {
		return wasm, nil, nil
	}
	raw, err := boundedio.ReadFile(policyPath, permissions.MaxSize)
	if err != nil {
		return nil, nil, err
	}
	if perms, err = permissions.Parse(raw); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", policyPath, err)
	}
	return wasm, perms, nil
}

func fetchSpinComponent(ctx context.Context, src oras.ReadOnlyTarget, m *artifact.Manifest, id string) ([]byte, *permissions.Policy, error) {
	app, err := access.FetchLockedApp(ctx, src, m, artifact.DefaultMaxConfigBytes)
	if err != nil {
		return nil, nil, err
	}
	if id == "" {
		return nil, nil, fmt.Errorf("%w: %s (%s)", ErrMultipleComponents, m.Descriptor.Digest, strings.Join(app.IDs(), ", "))
	}
	c, ok := app.Component(id)
	if !ok {
		return nil, nil, fmt.Errorf("%w: %q: the application's components are %s", ErrNoSuchComponent, id, strings.Join(app.IDs(), ", "))
	}
	i := slices.IndexFunc(m.Layers.Components, func(d ocispec.Descriptor) bool { return d.Digest == c.Source })
	wasm, err := access.FetchVerified(ctx, src, m.Layers.Components[i], artifact.DefaultMaxLayerBytes, "wasm layer of component "+id)
	if err != nil {
		return nil, nil, err
	}
	var perms *permissions.Policy
	if m.Layers.Policy != nil {
		raw, err := access.FetchVerified(ctx, src, *m.Layers.Policy, permissions.MaxSize, "policy layer")
		if err != nil {
			return nil, nil, err
		}
		if perms, err = artifact.ParsePolicyLayer(raw); err != nil {
			return nil, nil, err
		}
	}
	return wasm, perms, nil
}
