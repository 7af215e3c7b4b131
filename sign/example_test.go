package sign_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/opencontainers/go-digest"
	"oras.land/oras-go/v2"

	"github.com/wasmgate/wasmgate/access"
	"github.com/wasmgate/wasmgate/artifact"
	"github.com/wasmgate/wasmgate/evidence/cosign"
	"github.com/wasmgate/wasmgate/referrers"
	"github.com/wasmgate/wasmgate/sign"
)

// pushTiny packs the tiny test module into a new OCI layout under dir and
// returns the layout and what was pushed.
func pushTiny(ctx context.Context, dir string) (oras.Target, *artifact.Package) {
	ref, err := artifact.ParseReference("oci-layout:" + filepath.Join(dir, "layout") + ":v1")
	if err != nil {
		log.Fatal(err)
	}
	dst, err := (&access.Opener{}).Destination(ref)
	if err != nil {
		log.Fatal(err)
	}
	pkg, err := artifact.Pack("../testdata/wasm/tiny.wasm", nil, artifact.BuildOptions{})
	if err != nil {
		log.Fatal(err)
	}
	if err := access.Push(ctx, dst, pkg, ref.Tag, access.PushOptions{}); err != nil {
		log.Fatal(err)
	}
	return dst, pkg
}

// Sign an artifact with a key, as `cosign sign --key` v3 does, and verify
// the signature with package evidence/cosign. A key checked alone, with
// no transparency log, is cosign's --insecure-ignore-tlog: fine for an
// offline key, and what Authority without Roots means.
func ExampleCosign() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "sign-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	layout, pkg := pushTiny(ctx, dir)

	// Any crypto.Signer: an ECDSA key here, a cosign.key file in practice.
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		log.Fatal(err)
	}
	// Sign the manifest descriptor (a digest), never a tag.
	desc, err := sign.Cosign(ctx, layout, pkg.Manifest, key, sign.Options{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(desc.ArtifactType)

	auth := cosign.Authority{Keys: []cosign.Key{cosign.NewKey(key.Public())}}
	rep, err := cosign.Check(ctx, layout, pkg.Manifest, referrers.Options{}, auth, cosign.Options{})
	if err != nil {
		log.Fatal(err) // no verdict: the signatures could not be read
	}
	fmt.Println("verified:", rep.Verified)
	for _, r := range rep.Results {
		fmt.Println(r.Format, r.Verified, r.KeyID == cosign.KeyID(key.Public()))
	}
	// Output:
	// application/vnd.dev.sigstore.bundle.v0.3+json
	// verified: true
	// bundle true true
}

// The legacy format (cosign v1/v2) appends to the "sha256-<hex>.sig" tag
// and names the repository in its payload. A verifier that does not hold
// the signing key refuses it, and says why.
func ExampleCosign_legacy() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "sign-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	layout, pkg := pushTiny(ctx, dir)

	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	_, err = sign.Cosign(ctx, layout, pkg.Manifest, key, sign.Options{
		Format:     sign.FormatLegacy,
		Repository: "registry.example/wasm/tiny",
	})
	if err != nil {
		log.Fatal(err)
	}

	for _, k := range []*ecdsa.PrivateKey{key, other} {
		auth := cosign.Authority{Keys: []cosign.Key{cosign.NewKey(k.Public())}}
		rep, err := cosign.Check(ctx, layout, pkg.Manifest, referrers.Options{}, auth, cosign.Options{Format: cosign.FormatLegacy})
		if err != nil {
			log.Fatal(err)
		}
		for _, r := range rep.Results {
			fmt.Println(r.Format, r.Verified, errors.Is(r.Err, cosign.ErrSignatureInvalid))
		}
	}
	// Output:
	// legacy true false
	// legacy false true
}

// Statement is the in-toto statement cosign v3 signs for an artifact: the
// manifest digest as subject and the cosign sign predicate. Bundle signs
// any in-toto statement into a sigstore bundle and stores it nowhere: the
// caller writes it where it belongs (a file, or a referrer with
// referrers.Attach).
func ExampleStatement() {
	st, err := sign.Statement(digest.FromString("a manifest"))
	if err != nil {
		log.Fatal(err)
	}
	var doc struct {
		PredicateType string `json:"predicateType"`
		Subject       []struct {
			Digest map[string]string `json:"digest"`
		} `json:"subject"`
	}
	if err := json.Unmarshal(st, &doc); err != nil {
		log.Fatal(err)
	}
	fmt.Println(doc.PredicateType, doc.Subject[0].Digest["sha256"] == digest.FromString("a manifest").Encoded())

	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	raw, err := sign.Bundle(st, key)
	if err != nil {
		log.Fatal(err)
	}
	b, err := cosign.ParseBundle(raw)
	fmt.Println(err == nil, b.MediaType)
	// Output:
	// https://sigstore.dev/cosign/sign/v1 true
	// true application/vnd.dev.sigstore.bundle.v0.3+json
}
