package verify_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"os"
	"path/filepath"
	"testing"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"

	"github.com/wasmgate/wasmgate/access"
	"github.com/wasmgate/wasmgate/artifact"
	"github.com/wasmgate/wasmgate/internal/sample"
	"github.com/wasmgate/wasmgate/internal/testrig/testkit"
	"github.com/wasmgate/wasmgate/internal/testrig/testpki"
	"github.com/wasmgate/wasmgate/internal/testrig/testregistry"
	"github.com/wasmgate/wasmgate/remote"
	"github.com/wasmgate/wasmgate/sign"
	"github.com/wasmgate/wasmgate/verify"
)

// provenance is a SLSA v1 predicate as a CI builder writes it.
const provenance = `{"buildDefinition":{"buildType":"https://example.com/go@v1","externalParameters":{"ref":"refs/heads/main"}},
"runDetails":{"builder":{"id":"https://github.com/acme/builder@v1"},"metadata":{"finishedOn":"%s"}}}`

// where is the kind of place an artifact is verified in: both registries
// and an OCI layout.
type where string

const (
	atDistribution where = "distribution"
	atGGCR         where = "ggcr"
	atLayout       where = "layout"
)

var everywhere = []where{atDistribution, atGGCR, atLayout}

// fixture is the real sample module with its policy, pushed to one place,
// with real keys and a real Notation PKI made for the test: everything a
// trust policy can name, signed on demand.
type fixture struct {
	dir     string // trust material; policies are written here
	opener  *access.Opener
	ref     string // the tag reference
	dst     oras.Target
	subject ocispec.Descriptor
	keys    map[string]crypto.Signer
	notary  *testpki.Leaf
	reg     *testregistry.Registry // nil for a layout
}

func newFixture(t testing.TB, at where) *fixture {
	t.Helper()
	f := &fixture{dir: t.TempDir(), keys: map[string]crypto.Signer{}}
	var site *testkit.Site
	switch at {
	case atLayout:
		site = testkit.Open(t, nil, "oci-layout:"+filepath.Join(t.TempDir(), "app")+":v1", remote.Options{})
		site.Opener = &access.Opener{} // a layout needs no client
	default:
		f.reg = testregistry.New(t, testregistry.Kind(at))
		site = testkit.Open(t, f.reg, f.reg.Ref("wasm/app", "v1"), remote.Options{})
	}
	f.opener, f.ref, f.dst = site.Opener, site.Ref.String(), site.Target
	pkg := testkit.Push(t, f.dst, testkit.TempFile(t, "hello.wasm", sample.HelloWasm()), sample.PolicyYAML(), site.Ref.Object())
	f.subject = pkg.Manifest
	for _, name := range []string{"release", "ci", "other"} {
		f.key(t, name)
	}
	root := testpki.NewRoot(t, "acme test root", testpki.P256)
	f.notary = root.Issue(t, testpki.LeafOptions{CommonName: "acme release"})
	testpki.WriteNotationTrust(t, filepath.Join(f.dir, "notation"), "acme", []*x509.Certificate{root.Root()}, "")
	return f
}

// key makes a P-256 key pair and writes keys/<name>.pub.
func (f *fixture) key(t testing.TB, name string) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(f.dir, "keys"), 0o755); err != nil {
		t.Fatal(err)
	}
	testkit.WritePublicKey(t, filepath.Join(f.dir, "keys", name+".pub"), k.Public())
	f.keys[name] = k
}

func (f *fixture) cosign(t testing.TB, key string, format sign.Format) {
	t.Helper()
	if _, err := sign.Cosign(testkit.Context(t), f.dst, f.subject, f.keys[key], sign.Options{Format: format}); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) notation(t testing.TB) {
	t.Helper()
	if _, err := sign.Notation(testkit.Context(t), f.dst, f.subject, f.notary.NotationSigner(t), sign.NotationOptions{}); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) attest(t testing.TB, key string, finished time.Time) {
	t.Helper()
	pred := []byte(sprintf(provenance, finished.UTC().Format(time.RFC3339)))
	if _, err := sign.Attest(testkit.Context(t), f.dst, f.subject, f.keys[key], "slsaprovenance1", pred, sign.AttestOptions{}); err != nil {
		t.Fatal(err)
	}
}

// policy writes a trust policy next to the trust material and loads it.
func (f *fixture) policy(t testing.TB, yaml string) *verify.Policy {
	t.Helper()
	path := filepath.Join(f.dir, "trust.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := verify.LoadPolicy(context.Background(), path, verify.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func (f *fixture) verify(t testing.TB, p *verify.Policy, opts verify.Options, ref string) (*verify.Result, error) {
	t.Helper()
	return mustVerifier(t, p, f.opener, opts).Verify(testkit.Context(t), mustRef(t, ref))
}

func mustVerifier(t testing.TB, p *verify.Policy, o *access.Opener, opts verify.Options) *verify.Verifier {
	t.Helper()
	v, err := verify.New(p, o, opts)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func mustRef(t testing.TB, s string) artifact.Reference {
	t.Helper()
	ref, err := artifact.ParseReference(s)
	if err != nil {
		t.Fatal(err)
	}
	return ref
}

// scope is the repository name the fixture's artifact is selected by.
func (f *fixture) scope(t testing.TB) string {
	t.Helper()
	ref, err := artifact.ParseReference(f.ref)
	if err != nil {
		t.Fatal(err)
	}
	return verify.Repository(ref)
}

// pinned is the fixture's reference pinned by digest.
func (f *fixture) pinned(t testing.TB) string {
	t.Helper()
	ref, err := artifact.ParseReference(f.ref)
	if err != nil {
		t.Fatal(err)
	}
	return ref.WithDigest(f.subject.Digest).String()
}
