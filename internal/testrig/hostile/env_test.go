package hostile_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/registry/remote/credentials"

	"github.com/wasmgate/wasmgate/access"
	"github.com/wasmgate/wasmgate/artifact"
	"github.com/wasmgate/wasmgate/cache"
	"github.com/wasmgate/wasmgate/internal/sample"
	"github.com/wasmgate/wasmgate/internal/testrig/testkit"
	"github.com/wasmgate/wasmgate/internal/testrig/testpki"
	"github.com/wasmgate/wasmgate/internal/testrig/testregistry"
	"github.com/wasmgate/wasmgate/loader"
	"github.com/wasmgate/wasmgate/remote"
	"github.com/wasmgate/wasmgate/sign"
	"github.com/wasmgate/wasmgate/verify"
)

// env is one scenario's world: a real registry with its fault injector,
// the sample module with its policy pushed to wasm/app:v1 and signed with
// a fresh key, a trust policy trusting that key, an empty cache and an
// output directory that must stay empty when the scenario is refused.
type env struct {
	reg     *testregistry.Registry
	client  *remote.Client // the pipeline's
	creds   credentials.Store
	cache   *cache.Cache
	opener  *access.Opener // with the cache
	dst     oras.Target    // wasm/app, direct (no cache): for crafting
	pkg     *artifact.Package
	key     crypto.Signer
	ref     string // wasm/app:v1
	pinned  string
	policy  *verify.Policy
	dir     string
	out     string
	timeout time.Duration
	notary  *testpki.Leaf
}

var versioned = specs.Versioned{SchemaVersion: 2}

const trustPolicy = `version: v1
policies:
  - name: app
    scopes: ["*"]
    signatures:
      authorities:
        - name: release
          cosign: {key: release.pub, insecureIgnoreTlog: true}
    attestations: %s
    layers: {requirePolicy: true, allowUnknown: false, maxBytes: 64Mi}
`

func newEnv(t *testing.T, kind testregistry.Kind, timeout time.Duration, signed bool) *env {
	t.Helper()
	e := &env{reg: testregistry.New(t, kind), dir: t.TempDir(), timeout: timeout}
	e.out = filepath.Join(e.dir, "out")
	var err error
	e.creds = credentials.NewMemoryStore()
	e.client = testkit.Client(t, e.reg, remote.Options{Credentials: e.creds, Timeout: timeout})
	if e.cache, err = cache.Open(filepath.Join(e.dir, "cache")); err != nil {
		t.Fatal(err)
	}
	e.opener = &access.Opener{Client: e.client, Cache: e.cache}
	e.ref = e.reg.Ref("wasm/app", "v1")
	e.dst = e.repo(t, "wasm/app")
	e.pkg = e.push(t, e.dst, sample.HelloWasm(), sample.PolicyYAML(), "v1")
	e.pinned = e.reg.Ref("wasm/app", e.pkg.Manifest.Digest.String())
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	e.key = k
	if signed {
		e.sign(t, e.dst, e.pkg.Manifest)
	}
	testkit.WritePublicKey(t, filepath.Join(e.dir, "release.pub"), k.Public())
	e.setPolicy(t, "[]")
	return e
}

func (e *env) setPolicy(t *testing.T, attestations string) {
	t.Helper()
	path := filepath.Join(e.dir, "trust.yaml")
	if err := os.WriteFile(path, []byte(sprintf(trustPolicy, attestations)), 0o644); err != nil {
		t.Fatal(err)
	}
	e.setPolicyFile(t, path)
}

func (e *env) setPolicyFile(t *testing.T, path string) {
	t.Helper()
	p, err := verify.LoadPolicy(context.Background(), path, verify.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	e.policy = p
}

// push packs wasm and policy and pushes them to dst under tag.
func (e *env) push(t *testing.T, dst oras.Target, wasm, policy []byte, tag string) *artifact.Package {
	t.Helper()
	return testkit.Push(t, dst, testkit.TempFile(t, "m.wasm", wasm), policy, tag)
}

func (e *env) sign(t *testing.T, dst oras.Target, subject ocispec.Descriptor) ocispec.Descriptor {
	t.Helper()
	d, err := sign.Cosign(testkit.Context(t), dst, subject, e.key, sign.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// repo opens a repository of the registry, direct (no cache), for
// crafting a scenario. Its client has the default stall timeout: a
// scenario's short one is for the pipeline under attack.
func (e *env) repo(t *testing.T, name string) oras.Target {
	t.Helper()
	return testkit.Open(t, e.reg, e.reg.Ref(name, "v1"), remote.Options{}).Target
}

// pull is wasmgate pull through the cache into e.out.
func (e *env) pull(t *testing.T, ref string) error {
	r, err := artifact.ParseReference(ref)
	if err != nil {
		return err
	}
	src, err := e.opener.Source(r)
	if err != nil {
		return err
	}
	_, err = access.Pull(testkit.Context(t), src, r.Object(), e.out, access.PullOptions{})
	return err
}

// gate is the strict pipeline: verify under the trust policy, then load.
// It returns every error met on the way (the undecided cause, and the
// typed errors of the checks that failed) and whether a module loaded.
func (e *env) gate(t *testing.T, ref string) ([]error, bool) {
	v, err := verify.New(e.policy, e.opener, verify.Options{})
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := artifact.ParseReference(ref)
	if err != nil {
		return []error{err}, false
	}
	a, res, err := v.Fetch(testkit.Context(t), parsed)
	errs := []error{err}
	if res != nil {
		for _, c := range res.Failed() {
			errs = append(errs, c.Err)
		}
		if res.Signatures != nil {
			for _, au := range res.Signatures.Authorities {
				for _, r := range au.Cosign {
					errs = append(errs, r.Err)
				}
				for _, r := range au.Notation {
					errs = append(errs, r.Err)
				}
			}
		}
		for _, rj := range res.Rejected {
			errs = append(errs, rj.Reason)
		}
	}
	if err != nil {
		return errs, false
	}
	m, err := loader.Load(testkit.Context(t), a, loader.Host{Mounts: []loader.Mount{{Path: "/data", Dir: e.dir}}, EnvKeys: []string{"GREETING"}})
	if err != nil {
		return append(errs, err), false
	}
	m.Close(testkit.Context(t))
	return errs, true
}
