package artifact

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/errdef"
)

// Package is a wasm artifact ready to push: its blobs' descriptors, its
// config and manifest. Build one with [Pack].
type Package struct {
	Kind         Kind
	Manifest     ocispec.Descriptor
	ManifestJSON []byte
	Config       ocispec.Descriptor
	ConfigJSON   []byte
	Wasm         ocispec.Descriptor
	Policy       *ocispec.Descriptor // nil without a policy
	PolicyYAML   []byte

	wasmPath string
}

// Pack hashes the wasm file at wasmPath (one pass, which also reads its
// header), validates policy when it is not nil, and builds the config and
// manifest. Nothing is sent anywhere.
func Pack(wasmPath string, policy []byte, opts BuildOptions) (*Package, error) {
	f, err := os.Open(wasmPath)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var header headerWriter
	digester := digest.Canonical.Digester()
	n, err := io.Copy(io.MultiWriter(digester.Hash(), &header), f)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", wasmPath, err)
	}
	kind, err := DetectKind(header.b[:header.n])
	if err != nil {
		return nil, &Error{Op: "pack", Reference: wasmPath, Err: err}
	}
	pkg := &Package{Kind: kind, wasmPath: wasmPath}
	pkg.Wasm = ocispec.Descriptor{
		MediaType:   MediaTypeWasm,
		Digest:      digester.Digest(),
		Size:        n,
		Annotations: map[string]string{ocispec.AnnotationTitle: filepath.Base(wasmPath)},
	}
	if policy != nil {
		if _, err := parsePolicy(policy); err != nil {
			return nil, err
		}
		pkg.PolicyYAML = policy
		pkg.Policy = &ocispec.Descriptor{
			MediaType:   MediaTypePolicy,
			Digest:      digest.FromBytes(policy),
			Size:        int64(len(policy)),
			Annotations: map[string]string{ocispec.AnnotationTitle: "policy.yaml"},
		}
	}
	pkg.Config, pkg.ConfigJSON, pkg.ManifestJSON, err = BuildManifest(pkg.Wasm, kind, pkg.Policy, opts)
	if err != nil {
		return nil, err
	}
	pkg.Manifest = content.NewDescriptorFromBytes(ocispec.MediaTypeImageManifest, pkg.ManifestJSON)
	return pkg, nil
}

// PushOptions shape a push. The zero value is fine.
type PushOptions struct {
	Progress ProgressFunc
}

// Push uploads pkg to dst: the blobs the target does not have yet, then
// the manifest, tagged with tag when tag is not empty. The manifest goes
// last, so a reader never sees a manifest whose blobs are missing.
func Push(ctx context.Context, dst oras.Target, pkg *Package, tag string, opts PushOptions) error {
	if err := pushBlob(ctx, dst, pkg.Config, func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(pkg.ConfigJSON)), nil
	}, nil); err != nil {
		return err
	}
	if err := pushBlob(ctx, dst, pkg.Wasm, func() (io.ReadCloser, error) {
		return os.Open(pkg.wasmPath)
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
		if pw := progress(desc, title(desc)); pw != nil {
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
