package intoto_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	in_toto "github.com/in-toto/in-toto-golang/in_toto"

	"github.com/wasmgate/wasmgate/evidence/intoto"
	"github.com/wasmgate/wasmgate/internal/testrig/intotochain"
	"github.com/wasmgate/wasmgate/internal/testrig/testkit"
)

// wasm is the module the test chain builds: its app.wasm.
var wasm = []byte("\x00asm")

// newChain is the test supply chain (see package intotochain).
func newChain(t testing.TB) *intotochain.Chain { return intotochain.New(t, wasm) }

var (
	newKey = intotochain.NewKey
	hashes = intotochain.Hashes
	sign   = intotochain.Sign
)

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
			c.DSSE = dsse
			layout, links := c.Signed(t)
			dir := t.TempDir()
			writeDir(t, dir, links)
			for name, src := range map[string]intoto.LinkSource{"memory": links, "directory": intoto.LinkDir(dir)} {
				res, err := intoto.VerifyLayout(layout, []in_toto.Key{c.Owner.Pub}, src)
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				if !res.Verified || len(res.Steps) != 2 || res.Steps[0].Name != "build" ||
					!slices.Equal(res.Steps[1].Functionaries, []string{c.Bob.Pub.KeyID}) ||
					!slices.Equal(res.OwnerKeys, []string{c.Owner.Pub.KeyID}) || len(res.Warnings) != 0 {
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
		break_ func(t *testing.T, c *intotochain.Chain)
		// tamper changes the signed bytes of the package link
		tamper bool
		want   error
		step   string
		rule   []string
	}{
		{name: "expired layout", want: intoto.ErrLayoutExpired,
			break_: func(t *testing.T, c *intotochain.Chain) { c.Layout.Expires = "2020-01-01T00:00:00Z" }},
		{name: "layout signed by another key", want: intoto.ErrLayoutSignature,
			break_: func(t *testing.T, c *intotochain.Chain) { c.LayoutSigner = mallory }},
		{name: "missing link", want: intoto.ErrLinkThreshold, step: "package",
			break_: func(t *testing.T, c *intotochain.Chain) { delete(c.Links, "package") }},
		{name: "link by a key the layout does not know", want: intoto.ErrLinkThreshold, step: "package",
			break_: func(t *testing.T, c *intotochain.Chain) { c.Signer["package"] = mallory }},
		{name: "link by a functionary of another step", want: intoto.ErrLinkThreshold, step: "package",
			break_: func(t *testing.T, c *intotochain.Chain) { c.Signer["package"] = c.Alice }},
		{name: "too few links for the threshold", want: intoto.ErrLinkThreshold, step: "build",
			break_: func(t *testing.T, c *intotochain.Chain) { c.Layout.Steps[0].Threshold = 2 }},
		{name: "link of another step filed under this one", want: intoto.ErrLinkThreshold, step: "package",
			break_: func(t *testing.T, c *intotochain.Chain) {
				l := c.Links["package"]
				l.Name = "build"
				c.Links["package"] = l
			}},
		{name: "product changed between steps", want: intoto.ErrArtifactRule, step: "package", rule: []string{"DISALLOW", "*"},
			break_: func(t *testing.T, c *intotochain.Chain) {
				c.Links["package"].Materials["app.wasm"] = hashes("another module")
			}},
		{name: "unexpected product", want: intoto.ErrArtifactRule, step: "build", rule: []string{"DISALLOW", "*"},
			break_: func(t *testing.T, c *intotochain.Chain) {
				c.Links["build"].Products["backdoor.sh"] = hashes("curl | sh")
			}},
		{name: "required artifact missing", want: intoto.ErrArtifactRule, step: "build", rule: []string{"REQUIRE", "go.sum"},
			break_: func(t *testing.T, c *intotochain.Chain) {
				c.Layout.Steps[0].ExpectedMaterials = append([][]string{{"REQUIRE", "go.sum"}}, c.Layout.Steps[0].ExpectedMaterials...)
			}},
		{name: "link changed after signing", want: intoto.ErrLinkThreshold, step: "package", tamper: true},
		{name: "layout with an inspection", want: intoto.ErrInspections,
			break_: func(t *testing.T, c *intotochain.Chain) {
				c.Layout.Inspect = []in_toto.Inspection{{Type: "inspection", Run: []string{"touch", "/tmp/wasmgate-ran-an-inspection"},
					SupplyChainItem: in_toto.SupplyChainItem{Name: "untar"}}}
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newChain(t)
			if tc.break_ != nil {
				tc.break_(t, c)
			}
			layout, links := c.Signed(t)
			if tc.tamper {
				raw := links.Steps["package"][c.Bob.Pub.KeyID]
				var mb map[string]any
				if err := json.Unmarshal(raw, &mb); err != nil {
					t.Fatal(err)
				}
				mb["signed"].(map[string]any)["command"] = []string{"sh", "-c", "something else"}
				if raw, err := json.Marshal(mb); err != nil {
					t.Fatal(err)
				} else {
					links.Steps["package"][c.Bob.Pub.KeyID] = raw
				}
			}
			res, err := intoto.VerifyLayout(layout, []in_toto.Key{c.Owner.Pub}, links)
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
	layout, links := c.Signed(t)
	if _, err := intoto.VerifyLayout(layout, nil, links); !errors.Is(err, intoto.ErrLayoutSignature) {
		t.Errorf("no layout key: %v, want ErrLayoutSignature", err)
	}
	// in-toto requires every layout key given to have signed.
	if _, err := intoto.VerifyLayout(layout, []in_toto.Key{c.Owner.Pub, c.Alice.Pub}, links); !errors.Is(err, intoto.ErrLayoutSignature) {
		t.Errorf("a second key that did not sign: %v, want ErrLayoutSignature", err)
	}
	if _, err := intoto.ParseKey([]byte("not a key")); err == nil {
		t.Error("ParseKey took garbage")
	}
}

func TestVerifyLayoutCommandWarning(t *testing.T) {
	c := newChain(t)
	l := c.Links["build"]
	l.Command = []string{"go", "build"}
	c.Links["build"] = l
	layout, links := c.Signed(t)
	res, err := intoto.VerifyLayout(layout, []in_toto.Key{c.Owner.Pub}, links)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Warnings) != 1 {
		t.Errorf("a link that ran another command: warnings %q, want one (in-toto only warns)", res.Warnings)
	}
}

func TestVerifyLayoutBounds(t *testing.T) {
	c := newChain(t)
	layout, links := c.Signed(t)
	big := make([]byte, intoto.MaxLinkBytes+1)
	links.Steps["package"]["0123456789abcdef"] = big
	if _, err := intoto.VerifyLayout(layout, []in_toto.Key{c.Owner.Pub}, links); !errors.Is(err, intoto.ErrInvalidLink) {
		t.Errorf("a link over MaxLinkBytes: %v, want ErrInvalidLink", err)
	}
	if _, err := intoto.VerifyLayout(make([]byte, intoto.MaxLayoutBytes+1), []in_toto.Key{c.Owner.Pub}, links); !errors.Is(err, intoto.ErrInvalidLayout) {
		t.Errorf("a layout over MaxLayoutBytes: %v, want ErrInvalidLayout", err)
	}
	if _, err := intoto.VerifyLayout(links.Steps["build"][c.Alice.Pub.KeyID], []in_toto.Key{c.Alice.Pub}, links); !errors.Is(err, intoto.ErrInvalidLayout) {
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
			c.DSSE = dsse
			carol := newKey(t)
			compile := c.Links["build"]
			compile.Name = "compile"
			sub := in_toto.Layout{
				Type: "layout", Expires: c.Layout.Expires,
				Keys: map[string]in_toto.Key{carol.Pub.KeyID: carol.Pub},
				Steps: []in_toto.Step{{Type: "step", PubKeys: []string{carol.Pub.KeyID}, Threshold: 1,
					ExpectedCommand: compile.Command,
					SupplyChainItem: in_toto.SupplyChainItem{Name: "compile",
						ExpectedProducts: [][]string{{"CREATE", "app.wasm"}, {"DISALLOW", "*"}}}}},
			}
			layout, links := c.Signed(t)
			links.Steps["build"] = map[string][]byte{c.Alice.Pub.KeyID: sign(t, sub, c.Alice, dsse)}
			subDir := fmt.Sprintf(in_toto.SublayoutLinkDirFormat, "build", c.Alice.Pub.KeyID)
			links.Sublayouts = map[string]*intoto.Links{subDir: {Steps: map[string]map[string][]byte{
				"compile": {carol.Pub.KeyID: sign(t, compile, carol, dsse)}}}}

			dir := t.TempDir()
			writeDir(t, dir, links)
			if err := os.Mkdir(filepath.Join(dir, subDir), 0o755); err != nil {
				t.Fatal(err)
			}
			writeDir(t, filepath.Join(dir, subDir), links.Sublayouts[subDir])

			for name, src := range map[string]intoto.LinkSource{"memory": links, "directory": intoto.LinkDir(dir)} {
				res, err := intoto.VerifyLayout(layout, []in_toto.Key{c.Owner.Pub}, src)
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				s := res.Steps[0].Sublayout
				if s == nil || !s.Verified || s.Steps[0].Name != "compile" || !slices.Equal(s.Steps[0].Functionaries, []string{carol.Pub.KeyID}) {
					t.Errorf("%s: sublayout %+v", name, s)
				}
			}

			// The sublayout's link changed: the failure names the step inside it.
			bad := compile
			bad.Products = map[string]in_toto.HashObj{"app.wasm": hashes("another module")}
			links.Sublayouts[subDir].Steps["compile"][carol.Pub.KeyID] = sign(t, bad, carol, dsse)
			res, err := intoto.VerifyLayout(layout, []in_toto.Key{c.Owner.Pub}, links)
			if !errors.Is(err, intoto.ErrArtifactRule) || res.FailedStep != "package" {
				t.Errorf("a sublayout whose product differs from what package used: %v (step %q), want ErrArtifactRule on package", err, res.FailedStep)
			}
			delete(links.Sublayouts[subDir].Steps, "compile")
			res, err = intoto.VerifyLayout(layout, []in_toto.Key{c.Owner.Pub}, links)
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
