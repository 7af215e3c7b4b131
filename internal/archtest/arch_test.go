// Package archtest holds the test that keeps wasmgate's architecture: the
// layers of docs/architecture.md, with every import pointing down, and the
// rules that matter most said on their own (after go-containerregistry's
// internal/depcheck). A new package fails it until it is given a layer.
package archtest

import (
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/wasmgate/wasmgate"

// layers are the library's layers, bottom first (docs/architecture.md).
// A package may import packages of its own layer or below, never above.
var layers = [][]string{
	// 0: the model — names, formats, parsing; no I/O beyond a local file.
	{"artifact", "permissions", "evidence", "internal/yamlnode", "internal/boundedio", "internal/atomicfile", "internal/sample", "internal/cosignkey", "internal/gcpercent"},
	// 1: access — registries, layouts, the cache, TUF.
	{"remote", "internal/ocilayout", "cache", "resultcache", "access", "sigstoreroot/embedded", "sigstoreroot"},
	// 2: discovery.
	{"referrers"},
	// 3: the evidence formats, one verifier each.
	{"evidence/cosign", "evidence/notation", "evidence/intoto", "evidence/dsse"},
	// 4: attestation requirements; publishing.
	{"attest", "sign"},
	// 5: the pipeline and the trust policy.
	{"verify"},
	// 6: hosts of the pipeline.
	{"loader", "apply", "catalog", "serve"},
	// 7: the commands.
	{"cmd/wasmgate", "cmd/wasmgate-serve", "bench/notation-verify", "bench/seed-referrers", "bench/proxy", "bench/admission-load"},
}

// rigs stand in for services in tests; they may import anything, and no
// product package may import them.
const rigs = "internal/testrig/"

// rigCommands are commands built on the rigs, for tests and benchmarks.
var rigCommands = []string{"cmd/wasmgate-testregistry", "internal/archtest"}

type pkg struct {
	ImportPath string
	Imports    []string
	Deps       []string
}

func packages(t *testing.T) map[string]pkg {
	t.Helper()
	cmd := exec.Command("go", "list", "-json", module+"/...")
	cmd.Dir = "../.."
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	all := map[string]pkg{}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p pkg
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		all[strings.TrimPrefix(strings.TrimPrefix(p.ImportPath, module), "/")] = p
	}
	return all
}

func local(path string) (string, bool) {
	if rest, ok := strings.CutPrefix(path, module+"/"); ok {
		return rest, true
	}
	return "", false
}

// TestLayers: every package has a layer, and every import of a module
// package points to its own layer or one below. No arrow runs back up.
func TestLayers(t *testing.T) {
	layerOf := map[string]int{}
	for i, l := range layers {
		for _, p := range l {
			layerOf[p] = i
		}
	}
	for name, p := range packages(t) {
		if strings.HasPrefix(name, rigs) || slices.Contains(rigCommands, name) {
			continue
		}
		mine, ok := layerOf[name]
		if !ok {
			t.Errorf("%s has no layer: place it in layers (and in docs/architecture.md)", name)
			continue
		}
		for _, imp := range p.Imports {
			dep, ok := local(imp)
			if !ok {
				continue
			}
			if strings.HasPrefix(dep, rigs) {
				continue // reported by TestProductNeverImportsRigs
			}
			if theirs, known := layerOf[dep]; known && theirs > mine {
				t.Errorf("%s (layer %d) imports %s (layer %d): an arrow up", name, mine, dep, theirs)
			}
		}
	}
}

// forbidden are the rules that matter on their own: a package and what it
// must never depend on, directly or not.
var forbidden = []struct {
	pkg, why string
	deps     []string
}{
	{"verify", "the pipeline decides; it never runs what it verifies", []string{module + "/loader", "github.com/tetratelabs/wazero"}},
	{"artifact", "the model knows no access and no trust", []string{
		module + "/access", module + "/remote", module + "/cache", module + "/internal/ocilayout", module + "/referrers",
		module + "/evidence/cosign", module + "/evidence/notation", module + "/evidence/intoto", module + "/evidence/dsse", module + "/verify",
		module + "/attest", module + "/sign", "github.com/sigstore/sigstore-go", "github.com/notaryproject/notation-go", "oras.land/oras-go/v2/registry/remote"}},
	{"evidence", "the names of the formats decide nothing", []string{"github.com/sigstore/sigstore-go", "github.com/notaryproject/notation-go", "oras.land/oras-go/v2"}},
	{"referrers", "discovery never decides trust", []string{
		module + "/evidence/cosign", module + "/evidence/notation", module + "/evidence/intoto", module + "/evidence/dsse", module + "/attest", module + "/verify", module + "/sign",
		"github.com/sigstore/sigstore-go/pkg/verify", "github.com/notaryproject/notation-go/verifier"}},
	{"evidence/cosign", "a verifier does not publish", []string{module + "/sign", module + "/verify", module + "/attest"}},
	{"evidence/notation", "a verifier does not publish", []string{module + "/sign", module + "/verify", module + "/attest"}},
	{"evidence/dsse", "a verifier does not publish", []string{module + "/sign", module + "/verify", module + "/attest"}},
	{"cmd/wasmgate", "every CLI run would pay their initialisation (~3 ms): the service is cmd/wasmgate-serve", []string{
		module + "/serve", "github.com/open-policy-agent", "k8s.io/api", "k8s.io/apimachinery"}},
}

func TestForbiddenDependencies(t *testing.T) {
	all := packages(t)
	for _, rule := range forbidden {
		p, ok := all[rule.pkg]
		if !ok {
			t.Errorf("no package %s", rule.pkg)
			continue
		}
		for _, dep := range p.Deps {
			for _, bad := range rule.deps {
				if dep == bad || strings.HasPrefix(dep, bad+"/") {
					t.Errorf("%s depends on %s: %s", rule.pkg, dep, rule.why)
				}
			}
		}
	}
}

// TestProductNeverImportsRigs: the test rigs (fake Fulcio, test
// registries, TUF repositories, the peer CLIs) never reach a binary.
func TestProductNeverImportsRigs(t *testing.T) {
	for name, p := range packages(t) {
		if strings.HasPrefix(name, rigs) || slices.Contains(rigCommands, name) {
			continue
		}
		for _, dep := range p.Deps {
			if rest, ok := local(dep); ok && strings.HasPrefix(rest, rigs) {
				t.Errorf("%s depends on the test rig %s", name, rest)
			}
		}
	}
}

// TestLibraryNeverImportsCommands: the CLI is built on the library, never
// the other way round.
func TestLibraryNeverImportsCommands(t *testing.T) {
	for name, p := range packages(t) {
		if strings.HasPrefix(name, "cmd/") {
			continue
		}
		for _, dep := range p.Deps {
			if rest, ok := local(dep); ok && strings.HasPrefix(rest, "cmd/") {
				t.Errorf("%s depends on the command %s", name, rest)
			}
		}
	}
}
