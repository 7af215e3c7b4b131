package loader

import (
	"bytes"
	"context"
	"errors"
	"fmt"

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
	m, err := access.FetchManifest(ctx, src, object, 0)
	if err != nil {
		return nil, nil, err
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
