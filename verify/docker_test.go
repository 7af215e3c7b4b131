package verify_test

import (
	"bytes"
	"errors"
	"path/filepath"
	"testing"

	"github.com/wasmgate/wasmgate/artifact"
	"github.com/wasmgate/wasmgate/internal/testrig/peers"
	"github.com/wasmgate/wasmgate/internal/testrig/testkit"
	"github.com/wasmgate/wasmgate/internal/testrig/testregistry"
	"github.com/wasmgate/wasmgate/verify"
)

// cosignPolicy is one statement trusting pub, accepting what extra says.
func cosignPolicy(scope, pub, extra string) string {
	return sprintf("version: v1\npolicies:\n  - name: app\n    scopes: [%q]\n%s    signatures:\n      authorities:\n        - name: release\n          cosign: {key: %s, insecureIgnoreTlog: true}\n", scope, extra, pub)
}

// A Docker image (schema 2 manifest, Docker's config, a real tar+gzip
// layer) signed by the real cosign CLI, on both registry kinds:
// verified under artifacts: [image] like an OCI image, its layer streamed
// and hashed. It has one Docker tar+gzip layer, the form of Istio's
// compat variant, so a statement that accepts only wasm reads it as that
// and denies it: the layer holds no plugin.wasm.
func TestVerifyDockerImage(t *testing.T) {
	peers.Binary(t, "cosign")
	for _, kind := range testregistry.Kinds() {
		t.Run(string(kind), func(t *testing.T) {
			f := newFixture(t, where(kind))
			_, key, pub := peers.CosignKeys(t)
			im := testkit.PushDockerImage(t, f.dst, "linux/amd64", "docker")
			peers.CosignSign(t, key, f.reg.Ref("wasm/app", im.Manifest.Digest.String()), peers.CosignLegacy)

			res, err := f.verify(t, f.policy(t, cosignPolicy(f.scope(t), pub, "    artifacts: [image]\n")), verify.Options{}, f.refTo("docker"))
			mustPass(t, res, err)
			if res.SubjectKind != artifact.SubjectImage || res.Digest != im.Manifest.Digest || res.ArtifactType != artifact.MediaTypeDockerConfig || res.Signatures.Satisfied != 1 {
				t.Errorf("subject %s %s %s, signatures %+v", res.SubjectKind, res.Digest, res.ArtifactType, res.Signatures)
			}
			if c := res.Content; c == nil || c.Digests != verify.DigestsChecked || c.Layers != 1 || c.Bytes != im.Layer.Size {
				t.Errorf("content %+v, want 1 layer of %d bytes, digests checked", c, im.Layer.Size)
			}

			res, err = f.verify(t, f.policy(t, cosignPolicy(f.scope(t), pub, "")), verify.Options{}, f.refTo("docker"))
			if err != nil {
				t.Fatalf("default policy: undecided, want denied: %v", err)
			}
			if c := failedWith(t, res, artifact.ErrInvalidArchive); res.Pass || c.Name != verify.CheckLayers || res.SubjectKind != artifact.SubjectWasm {
				t.Errorf("default policy: pass %v, check %s, kind %s", res.Pass, c.Name, res.SubjectKind)
			}
		})
	}
}

// A Docker manifest list signed (by cosign) at the list: verified under
// artifacts: [index]; under platforms: each, each platform's Docker image
// is checked (layers hashed) and must be signed too.
func TestVerifyDockerManifestList(t *testing.T) {
	peers.Binary(t, "cosign")
	for _, kind := range testregistry.Kinds() {
		t.Run(string(kind), func(t *testing.T) {
			f := newFixture(t, where(kind))
			_, key, pub := peers.CosignKeys(t)
			list, images := testkit.PushDockerList(t, f.dst, "multi", "linux/amd64", "linux/arm64")
			peers.CosignSign(t, key, f.reg.Ref("wasm/app", list.Digest.String()), peers.CosignLegacy)

			res, err := f.verify(t, f.policy(t, cosignPolicy(f.scope(t), pub, "    artifacts: [index]\n")), verify.Options{}, f.refTo("multi"))
			mustPass(t, res, err)
			if res.SubjectKind != artifact.SubjectIndex || res.Digest != list.Digest {
				t.Errorf("subject %s %s", res.SubjectKind, res.Digest)
			}

			each := f.policy(t, cosignPolicy(f.scope(t), pub, "    artifacts: [index, image]\n    platforms: each\n"))
			res, err = f.verify(t, each, verify.Options{}, f.refTo("multi"))
			if err != nil {
				t.Fatalf("undecided: %v", err)
			}
			if c := failedWith(t, res, verify.ErrPlatform); !errors.Is(c.Err, verify.ErrThreshold) || res.Pass {
				t.Errorf("unsigned platforms: %+v", c)
			}
			for _, im := range images {
				peers.CosignSign(t, key, f.reg.Ref("wasm/app", im.Manifest.Digest.String()), peers.CosignLegacy)
			}
			res, err = f.verify(t, each, verify.Options{}, f.refTo("multi"))
			mustPass(t, res, err)
			if len(res.Platforms) != 2 {
				t.Fatalf("platforms %+v", res.Platforms)
			}
			for i, p := range res.Platforms {
				if !p.Verified || p.Kind != artifact.SubjectImage || p.Digest != images[i].Manifest.Digest || p.Content == nil || p.Content.Digests != verify.DigestsChecked {
					t.Errorf("platform %d: %+v", i, p)
				}
			}
		})
	}
}

// Istio's compat variant as docker builds it (testdata/shapes/
// istio-compat-docker: no annotation), signed by cosign: the default
// statement (wasm) verifies it as wasm with the compat layer extracted
// and checked, and Fetch hands over plugin.wasm byte-identical; a
// statement that also accepts images verifies it as a container image
// (only its layer could say it is wasm), and Fetch still reads it as wasm.
func TestVerifyDockerCompat(t *testing.T) {
	peers.Binary(t, "cosign")
	plugin := testkit.ReadFile(t, filepath.Join("..", "testdata", "shapes", "plugin.wasm"))
	for _, kind := range testregistry.Kinds() {
		t.Run(string(kind), func(t *testing.T) {
			f := newFixture(t, where(kind))
			_, key, pub := peers.CosignKeys(t)
			desc := testkit.PushLayout(t, f.dst, testkit.ShapeLayout(t, "istio-compat-docker"), "v1") // over the fixture's module
			peers.CosignSign(t, key, f.reg.Ref("wasm/app", desc.Digest.String()), peers.CosignBundle)
			ref := f.ref

			wasmOnly := f.policy(t, cosignPolicy(f.scope(t), pub, ""))
			res, err := f.verify(t, wasmOnly, verify.Options{}, ref)
			mustPass(t, res, err)
			if res.SubjectKind != artifact.SubjectWasm || res.Layers == nil || res.Content != nil || res.Digest != desc.Digest {
				t.Errorf("default: kind %s, layers %+v, content %+v", res.SubjectKind, res.Layers, res.Content)
			}
			a, _, err := mustVerifier(t, wasmOnly, f.opener, verify.Options{}).Fetch(testkit.Context(t), mustRef(t, ref))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(a.Wasm(), plugin) || a.Digest() != desc.Digest {
				t.Errorf("Fetch: %d bytes, manifest %s; want plugin.wasm under %s", len(a.Wasm()), a.Digest(), desc.Digest)
			}

			both := f.policy(t, cosignPolicy(f.scope(t), pub, "    artifacts: [wasm, image]\n"))
			res, err = f.verify(t, both, verify.Options{}, ref)
			mustPass(t, res, err)
			if res.SubjectKind != artifact.SubjectImage || res.Content == nil || res.Content.Digests != verify.DigestsChecked {
				t.Errorf("[wasm, image]: kind %s, content %+v", res.SubjectKind, res.Content)
			}
			if a, _, err := mustVerifier(t, both, f.opener, verify.Options{}).Fetch(testkit.Context(t), mustRef(t, ref)); err != nil || !bytes.Equal(a.Wasm(), plugin) {
				t.Errorf("Fetch under [wasm, image]: %v", err)
			}
		})
	}
}
