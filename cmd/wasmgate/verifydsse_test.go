package main

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	ssldsse "github.com/secure-systems-lab/go-securesystemslib/dsse"
	"github.com/secure-systems-lab/go-securesystemslib/signerverifier"

	"github.com/wasmgate/wasmgate/internal/testrig/testkit"
)

// dsseKey is a P-256 key made in the test: go-securesystemslib's signer,
// and the public key's PEM file.
func dsseKey(t *testing.T, dir, name string) (ssldsse.Signer, string) {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	sk, err := signerverifier.LoadKey(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	if err != nil {
		t.Fatal(err)
	}
	s, err := signerverifier.NewECDSASignerVerifierFromSSLibKey(sk)
	if err != nil {
		t.Fatal(err)
	}
	pub := filepath.Join(dir, name)
	testkit.WritePublicKey(t, pub, crypto.PublicKey(priv.Public()))
	return s, pub
}

func dsseEnvelope(t *testing.T, dir, name, payloadType, payload string, signers ...ssldsse.Signer) string {
	t.Helper()
	es, err := ssldsse.NewEnvelopeSigner(signers...)
	if err != nil {
		t.Fatal(err)
	}
	env, err := es.SignPayload(context.Background(), payloadType, []byte(payload))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := json.Marshal(env)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestVerifyDSSECLI(t *testing.T) {
	dir := t.TempDir()
	const typ, payload = "application/vnd.example.release+json", `{"release":"v1.2.3"}`
	a, aPub := dsseKey(t, dir, "a.pub")
	b, bPub := dsseKey(t, dir, "b.pub")
	_, cPub := dsseKey(t, dir, "c.pub")
	both := dsseEnvelope(t, dir, "both.json", typ, payload, a, b)
	onlyA := dsseEnvelope(t, dir, "a.json", typ, payload, a)

	t.Run("verified, payload written", func(t *testing.T) {
		out := filepath.Join(dir, "payload.json")
		code, stdout, stderr := wasmgate(t, "verify-dsse", both, "--key", aPub, "--payload-type", typ, "--output-payload", out)
		if code != exitOK || !strings.Contains(stdout, "✓") || !strings.Contains(stdout, aPub) || !strings.Contains(stdout, typ) {
			t.Fatalf("code %d\n%s%s", code, stdout, stderr)
		}
		if got := string(testkit.ReadFile(t, out)); got != payload {
			t.Fatalf("payload file holds %q", got)
		}
	})
	t.Run("threshold 2, JSON", func(t *testing.T) {
		// Flags after the envelope, as cosign users type them.
		code, stdout, stderr := wasmgate(t, "verify-dsse", both, "--key", aPub, "--key", cPub, "--key", bPub, "--threshold", "2", "--output", "json")
		var r dsseOutput
		if code != exitOK || json.Unmarshal([]byte(stdout), &r) != nil || !r.Verified || len(r.Signers) != 2 || r.Threshold != 2 ||
			r.PayloadType != typ || r.PayloadSize != len(payload) || r.Signers[0].Key != aPub || r.Signers[1].Key != bPub {
			t.Fatalf("code %d\n%s%s", code, stdout, stderr)
		}
	})
	t.Run("denied", func(t *testing.T) {
		for name, args := range map[string][]string{
			"wrong key":             {onlyA, "--key", bPub},
			"threshold not met":     {onlyA, "--key", aPub, "--key", bPub, "--threshold", "2"},
			"another payload type":  {both, "--key", aPub, "--payload-type", "application/vnd.in-toto+json"},
			"malformed envelope":    {testkit.TempFile(t, "bad.json", []byte(`{"payloadType": "t", "payload": "%%", "signatures": [{"sig": "AA=="}]}`)), "--key", aPub},
			"oversized envelope":    {testkit.TempFile(t, "big.json", make([]byte, 16<<20+1)), "--key", aPub},
			"not an envelope, JSON": {testkit.TempFile(t, "x.json", []byte(`{}`)), "--key", aPub, "--output", "json"},
		} {
			t.Run(name, func(t *testing.T) {
				out := filepath.Join(t.TempDir(), "payload")
				code, stdout, stderr := wasmgate(t, append(append([]string{"verify-dsse"}, args...), "--output-payload", out)...)
				if code != exitDenied || !strings.Contains(stdout, "DSSE") {
					t.Fatalf("code %d, want %d\n%s%s", code, exitDenied, stdout, stderr)
				}
				if _, err := os.Stat(out); !os.IsNotExist(err) {
					t.Fatalf("a payload was written for a refused envelope: %v", err)
				}
			})
		}
	})
	t.Run("usage", func(t *testing.T) {
		notKey := testkit.TempFile(t, "k.pem", []byte("not a key"))
		for name, args := range map[string][]string{
			"no key":                 {both},
			"no envelope":            {"--key", aPub},
			"missing envelope":       {filepath.Join(dir, "nope.json"), "--key", aPub},
			"not a key":              {both, "--key", notKey},
			"threshold 0":            {both, "--key", aPub, "--threshold", "0"},
			"threshold over keys":    {both, "--key", aPub, "--key", aPub, "--threshold", "2"},
			"threshold not a number": {both, "--key", aPub, "--threshold", "two"},
		} {
			t.Run(name, func(t *testing.T) {
				code, stdout, stderr := wasmgate(t, append([]string{"verify-dsse"}, args...)...)
				if code != exitUsage || !strings.Contains(stderr, "verify-dsse --help") {
					t.Fatalf("code %d, want %d\n%s%s", code, exitUsage, stdout, stderr)
				}
			})
		}
	})
}
