package dsse

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math/big"
	"sync"
	"testing"

	ssldsse "github.com/secure-systems-lab/go-securesystemslib/dsse"
	"github.com/secure-systems-lab/go-securesystemslib/signerverifier"
	"github.com/sigstore/sigstore/pkg/signature"
	sigdsse "github.com/sigstore/sigstore/pkg/signature/dsse"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

const (
	testPayloadType = "application/vnd.example.release+json"
	testPayload     = `{"release":"v1.2.3"}`
)

// testSigner is a key made in the test with go-securesystemslib's signer
// for it (or, for RSA PKCS #1 v1.5, which it has no signer for,
// sigstore's), and the Key that verifies it.
type testSigner struct {
	name   string
	signer ssldsse.Signer
	key    Key
	opts   Options
}

// sslibSigner is go-securesystemslib's signer for priv, loaded the way
// its users load one: from a PKCS #8 PEM file's bytes.
func sslibSigner(t testing.TB, priv crypto.Signer) ssldsse.Signer {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	sk, err := signerverifier.LoadKey(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	if err != nil {
		t.Fatal(err)
	}
	var s ssldsse.Signer
	switch priv.(type) {
	case *ecdsa.PrivateKey:
		s, err = signerverifier.NewECDSASignerVerifierFromSSLibKey(sk)
	case *rsa.PrivateKey:
		s, err = signerverifier.NewRSAPSSSignerVerifierFromSSLibKey(sk)
	case ed25519.PrivateKey:
		s, err = signerverifier.NewED25519SignerVerifierFromSSLibKey(sk)
	}
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// p1363 signs with s and re-encodes its ASN.1 DER ECDSA signatures as
// fixed-width r||s, as a KMS would return them.
type p1363 struct {
	ssldsse.Signer
	size int
}

func (p p1363) Sign(ctx context.Context, data []byte) ([]byte, error) {
	der, err := p.Signer.Sign(ctx, data)
	if err != nil {
		return nil, err
	}
	in, r, s := cryptobyte.String(der), new(big.Int), new(big.Int)
	var seq cryptobyte.String
	if !in.ReadASN1(&seq, cbasn1.SEQUENCE) || !seq.ReadASN1Integer(r) || !seq.ReadASN1Integer(s) {
		return nil, errors.New("the signer's signature is not DER")
	}
	out := make([]byte, 2*p.size)
	r.FillBytes(out[:p.size])
	s.FillBytes(out[p.size:])
	return out, nil
}

func mustKey(t testing.TB, pub crypto.PublicKey) Key {
	t.Helper()
	k, err := NewKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func newECDSA(t testing.TB, c elliptic.Curve) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(c, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// rsaKey is one RSA key for the package's tests: making one is slow
// under -race.
var rsaKey = sync.OnceValues(func() (*rsa.PrivateKey, error) { return rsa.GenerateKey(rand.Reader, 2048) })

func newRSA(t testing.TB) *rsa.PrivateKey {
	t.Helper()
	k, err := rsaKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// testSigners is one signer of every kind Verify accepts.
func testSigners(t testing.TB) []testSigner {
	t.Helper()
	var out []testSigner
	for _, c := range []struct {
		name  string
		curve elliptic.Curve
		raw   bool
	}{
		{"ECDSA P-256 DER", elliptic.P256(), false},
		{"ECDSA P-256 r||s", elliptic.P256(), true},
		{"ECDSA P-384 DER", elliptic.P384(), false},
		{"ECDSA P-384 r||s", elliptic.P384(), true},
		{"ECDSA P-521 DER", elliptic.P521(), false},
		{"ECDSA P-521 r||s", elliptic.P521(), true},
	} {
		priv := newECDSA(t, c.curve)
		s := sslibSigner(t, priv)
		if c.raw {
			s = p1363{s, (c.curve.Params().BitSize + 7) / 8}
		}
		out = append(out, testSigner{name: c.name, signer: s, key: mustKey(t, priv.Public())})
	}
	rsaPriv := newRSA(t)
	out = append(out, testSigner{name: "RSA-PSS", signer: sslibSigner(t, rsaPriv), key: mustKey(t, rsaPriv.Public())})
	v15, err := signature.LoadRSAPKCS1v15SignerVerifier(rsaPriv, crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	out = append(out, testSigner{name: "RSA PKCS1v15", signer: &sigdsse.SignerAdapter{SignatureSigner: v15, Pub: rsaPriv.Public()},
		key: mustKey(t, rsaPriv.Public()), opts: Options{RSAPKCS1v15: true}})
	_, edPriv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	out = append(out, testSigner{name: "Ed25519", signer: sslibSigner(t, edPriv), key: mustKey(t, edPriv.Public())})
	return out
}

// sign is the JSON envelope the signers make over payloadType and payload.
func sign(t testing.TB, payloadType, payload string, signers ...ssldsse.Signer) []byte {
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
	return raw
}

func parse(t testing.TB, raw []byte) *ssldsse.Envelope {
	t.Helper()
	env, err := ParseEnvelope(raw)
	if err != nil {
		t.Fatal(err)
	}
	return env
}

func TestVerifyDSSEEachKeyType(t *testing.T) {
	signers := testSigners(t)
	for i, s := range signers {
		t.Run(s.name, func(t *testing.T) {
			raw := sign(t, testPayloadType, testPayload, s.signer)
			env := parse(t, raw)
			hint, _ := s.signer.KeyID()
			r, err := Verify(env, []Key{s.key}, Options{PayloadType: testPayloadType, RSAPKCS1v15: s.opts.RSAPKCS1v15})
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if string(r.Payload) != testPayload || r.PayloadType != testPayloadType || r.Threshold != 1 ||
				len(r.Verified) != 1 || r.Verified[0].KeyID != s.key.ID() || r.Verified[0].Hint != hint {
				t.Fatalf("result %+v, payload %q", r, r.Payload)
			}

			refuse := func(t *testing.T, env *ssldsse.Envelope, keys []Key) {
				t.Helper()
				_, err := Verify(env, keys, s.opts)
				var te *ThresholdError
				if !errors.Is(err, ErrThreshold) || !errors.As(err, &te) || len(te.Verified) != 0 {
					t.Fatalf("err = %v, want a ThresholdError with no key verified", err)
				}
			}
			t.Run("tampered payload", func(t *testing.T) {
				e := parse(t, raw)
				e.Payload = base64.StdEncoding.EncodeToString([]byte(`{"release":"v6.6.6"}`))
				refuse(t, e, []Key{s.key})
			})
			t.Run("tampered payloadType", func(t *testing.T) {
				e := parse(t, raw)
				e.PayloadType = "application/vnd.in-toto+json"
				refuse(t, e, []Key{s.key})
			})
			t.Run("wrong key", func(t *testing.T) {
				other := signers[(i+1)%len(signers)].key
				if other.ID() == s.key.ID() {
					other = signers[(i+2)%len(signers)].key
				}
				refuse(t, parse(t, raw), []Key{other})
			})
		})
	}
}

// An RSA key verifies the scheme asked for, never the other as well.
func TestVerifyDSSERSASchemes(t *testing.T) {
	priv := newRSA(t)
	key := mustKey(t, priv.Public())
	pss := parse(t, sign(t, testPayloadType, testPayload, sslibSigner(t, priv)))
	v15signer, err := signature.LoadRSAPKCS1v15SignerVerifier(priv, crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	v15 := parse(t, sign(t, testPayloadType, testPayload, &sigdsse.SignerAdapter{SignatureSigner: v15signer, Pub: priv.Public()}))
	for _, tc := range []struct {
		name string
		env  *ssldsse.Envelope
		opts Options
		ok   bool
	}{
		{"PSS as PSS", pss, Options{}, true},
		{"PSS as PKCS1v15", pss, Options{RSAPKCS1v15: true}, false},
		{"PKCS1v15 as PKCS1v15", v15, Options{RSAPKCS1v15: true}, true},
		{"PKCS1v15 as PSS", v15, Options{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Verify(tc.env, []Key{key}, tc.opts)
			if tc.ok && err != nil || !tc.ok && !errors.Is(err, ErrThreshold) {
				t.Fatalf("err = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

func TestVerifyDSSEThreshold(t *testing.T) {
	a, b, c := newECDSA(t, elliptic.P256()), newECDSA(t, elliptic.P256()), newECDSA(t, elliptic.P256())
	ka, kb, kc := mustKey(t, a.Public()), mustKey(t, b.Public()), mustKey(t, c.Public())
	sa, sb := sslibSigner(t, a), sslibSigner(t, b)
	both := parse(t, sign(t, testPayloadType, testPayload, sa, sb))
	onlyA := parse(t, sign(t, testPayloadType, testPayload, sa))
	// Two signatures by a: ECDSA signs randomly, so they differ, and an
	// exact copy of one as well.
	twiceA := parse(t, sign(t, testPayloadType, testPayload, sa, sa))
	copied := parse(t, sign(t, testPayloadType, testPayload, sa))
	copied.Signatures = append(copied.Signatures, copied.Signatures[0])
	if twiceA.Signatures[0].Sig == twiceA.Signatures[1].Sig {
		t.Fatal("two ECDSA signatures by one key are equal")
	}

	for _, tc := range []struct {
		name      string
		env       *ssldsse.Envelope
		keys      []Key
		threshold int
		verified  []string // nil: an error
	}{
		{"2 of 2", both, []Key{ka, kb}, 2, []string{ka.ID(), kb.ID()}},
		{"2 of 3", both, []Key{kc, kb, ka}, 2, []string{ka.ID(), kb.ID()}},
		{"1 of 2, default", both, []Key{kb, kc}, 0, []string{kb.ID()}},
		{"one signer, 2 needed", onlyA, []Key{ka, kb}, 2, nil},
		{"two signatures by one key, 2 needed", twiceA, []Key{ka, kb}, 2, nil},
		{"a copied signature, 2 needed", copied, []Key{ka, kb}, 2, nil},
		{"a copied signature, 1 needed", copied, []Key{ka, kb}, 1, []string{ka.ID()}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Verify(tc.env, tc.keys, Options{Threshold: tc.threshold})
			if tc.verified == nil {
				var te *ThresholdError
				if !errors.As(err, &te) || !errors.Is(err, ErrThreshold) {
					t.Fatalf("err = %v, want a ThresholdError", err)
				}
				if len(te.Verified) != 1 || te.Verified[0] != ka.ID() || te.Threshold != 2 {
					t.Fatalf("ThresholdError %+v: only a's key verified", te)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, s := range r.Verified {
				got = append(got, s.KeyID)
			}
			if len(got) != len(tc.verified) {
				t.Fatalf("verified %v, want %v", got, tc.verified)
			}
			for i := range got {
				if got[i] != tc.verified[i] {
					t.Fatalf("verified %v, want %v", got, tc.verified)
				}
			}
		})
	}
}

// The same key twice is one key: it cannot meet a threshold of two.
func TestVerifyDSSEOptions(t *testing.T) {
	a := newECDSA(t, elliptic.P256())
	ka := mustKey(t, a.Public())
	env := parse(t, sign(t, testPayloadType, testPayload, sslibSigner(t, a), sslibSigner(t, a)))
	for name, tc := range map[string]struct {
		keys []Key
		opts Options
	}{
		"no key":              {nil, Options{}},
		"the zero Key":        {[]Key{{}}, Options{}},
		"negative threshold":  {[]Key{ka}, Options{Threshold: -1}},
		"threshold over keys": {[]Key{ka, ka}, Options{Threshold: 2}},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := Verify(env, tc.keys, tc.opts); !errors.Is(err, ErrOptions) {
				t.Fatalf("err = %v, want ErrOptions", err)
			}
		})
	}
}

func TestVerifyDSSEPayloadType(t *testing.T) {
	a := newECDSA(t, elliptic.P256())
	ka := mustKey(t, a.Public())
	env := parse(t, sign(t, testPayloadType, testPayload, sslibSigner(t, a)))
	_, err := Verify(env, []Key{ka}, Options{PayloadType: "application/vnd.in-toto+json"})
	var pe *PayloadTypeError
	if !errors.Is(err, ErrPayloadType) || !errors.As(err, &pe) || pe.Got != testPayloadType || pe.Want != "application/vnd.in-toto+json" {
		t.Fatalf("err = %v, want a PayloadTypeError", err)
	}
	// An envelope that does not verify says so, whatever type it claims.
	if _, err := Verify(env, []Key{mustKey(t, newECDSA(t, elliptic.P256()).Public())}, Options{PayloadType: "application/vnd.in-toto+json"}); !errors.Is(err, ErrThreshold) {
		t.Fatalf("unverified and of another type: err = %v, want ErrThreshold", err)
	}
}

func TestDSSEECDSAEncodings(t *testing.T) {
	der := []byte{0x30, 0x06, 0x02, 0x01, 0x05, 0x02, 0x01, 0x07}
	if got, err := ecdsaDER(der, 32); err != nil || string(got) != string(der) {
		t.Fatalf("DER: %x, %v", got, err)
	}
	raw := make([]byte, 64)
	raw[31], raw[63] = 5, 7
	if got, err := ecdsaDER(raw, 32); err != nil || string(got) != string(der) {
		t.Fatalf("r||s 5, 7: %x, %v, want %x", got, err, der)
	}
	// A high bit in r needs DER's leading zero.
	raw[0] = 0x80
	got, err := ecdsaDER(raw, 32)
	if err != nil || got[2] != 0x02 || got[3] != 33 || got[4] != 0 {
		t.Fatalf("r||s with a high bit: %x, %v", got, err)
	}
	for name, sig := range map[string][]byte{
		"63 bytes":           raw[:63],
		"DER with a trailer": append(append([]byte(nil), der...), 0),
		"empty":              nil,
	} {
		if _, err := ecdsaDER(sig, 32); !errors.Is(err, errSigEncoding) {
			t.Errorf("%s: err = %v, want errSigEncoding", name, err)
		}
	}
}

func TestDSSELoadPublicKey(t *testing.T) {
	a := newECDSA(t, elliptic.P384())
	der, err := x509.MarshalPKIXPublicKey(a.Public())
	if err != nil {
		t.Fatal(err)
	}
	k, err := LoadPublicKey(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	if err != nil || k.ID() != mustKey(t, a.Public()).ID() || !a.PublicKey.Equal(k.Public()) {
		t.Fatalf("LoadPublicKey: %v", err)
	}
	priv, err := x509.MarshalPKCS8PrivateKey(a)
	if err != nil {
		t.Fatal(err)
	}
	weak, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	weakDER, err := x509.MarshalPKIXPublicKey(weak.Public())
	if err != nil {
		t.Fatal(err)
	}
	for name, in := range map[string][]byte{
		"not PEM":     []byte("ssh-ed25519 AAAA"),
		"private key": pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: priv}),
		"RSA 1024":    pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: weakDER}),
		"damaged DER": pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der[:20]}),
	} {
		if _, err := LoadPublicKey(in); !errors.Is(err, ErrKey) {
			t.Errorf("%s: err = %v, want ErrKey", name, err)
		}
	}
	if _, err := NewKey(weak.Public()); !errors.Is(err, ErrKey) {
		t.Errorf("NewKey(RSA 1024): err = %v, want ErrKey", err)
	}
	// Regression: goodkey accepts an Ed25519 key of any length, on which
	// ed25519.Verify panics.
	if _, err := NewKey(ed25519.PublicKey(make([]byte, 16))); !errors.Is(err, ErrKey) {
		t.Errorf("NewKey(16-byte Ed25519): err = %v, want ErrKey", err)
	}
	if _, err := NewKey("a string"); !errors.Is(err, ErrKey) {
		t.Errorf("NewKey(string): err = %v, want ErrKey", err)
	}
}
