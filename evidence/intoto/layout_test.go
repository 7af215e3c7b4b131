package intoto_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	in_toto "github.com/in-toto/in-toto-golang/in_toto"

	"github.com/wasmgate/wasmgate/evidence/intoto"
	"github.com/wasmgate/wasmgate/internal/testrig/testkit"
)

// testKey is an ed25519 key made for the test, loaded by in-toto-golang
// from PEM as in-toto-run loads a functionary's key: priv signs, pub is
// what a layout or its owner names.
type testKey struct {
	priv, pub in_toto.Key
	pubPEM    []byte
}

func newKey(t testing.TB) testKey {
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
	k := testKey{pubPEM: pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pkix})}
	if err := k.priv.LoadKeyReaderDefaults(bytes.NewReader(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: p8}))); err != nil {
		t.Fatal(err)
	}
	if k.pub, err = intoto.ParseKey(k.pubPEM); err != nil {
		t.Fatal(err)
	}
	if k.pub.KeyID != k.priv.KeyID {
		t.Fatalf("key IDs differ: %s (public) %s (private)", k.pub.KeyID, k.priv.KeyID)
	}
	return k
}

// hashes are an artifact's hashes as a link records them.
func hashes(content string) in_toto.HashObj {
	sum := sha256.Sum256([]byte(content))
	return in_toto.HashObj{"sha256": hex.EncodeToString(sum[:])}
}

// chain is a supply chain of two steps, build then package, with its
// layout and links still unsigned, so a test can break one thing first.
type chain struct {
	owner, alice, bob testKey
	layout            in_toto.Layout
	links             map[string]in_toto.Link
	signer            map[string]testKey // who signs each step's link
	layoutSigner      testKey
	dsse              bool
}

func newChain(t testing.TB) *chain {
	c := &chain{owner: newKey(t), alice: newKey(t), bob: newKey(t)}
	c.layoutSigner = c.owner
	c.layout = in_toto.Layout{
		Type:    "layout",
		Expires: time.Now().Add(24 * time.Hour).UTC().Format(in_toto.ISO8601DateSchema),
		Readme:  "build app.wasm from source, then package it",
		Keys:    map[string]in_toto.Key{c.alice.pub.KeyID: c.alice.pub, c.bob.pub.KeyID: c.bob.pub},
		Steps: []in_toto.Step{{
			Type: "step", PubKeys: []string{c.alice.pub.KeyID}, Threshold: 1,
			ExpectedCommand: []string{"tinygo", "build", "-o", "app.wasm"},
			SupplyChainItem: in_toto.SupplyChainItem{
				Name:              "build",
				ExpectedMaterials: [][]string{{"ALLOW", "src/*"}, {"DISALLOW", "*"}},
				ExpectedProducts:  [][]string{{"CREATE", "app.wasm"}, {"DISALLOW", "*"}},
			},
		}, {
			Type: "step", PubKeys: []string{c.bob.pub.KeyID}, Threshold: 1,
			ExpectedCommand: []string{"wasmgate", "push"},
			SupplyChainItem: in_toto.SupplyChainItem{
				Name:              "package",
				ExpectedMaterials: [][]string{{"MATCH", "app.wasm", "WITH", "PRODUCTS", "FROM", "build"}, {"DISALLOW", "*"}},
				ExpectedProducts:  [][]string{{"MATCH", "app.wasm", "WITH", "PRODUCTS", "FROM", "build"}, {"CREATE", "manifest.json"}, {"DISALLOW", "*"}},
			},
		}},
	}
	c.links = map[string]in_toto.Link{
		"build": {Type: "link", Name: "build", Command: []string{"tinygo", "build", "-o", "app.wasm"},
			Materials: map[string]in_toto.HashObj{"src/main.go": hashes("package main")},
			Products:  map[string]in_toto.HashObj{"app.wasm": hashes("\x00asm")}},
		"package": {Type: "link", Name: "package", Command: []string{"wasmgate", "push"},
			Materials: map[string]in_toto.HashObj{"app.wasm": hashes("\x00asm")},
			Products:  map[string]in_toto.HashObj{"app.wasm": hashes("\x00asm"), "manifest.json": hashes("{}")}},
	}
	c.signer = map[string]testKey{"build": c.alice, "package": c.bob}
	return c
}

// sign signs payload with k, as DSSE or as in-toto's signed metadata,
// and returns the bytes in-toto-golang writes (Dump).
func sign(t testing.TB, payload any, k testKey, dsse bool) []byte {
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
	if err := md.Sign(k.priv); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "md")
	if err := md.Dump(path); err != nil {
		t.Fatal(err)
	}
	return testkit.ReadFile(t, path)
}

// signed is the chain's layout and links, signed: the links in memory,
// by step and the full key ID of their signer.
func (c *chain) signed(t testing.TB) ([]byte, *intoto.Links) {
	t.Helper()
	links := &intoto.Links{Steps: map[string]map[string][]byte{}}
	for step, l := range c.links {
		k := c.signer[step]
		links.Steps[step] = map[string][]byte{k.pub.KeyID: sign(t, l, k, c.dsse)}
	}
	return sign(t, c.layout, c.layoutSigner, c.dsse), links
}

// writeDir writes links as in-toto-run names them, <step>.<keyid8>.link.
func writeDir(t testing.TB, dir string, links *intoto.Links) {
	t.Helper()
	for step, byKey := range links.Steps {
		for id, raw := range byKey {
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf(in_toto.LinkNameFormat, step, id)), raw, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func TestVerifyLayout(t *testing.T) {
	for _, dsse := range []bool{false, true} {
		t.Run(fmt.Sprintf("dsse=%v", dsse), func(t *testing.T) {
			c := newChain(t)
			c.dsse = dsse
			layout, links := c.signed(t)
			dir := t.TempDir()
			writeDir(t, dir, links)
			for name, src := range map[string]intoto.LinkSource{"memory": links, "directory": intoto.LinkDir(dir)} {
				res, err := intoto.VerifyLayout(layout, []in_toto.Key{c.owner.pub}, src)
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				if !res.Verified || len(res.Steps) != 2 || res.Steps[0].Name != "build" ||
					!slices.Equal(res.Steps[1].Functionaries, []string{c.bob.pub.KeyID}) ||
					!slices.Equal(res.OwnerKeys, []string{c.owner.pub.KeyID}) || len(res.Warnings) != 0 {
					t.Errorf("%s: %+v", name, res)
				}
				if _, ok := res.Products["manifest.json"]; !ok || len(res.Products) != 2 || len(res.Materials) != 1 {
					t.Errorf("%s: the final products are %v from %v, want app.wasm and manifest.json from src/main.go", name, res.Products, res.Materials)
				}
			}
		})
	}
}

func TestVerifyLayoutRefuses(t *testing.T) {
	mallory := newKey(t)
	for _, tc := range []struct {
		name   string
		break_ func(t *testing.T, c *chain)
		// tamper changes the signed bytes of the package link
		tamper bool
		want   error
		step   string
		rule   []string
	}{
		{name: "expired layout", want: intoto.ErrLayoutExpired,
			break_: func(t *testing.T, c *chain) { c.layout.Expires = "2020-01-01T00:00:00Z" }},
		{name: "layout signed by another key", want: intoto.ErrLayoutSignature,
			break_: func(t *testing.T, c *chain) { c.layoutSigner = mallory }},
		{name: "missing link", want: intoto.ErrLinkThreshold, step: "package",
			break_: func(t *testing.T, c *chain) { delete(c.links, "package") }},
		{name: "link by a key the layout does not know", want: intoto.ErrLinkThreshold, step: "package",
			break_: func(t *testing.T, c *chain) { c.signer["package"] = mallory }},
		{name: "link by a functionary of another step", want: intoto.ErrLinkThreshold, step: "package",
			break_: func(t *testing.T, c *chain) { c.signer["package"] = c.alice }},
		{name: "too few links for the threshold", want: intoto.ErrLinkThreshold, step: "build",
			break_: func(t *testing.T, c *chain) { c.layout.Steps[0].Threshold = 2 }},
		{name: "link of another step filed under this one", want: intoto.ErrLinkThreshold, step: "package",
			break_: func(t *testing.T, c *chain) {
				l := c.links["package"]
				l.Name = "build"
				c.links["package"] = l
			}},
		{name: "product changed between steps", want: intoto.ErrArtifactRule, step: "package", rule: []string{"DISALLOW", "*"},
			break_: func(t *testing.T, c *chain) {
				c.links["package"].Materials["app.wasm"] = hashes("another module")
			}},
		{name: "unexpected product", want: intoto.ErrArtifactRule, step: "build", rule: []string{"DISALLOW", "*"},
			break_: func(t *testing.T, c *chain) { c.links["build"].Products["backdoor.sh"] = hashes("curl | sh") }},
		{name: "required artifact missing", want: intoto.ErrArtifactRule, step: "build", rule: []string{"REQUIRE", "go.sum"},
			break_: func(t *testing.T, c *chain) {
				c.layout.Steps[0].ExpectedMaterials = append([][]string{{"REQUIRE", "go.sum"}}, c.layout.Steps[0].ExpectedMaterials...)
			}},
		{name: "link changed after signing", want: intoto.ErrLinkThreshold, step: "package", tamper: true},
		{name: "layout with an inspection", want: intoto.ErrInspections,
			break_: func(t *testing.T, c *chain) {
				c.layout.Inspect = []in_toto.Inspection{{Type: "inspection", Run: []string{"touch", "/tmp/wasmgate-ran-an-inspection"},
					SupplyChainItem: in_toto.SupplyChainItem{Name: "untar"}}}
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newChain(t)
			if tc.break_ != nil {
				tc.break_(t, c)
			}
			layout, links := c.signed(t)
			if tc.tamper {
				raw := links.Steps["package"][c.bob.pub.KeyID]
				var mb map[string]any
				if err := json.Unmarshal(raw, &mb); err != nil {
					t.Fatal(err)
				}
				mb["signed"].(map[string]any)["command"] = []string{"sh", "-c", "something else"}
				if raw, err := json.Marshal(mb); err != nil {
					t.Fatal(err)
				} else {
					links.Steps["package"][c.bob.pub.KeyID] = raw
				}
			}
			res, err := intoto.VerifyLayout(layout, []in_toto.Key{c.owner.pub}, links)
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			var le *intoto.LayoutError
			if !errors.As(err, &le) || le.Step != tc.step || !slices.Equal(le.Rule, tc.rule) {
				t.Errorf("error names step %q rule %q, want %q %q: %v", le.Step, le.Rule, tc.step, tc.rule, err)
			}
			if res == nil || res.Verified || res.Err != err || res.FailedStep != tc.step || res.Reason == "" {
				t.Errorf("result %+v", res)
			}
		})
	}
	if _, err := os.Stat("/tmp/wasmgate-ran-an-inspection"); err == nil {
		t.Error("an inspection's command ran")
	}
}

func TestVerifyLayoutNeedsOwnerKey(t *testing.T) {
	c := newChain(t)
	layout, links := c.signed(t)
	if _, err := intoto.VerifyLayout(layout, nil, links); !errors.Is(err, intoto.ErrLayoutSignature) {
		t.Errorf("no layout key: %v, want ErrLayoutSignature", err)
	}
	// in-toto requires every layout key given to have signed.
	if _, err := intoto.VerifyLayout(layout, []in_toto.Key{c.owner.pub, c.alice.pub}, links); !errors.Is(err, intoto.ErrLayoutSignature) {
		t.Errorf("a second key that did not sign: %v, want ErrLayoutSignature", err)
	}
	if _, err := intoto.ParseKey([]byte("not a key")); err == nil {
		t.Error("ParseKey took garbage")
	}
}

func TestVerifyLayoutCommandWarning(t *testing.T) {
	c := newChain(t)
	l := c.links["build"]
	l.Command = []string{"go", "build"}
	c.links["build"] = l
	layout, links := c.signed(t)
	res, err := intoto.VerifyLayout(layout, []in_toto.Key{c.owner.pub}, links)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Warnings) != 1 {
		t.Errorf("a link that ran another command: warnings %q, want one (in-toto only warns)", res.Warnings)
	}
}

func TestVerifyLayoutBounds(t *testing.T) {
	c := newChain(t)
	layout, links := c.signed(t)
	big := make([]byte, intoto.MaxLinkBytes+1)
	links.Steps["package"]["0123456789abcdef"] = big
	if _, err := intoto.VerifyLayout(layout, []in_toto.Key{c.owner.pub}, links); !errors.Is(err, intoto.ErrInvalidLink) {
		t.Errorf("a link over MaxLinkBytes: %v, want ErrInvalidLink", err)
	}
	if _, err := intoto.VerifyLayout(make([]byte, intoto.MaxLayoutBytes+1), []in_toto.Key{c.owner.pub}, links); !errors.Is(err, intoto.ErrInvalidLayout) {
		t.Errorf("a layout over MaxLayoutBytes: %v, want ErrInvalidLayout", err)
	}
	if _, err := intoto.VerifyLayout(links.Steps["build"][c.alice.pub.KeyID], []in_toto.Key{c.alice.pub}, links); !errors.Is(err, intoto.ErrInvalidLayout) {
		t.Errorf("a link given as the layout: %v, want ErrInvalidLayout", err)
	}
}

// A step carried out under a sublayout: alice, the functionary of build,
// signs a layout of her own for it, whose step compile carol performs. Its
// links sit in the subdirectory in-toto names build.<alice's keyid8>.
func TestVerifyLayoutSublayout(t *testing.T) {
	for _, dsse := range []bool{false, true} {
		t.Run(fmt.Sprintf("dsse=%v", dsse), func(t *testing.T) {
			c := newChain(t)
			c.dsse = dsse
			carol := newKey(t)
			compile := c.links["build"]
			compile.Name = "compile"
			sub := in_toto.Layout{
				Type: "layout", Expires: c.layout.Expires,
				Keys: map[string]in_toto.Key{carol.pub.KeyID: carol.pub},
				Steps: []in_toto.Step{{Type: "step", PubKeys: []string{carol.pub.KeyID}, Threshold: 1,
					ExpectedCommand: compile.Command,
					SupplyChainItem: in_toto.SupplyChainItem{Name: "compile",
						ExpectedProducts: [][]string{{"CREATE", "app.wasm"}, {"DISALLOW", "*"}}}}},
			}
			layout, links := c.signed(t)
			links.Steps["build"] = map[string][]byte{c.alice.pub.KeyID: sign(t, sub, c.alice, dsse)}
			subDir := fmt.Sprintf(in_toto.SublayoutLinkDirFormat, "build", c.alice.pub.KeyID)
			links.Sublayouts = map[string]*intoto.Links{subDir: {Steps: map[string]map[string][]byte{
				"compile": {carol.pub.KeyID: sign(t, compile, carol, dsse)}}}}

			dir := t.TempDir()
			writeDir(t, dir, links)
			if err := os.Mkdir(filepath.Join(dir, subDir), 0o755); err != nil {
				t.Fatal(err)
			}
			writeDir(t, filepath.Join(dir, subDir), links.Sublayouts[subDir])

			for name, src := range map[string]intoto.LinkSource{"memory": links, "directory": intoto.LinkDir(dir)} {
				res, err := intoto.VerifyLayout(layout, []in_toto.Key{c.owner.pub}, src)
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				s := res.Steps[0].Sublayout
				if s == nil || !s.Verified || s.Steps[0].Name != "compile" || !slices.Equal(s.Steps[0].Functionaries, []string{carol.pub.KeyID}) {
					t.Errorf("%s: sublayout %+v", name, s)
				}
			}

			// The sublayout's link changed: the failure names the step inside it.
			bad := compile
			bad.Products = map[string]in_toto.HashObj{"app.wasm": hashes("another module")}
			links.Sublayouts[subDir].Steps["compile"][carol.pub.KeyID] = sign(t, bad, carol, dsse)
			res, err := intoto.VerifyLayout(layout, []in_toto.Key{c.owner.pub}, links)
			if !errors.Is(err, intoto.ErrArtifactRule) || res.FailedStep != "package" {
				t.Errorf("a sublayout whose product differs from what package used: %v (step %q), want ErrArtifactRule on package", err, res.FailedStep)
			}
			delete(links.Sublayouts[subDir].Steps, "compile")
			res, err = intoto.VerifyLayout(layout, []in_toto.Key{c.owner.pub}, links)
			if !errors.Is(err, intoto.ErrLinkThreshold) || res.FailedStep != "build/compile" {
				t.Errorf("a sublayout without its link: %v (step %q), want ErrLinkThreshold on build/compile", err, res.FailedStep)
			}
		})
	}
}

// in-toto-golang's own demo, read from the module cache: the DSSE layout
// without inspections verifies with its links; the demo layouts with the
// inspection "untar" (which runs tar) are refused, never run.
func TestVerifyLayoutUpstreamDemo(t *testing.T) {
	const mod = "github.com/in-toto/in-toto-golang"
	data := testkit.ModuleFile(t, mod, "test/data")
	alice, err := intoto.ParseKey(testkit.ReadFile(t, filepath.Join(data, "alice.pub")))
	if err != nil {
		t.Fatal(err)
	}
	carol, err := intoto.ParseKey(testkit.ReadFile(t, filepath.Join(data, "carol.pub")))
	if err != nil {
		t.Fatal(err)
	}
	res, err := intoto.VerifyLayout(testkit.ReadFile(t, filepath.Join(data, "dsse-only.root.layout")), []in_toto.Key{alice}, intoto.LinkDir(data))
	if err != nil {
		t.Fatalf("dsse-only.root.layout: %v", err)
	}
	var steps []string
	for _, s := range res.Steps {
		steps = append(steps, s.Name)
	}
	if !slices.Equal(steps, []string{"clone-dsse", "update-version-dsse", "package-dsse"}) || res.Products["demo-project.tar.gz"] == nil {
		t.Errorf("dsse-only.root.layout: %+v", res)
	}
	for _, layout := range []string{"demo.layout", "demo.dsse.layout"} {
		raw := testkit.ReadFile(t, filepath.Join(data, layout))
		res, err := intoto.VerifyLayout(raw, []in_toto.Key{alice}, intoto.LinkDir(data))
		if !errors.Is(err, intoto.ErrInspections) || !slices.Equal(res.Inspections, []string{"untar"}) {
			t.Errorf("%s: %v, want ErrInspections naming untar", layout, err)
		}
		if _, err := intoto.VerifyLayout(raw, []in_toto.Key{carol}, intoto.LinkDir(data)); !errors.Is(err, intoto.ErrLayoutSignature) {
			t.Errorf("%s with carol's key: %v, want ErrLayoutSignature", layout, err)
		}
	}
	if _, err := os.Stat(filepath.Join(data, "untar.link")); err == nil {
		t.Error("untar.link exists in the module cache: the inspection ran")
	}
}
