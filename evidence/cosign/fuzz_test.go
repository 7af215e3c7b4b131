package cosign_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/wasmgate/wasmgate/evidence/cosign"
)

// FuzzVerifyLegacy: whatever payload and annotations a legacy .sig layer
// carries, VerifyLegacy returns a Result and never panics; it verifies
// only when the payload names the subject and the signature is the key's
// over exactly that payload. The seed is a real signature, so mutations
// explore the neighbourhood of a valid one.
func FuzzVerifyLegacy(f *testing.F) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		f.Fatal(err)
	}
	subject := digest.FromString("subject")
	payload := []byte(`{"critical":{"identity":{"docker-reference":"r.test/app"},"image":{"docker-manifest-digest":"` + subject.String() + `"},"type":"cosign container image signature"},"optional":null}`)
	sum := sha256.Sum256(payload)
	sig, err := key.Sign(rand.Reader, sum[:], crypto.SHA256)
	if err != nil {
		f.Fatal(err)
	}
	b64 := base64.StdEncoding.EncodeToString(sig)
	auth := cosign.Authority{Keys: []cosign.Key{cosign.NewKey(key.Public())}}
	if r := cosign.VerifyLegacy(payload, map[string]string{"dev.cosignproject.cosign/signature": b64}, subject, auth); !r.Verified {
		f.Fatalf("the seed does not verify: %s", r.Reason)
	}
	f.Add(payload, b64, "")
	f.Add([]byte(`{"critical":{"image":{"docker-manifest-digest":"sha256:00"}}}`), b64, "-----BEGIN CERTIFICATE-----\n")
	f.Add([]byte(`null`), "", "")
	f.Fuzz(func(t *testing.T, p []byte, signature, cert string) {
		ann := map[string]string{"dev.cosignproject.cosign/signature": signature}
		if cert != "" {
			ann["dev.sigstore.cosign/certificate"] = cert
		}
		r := cosign.VerifyLegacy(p, ann, subject, auth)
		if r == nil {
			t.Fatal("nil result")
		}
		if r.Verified && (string(p) != string(payload) || signature == "") {
			// Only the original payload is signed; ECDSA signatures are
			// malleable, so another signature string may verify, but not
			// another payload.
			t.Fatalf("verified a payload the key did not sign: %q", p)
		}
		if !r.Verified && r.Err == nil {
			t.Fatalf("failed without a typed error: %s", r.Reason)
		}
	})
}
