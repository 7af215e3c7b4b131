package verify

import (
	"os"
	"path/filepath"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/wasmgate/wasmgate/artifact"
	"github.com/wasmgate/wasmgate/internal/atomicfile"
	"github.com/wasmgate/wasmgate/permissions"
)

// Artifact is a wasm artifact that passed verification under a trust
// policy in enforce mode, with the bytes of its wasm and policy layers as
// they were when their digests were checked.
//
// Only this package builds an Artifact (see [Verifier.Fetch]); its fields
// are unexported, and the zero value is not a verified artifact: its
// Digest is empty and package loader refuses it. The bytes are held in
// memory, never re-read from a path or a registry, so what a host runs is
// what was verified even if the tag, the cache or a file changes after.
type Artifact struct {
	ref  string
	name string // file name stem: the repository's last element, or the component id
	// component is the id of the Spin component it holds (FetchComponent).
	component string
	manifest  ocispec.Descriptor
	wasmDesc  ocispec.Descriptor
	kind      artifact.Kind
	wasm      []byte
	policy    []byte
	perms     *permissions.Policy
	source    PolicySource
	result    *Result
}

// Reference is the artifact's reference pinned by the verified manifest
// digest.
func (a *Artifact) Reference() string { return a.ref }

// Digest is the verified manifest digest; empty for an Artifact not built
// by this package.
func (a *Artifact) Digest() digest.Digest { return a.manifest.Digest }

// Component is the id of the Spin application's component that the
// Artifact holds (Verifier.FetchComponent); "" for an artifact whose
// only wasm it holds.
func (a *Artifact) Component() string { return a.component }

// WasmDigest is the digest of the wasm layer, checked against the bytes:
// the component's layer for a component of a Spin application.
func (a *Artifact) WasmDigest() digest.Digest { return a.wasmDesc.Digest }

// Kind is a module (WASI preview 1) or a component (WASI preview 2).
func (a *Artifact) Kind() artifact.Kind { return a.kind }

// Wasm returns a copy of the verified wasm bytes.
func (a *Artifact) Wasm() []byte { return append([]byte(nil), a.wasm...) }

// PolicyLayer returns a copy of the verified permission policy's bytes,
// or nil when the artifact has none: its policy layer or, under a
// statement with permissionPolicy, the layer of a signed policy referrer
// (PolicySource says which). A host treats both alike.
func (a *Artifact) PolicyLayer() []byte {
	if a.policy == nil {
		return nil
	}
	return append([]byte(nil), a.policy...)
}

// Permissions is the parsed policy (see PolicyLayer): what the publisher
// signed that the module may do. Nil when the artifact has no policy.
func (a *Artifact) Permissions() *permissions.Policy { return a.perms }

// PolicySource says where the permission policy came from: the
// artifact's layer, or a policy referrer (its digest and signers). Its
// From is "" when there is no policy.
func (a *Artifact) PolicySource() PolicySource {
	s := a.source
	s.Referrers = append([]digest.Digest(nil), s.Referrers...)
	s.SignedBy = append([]string(nil), s.SignedBy...)
	return s
}

// Result is the verification that let the artifact through.
func (a *Artifact) Result() *Result { return a.result }

// Files are where WriteFiles put an artifact's layers.
type Files struct {
	Wasm   string `json:"wasm"`
	Policy string `json:"policy,omitempty"`
}

// WriteFiles writes the verified wasm (as <name>.wasm, name being the last
// element of the repository, or the component's id) and the policy layer (policy.yaml) into dir,
// for a runtime that loads files, such as a component runtime wazero is
// not. Each file is written to a temporary name and renamed into place,
// so dir never holds a partial file, and what is written is the bytes
// whose digests were verified.
func (a *Artifact) WriteFiles(dir string) (Files, error) {
	var out Files
	if a.manifest.Digest == "" {
		return out, ErrNotVerified
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return out, err
	}
	out.Wasm = filepath.Join(dir, a.name+".wasm")
	if err := atomicfile.Write(out.Wasm, a.wasm); err != nil {
		return Files{}, err
	}
	if a.policy != nil {
		out.Policy = filepath.Join(dir, "policy.yaml")
		if err := atomicfile.Write(out.Policy, a.policy); err != nil {
			os.Remove(out.Wasm)
			return Files{}, err
		}
	}
	return out, nil
}
