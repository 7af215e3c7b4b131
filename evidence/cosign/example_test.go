package cosign_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"fmt"
	"log"

	"github.com/opencontainers/go-digest"

	"github.com/wasmgate/wasmgate/evidence/cosign"
	"github.com/wasmgate/wasmgate/sign"
)

// signBlob returns a sigstore bundle over blob, signed with key: a DSSE
// envelope of an in-toto statement naming the blob's digest, as package
// sign makes it. (cosign sign-blob writes a message signature instead;
// VerifyBlob accepts both.)
func signBlob(blob []byte, key *ecdsa.PrivateKey) []byte {
	st, err := sign.Statement(digest.FromBytes(blob))
	if err != nil {
		log.Fatal(err)
	}
	raw, err := sign.Bundle(st, key)
	if err != nil {
		log.Fatal(err)
	}
	return raw
}

// Verify a sigstore bundle over a local file with a public key, offline:
// cosign verify-blob --key cosign.pub --bundle hello.sigstore.json
// --insecure-ignore-tlog. An Authority with keys and no Roots checks each
// key alone, without a transparency log.
func ExampleVerifyBlob() {
	blob := []byte("\x00asm\x01\x00\x00\x00")
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		log.Fatal(err)
	}
	raw := signBlob(blob, key)

	// What a verifier holds: the bundle, the blob, the public key.
	b, err := cosign.ParseBundle(raw)
	if err != nil {
		log.Fatal(err) // errors.Is(err, cosign.ErrMalformed)
	}
	// The blob is hashed once, under every algorithm a bundle may use;
	// VerifyBlob picks the one the bundle signed.
	digests, err := cosign.DigestBlob(bytes.NewReader(blob), 64<<20)
	if err != nil {
		log.Fatal(err)
	}
	auth := cosign.Authority{Keys: []cosign.Key{cosign.NewKey(key.Public())}}
	r := cosign.VerifyBlob(b, digests, auth)
	fmt.Println(r.Verified, r.Subject, len(r.KeyID))
	// Output: true sha256:93a44bbb96c751218e4c00d479e4c14358122a389acca16205b1e4d0dc5f9476 64
}

// A refusal carries its reason as a typed error: a bundle made for one
// artifact does not verify another (the replay a verifier must catch),
// and a key that did not sign it is refused too.
func ExampleVerifyBlob_refused() {
	signed := []byte("\x00asm\x01\x00\x00\x00")
	other := []byte("\x00asm\x01\x00\x00\x00 and more")
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	stranger, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	b, err := cosign.ParseBundle(signBlob(signed, key))
	if err != nil {
		log.Fatal(err)
	}
	digestsOf := func(blob []byte) []digest.Digest {
		ds, err := cosign.DigestBlob(bytes.NewReader(blob), int64(len(blob)))
		if err != nil {
			log.Fatal(err)
		}
		return ds
	}

	auth := cosign.Authority{Keys: []cosign.Key{cosign.NewKey(key.Public())}}
	r := cosign.VerifyBlob(b, digestsOf(other), auth)
	fmt.Println(r.Verified, errors.Is(r.Err, cosign.ErrSubjectMismatch))

	auth = cosign.Authority{Keys: []cosign.Key{cosign.NewKey(stranger.Public())}}
	r = cosign.VerifyBlob(b, digestsOf(signed), auth)
	fmt.Println(r.Verified, errors.Is(r.Err, cosign.ErrSignatureInvalid))

	// An empty Authority is not "trust anything": it is an error.
	r = cosign.VerifyBlob(b, digestsOf(signed), cosign.Authority{})
	fmt.Println(r.Verified, errors.Is(r.Err, cosign.ErrNoAuthority))
	// Output:
	// false true
	// false true
	// false true
}

// DigestBlob reads at most max bytes: a larger file is refused, not read
// to the end.
func ExampleDigestBlob() {
	ds, err := cosign.DigestBlob(bytes.NewReader([]byte("hello")), 5)
	fmt.Println(len(ds), ds[0].Algorithm(), err)

	_, err = cosign.DigestBlob(bytes.NewReader([]byte("hello, world")), 5)
	fmt.Println(errors.Is(err, cosign.ErrBlobTooLarge))
	// Output:
	// 3 sha256 <nil>
	// true
}
