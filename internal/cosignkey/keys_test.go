package cosignkey

import (
	"bytes"
	"crypto"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/secure-systems-lab/go-securesystemslib/encrypted"
	"github.com/sigstore/sigstore/pkg/signature"
)

// static is a PasswordFunc that counts its calls.
func static(pw string, calls *int) PasswordFunc {
	return func() ([]byte, error) {
		*calls++
		return []byte(pw), nil
	}
}

// noPassword fails the test if a password is asked for.
func noPassword(t *testing.T) PasswordFunc {
	return func() ([]byte, error) {
		t.Error("password asked for an unencrypted key")
		return nil, errors.New("unexpected password prompt")
	}
}

// signAndVerify signs msg with s the way a caller of crypto.Signer would and
// checks the signature with sigstore's verifier for pub.
func signAndVerify(t *testing.T, s crypto.Signer, pub crypto.PublicKey, msg []byte) {
	t.Helper()
	hash := crypto.SHA256
	switch k := s.Public().(type) {
	case ed25519.PublicKey:
		hash = crypto.Hash(0)
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P384():
			hash = crypto.SHA384
		case elliptic.P521():
			hash = crypto.SHA512
		}
	}
	digest := msg
	if hash != 0 {
		h := hash.New()
		h.Write(msg)
		digest = h.Sum(nil)
	}
	sig, err := s.Sign(rand.Reader, digest, hash)
	if err != nil {
		t.Fatalf("Sign: %v", err)
	}
	v, err := signature.LoadVerifier(pub, hash)
	if err != nil {
		t.Fatalf("LoadVerifier: %v", err)
	}
	if err := v.VerifySignature(bytes.NewReader(sig), bytes.NewReader(msg)); err != nil {
		t.Fatalf("signature does not verify with the loaded public key: %v", err)
	}
}

func pemOf(t testing.TB, typ string, der []byte) []byte {
	t.Helper()
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

func pkcs8(t testing.TB, key any) []byte {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func pkix(t testing.TB, pub any) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return pemOf(t, "PUBLIC KEY", der)
}

func mustECDSA(t testing.TB, c elliptic.Curve) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(c, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func mustRSA(t testing.TB, bits int) *rsa.PrivateKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func mustEd25519(t testing.TB) ed25519.PrivateKey {
	t.Helper()
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestGenerateKeyPairRoundTrip(t *testing.T) {
	t.Parallel()
	for _, pw := range []string{"correct horse battery staple", ""} {
		t.Run("password="+pw, func(t *testing.T) {
			t.Parallel()
			privPEM, pubPEM, err := GenerateKeyPair([]byte(pw))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(privPEM, []byte("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n")) {
				t.Errorf("private key PEM starts %q", privPEM[:min(len(privPEM), 50)])
			}
			if !bytes.HasPrefix(pubPEM, []byte("-----BEGIN PUBLIC KEY-----\n")) {
				t.Errorf("public key PEM starts %q", pubPEM[:min(len(pubPEM), 30)])
			}
			calls := 0
			s, err := LoadPrivateKey(privPEM, static(pw, &calls))
			if err != nil {
				t.Fatal(err)
			}
			if calls != 1 {
				t.Errorf("password asked %d times, want 1", calls)
			}
			k, ok := s.(*ecdsa.PrivateKey)
			if !ok || k.Curve != elliptic.P256() {
				t.Fatalf("loaded %T, want an ECDSA P-256 key", s)
			}
			pub, err := LoadPublicKey(pubPEM)
			if err != nil {
				t.Fatal(err)
			}
			if !k.PublicKey.Equal(pub) {
				t.Error("public key file does not hold the private key's public key")
			}
			signAndVerify(t, s, pub, []byte("wasm module bytes"))
		})
	}
}

// TestGenerateKeyPairNilPassword pins that nil means the empty password,
// not "unencrypted": cosign encrypts with an empty password too.
func TestGenerateKeyPairNilPassword(t *testing.T) {
	t.Parallel()
	privPEM, _, err := GenerateKeyPair(nil)
	if err != nil {
		t.Fatal(err)
	}
	calls := 0
	if _, err := LoadPrivateKey(privPEM, static("", &calls)); err != nil {
		t.Fatal(err)
	}
	if calls != 1 {
		t.Errorf("password asked %d times, want 1 (the key must be encrypted)", calls)
	}
}

func TestLoadPrivateKeyWrongPassword(t *testing.T) {
	t.Parallel()
	privPEM, _, err := GenerateKeyPair([]byte("right"))
	if err != nil {
		t.Fatal(err)
	}
	for _, pw := range []string{"wrong", ""} {
		calls := 0
		_, err := LoadPrivateKey(privPEM, static(pw, &calls))
		if !errors.Is(err, ErrWrongPassword) {
			t.Errorf("password %q: err = %v, want ErrWrongPassword", pw, err)
		}
	}
}

// TestLoadPrivateKeyCosignPEMType: keys written by cosign before v2 carry
// the older PEM type and the legacy scrypt parameters (N=2^15).
func TestLoadPrivateKeyCosignPEMType(t *testing.T) {
	t.Parallel()
	k := mustECDSA(t, elliptic.P256())
	envelope, err := encrypted.EncryptWithCustomKDFParameters(pkcs8(t, k), []byte("pw"), encrypted.Legacy)
	if err != nil {
		t.Fatal(err)
	}
	calls := 0
	s, err := LoadPrivateKey(pemOf(t, "ENCRYPTED COSIGN PRIVATE KEY", envelope), static("pw", &calls))
	if err != nil {
		t.Fatal(err)
	}
	if !k.Equal(s) {
		t.Error("loaded key differs from the one encrypted")
	}
}

func TestLoadPrivateKeyPlain(t *testing.T) {
	t.Parallel()
	p256 := mustECDSA(t, elliptic.P256())
	p384 := mustECDSA(t, elliptic.P384())
	p521 := mustECDSA(t, elliptic.P521())
	ed := mustEd25519(t)
	rsa2048 := mustRSA(t, 2048)
	sec1, err := x509.MarshalECPrivateKey(p384)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		pem  []byte
		key  crypto.Signer
	}{
		{"PKCS8 ECDSA P-256", pemOf(t, "PRIVATE KEY", pkcs8(t, p256)), p256},
		{"PKCS8 ECDSA P-384", pemOf(t, "PRIVATE KEY", pkcs8(t, p384)), p384},
		{"PKCS8 ECDSA P-521", pemOf(t, "PRIVATE KEY", pkcs8(t, p521)), p521},
		{"PKCS8 Ed25519", pemOf(t, "PRIVATE KEY", pkcs8(t, ed)), ed},
		{"PKCS8 RSA 2048", pemOf(t, "PRIVATE KEY", pkcs8(t, rsa2048)), rsa2048},
		{"SEC1 ECDSA P-384", pemOf(t, "EC PRIVATE KEY", sec1), p384},
		{"PKCS1 RSA 2048", pemOf(t, "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rsa2048)), rsa2048},
		{"text before the PEM block", append([]byte("# made by openssl\n"), pemOf(t, "PRIVATE KEY", pkcs8(t, p256))...), p256},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, err := LoadPrivateKey(tc.pem, noPassword(t))
			if err != nil {
				t.Fatal(err)
			}
			if !tc.key.Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(s.Public()) {
				t.Fatal("loaded key differs from the one encoded")
			}
			pub, err := LoadPublicKey(pkix(t, tc.key.Public()))
			if err != nil {
				t.Fatal(err)
			}
			signAndVerify(t, s, pub, []byte("payload"))
		})
	}
	t.Run("nil password func", func(t *testing.T) {
		t.Parallel()
		if _, err := LoadPrivateKey(pemOf(t, "PRIVATE KEY", pkcs8(t, p256)), nil); err != nil {
			t.Fatal(err)
		}
	})
}

func TestLoadPrivateKeyErrors(t *testing.T) {
	t.Parallel()
	p256 := mustECDSA(t, elliptic.P256())
	p224 := mustECDSA(t, elliptic.P224())
	rsa1024 := mustRSA(t, 1024)
	x25519, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	encryptedP224, err := encrypted.Encrypt(pkcs8(t, p224), []byte("pw"))
	if err != nil {
		t.Fatal(err)
	}
	otherKDF := []byte(`{"kdf":{"name":"argon2id","params":{}},"cipher":{"name":"nacl/secretbox","nonce":""},"ciphertext":""}`)
	legacyOpenSSL := pem.EncodeToMemory(&pem.Block{
		Type:    "EC PRIVATE KEY",
		Headers: map[string]string{"Proc-Type": "4,ENCRYPTED", "DEK-Info": "AES-256-CBC,00000000000000000000000000000000"},
		Bytes:   []byte("not really"),
	})
	for _, tc := range []struct {
		name string
		pem  []byte
		pw   PasswordFunc
		want error
	}{
		{"garbage", []byte("this is not a key"), nil, ErrNotPEM},
		{"empty", nil, nil, ErrNotPEM},
		{"RSA 1024 PKCS8", pemOf(t, "PRIVATE KEY", pkcs8(t, rsa1024)), nil, ErrUnsupportedKey},
		{"RSA 1024 PKCS1", pemOf(t, "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rsa1024)), nil, ErrUnsupportedKey},
		{"ECDSA P-224", pemOf(t, "PRIVATE KEY", pkcs8(t, p224)), nil, ErrUnsupportedKey},
		{"ECDSA P-224 encrypted", pemOf(t, "ENCRYPTED SIGSTORE PRIVATE KEY", encryptedP224), func() ([]byte, error) { return []byte("pw"), nil }, ErrUnsupportedKey},
		{"X25519 is not a signing key", pemOf(t, "PRIVATE KEY", pkcs8(t, x25519)), nil, ErrUnsupportedKey},
		{"public key", pkix(t, p256.Public()), nil, ErrUnsupportedKey},
		{"PKCS8 encrypted (openssl)", pemOf(t, "ENCRYPTED PRIVATE KEY", []byte{0x30, 0}), nil, ErrUnsupportedKey},
		{"legacy OpenSSL encryption", legacyOpenSSL, nil, ErrUnsupportedKey},
		{"other KDF", pemOf(t, "ENCRYPTED SIGSTORE PRIVATE KEY", otherKDF), nil, ErrUnsupportedKey},
		{"damaged DER", pemOf(t, "PRIVATE KEY", []byte{0x30, 0x03, 0x02, 0x01}), nil, ErrMalformedKey},
		{"envelope not JSON", pemOf(t, "ENCRYPTED SIGSTORE PRIVATE KEY", []byte("{")), nil, ErrMalformedKey},
		{"encrypted, no password func", pemOf(t, "ENCRYPTED SIGSTORE PRIVATE KEY", encryptedP224), nil, ErrNoPassword},
		{"encrypted, env not set", pemOf(t, "ENCRYPTED SIGSTORE PRIVATE KEY", encryptedP224), func() ([]byte, error) { return nil, ErrNoPassword }, ErrNoPassword},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, err := LoadPrivateKey(tc.pem, tc.pw)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if s != nil {
				t.Errorf("signer %T returned with an error", s)
			}
		})
	}
}

// TestErrorsWrapCauses: the library's own error stays reachable, and the
// message says what is accepted.
func TestErrorsWrapCauses(t *testing.T) {
	t.Parallel()
	_, err := LoadPrivateKey(pemOf(t, "PRIVATE KEY", []byte{0x30, 0x03, 0x02, 0x01}), nil)
	var syntaxErr asn1.SyntaxError
	if !errors.Is(err, ErrMalformedKey) || !errors.As(err, &syntaxErr) {
		t.Fatalf("err = %v: want ErrMalformedKey with the asn1 cause wrapped", err)
	}
	_, err = LoadPrivateKey(pemOf(t, "PRIVATE KEY", pkcs8(t, mustECDSA(t, elliptic.P224()))), nil)
	if !strings.Contains(err.Error(), "ECDSA P-224") || !strings.Contains(err.Error(), acceptedKeys) {
		t.Errorf("message %q should name the key and the accepted ones", err)
	}
	_, err = LoadPrivateKey(pemOf(t, "OPENSSH PRIVATE KEY", []byte{1}), nil)
	if !errors.Is(err, ErrUnsupportedKey) || !strings.Contains(err.Error(), "ENCRYPTED SIGSTORE PRIVATE KEY") {
		t.Errorf("err = %v: want ErrUnsupportedKey listing the accepted PEM types", err)
	}
	cause := errors.New("terminal went away")
	_, err = LoadPrivateKey(mustGenerate(t, "pw"), func() ([]byte, error) { return nil, cause })
	if !errors.Is(err, cause) {
		t.Errorf("err = %v: want the password func's error wrapped", err)
	}
}

func mustGenerate(t testing.TB, pw string) []byte {
	t.Helper()
	privPEM, _, err := GenerateKeyPair([]byte(pw))
	if err != nil {
		t.Fatal(err)
	}
	return privPEM
}

func TestLoadPublicKeyErrors(t *testing.T) {
	t.Parallel()
	p256 := mustECDSA(t, elliptic.P256())
	for _, tc := range []struct {
		name string
		pem  []byte
		want error
	}{
		{"garbage", []byte("ssh-ed25519 AAAA"), ErrNotPEM},
		{"RSA 1024", pkix(t, mustRSA(t, 1024).Public()), ErrUnsupportedKey},
		{"ECDSA P-224", pkix(t, mustECDSA(t, elliptic.P224()).Public()), ErrUnsupportedKey},
		{"private key", pemOf(t, "PRIVATE KEY", pkcs8(t, p256)), ErrUnsupportedKey},
		{"certificate", pemOf(t, "CERTIFICATE", []byte{0x30, 0}), ErrUnsupportedKey},
		{"damaged DER", pemOf(t, "PUBLIC KEY", []byte{0x30, 0x01}), ErrMalformedKey},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			pub, err := LoadPublicKey(tc.pem)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if pub != nil {
				t.Errorf("key %T returned with an error", pub)
			}
		})
	}
}

// TestPassword cannot run in parallel: it sets the environment.
func TestPassword(t *testing.T) {
	prompted := 0
	prompt := func() ([]byte, error) { prompted++; return []byte("typed"), nil }

	t.Run("env set", func(t *testing.T) {
		t.Setenv(PasswordEnv, "from-env")
		for _, f := range []PasswordFunc{PasswordFromEnv(), Password(prompt)} {
			if pw, err := f(); err != nil || string(pw) != "from-env" {
				t.Errorf("got %q, %v; want from-env", pw, err)
			}
		}
		if prompted != 0 {
			t.Error("prompted although the variable is set")
		}
	})
	t.Run("env set empty", func(t *testing.T) {
		t.Setenv(PasswordEnv, "")
		pw, err := Password(prompt)()
		if err != nil || len(pw) != 0 || prompted != 0 {
			t.Errorf("got %q, %v, prompted %d; want the empty password from the environment", pw, err, prompted)
		}
	})
	t.Run("env unset", func(t *testing.T) {
		t.Setenv(PasswordEnv, "") // restores the caller's value afterwards
		if err := os.Unsetenv(PasswordEnv); err != nil {
			t.Fatal(err)
		}
		if _, err := PasswordFromEnv()(); !errors.Is(err, ErrNoPassword) {
			t.Errorf("err = %v, want ErrNoPassword", err)
		}
		if !strings.Contains(ErrNoPassword.Error(), PasswordEnv) {
			t.Errorf("ErrNoPassword %q should tell the user to set %s", ErrNoPassword, PasswordEnv)
		}
		if pw, err := Password(prompt)(); err != nil || string(pw) != "typed" || prompted != 1 {
			t.Errorf("got %q, %v, prompted %d; want the prompt's answer", pw, err, prompted)
		}
	})
}
