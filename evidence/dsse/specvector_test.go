package dsse

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"encoding/base64"
	"errors"
	"math/big"
	"strings"
	"testing"

	ssldsse "github.com/secure-systems-lab/go-securesystemslib/dsse"
)

// The DSSE specification's test vector, from protocol.md "Test Vectors"
// in github.com/secure-systems-lab/dsse (v1.0.0): public spec values, not
// results of this code. go-securesystemslib v0.11.0 checks the same
// values, but only as literals in its dsse/sign_test.go (no data file to
// read from the module cache), so they are written out here.
const (
	specPayloadType = "http://example.com/HelloWorld"
	specPayload     = "hello world"
	specPAE         = "DSSEv1 29 http://example.com/HelloWorld 11 hello world"
	// ECDSA over NIST P-256 and SHA-256, deterministic-rfc6979; the
	// signature is the raw concatenation of r and s.
	specX        = "46950820868899156662930047687818585632848591499744589407958293238635476079160"
	specY        = "5640078356564379163099075877009565129882514886557779369047442380624545832820"
	specEnvelope = `{"payload": "aGVsbG8gd29ybGQ=",
 "payloadType": "http://example.com/HelloWorld",
 "signatures": [{"sig": "A3JqsQGtVsJ2O2xqrI5IcnXip5GToJ3F+FnZ+O88SjtR6rDAajabZKciJTfUiHqJPcIAriEGAHTVeCUjW2JIZA=="}]}`
)

// specKey is the vector's public key, from its X and Y.
func specKey(t testing.TB) Key {
	t.Helper()
	point := []byte{4} // uncompressed
	for _, s := range []string{specX, specY} {
		n, ok := new(big.Int).SetString(s, 10)
		if !ok {
			t.Fatalf("not a number: %s", s)
		}
		point = append(point, n.FillBytes(make([]byte, 32))...)
	}
	pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), point)
	if err != nil {
		t.Fatal(err)
	}
	k, err := NewKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestDSSESpecTestVector(t *testing.T) {
	if got := string(ssldsse.PAE(specPayloadType, []byte(specPayload))); got != specPAE {
		t.Fatalf("PAE = %q, the spec says %q", got, specPAE)
	}
	env, err := ParseEnvelope([]byte(specEnvelope))
	if err != nil {
		t.Fatal(err)
	}
	sig, _ := base64.StdEncoding.DecodeString(env.Signatures[0].Sig)
	if len(sig) != 64 || sig[0] == 0x30 {
		t.Fatalf("the vector's signature is meant to be 64 bytes of r||s, not DER: % x", sig)
	}
	key := specKey(t)
	r, err := Verify(env, []Key{key}, Options{PayloadType: specPayloadType})
	if err != nil {
		t.Fatalf("the spec's own test vector does not verify: %v", err)
	}
	if string(r.Payload) != specPayload || r.PayloadType != specPayloadType ||
		len(r.Verified) != 1 || r.Verified[0].KeyID != key.ID() || r.Verified[0].Hint != "" {
		t.Fatalf("result %+v (payload %q)", r, r.Payload)
	}

	// Each change to the vector is refused: the payload, its type, a bit
	// of r and a bit of s.
	for name, edit := range map[string]func(*ssldsse.Envelope){
		"payload":     func(e *ssldsse.Envelope) { e.Payload = base64.StdEncoding.EncodeToString([]byte("hello world!")) },
		"payloadType": func(e *ssldsse.Envelope) { e.PayloadType = "http://example.com/HelloWorlds" },
		"r":           func(e *ssldsse.Envelope) { e.Signatures[0].Sig = flipBit(sig, 3) },
		"s":           func(e *ssldsse.Envelope) { e.Signatures[0].Sig = flipBit(sig, 40) },
		"truncated":   func(e *ssldsse.Envelope) { e.Signatures[0].Sig = base64.StdEncoding.EncodeToString(sig[:63]) },
	} {
		t.Run(name, func(t *testing.T) {
			e, err := ParseEnvelope([]byte(specEnvelope))
			if err != nil {
				t.Fatal(err)
			}
			edit(e)
			if _, err := Verify(e, []Key{key}, Options{}); !errors.Is(err, ErrThreshold) {
				t.Fatalf("tampered vector: err = %v, want ErrThreshold", err)
			}
		})
	}

	// URL-safe base64, which verifiers must accept too (protocol.md).
	// The vector's sig has both '+' and '/', which URL-safe base64 spells
	// differently.
	std := env.Signatures[0].Sig
	urlSafe := strings.Replace(specEnvelope, std, base64.URLEncoding.EncodeToString(sig), 1)
	if !strings.ContainsAny(std, "+/") || strings.Contains(urlSafe, std) {
		t.Fatal("the URL-safe envelope is the standard one")
	}
	if e, err := ParseEnvelope([]byte(urlSafe)); err != nil {
		t.Fatal(err)
	} else if _, err := Verify(e, []Key{key}, Options{}); err != nil {
		t.Fatalf("URL-safe base64: %v", err)
	}
}

func flipBit(b []byte, i int) string {
	c := append([]byte(nil), b...)
	c[i] ^= 1
	return base64.StdEncoding.EncodeToString(c)
}
