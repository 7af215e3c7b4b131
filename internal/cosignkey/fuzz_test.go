package cosignkey

import (
	"crypto/elliptic"
	"crypto/x509"
	"errors"
	"testing"
)

// sentinels are the errors every failure must match: a caller branches on
// these and nothing else.
var sentinels = []error{ErrNotPEM, ErrUnsupportedKey, ErrMalformedKey, ErrWrongPassword, ErrNoPassword}

func matchesSentinel(err error) bool {
	for _, s := range sentinels {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}

// FuzzLoadPrivateKey: no input panics, every failure is one of the
// sentinels, and every key loaded passes LoadPublicKey's policy too.
// Encrypted inputs cost a scrypt derivation (64 MiB, ~100 ms) each; the
// library refuses parameters other than its three fixed sets, so a fuzzed
// envelope cannot ask for more.
func FuzzLoadPrivateKey(f *testing.F) {
	f.Add(mustGenerate(f, "pw"))
	f.Add(pemOf(f, "PRIVATE KEY", pkcs8(f, mustECDSA(f, elliptic.P256()))))
	f.Add(pemOf(f, "PRIVATE KEY", pkcs8(f, mustEd25519(f))))
	f.Add(pemOf(f, "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(mustRSA(f, 1024))))
	f.Add(pemOf(f, "ENCRYPTED COSIGN PRIVATE KEY", []byte(`{"kdf":{"name":"scrypt","params":{"N":1,"r":1,"p":1}},"cipher":{"name":"nacl/secretbox","nonce":"AA=="},"ciphertext":"AA=="}`)))
	f.Add([]byte("-----BEGIN PRIVATE KEY-----\n-----END PRIVATE KEY-----\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := LoadPrivateKey(data, func() ([]byte, error) { return []byte("pw"), nil })
		if err != nil {
			if !matchesSentinel(err) {
				t.Fatalf("error matches no sentinel: %v", err)
			}
			return
		}
		if _, err := LoadPublicKey(pkix(t, s.Public())); err != nil {
			t.Fatalf("loaded a private key whose public key is refused: %v", err)
		}
	})
}

func FuzzLoadPublicKey(f *testing.F) {
	f.Add(pkix(f, mustECDSA(f, elliptic.P256()).Public()))
	f.Add(pkix(f, mustEd25519(f).Public()))
	f.Add(pkix(f, mustRSA(f, 1024).Public()))
	f.Add([]byte("-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		pub, err := LoadPublicKey(data)
		if err != nil {
			if !matchesSentinel(err) {
				t.Fatalf("error matches no sentinel: %v", err)
			}
			return
		}
		if pub == nil {
			t.Fatal("nil key without an error")
		}
	})
}
