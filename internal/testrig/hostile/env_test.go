package hostile_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
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
	setup   *remote.Client // for crafting the scenario
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

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func newEnv(t *testing.T, kind testregistry.Kind, timeout time.Duration, signed bool) *env {
	t.Helper()
	e := &env{reg: testregistry.New(t, kind), dir: t.TempDir(), timeout: timeout}
	e.out = filepath.Join(e.dir, "out")
	var err error
	e.creds = credentials.NewMemoryStore()
	if e.client, err = remote.New(remote.Options{PlainHTTP: []string{e.reg.Host}, Credentials: e.creds, Timeout: timeout}); err != nil {
		t.Fatal(err)
	}
	if e.cache, err = cache.Open(filepath.Join(e.dir, "cache")); err != nil {
		t.Fatal(err)
	}
	e.opener = &access.Opener{Client: e.client, Cache: e.cache}
	e.ref = e.reg.Ref("wasm/app", "v1")
	ref, _ := artifact.ParseReference(e.ref)
	// Setting up goes through a client with the default timeout: a
	// scenario's short stall timeout is for the pipeline under attack.
	if e.setup, err = remote.New(remote.Options{PlainHTTP: []string{e.reg.Host}, Credentials: credentials.NewMemoryStore()}); err != nil {
		t.Fatal(err)
	}
	if e.dst, err = (&access.Opener{Client: e.setup}).Destination(ref); err != nil {
		t.Fatal(err)
	}
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
	der, _ := x509.MarshalPKIXPublicKey(k.Public())
	if err := os.WriteFile(filepath.Join(e.dir, "release.pub"), pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
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
	path := filepath.Join(t.TempDir(), "m.wasm")
	if err := os.WriteFile(path, wasm, 0o644); err != nil {
		t.Fatal(err)
	}
	pkg, err := artifact.Pack(path, policy, artifact.BuildOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := access.Push(ctxT(t), dst, pkg, tag, access.PushOptions{}); err != nil {
		t.Fatal(err)
	}
	return pkg
}

func (e *env) sign(t *testing.T, dst oras.Target, subject ocispec.Descriptor) ocispec.Descriptor {
	t.Helper()
	d, err := sign.Cosign(ctxT(t), dst, subject, e.key, sign.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// repo opens another repository of the registry, direct.
func (e *env) repo(t *testing.T, name string) oras.Target {
	t.Helper()
	ref, _ := artifact.ParseReference(e.reg.Ref(name, "v1"))
	dst, err := (&access.Opener{Client: e.setup}).Destination(ref)
	if err != nil {
		t.Fatal(err)
	}
	return dst
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
	_, err = access.Pull(ctxT(t), src, r.Object(), e.out, access.PullOptions{})
	return err
}

// gate is the strict pipeline: verify under the trust policy, then load.
// It returns every error met on the way (the undecided cause, and the
// typed errors of the checks that failed) and whether a module loaded.
func (e *env) gate(t *testing.T, ref string) ([]error, bool) {
	a, res, err := verify.New(e.policy, e.opener, verify.Options{}).Fetch(ctxT(t), ref)
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
	m, err := loader.Load(ctxT(t), a, loader.Host{Mounts: []loader.Mount{{Path: "/data", Dir: e.dir}}, EnvKeys: []string{"GREETING"}})
	if err != nil {
		return append(errs, err), false
	}
	m.Close(ctxT(t))
	return errs, true
}
