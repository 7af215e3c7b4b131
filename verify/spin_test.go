package verify_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/wasmgate/wasmgate/artifact"
	"github.com/wasmgate/wasmgate/internal/sample"
	"github.com/wasmgate/wasmgate/internal/testrig/testkit"
	"github.com/wasmgate/wasmgate/internal/testrig/testregistry"
	"github.com/wasmgate/wasmgate/sign"
	"github.com/wasmgate/wasmgate/verify"
)

// spinApp replaces the fixture's artifact by the Spin application of
// testdata/shapes/spin (components hello, a WASI command, and adder),
// copied as it is, signed by release, with the sample's permission
// policy attached as a referrer signed by release.
func spinApp(t *testing.T, at where) *fixture {
	t.Helper()
	f := newFixture(t, at)
	f.subject = testkit.PushLayout(t, f.dst, testkit.ShapeLayout(t, "spin"), "v1")
	f.cosign(t, "release", sign.FormatBundle)
	f.attachPolicy(t, sample.PolicyYAML(), "release")
	return f
}

// One component of a verified Spin application, on both registry kinds
// and an OCI layout: FetchComponent verifies the whole application and
// hands out only hello's wasm, checked against its layer, with the
// application's signed policy referrer as its policy; a name the locked
// application lacks lists the ids and leaves the verdict standing; Fetch
// without a name refuses the application, listing the ids.
func TestFetchComponentOfSpinApp(t *testing.T) {
	hello := testkit.ReadFile(t, filepath.Join("..", "testdata", "shapes", "plugin.wasm"))
	for _, at := range everywhere {
		t.Run(string(at), func(t *testing.T) {
			f := spinApp(t, at)
			v := mustVerifier(t, f.policy(t, policyRefPolicy(f.scope(t), "    layers: {requirePolicy: true}\n")), f.opener, verify.Options{})
			ref := mustRef(t, f.ref)

			a, res, err := v.FetchComponent(testkit.Context(t), ref, "hello")
			if err != nil {
				t.Fatalf("FetchComponent hello: %v; checks %+v", err, res.Checks)
			}
			if a.Component() != "hello" || !bytes.Equal(a.Wasm(), hello) || a.WasmDigest() != digest.FromBytes(hello) ||
				a.Kind() != artifact.KindModule || a.Digest() != f.subject.Digest {
				t.Errorf("artifact: component %q kind %s wasm %s (%d bytes) manifest %s", a.Component(), a.Kind(), a.WasmDigest(), len(a.Wasm()), a.Digest())
			}
			if a.PolicySource().From != verify.PolicyFromReferrer || !bytes.Equal(a.PolicyLayer(), sample.PolicyYAML()) || a.Permissions() == nil {
				t.Errorf("policy %+v %q", a.PolicySource(), a.PolicyLayer())
			}
			if res.Layers == nil || res.Layers.Wasm != digest.FromBytes(hello) {
				t.Errorf("layers report %+v", res.Layers)
			}
			files, err := a.WriteFiles(t.TempDir())
			if err != nil || filepath.Base(files.Wasm) != "hello.wasm" || files.Policy == "" {
				t.Errorf("WriteFiles: %+v %v", files, err)
			}

			_, res, err = v.FetchComponent(testkit.Context(t), ref, "nope")
			var ce *verify.ComponentError
			if !errors.Is(err, verify.ErrNoSuchComponent) || !errors.As(err, &ce) || !slices.Equal(ce.IDs, []string{"hello", "adder"}) || ce.Name != "nope" {
				t.Fatalf("FetchComponent nope: %v", err)
			}
			if res == nil || res.Verdict != verify.VerdictVerified {
				t.Errorf("the application's verdict: %+v", res)
			}

			_, res, err = v.Fetch(testkit.Context(t), ref)
			if !errors.Is(err, verify.ErrNotVerified) {
				t.Fatalf("Fetch of the whole application: %v", err)
			}
			c := failedWith(t, res, verify.ErrMultipleComponents)
			if !errors.As(c.Err, &ce) || !slices.Equal(ce.IDs, []string{"hello", "adder"}) || !errors.Is(c.Err, verify.ErrLayers) {
				t.Errorf("Fetch's failed check %+v", c)
			}
		})
	}
}

// A name on an artifact that is not a Spin application: the artifact is
// verified, and no component is handed out.
func TestFetchComponentNotSpin(t *testing.T) {
	f := newFixture(t, atLayout)
	f.cosign(t, "release", sign.FormatBundle)
	v := mustVerifier(t, f.policy(t, policyOf(f.scope(t), 1, "release", "")), f.opener, verify.Options{})
	_, res, err := v.FetchComponent(testkit.Context(t), mustRef(t, f.ref), "hello")
	var ce *verify.ComponentError
	if !errors.Is(err, verify.ErrNoSuchComponent) || !errors.As(err, &ce) || ce.IDs != nil {
		t.Fatalf("FetchComponent of a module: %v", err)
	}
	if res.Verdict != verify.VerdictVerified {
		t.Errorf("verdict %s", res.Verdict)
	}
}

// A component's layer tampered with, in a layout on disk and in flight
// from both registries: the application is denied with the digest
// mismatch of that layer, and nothing is handed out.
func TestFetchComponentTampered(t *testing.T) {
	hello := digest.FromBytes(testkit.ReadFile(t, filepath.Join("..", "testdata", "shapes", "plugin.wasm")))
	for _, at := range everywhere {
		t.Run(string(at), func(t *testing.T) {
			f := spinApp(t, at)
			if f.reg == nil {
				blob := filepath.Join(mustRef(t, f.ref).Path, "blobs", "sha256", hello.Encoded())
				raw, err := os.ReadFile(blob)
				if err != nil {
					t.Fatal(err)
				}
				raw[len(raw)/2] ^= 0xff
				if err := os.WriteFile(blob, raw, 0o644); err != nil {
					t.Fatal(err)
				}
			} else {
				f.reg.Faults.Inject("GET", "/blobs/"+hello.String(), testregistry.TamperBody())
			}
			v := mustVerifier(t, f.policy(t, policyRefPolicy(f.scope(t), "")), f.opener, verify.Options{})
			a, res, err := v.FetchComponent(testkit.Context(t), mustRef(t, f.ref), "hello")
			if a != nil || !errors.Is(err, verify.ErrNotVerified) {
				t.Fatalf("tampered: %v", err)
			}
			if c := failedWith(t, res, artifact.ErrDigestMismatch); c.Name != verify.CheckLayers {
				t.Errorf("failed check %+v", c)
			}
		})
	}
}
