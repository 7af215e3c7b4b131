package sign_test

import (
	"bytes"
	"crypto"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/wasmgate/wasmgate/evidence/cosign"
	"github.com/wasmgate/wasmgate/internal/cosignkey"
	"github.com/wasmgate/wasmgate/internal/testrig/peers"
	"github.com/wasmgate/wasmgate/internal/testrig/testkit"
	"github.com/wasmgate/wasmgate/internal/testrig/testregistry"
	"github.com/wasmgate/wasmgate/remote"
	"github.com/wasmgate/wasmgate/sign"
)

// keyFiles writes a cosign-format key pair (password "s3cret") and
// returns the loaded signer and the public key file.
func keyFiles(t testing.TB) (crypto.Signer, string) {
	t.Helper()
	priv, pub, err := cosignkey.GenerateKeyPair([]byte("s3cret"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	pubPath := filepath.Join(dir, "cosign.pub")
	if err := os.WriteFile(pubPath, pub, 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := cosignkey.LoadPrivateKey(priv, func() ([]byte, error) { return []byte("s3cret"), nil })
	if err != nil {
		t.Fatal(err)
	}
	return s, pubPath
}

// wasmgate signs in both formats on both registry kinds; `cosign verify`
// accepts each, and so does wasmgate.
func TestCosignAcceptsWhatWasmgateSigns(t *testing.T) {
	peers.Binary(t, "cosign")
	signer, pubPath := keyFiles(t)
	pubPEM, _ := os.ReadFile(pubPath)
	pub, err := cosign.PEMPublicKey(pubPEM)
	if err != nil {
		t.Fatal(err)
	}
	for _, kind := range testregistry.Kinds() {
		for _, format := range []sign.Format{sign.FormatBundle, sign.FormatLegacy} {
			t.Run(string(kind)+"/"+string(format), func(t *testing.T) {
				reg := testregistry.New(t, kind)
				subject := peers.PushSubject(t, reg, "wasm/tiny")
				s := testkit.Open(t, reg, reg.Ref("wasm/tiny", subject.Digest.String()), remote.Options{})
				// Twice: a second legacy signature is appended, not replacing the first.
				for range 2 {
					if _, err := sign.Cosign(testkit.Context(t), s.Target, subject, signer, sign.Options{Format: format, Repository: reg.Ref("wasm/tiny", "")}); err != nil {
						t.Fatal(err)
					}
				}
				if err := peers.CosignVerify(t, pubPath, s.Ref.String(), string(format)); err != nil {
					t.Fatalf("cosign verify (%s) refused what wasmgate signed: %v", format, err)
				}
				rep, err := cosign.Check(testkit.Context(t), s.Target, subject, s.Discover,
					cosign.Authority{Keys: []cosign.Key{cosign.NewKey(pub)}}, cosign.Options{Format: format})
				if err != nil {
					t.Fatal(err)
				}
				if !rep.Verified || len(rep.Results) != 2 {
					t.Fatalf("wasmgate verify: %+v", rep)
				}
			})
		}
	}
}

// verify-blob's path: a bundle made by sigstore-go over a file verifies,
// and a tampered one does not.
func TestBundleOverBlob(t *testing.T) {
	signer, pubPath := keyFiles(t)
	pubPEM, _ := os.ReadFile(pubPath)
	pub, _ := cosign.PEMPublicKey(pubPEM)
	wasm, err := os.ReadFile(filepath.Join("..", "testdata", "wasm", "tiny.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	d := artifactDigest(wasm)
	st, err := sign.Statement(d)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := sign.Bundle(st, signer)
	if err != nil {
		t.Fatal(err)
	}
	b, err := cosign.ParseBundle(raw)
	if err != nil {
		t.Fatal(err)
	}
	auth := cosign.Authority{Keys: []cosign.Key{cosign.NewKey(pub)}}
	if r := cosign.VerifyBlob(b, blobDigests(t, wasm), auth); !r.Verified {
		t.Fatalf("%+v", r)
	}
	if r := cosign.VerifyBlob(b, blobDigests(t, append(wasm, 0)), auth); r.Verified {
		t.Fatal("verified a tampered file")
	}
	// A truncated signature inside the envelope.
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	sigs := doc["dsseEnvelope"].(map[string]any)["signatures"].([]any)
	sig := sigs[0].(map[string]any)
	sig["sig"] = sig["sig"].(string)[:20]
	truncated, _ := json.Marshal(doc)
	if b, err := cosign.ParseBundle(truncated); err == nil {
		if r := cosign.VerifyBlob(b, blobDigests(t, wasm), auth); r.Verified || !errors.Is(r.Err, cosign.ErrSignatureInvalid) {
			t.Fatalf("truncated signature: %+v", r)
		}
	} else if !errors.Is(err, cosign.ErrMalformed) {
		t.Fatalf("truncated signature: %v", err)
	}
	tampered := append([]byte(nil), raw...)
	i := len(tampered) / 2
	tampered[i] ^= 1
	if b, err := cosign.ParseBundle(tampered); err == nil {
		if r := cosign.VerifyBlob(b, blobDigests(t, wasm), auth); r.Verified {
			t.Fatal("verified a tampered bundle")
		}
	} else if !errors.Is(err, cosign.ErrMalformed) {
		t.Fatalf("tampered bundle: %v, want ErrMalformed", err)
	}
}

func artifactDigest(b []byte) digest.Digest { return digest.FromBytes(b) }

func blobDigests(t *testing.T, blob []byte) []digest.Digest {
	t.Helper()
	ds, err := cosign.DigestBlob(bytes.NewReader(blob), int64(len(blob)))
	if err != nil {
		t.Fatal(err)
	}
	return ds
}
