package access

import (
	"bytes"
	"context"
	"errors"
	"io"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/errdef"

	"github.com/wasmgate/wasmgate/artifact"
)

// PushOptions shape a push. The zero value is fine.
type PushOptions struct {
	Progress ProgressFunc
}

// Push uploads pkg to dst: the blobs the target does not have yet, then
// the manifest, tagged with tag when tag is not empty. The manifest goes
// last, so a reader never sees a manifest whose blobs are missing.
func Push(ctx context.Context, dst oras.Target, pkg *artifact.Package, tag string, opts PushOptions) error {
	if err := pushBlob(ctx, dst, pkg.Config, func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(pkg.ConfigJSON)), nil
	}, nil); err != nil {
		return err
	}
	if err := pushBlob(ctx, dst, pkg.Wasm, func() (io.ReadCloser, error) {
		return pkg.OpenWasm()
	}, opts.Progress); err != nil {
		return err
	}
	if pkg.Policy != nil {
		if err := pushBlob(ctx, dst, *pkg.Policy, func() (io.ReadCloser, error) {
			return io.NopCloser(bytes.NewReader(pkg.PolicyYAML)), nil
		}, nil); err != nil {
			return err
		}
	}
	if tag != "" {
		_, err := oras.TagBytes(ctx, dst, ocispec.MediaTypeImageManifest, pkg.ManifestJSON, tag)
		return err
	}
	return pushBlob(ctx, dst, pkg.Manifest, func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(pkg.ManifestJSON)), nil
	}, nil)
}

func pushBlob(ctx context.Context, dst oras.Target, desc ocispec.Descriptor, open func() (io.ReadCloser, error), progress ProgressFunc) error {
	exists, err := dst.Exists(ctx, desc)
	if err != nil {
		return err
	}
	if exists {
		return nil
	}
	rc, err := open()
	if err != nil {
		return err
	}
	defer rc.Close()
	var r io.Reader = rc
	if progress != nil {
		if pw := progress(desc, artifact.Title(desc)); pw != nil {
			defer pw.Close()
			r = io.TeeReader(r, pw)
		}
	}
	// The local file may change after Pack hashed it; the target verifies
	// the digest and refuses, and so do we.
	err = dst.Push(ctx, desc, r)
	if errors.Is(err, errdef.ErrAlreadyExists) {
		return nil
	}
	return err
}

// PushIfAbsent pushes data as desc unless dst has it already.
func PushIfAbsent(ctx context.Context, dst oras.Target, desc ocispec.Descriptor, data []byte) error {
	return pushBlob(ctx, dst, desc, func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(data)), nil
	}, nil)
}
