package dsse_test

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"

	"github.com/wasmgate/wasmgate/evidence/dsse"
)

// The DSSE specification's test vector (protocol.md, "Test Vectors"): the
// envelope, and its P-256 public key (the spec's X and Y, PKIX-encoded).
const (
	envelopeJSON = `{"payload": "aGVsbG8gd29ybGQ=",
 "payloadType": "http://example.com/HelloWorld",
 "signatures": [{"sig": "A3JqsQGtVsJ2O2xqrI5IcnXip5GToJ3F+FnZ+O88SjtR6rDAajabZKciJTfUiHqJPcIAriEGAHTVeCUjW2JIZA=="}]}`
	publicKeyPEM = `-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEZ805D3eqNZywjCI19lInBJOp7YMr
CrzAH3CVTAOQ0jgMeCvVTiaRJaRPRDOv8UMs6U4SvKc6pnrIDOoSYI3fdA==
-----END PUBLIC KEY-----
`
)

// An envelope is read strictly before any signature is tried.
func ExampleParseEnvelope() {
	env, err := dsse.ParseEnvelope([]byte(envelopeJSON))
	if err != nil {
		panic(err)
	}
	fmt.Println(env.PayloadType, len(env.Signatures))

	_, err = dsse.ParseEnvelope([]byte(`{"payloadType": "t", "payload": "not base64!", "signatures": [{"sig": "AA=="}]}`))
	var ee *dsse.EnvelopeError
	fmt.Println(errors.Is(err, dsse.ErrMalformed), errors.As(err, &ee) && ee.Field == "payload")
	// Output:
	// http://example.com/HelloWorld 1
	// true true
}

// The spec's vector is signed with a raw r||s ECDSA signature; it
// verifies, and the payload is the caller's to read. Expecting another
// payload type refuses it.
func ExampleVerify() {
	key, err := dsse.LoadPublicKey([]byte(publicKeyPEM))
	if err != nil {
		panic(err)
	}
	env, err := dsse.ParseEnvelope([]byte(envelopeJSON))
	if err != nil {
		panic(err)
	}
	r, err := dsse.Verify(env, []dsse.Key{key}, dsse.Options{PayloadType: "http://example.com/HelloWorld"})
	if err != nil {
		panic(err)
	}
	fmt.Printf("%s %q verified by %s\n", r.PayloadType, r.Payload, r.Verified[0].KeyID)

	_, err = dsse.Verify(env, []dsse.Key{key}, dsse.Options{PayloadType: "application/vnd.in-toto+json"})
	fmt.Println(errors.Is(err, dsse.ErrPayloadType))

	other, _, _ := ed25519.GenerateKey(rand.Reader)
	otherKey, _ := dsse.NewKey(other)
	_, err = dsse.Verify(env, []dsse.Key{otherKey}, dsse.Options{})
	fmt.Println(errors.Is(err, dsse.ErrThreshold))
	// Output:
	// http://example.com/HelloWorld "hello world" verified by f793580060562d6ff075d814ea698c282fcc779b0cde64d79ffc6301df00d14b
	// true
	// true
}

// Keys are read from PEM files (PKIX, as cosign.pub) and named by the
// SHA-256 of their DER.
func ExampleLoadPublicKey() {
	key, err := dsse.LoadPublicKey([]byte(publicKeyPEM))
	if err != nil {
		panic(err)
	}
	_, isECDSA := key.Public().(*ecdsa.PublicKey)
	fmt.Println(key.ID(), isECDSA)

	_, err = dsse.LoadPublicKey([]byte("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5"))
	fmt.Println(errors.Is(err, dsse.ErrKey))
	// Output:
	// f793580060562d6ff075d814ea698c282fcc779b0cde64d79ffc6301df00d14b true
	// true
}

// A key in memory is held to the same policy as one read from a file.
func ExampleNewKey() {
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		panic(err)
	}
	key, err := dsse.NewKey(pub)
	fmt.Println(err == nil, len(key.ID()))

	_, err = dsse.NewKey(ed25519.PublicKey(pub[:16]))
	fmt.Println(errors.Is(err, dsse.ErrKey))
	// Output:
	// true 64
	// true
}
