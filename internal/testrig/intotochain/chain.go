// Package intotochain makes in-toto supply chains for tests: keys loaded
// by in-toto-golang as in-toto-run loads them, a two-step layout (build,
// then package) whose final product is a given wasm module, and its links,
// left unsigned until Signed so that a test can break one thing first.
// Everything is made with in-toto-golang; nothing is hand-written JSON.
package intotochain

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"path/filepath"
	"testing"
	"time"

	in_toto "github.com/in-toto/in-toto-golang/in_toto"

	"github.com/wasmgate/wasmgate/evidence/intoto"
	"github.com/wasmgate/wasmgate/internal/testrig/testkit"
)

// Key is an ed25519 key made for the test: Priv signs, Pub is what a
// layout or its owner names, PubPEM is Pub as a policy file names it.
type Key struct {
	Priv, Pub in_toto.Key
	PubPEM    []byte
}

// NewKey makes a key, loaded by in-toto-golang from PEM as in-toto-run
// loads a functionary's key.
func NewKey(t testing.TB) Key {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p8, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	pkix, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	k := Key{PubPEM: pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pkix})}
	if err := k.Priv.LoadKeyReaderDefaults(bytes.NewReader(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: p8}))); err != nil {
		t.Fatal(err)
	}
	if k.Pub, err = intoto.ParseKey(k.PubPEM); err != nil {
		t.Fatal(err)
	}
	if k.Pub.KeyID != k.Priv.KeyID {
		t.Fatalf("intotochain: key IDs differ: %s (public) %s (private)", k.Pub.KeyID, k.Priv.KeyID)
	}
	return k
}

// Hashes are an artifact's hashes as a link records them.
func Hashes(content string) in_toto.HashObj {
	sum := sha256.Sum256([]byte(content))
	return in_toto.HashObj{"sha256": hex.EncodeToString(sum[:])}
}

// Chain is a supply chain of two steps: alice builds app.wasm from
// src/main.go, bob packages it with manifest.json. The final products are
// app.wasm and manifest.json. Change any field before Signed.
type Chain struct {
	Owner, Alice, Bob Key
	Layout            in_toto.Layout
	Links             map[string]in_toto.Link
	Signer            map[string]Key // who signs each step's link
	LayoutSigner      Key
	DSSE              bool
}

// New is the chain whose app.wasm is wasm, with a layout that expires in a
// day.
func New(t testing.TB, wasm []byte) *Chain {
	t.Helper()
	c := &Chain{Owner: NewKey(t), Alice: NewKey(t), Bob: NewKey(t)}
	c.LayoutSigner = c.Owner
	module := Hashes(string(wasm))
	c.Layout = in_toto.Layout{
		Type:    "layout",
		Expires: time.Now().Add(24 * time.Hour).UTC().Format(in_toto.ISO8601DateSchema),
		Readme:  "build app.wasm from source, then package it",
		Keys:    map[string]in_toto.Key{c.Alice.Pub.KeyID: c.Alice.Pub, c.Bob.Pub.KeyID: c.Bob.Pub},
		Steps: []in_toto.Step{{
			Type: "step", PubKeys: []string{c.Alice.Pub.KeyID}, Threshold: 1,
			ExpectedCommand: []string{"tinygo", "build", "-o", "app.wasm"},
			SupplyChainItem: in_toto.SupplyChainItem{
				Name:              "build",
				ExpectedMaterials: [][]string{{"ALLOW", "src/*"}, {"DISALLOW", "*"}},
				ExpectedProducts:  [][]string{{"CREATE", "app.wasm"}, {"DISALLOW", "*"}},
			},
		}, {
			Type: "step", PubKeys: []string{c.Bob.Pub.KeyID}, Threshold: 1,
			ExpectedCommand: []string{"wasmgate", "push"},
			SupplyChainItem: in_toto.SupplyChainItem{
				Name:              "package",
				ExpectedMaterials: [][]string{{"MATCH", "app.wasm", "WITH", "PRODUCTS", "FROM", "build"}, {"DISALLOW", "*"}},
				ExpectedProducts:  [][]string{{"MATCH", "app.wasm", "WITH", "PRODUCTS", "FROM", "build"}, {"CREATE", "manifest.json"}, {"DISALLOW", "*"}},
			},
		}},
	}
	c.Links = map[string]in_toto.Link{
		"build": {Type: "link", Name: "build", Command: []string{"tinygo", "build", "-o", "app.wasm"},
			Materials: map[string]in_toto.HashObj{"src/main.go": Hashes("package main")},
			Products:  map[string]in_toto.HashObj{"app.wasm": module}},
		"package": {Type: "link", Name: "package", Command: []string{"wasmgate", "push"},
			Materials: map[string]in_toto.HashObj{"app.wasm": module},
			Products:  map[string]in_toto.HashObj{"app.wasm": module, "manifest.json": Hashes("{}")}},
	}
	c.Signer = map[string]Key{"build": c.Alice, "package": c.Bob}
	return c
}

// Sign signs payload with k, as DSSE or as in-toto's signed metadata,
// and returns the bytes in-toto-golang writes (Dump).
func Sign(t testing.TB, payload any, k Key, dsse bool) []byte {
	t.Helper()
	var md in_toto.Metadata
	if dsse {
		env := &in_toto.Envelope{}
		if err := env.SetPayload(payload); err != nil {
			t.Fatal(err)
		}
		md = env
	} else {
		md = &in_toto.Metablock{Signed: payload}
	}
	if err := md.Sign(k.Priv); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "md")
	if err := md.Dump(path); err != nil {
		t.Fatal(err)
	}
	return testkit.ReadFile(t, path)
}

// Signed is the chain's layout and links, signed: the links in memory,
// by step and the full key ID of their signer.
func (c *Chain) Signed(t testing.TB) ([]byte, *intoto.Links) {
	t.Helper()
	links := &intoto.Links{Steps: map[string]map[string][]byte{}}
	for step, l := range c.Links {
		k := c.Signer[step]
		links.Steps[step] = map[string][]byte{k.Pub.KeyID: Sign(t, l, k, c.DSSE)}
	}
	return Sign(t, c.Layout, c.LayoutSigner, c.DSSE), links
}

// Files are the chain signed as files: the layout, and each step's link by
// step name, as they are attached to an artifact as referrers.
func (c *Chain) Files(t testing.TB) (layout []byte, links map[string][]byte) {
	t.Helper()
	raw, signed := c.Signed(t)
	links = map[string][]byte{}
	for step, byKey := range signed.Steps {
		for _, b := range byKey {
			links[step] = b
		}
	}
	return raw, links
}
