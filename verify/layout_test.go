package verify_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	in_toto "github.com/in-toto/in-toto-golang/in_toto"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/wasmgate/wasmgate/evidence"
	"github.com/wasmgate/wasmgate/evidence/intoto"
	"github.com/wasmgate/wasmgate/internal/sample"
	"github.com/wasmgate/wasmgate/internal/testrig/intotochain"
	"github.com/wasmgate/wasmgate/internal/testrig/testkit"
	"github.com/wasmgate/wasmgate/referrers"
	"github.com/wasmgate/wasmgate/verify"
)

// layoutPolicy requires one in-toto layout, signed by keys/owner.pub, of
// which product is a final product.
func layoutPolicy(scope, product string) string {
	return sprintf(`version: v1
policies:
  - name: app
    scopes: [%q]
    layouts:
      - name: release-chain
        keys: [keys/owner.pub]
        product: %s
`, scope, product)
}

// pushCase pushes the sample module under tag with a policy layer of its
// own: another manifest, so another set of referrers, with the same wasm
// layer.
func (f *fixture) pushCase(t *testing.T, tag string) (string, ocispec.Descriptor) {
	t.Helper()
	perms := append(sample.PolicyYAML(), []byte("\n# "+tag+"\n")...)
	pkg := testkit.Push(t, f.dst, testkit.TempFile(t, "hello.wasm", sample.HelloWasm()), perms, tag)
	return f.reg.Ref("wasm/app", tag), pkg.Manifest
}

// attachFile attaches data to subject as a referrer of artifactType, as
// wasmgate attach does (one layer, application/octet-stream).
func (f *fixture) attachFile(t *testing.T, subject ocispec.Descriptor, artifactType string, data []byte) digest.Digest {
	t.Helper()
	desc, err := referrers.Attach(testkit.Context(t), f.dst, subject, artifactType,
		[]referrers.Blob{{MediaType: "application/octet-stream", Data: data}}, referrers.AttachOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return desc.Digest
}

// An in-toto layout and its links attached as referrers, on both registry
// kinds (distribution through the fallback tag, ggcr through the
// Referrers API), verified under a policy that requires the layout; then
// each way it is refused: nothing attached, another owner, a link
// missing, another module built, expired, inspections (denied as not
// verifiable here: wasmgate does not run them).
func TestLayoutRequirement(t *testing.T) {
	wasmDigest := digest.FromBytes(sample.HelloWasm())
	for _, at := range []where{atDistribution, atGGCR} {
		t.Run(string(at), func(t *testing.T) {
			f := newFixture(t, at)
			scope := f.scope(t)
			for i, tc := range []struct {
				name    string
				chain   func(t *testing.T, c *intotochain.Chain, subject ocispec.Descriptor)
				omit    []string // files not attached: "layout", or a step's link
				product string
				verdict verify.Verdict
				want    error // wrapped by the layout check's error
				step    string
			}{
				{name: "verified", verdict: verify.VerdictVerified},
				{name: "product manifest", product: "manifest", verdict: verify.VerdictVerified,
					chain: func(t *testing.T, c *intotochain.Chain, subject ocispec.Descriptor) {
						c.Links["package"].Products["manifest.json"] = in_toto.HashObj{"sha256": subject.Digest.Encoded()}
					}},
				{name: "no layout attached", omit: []string{"layout"}, verdict: verify.VerdictDenied, want: verify.ErrLayout},
				{name: "layout signed by a key not in the policy", verdict: verify.VerdictDenied, want: intoto.ErrLayoutSignature,
					chain: func(t *testing.T, c *intotochain.Chain, _ ocispec.Descriptor) { c.LayoutSigner = intotochain.NewKey(t) }},
				{name: "a link missing", omit: []string{"package"}, verdict: verify.VerdictDenied, want: intoto.ErrLinkThreshold, step: "package"},
				{name: "the wasm layer not a final product", verdict: verify.VerdictDenied, want: intoto.ErrSubjectMismatch,
					chain: func(t *testing.T, c *intotochain.Chain, _ ocispec.Descriptor) {
						*c = *intotochain.New(t, []byte("another module"))
					}},
				{name: "the manifest not a final product", product: "manifest", verdict: verify.VerdictDenied, want: intoto.ErrSubjectMismatch},
				{name: "expired layout", verdict: verify.VerdictDenied, want: intoto.ErrLayoutExpired,
					chain: func(t *testing.T, c *intotochain.Chain, _ ocispec.Descriptor) {
						c.Layout.Expires = "2020-01-01T00:00:00Z"
					}},
				{name: "layout with inspections", verdict: verify.VerdictDenied, want: intoto.ErrInspections,
					chain: func(t *testing.T, c *intotochain.Chain, _ ocispec.Descriptor) {
						c.Layout.Inspect = []in_toto.Inspection{{Type: "inspection", Run: []string{"touch", "/tmp/wasmgate-ran-an-inspection"},
							SupplyChainItem: in_toto.SupplyChainItem{Name: "untar"}}}
					}},
			} {
				t.Run(tc.name, func(t *testing.T) {
					ref, subject := f.pushCase(t, fmt.Sprintf("case%d", i))
					c := intotochain.New(t, sample.HelloWasm())
					owner := c.Owner
					if tc.chain != nil {
						tc.chain(t, c, subject)
					}
					if tc.name == "the wasm layer not a final product" {
						owner = c.Owner
					}
					c.DSSE = i%2 == 1
					layout, links := c.Files(t)
					attached := map[string]digest.Digest{}
					if !slices.Contains(tc.omit, "layout") {
						attached["layout"] = f.attachFile(t, subject, evidence.ArtifactTypeInTotoLayout, layout)
					}
					for step, raw := range links {
						if !slices.Contains(tc.omit, step) {
							attached[step] = f.attachFile(t, subject, evidence.ArtifactTypeInTotoLink, raw)
						}
					}
					if err := os.WriteFile(filepath.Join(f.dir, "keys", "owner.pub"), owner.PubPEM, 0o644); err != nil {
						t.Fatal(err)
					}
					product := orDefault(tc.product, "wasm")
					p := f.policy(t, layoutPolicy(scope, product))

					res, err := f.verify(t, p, verify.Options{}, ref)
					if res.Verdict != tc.verdict {
						t.Fatalf("verdict %s (%v), want %s; checks %+v", res.Verdict, err, tc.verdict, res.Checks)
					}
					check := findCheck(res, verify.CheckLayout, "release-chain")
					if check == nil || len(res.Layouts) != 1 {
						t.Fatalf("no layout check or report: %+v", res)
					}
					rep := res.Layouts[0]
					wantProduct := wasmDigest
					if product == "manifest" {
						wantProduct = subject.Digest
					}
					if rep.ProductDigest != wantProduct || !slices.Equal(rep.OwnerKeys, []string{owner.Pub.KeyID}) {
						t.Errorf("report requires %s by %v, want %s by %s", rep.ProductDigest, rep.OwnerKeys, wantProduct, owner.Pub.KeyID)
					}
					if _, err := json.Marshal(res); err != nil {
						t.Errorf("the result does not marshal: %v", err)
					}
					switch tc.verdict {
					case verify.VerdictVerified:
						if err != nil || check.Status != verify.StatusPassed {
							t.Fatalf("%v %+v", err, check)
						}
						last := rep.Results[len(rep.Results)-1]
						wantLinks := []digest.Digest{attached["build"], attached["package"]}
						slices.Sort(wantLinks)
						if !rep.Verified || rep.Layout != attached["layout"] || !slices.Equal(rep.Links, wantLinks) || len(last.Steps) != 2 ||
							!slices.Equal(last.Steps[0].Functionaries, []string{c.Alice.Pub.KeyID}) || !slices.Equal(last.OwnerKeys, []string{owner.Pub.KeyID}) {
							t.Errorf("report %+v", rep)
						}
						if wantName := map[string]string{"wasm": "app.wasm", "manifest": "manifest.json"}[product]; last.Product != wantName {
							t.Errorf("matched product %q, want %q", last.Product, wantName)
						}
						// The VSA lists the layout and the links that counted.
						s, err := verify.SummaryOf(res, p, "https://wasmgate.test/verify@v1", "", time.Now())
						if err != nil {
							t.Fatal(err)
						}
						for _, d := range append(wantLinks, attached["layout"]) {
							if !slices.Contains(s.Inputs, d) {
								t.Errorf("the VSA's inputs %v lack %s", s.Inputs, d)
							}
						}
					case verify.VerdictDenied:
						if err != nil || check.Status != verify.StatusFailed || !errors.Is(check.Err, verify.ErrLayout) || !errors.Is(check.Err, tc.want) {
							t.Fatalf("undecided %v; check %+v, want a failure wrapping %v", err, check, tc.want)
						}
						if tc.step != "" && rep.Results[0].FailedStep != tc.step {
							t.Errorf("failed step %q, want %q", rep.Results[0].FailedStep, tc.step)
						}
					}
					// Inspections are never run: the layout is denied as
					// one wasmgate cannot verify (no retry would help).
					if errors.Is(tc.want, intoto.ErrInspections) {
						if !rep.Results[0].Unsupported || !slices.Equal(rep.Results[0].Inspections, []string{"untar"}) {
							t.Errorf("report %+v", rep)
						}
						if _, err := os.Stat("/tmp/wasmgate-ran-an-inspection"); err == nil {
							t.Error("an inspection's command ran")
						}
					}
				})
			}
		})
	}
}

func findCheck(res *verify.Result, name, subject string) *verify.Check {
	for i := range res.Checks {
		if res.Checks[i].Name == name && res.Checks[i].Subject == subject {
			return &res.Checks[i]
		}
	}
	return nil
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// The layouts of a statement, parsed with their keys loaded; each bad one
// refused at its line; a layout requirement is part of the VSA's policy
// digest, so that a verdict under one is never taken for another's.
func TestLayoutPolicy(t *testing.T) {
	dir := writeTrust(t)
	owner, other := intotochain.NewKey(t), intotochain.NewKey(t)
	for name, pem := range map[string][]byte{"owner.pub": owner.PubPEM, "other.pub": other.PubPEM} {
		if err := os.WriteFile(filepath.Join(dir, "keys", name), pem, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(dir, "trust.yaml")
	load := func(yaml string) (*verify.Policy, error) {
		t.Helper()
		if err := os.WriteFile(path, []byte(yaml), 0o644); err != nil {
			t.Fatal(err)
		}
		return verify.LoadPolicy(testkit.Context(t), path, verify.LoadOptions{})
	}
	head := "version: v1\npolicies:\n  - name: app\n    scopes: [\"r.test/app\"]\n    layouts:\n"

	p, err := load(head + "      - name: release-chain\n        keys: [keys/owner.pub, keys/other.pub]\n        product: manifest\n      - keys: [keys/owner.pub]\n")
	if err != nil {
		t.Fatal(err)
	}
	ls := p.Statements()[0].Layouts
	if len(ls) != 2 || ls[0].Name != "release-chain" || ls[0].Product != verify.ProductManifest ||
		!slices.Equal(ls[0].KeyIDs(), []string{owner.Pub.KeyID, other.Pub.KeyID}) ||
		ls[1].Name != "layouts[1]" || ls[1].Product != verify.ProductWasm {
		t.Fatalf("layouts %+v", ls)
	}
	if x := p.Explain(); !strings.Contains(x, "in-toto layout release-chain") || !strings.Contains(x, "the manifest's digest") {
		t.Errorf("explain:\n%s", x)
	}
	trust := p.TrustDigest()
	if err := os.WriteFile(filepath.Join(dir, "keys", "other.pub"), intotochain.NewKey(t).PubPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	if p2, err := load(head + "      - name: release-chain\n        keys: [keys/owner.pub, keys/other.pub]\n        product: manifest\n      - keys: [keys/owner.pub]\n"); err != nil || p2.TrustDigest() == trust {
		t.Errorf("another owner key in the same file: trust digest unchanged (%v)", err)
	}

	for _, tc := range []struct {
		name, yaml string
		err        error
		line       int
		field      string
	}{
		{"no keys", head + "      - name: a\n", verify.ErrPolicyInvalid, 6, "policies[0].layouts[0].keys"},
		{"empty keys", head + "      - keys: []\n", verify.ErrPolicyInvalid, 6, "policies[0].layouts[0].keys"},
		{"key file missing", head + "      - keys: [keys/nope.pub]\n", verify.ErrTrustMaterial, 6, "policies[0].layouts[0].keys[0]"},
		{"key file not a key", head + "      - keys:\n          - trust.yaml\n", verify.ErrTrustMaterial, 7, "policies[0].layouts[0].keys[0]"},
		{"same key twice", head + "      - keys: [keys/owner.pub, keys/owner.pub]\n", verify.ErrPolicyInvalid, 6, "policies[0].layouts[0].keys[1]"},
		{"bad product", head + "      - keys: [keys/owner.pub]\n        product: config\n", verify.ErrPolicyInvalid, 7, "policies[0].layouts[0].product"},
		{"unknown field", head + "      - keys: [keys/owner.pub]\n        owner: keys/owner.pub\n", verify.ErrPolicyUnknownField, 7, "policies[0].layouts[0].owner"},
		{"bad name", head + "      - name: \"a b\"\n        keys: [keys/owner.pub]\n", verify.ErrPolicyInvalid, 6, "policies[0].layouts[0].name"},
		{"duplicate name", head + "      - name: a\n        keys: [keys/owner.pub]\n      - name: a\n        keys: [keys/other.pub]\n", verify.ErrPolicyInvalid, 8, "policies[0].layouts[1].name"},
		{"not a list", head[:len(head)-1] + " {keys: [keys/owner.pub]}\n", verify.ErrPolicyInvalid, 5, "policies[0].layouts"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := load(tc.yaml)
			var pe *verify.PolicyError
			if !errors.As(err, &pe) || !errors.Is(err, tc.err) {
				t.Fatalf("got %v, want a *PolicyError wrapping %v", err, tc.err)
			}
			if pe.Line != tc.line || pe.Field != tc.field || !strings.Contains(err.Error(), fmt.Sprintf("%s:%d:", path, tc.line)) {
				t.Errorf("at line %d field %q, want line %d field %q: %v", pe.Line, pe.Field, tc.line, tc.field, err)
			}
		})
	}

	// Built in Go: defaults, refusals, and the VSA's policy digest, which
	// no file digest covers here, changes with the product and the keys.
	st := verify.Statement{Name: "app", Scopes: []string{"r.test/app"}, Layouts: []*verify.LayoutRule{{Keys: []in_toto.Key{owner.Pub}}}}
	p, err = verify.NewPolicy(st)
	if err != nil {
		t.Fatal(err)
	}
	if l := p.Statements()[0].Layouts[0]; l.Name != "layouts[0]" || l.Product != verify.ProductWasm {
		t.Errorf("defaults: %+v", l)
	}
	base, _ := verify.VSAPolicyDigest(p, "r.test/app")
	st.Layouts[0].Product = verify.ProductManifest
	byProduct, _ := verify.NewPolicy(st)
	st.Layouts[0].Product, st.Layouts[0].Keys = "", []in_toto.Key{other.Pub}
	byKey, _ := verify.NewPolicy(st)
	for name, q := range map[string]*verify.Policy{"product": byProduct, "key": byKey} {
		if d, _ := verify.VSAPolicyDigest(q, "r.test/app"); d == base || d == "" {
			t.Errorf("another layout %s: the same VSA policy digest", name)
		}
	}
	for _, bad := range []*verify.LayoutRule{{}, {Keys: []in_toto.Key{owner.Pub}, Product: "config"}, {Keys: []in_toto.Key{owner.Priv}}, {Keys: []in_toto.Key{owner.Pub, owner.Pub}}} {
		st.Layouts = []*verify.LayoutRule{bad}
		if _, err := verify.NewPolicy(st); !errors.Is(err, verify.ErrPolicyInvalid) {
			t.Errorf("NewPolicy took layout %+v: %v", bad, err)
		}
	}
}
