package intoto_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	attestation "github.com/in-toto/attestation/go/v1"
	in_toto "github.com/in-toto/in-toto-golang/in_toto"
	"github.com/opencontainers/go-digest"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/wasmgate/wasmgate/evidence/intoto"
)

// A statement is evidence about an artifact only when one of its subjects
// names the artifact's digest; its provenance says who built it.
func ExampleParseStatement() {
	artifact := digest.FromString("a wasm manifest")
	raw := []byte(`{"_type": "https://in-toto.io/Statement/v1",
	  "subject": [{"name": "registry.example/wasm/app", "digest": {"sha256": "` + artifact.Encoded() + `"}}],
	  "predicateType": "https://slsa.dev/provenance/v1",
	  "predicate": {"buildDefinition": {"buildType": "https://github.com/acme/builder/wasm@v1", "externalParameters": {"ref": "main"}},
	                "runDetails": {"builder": {"id": "https://github.com/acme/builder@v1"},
	                               "metadata": {"finishedOn": "2026-12-01T10:00:00Z"}}}}`)
	st, err := intoto.ParseStatement(raw, artifact)
	if err != nil {
		panic(err)
	}
	finished, _ := intoto.PredicateTime(st)
	fmt.Println(st.GetPredicateType(), intoto.ProvenanceOf(st).BuilderID, finished.Format("2006-01-02"))

	_, err = intoto.ParseStatement(raw, digest.FromString("another manifest"))
	fmt.Println(errors.Is(err, intoto.ErrSubjectMismatch))
	// Output:
	// https://slsa.dev/provenance/v1 https://github.com/acme/builder@v1 2026-12-01
	// true
}

// A layout signed by its owner names who may perform each step and what
// each step may use and make; VerifyLayout checks the links the
// functionaries signed against it with in-toto-golang.
func ExampleVerifyLayout() {
	owner, builder := exampleKey(), exampleKey()
	wasm := in_toto.HashObj{"sha256": "6a1f6f3bd5fc5a4d8cbd0f0b2a5e8d4f0e1c2b3a495867768594a3b2c1d0e0f1"}
	layout := in_toto.Layout{
		Type:    "layout",
		Expires: time.Now().Add(time.Hour).UTC().Format(in_toto.ISO8601DateSchema),
		Keys:    map[string]in_toto.Key{builder.KeyID: public(builder)},
		Steps: []in_toto.Step{{Type: "step", PubKeys: []string{builder.KeyID}, Threshold: 1,
			SupplyChainItem: in_toto.SupplyChainItem{Name: "build",
				ExpectedProducts: [][]string{{"CREATE", "app.wasm"}, {"DISALLOW", "*"}}}}},
	}
	link := in_toto.Link{Type: "link", Name: "build", Products: map[string]in_toto.HashObj{"app.wasm": wasm}}

	links := &intoto.Links{Steps: map[string]map[string][]byte{"build": {builder.KeyID: signed(link, builder)}}}
	res, err := intoto.VerifyLayout(signed(layout, owner), []in_toto.Key{public(owner)}, links)
	if err != nil {
		panic(err)
	}
	fmt.Println(res.Verified, res.Steps[0].Name, len(res.Steps[0].Functionaries), res.Products["app.wasm"]["sha256"][:8])

	// The same layout signed by someone else is not the owner's.
	_, err = intoto.VerifyLayout(signed(layout, builder), []in_toto.Key{public(owner)}, links)
	fmt.Println(errors.Is(err, intoto.ErrLayoutSignature))
	// Output:
	// true build 1 6a1f6f3b
	// true
}

func exampleKey() in_toto.Key {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		panic(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		panic(err)
	}
	var k in_toto.Key
	if err := k.LoadKeyReaderDefaults(bytes.NewReader(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))); err != nil {
		panic(err)
	}
	return k
}

func public(k in_toto.Key) in_toto.Key {
	k.KeyVal.Private = ""
	return k
}

// signed is payload in a DSSE envelope signed by k, as in-toto-golang
// writes it.
func signed(payload any, k in_toto.Key) []byte {
	env := &in_toto.Envelope{}
	if err := env.SetPayload(payload); err != nil {
		panic(err)
	}
	if err := env.Sign(k); err != nil {
		panic(err)
	}
	dir, err := os.MkdirTemp("", "example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	if err := env.Dump(filepath.Join(dir, "md")); err != nil {
		panic(err)
	}
	raw, err := os.ReadFile(filepath.Join(dir, "md"))
	if err != nil {
		panic(err)
	}
	return raw
}

// Links found as referrers of an artifact come as a bag of signed bytes;
// VerifyLayoutFor files each by its signed step and signer, verifies the
// layout, and requires the artifact's digest among the final products.
func ExampleVerifyLayoutFor() {
	owner, builder := exampleKey(), exampleKey()
	wasm := in_toto.HashObj{"sha256": "6a1f6f3bd5fc5a4d8cbd0f0b2a5e8d4f0e1c2b3a495867768594a3b2c1d0e0f1"}
	layout := in_toto.Layout{
		Type:    "layout",
		Expires: time.Now().Add(time.Hour).UTC().Format(in_toto.ISO8601DateSchema),
		Keys:    map[string]in_toto.Key{builder.KeyID: public(builder)},
		Steps: []in_toto.Step{{Type: "step", PubKeys: []string{builder.KeyID}, Threshold: 1,
			SupplyChainItem: in_toto.SupplyChainItem{Name: "build",
				ExpectedProducts: [][]string{{"CREATE", "app.wasm"}, {"DISALLOW", "*"}}}}},
	}
	link := signed(in_toto.Link{Type: "link", Name: "build", Products: map[string]in_toto.HashObj{"app.wasm": wasm}}, builder)

	artifact := digest.NewDigestFromEncoded(digest.SHA256, wasm["sha256"])
	res, err := intoto.VerifyLayoutFor(signed(layout, owner), []in_toto.Key{public(owner)}, [][]byte{link}, artifact)
	fmt.Println(err == nil && res.Verified, res.Product)

	_, err = intoto.VerifyLayoutFor(signed(layout, owner), []in_toto.Key{public(owner)}, [][]byte{link}, digest.FromString("another module"))
	fmt.Println(errors.Is(err, intoto.ErrSubjectMismatch))
	// Output:
	// true app.wasm
	// true
}

// The predicates whose shape the in-toto attestation library defines are
// validated by its validators: a SLSA v1 provenance needs a build type,
// external parameters and a builder.
func ExampleValidatePredicate() {
	pred, _ := structpb.NewStruct(map[string]any{"runDetails": map[string]any{"builder": map[string]any{"id": "https://github.com/acme/builder@v1"}}})
	st := &attestation.Statement{PredicateType: "https://slsa.dev/provenance/v1", Predicate: pred}
	fmt.Println(intoto.ValidatePredicate(st))
	// Output:
	// invalid in-toto statement: SLSA provenance predicate: buildDefinition required
}
