package serve_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"path/filepath"
	"testing"
	"time"

	"github.com/wasmgate/wasmgate/internal/testrig/testkit"
	"github.com/wasmgate/wasmgate/serve"
)

// A replica with a signer attaches a signed VSA after a verification it
// ran passes; another replica that trusts that key accepts the fresh VSA
// instead of verifying again. A VSA signed by a key it does not trust, one
// older than MaxAge, or one written under another policy is not accepted:
// that replica verifies in full.
func TestVSAAcrossReplicas(t *testing.T) {
	f := newFleet(t, serve.Options{})
	ctx := testkit.Context(t)
	verifierKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	strangerKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	const id = "https://wasmgate.dev/serve/test-cluster"
	replica := func(vsa *serve.VSAOptions, policyFile string) *serve.Server {
		t.Helper()
		if policyFile == "" {
			policyFile = filepath.Join(f.dir, "trust.yaml")
		}
		s, err := serve.New(ctx, serve.Options{PolicyFile: policyFile, Opener: f.site.Opener, VSA: vsa})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	trusting := func(keys ...crypto.PublicKey) *serve.VSAOptions {
		return &serve.VSAOptions{VerifierID: id, Trusted: keys}
	}

	a := replica(&serve.VSAOptions{VerifierID: id, Signer: verifierKey, Trusted: []crypto.PublicKey{verifierKey.Public()}}, "")
	f.reg.Faults.ResetLog()
	if d := a.Check(ctx, f.signed); !d.Allowed || d.Source != serve.SourceVerified {
		t.Fatalf("replica a: %+v", d)
	}
	// The manifest is read once for the VSA (looked for, then written) and
	// once by the verification.
	if n := f.reg.Faults.Count("GET", "/manifests/"+f.digest); n != 2 {
		t.Errorf("replica a read the manifest %d times, want 2", n)
	}
	if d := replica(trusting(verifierKey.Public()), "").Check(ctx, f.signed); !d.Allowed || d.Source != serve.SourceVSA || d.Digest.String() != f.digest {
		t.Fatalf("replica b, trusting a's key: %+v", d)
	}
	if d := replica(trusting(strangerKey.Public()), "").Check(ctx, f.signed); d.Source != serve.SourceVerified {
		t.Errorf("a replica that trusts another key: %+v", d)
	}
	old := trusting(verifierKey.Public())
	old.MaxAge = time.Nanosecond
	time.Sleep(1100 * time.Millisecond) // timeVerified has a resolution of one second
	if d := replica(old, "").Check(ctx, f.signed); d.Source != serve.SourceVerified {
		t.Errorf("a VSA older than MaxAge: %+v", d)
	}
	other := filepath.Join(f.dir, "other.yaml")
	f.writePolicyAt(t, other, policyYAML+"    requireDigest: false\n")
	if d := replica(trusting(verifierKey.Public()), other).Check(ctx, f.signed); d.Source != serve.SourceVerified {
		t.Errorf("a replica under another policy: %+v", d)
	}
	// A VSA never turns a denial into a pass: the unsigned artifact has
	// none, and replica b verifies it in full.
	if d := replica(trusting(verifierKey.Public()), "").Check(ctx, f.unsigned); d.Allowed || d.Source != serve.SourceVerified {
		t.Errorf("the unsigned artifact: %+v", d)
	}
}
