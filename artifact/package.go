package artifact

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/content"
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
	// Component is what a component imports and exports; nil for a core
	// module.
	Component *ComponentInfo

	wasmPath string
}

// Pack hashes the wasm file at wasmPath (one pass, which also reads its
// header), validates policy when it is not nil, and builds the config and
// manifest. For a component it reads the imports and exports in the same
// pass (see [ComponentInterfaces]) and refuses one it cannot read, which
// strict mode would refuse after publishing. Nothing is sent anywhere.
func Pack(wasmPath string, policy []byte, opts BuildOptions) (*Package, error) {
	f, err := os.Open(wasmPath)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	wasm := &ComponentBuffer{Max: DefaultMaxLayerBytes}
	digester := digest.Canonical.Digester()
	n, err := io.Copy(io.MultiWriter(digester.Hash(), wasm), f)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", wasmPath, err)
	}
	kind, err := DetectKind(wasm.Header())
	if err != nil {
		return nil, &Error{Op: "pack", Reference: wasmPath, Err: err}
	}
	pkg := &Package{Kind: kind, wasmPath: wasmPath}
	if pkg.Component, err = wasm.Info(); err != nil {
		return nil, &Error{Op: "pack", Reference: wasmPath, Err: err}
	}
	pkg.Wasm = ocispec.Descriptor{
		MediaType:   MediaTypeWasm,
		Digest:      digester.Digest(),
		Size:        n,
		Annotations: map[string]string{ocispec.AnnotationTitle: filepath.Base(wasmPath)},
	}
	if policy != nil {
		if _, err := ParsePolicyLayer(policy); err != nil {
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

// OpenWasm opens the wasm file the package was packed from, to send its
// bytes (a push hashes them again as they go).
func (p *Package) OpenWasm() (io.ReadCloser, error) { return os.Open(p.wasmPath) }
