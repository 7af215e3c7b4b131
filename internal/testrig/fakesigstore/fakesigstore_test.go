package fakesigstore_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore/pkg/cryptoutils"

	"github.com/wasmgate/wasmgate/internal/testrig/fakesigstore"
)

// The fake Fulcio refuses what Fulcio refuses: a missing or forged token,
// and a proof of possession by another key or over another subject.
func TestFulcioRefuses(t *testing.T) {
	fs := fakesigstore.New(t, fakesigstore.Options{})
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	pemKey, _ := cryptoutils.MarshalPublicKeyToPEM(key.Public())
	pop := func(k *ecdsa.PrivateKey, subject string) string {
		sum := sha256.Sum256([]byte(subject))
		sig, _ := ecdsa.SignASN1(rand.Reader, k, sum[:])
		return base64.StdEncoding.EncodeToString(sig)
	}
	good := fs.IDToken(t, fakesigstore.Claims{Email: "a@example.com"})
	cases := []struct {
		name, token, pop string
		want             int
	}{
		{"valid", good, pop(key, "a@example.com"), http.StatusOK},
		{"no token", "", pop(key, "a@example.com"), http.StatusUnauthorized},
		{"forged token", fs.ForgedIDToken(t, fakesigstore.Claims{Email: "a@example.com"}), pop(key, "a@example.com"), http.StatusUnauthorized},
		{"proof by another key", good, pop(other, "a@example.com"), http.StatusBadRequest},
		{"proof over another subject", good, pop(key, "b@example.com"), http.StatusBadRequest},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			body, _ := json.Marshal(map[string]any{"publicKeyRequest": map[string]any{
				"publicKey":         map[string]string{"algorithm": "ECDSA", "content": string(pemKey)},
				"proofOfPossession": tc.pop,
			}})
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, fs.FulcioURL+"/api/v2/signingCert", bytes.NewReader(body))
			if tc.token != "" {
				req.Header.Set("Authorization", "Bearer "+tc.token)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.want)
			}
		})
	}
}

// The TSA refuses a body that is not a timestamp query.
func TestTSARefusesGarbage(t *testing.T) {
	fs := fakesigstore.New(t, fakesigstore.Options{})
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, fs.TSAURL, bytes.NewReader([]byte("not DER")))
	req.Header.Set("Content-Type", "application/timestamp-query")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("status %d", resp.StatusCode)
	}
}

// The trusted root's JSON parses back with both authorities.
func TestTrustedRootJSON(t *testing.T) {
	fs := fakesigstore.New(t, fakesigstore.Options{})
	raw := fs.TrustedRootJSON(t)
	tr, err := root.NewTrustedRootFromJSON(raw)
	if err != nil || len(tr.FulcioCertificateAuthorities()) != 1 || len(tr.TimestampingAuthorities()) != 1 {
		t.Fatalf("%v: %s", err, raw)
	}
}
