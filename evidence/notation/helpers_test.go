package notation_test

import (
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/wasmgate/wasmgate/access"
	"github.com/wasmgate/wasmgate/evidence"
	"github.com/wasmgate/wasmgate/evidence/notation"
	"github.com/wasmgate/wasmgate/internal/testrig/peers"
	"github.com/wasmgate/wasmgate/internal/testrig/testkit"
	"github.com/wasmgate/wasmgate/internal/testrig/testpki"
	"github.com/wasmgate/wasmgate/internal/testrig/testregistry"
	"github.com/wasmgate/wasmgate/referrers"
	"github.com/wasmgate/wasmgate/remote"
)

// site is a repository opened as wasmgate opens it, with the scope that
// selects its trust policy.
type site struct {
	*testkit.Site
	reg   *testregistry.Registry
	repo  string
	scope string
}

func open(t testing.TB, reg *testregistry.Registry, repo string) *site {
	t.Helper()
	return &site{Site: testkit.Open(t, reg, reg.Ref(repo, "v1"), remote.Options{}), reg: reg, repo: repo, scope: reg.Ref(repo, "")}
}

// sign signs subject with leaf through notation-go (notation.Sign, as
// `notation sign` does) in the given envelope (peers.NotationJWS or
// peers.NotationCOSE).
func (s *site) sign(t testing.TB, leaf *testpki.Leaf, subject ocispec.Descriptor, envelope string) ocispec.Descriptor {
	t.Helper()
	return peers.NotationSign(t, leaf.NotationSigner(t), s.reg.Repository(t, s.repo), s.reg.Ref(s.repo, subject.Digest.String()), envelope)
}

func (s *site) check(t testing.TB, subject ocispec.Descriptor, trust *notation.Trust, opts notation.Options) *notation.Report {
	t.Helper()
	rep, err := notation.Check(testkit.Context(t), s.Target, s.scope, subject, s.Discover, trust, opts)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// one checks and returns the only result.
func (s *site) one(t testing.TB, subject ocispec.Descriptor, trust *notation.Trust) notation.Result {
	t.Helper()
	rep := s.check(t, subject, trust, notation.Options{})
	if len(rep.Results) != 1 {
		t.Fatalf("%d results, want 1: %+v", len(rep.Results), rep.Results)
	}
	if rep.Verified != rep.Results[0].Verified {
		t.Fatalf("report verified %v, result %v", rep.Verified, rep.Results[0].Verified)
	}
	return rep.Results[0]
}

// trustRoots writes a notation configuration directory trusting roots
// under policy ("" = strict, every scope, any identity) and loads it.
func trustRoots(t testing.TB, policy string, roots ...*x509.Certificate) *notation.Trust {
	t.Helper()
	d := t.TempDir()
	path := testpki.WriteNotationTrust(t, d, "wasmgate-test", roots, policy)
	tr, err := notation.LoadTrust(path, d)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func policy(t testing.TB, ps ...testpki.Policy) string {
	return testpki.NotationPolicy(t, "wasmgate-test", ps...)
}

// pki is a root, an intermediate and a code-signing leaf of one key type.
type pki struct {
	root  *testpki.CA
	inter *testpki.CA
	leaf  *testpki.Leaf
}

func newPKI(t testing.TB, kt testpki.KeyType) pki {
	t.Helper()
	root := testpki.NewRoot(t, "wasmgate test root (TEST ONLY)", kt)
	inter := root.NewIntermediate(t, "wasmgate test intermediate (TEST ONLY)", kt)
	return pki{root: root, inter: inter, leaf: inter.Issue(t, testpki.LeafOptions{Key: kt})}
}

func envelopeOf(t testing.TB, s *site, subject ocispec.Descriptor) (ocispec.Descriptor, []byte) {
	t.Helper()
	found, err := referrers.Discover(testkit.Context(t), s.Target, subject, s.Discover)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range found.Referrers {
		if r.Kind == referrers.KindNotation {
			raw, err := access.FetchVerified(testkit.Context(t), s.Target, r.Manifest.Layers[0], 1<<20, "envelope")
			if err != nil {
				t.Fatal(err)
			}
			return r.Manifest.Layers[0], raw
		}
	}
	t.Fatal("no notation signature")
	return ocispec.Descriptor{}, nil
}

func attachEnvelope(t testing.TB, s *site, subject ocispec.Descriptor, mediaType string, raw []byte) {
	t.Helper()
	if _, err := referrers.Attach(testkit.Context(t), s.Target, subject, evidence.ArtifactTypeNotation,
		[]referrers.Blob{{MediaType: mediaType, Data: raw}}, referrers.AttachOptions{}); err != nil {
		t.Fatal(err)
	}
}

// resignJWS swaps the certificate chain of a JWS envelope for leaf's and
// signs it again with leaf's ECDSA P-256 key. notation-go's signer refuses
// certificates outside the Notary profile (that is the point of the test
// that uses this), so the envelope is rebuilt by hand here: same protected
// header and payload, a new x5c and signature.
func resignJWS(t testing.TB, raw []byte, leaf *testpki.Leaf) []byte {
	t.Helper()
	var env struct {
		Payload   string `json:"payload"`
		Protected string `json:"protected"`
		Header    struct {
			X5C          [][]byte `json:"x5c"`
			SigningAgent string   `json:"io.cncf.notary.signingAgent,omitempty"`
		} `json:"header"`
		Signature string `json:"signature"`
	}
	if err := json.Unmarshal(raw, &env); err != nil {
		t.Fatal(err)
	}
	env.Header.X5C = nil
	for _, c := range leaf.Chain {
		env.Header.X5C = append(env.Header.X5C, c.Raw)
	}
	key, ok := leaf.Key.(*ecdsa.PrivateKey)
	if !ok || key.Curve.Params().BitSize != 256 {
		t.Fatal("resignJWS: want a P-256 key (ES256)")
	}
	h := sha256.Sum256([]byte(env.Protected + "." + env.Payload))
	r, s, err := ecdsa.Sign(rand.Reader, key, h[:])
	if err != nil {
		t.Fatal(err)
	}
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	env.Signature = base64.RawURLEncoding.EncodeToString(sig)
	out, err := json.Marshal(env)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func wantErr(t testing.TB, r notation.Result, want error) {
	t.Helper()
	if r.Verified || !errors.Is(r.Err, want) {
		t.Fatalf("want failure %v, got verified=%v err=%v\nchecks %+v", want, r.Verified, r.Err, r.Checks)
	}
	if r.Reason == "" {
		t.Error("a failure without a reason")
	}
}
