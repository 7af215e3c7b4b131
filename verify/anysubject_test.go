package verify_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"

	"github.com/wasmgate/wasmgate/artifact"
	"github.com/wasmgate/wasmgate/internal/testrig/peers"
	"github.com/wasmgate/wasmgate/internal/testrig/testkit"
	"github.com/wasmgate/wasmgate/internal/testrig/testregistry"
	"github.com/wasmgate/wasmgate/sign"
	"github.com/wasmgate/wasmgate/verify"
)

// refTo is the fixture's reference with tag instead of v1.
func (f *fixture) refTo(tag string) string { return strings.TrimSuffix(f.ref, ":v1") + ":" + tag }

func (f *fixture) notationSign(t testing.TB, subject ocispec.Descriptor) {
	t.Helper()
	if _, err := sign.Notation(testkit.Context(t), f.dst, subject, f.notary.NotationSigner(t), sign.NotationOptions{}); err != nil {
		t.Fatal(err)
	}
}

// failedWith returns the failed check whose error wraps target, or fails.
func failedWith(t testing.TB, res *verify.Result, target error) verify.Check {
	t.Helper()
	for _, c := range res.Failed() {
		if c.Status == verify.StatusFailed && errors.Is(c.Err, target) {
			return c
		}
	}
	t.Fatalf("verdict %s: no failed check wraps %v: %+v", res.Verdict, target, res.Checks)
	return verify.Check{}
}

func mustPass(t testing.TB, res *verify.Result, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("undecided: %v", err)
	}
	if res.Verdict != verify.VerdictVerified || !res.Pass {
		t.Fatalf("verdict %s, want verified: %+v", res.Verdict, res.Failed())
	}
}

// A Notation-signed container image, on both registry kinds and in an
// OCI layout: verified under a statement with artifacts: [any] (its layer
// streamed and hashed), denied (not undecided) under the default, with a
// reason naming the field; Fetch never hands it to a host.
func TestVerifyAnySubjectNotationImage(t *testing.T) {
	for _, at := range everywhere {
		t.Run(string(at), func(t *testing.T) {
			f := newFixture(t, at)
			im := testkit.PushImage(t, f.dst, "linux/amd64", "image")
			f.notationSign(t, im.Manifest)
			ref := f.refTo("image")

			any := f.policy(t, policyOf(f.scope(t), 1, "corp", "    artifacts: [any]\n"))
			res, err := f.verify(t, any, verify.Options{}, ref)
			mustPass(t, res, err)
			if res.SubjectKind != artifact.SubjectImage || res.Digest != im.Manifest.Digest || res.ArtifactType != ocispec.MediaTypeImageConfig {
				t.Errorf("subject %s %s %s, want image %s", res.SubjectKind, res.Digest, res.ArtifactType, im.Manifest.Digest)
			}
			if c := res.Content; c == nil || c.Digests != verify.DigestsChecked || c.Layers != 1 || c.Bytes != im.Layer.Size {
				t.Errorf("content %+v, want 1 layer of %d bytes, digests checked", c, im.Layer.Size)
			}
			if res.Layers != nil {
				t.Errorf("a wasm layer report for an image: %+v", res.Layers)
			}
			v := mustVerifier(t, any, f.opener, verify.Options{})
			if a, _, err := v.Fetch(testkit.Context(t), mustRef(t, ref)); a != nil || !errors.Is(err, verify.ErrNotVerified) || !errors.Is(err, artifact.ErrNotWasmArtifact) {
				t.Errorf("Fetch of an image: %v, %v; want ErrNotVerified and ErrNotWasmArtifact", a, err)
			}

			// The same statement, listing image: verified; the default: denied.
			res, err = f.verify(t, f.policy(t, policyOf(f.scope(t), 1, "corp", "    artifacts: [wasm, image]\n")), verify.Options{}, ref)
			mustPass(t, res, err)
			res, err = f.verify(t, f.policy(t, policyOf(f.scope(t), 1, "corp", "")), verify.Options{}, ref)
			if err != nil {
				t.Fatalf("default policy: undecided, want denied: %v", err)
			}
			c := failedWith(t, res, verify.ErrArtifactKind)
			for _, want := range []string{"is a container image", "accepts artifacts: [wasm]", "add image (or any)"} {
				if !strings.Contains(c.Reason, want) {
					t.Errorf("reason %q does not say %q", c.Reason, want)
				}
			}
			if res.Pass || res.Verdict != verify.VerdictDenied || c.Name != verify.CheckManifest {
				t.Errorf("verdict %s pass %v on check %s", res.Verdict, res.Pass, c.Name)
			}
			// The wasm artifact of the same repository still passes the default.
			f.notation(t)
			res, err = f.verify(t, f.policy(t, policyOf(f.scope(t), 1, "corp", "")), verify.Options{}, f.ref)
			mustPass(t, res, err)
			if res.SubjectKind != artifact.SubjectWasm || res.Layers == nil {
				t.Errorf("wasm artifact: kind %s, layers %+v", res.SubjectKind, res.Layers)
			}
		})
	}
}

// A container image signed by the real cosign CLI verifies under
// artifacts: [image], on both registry kinds.
func TestVerifyAnySubjectCosignImage(t *testing.T) {
	peers.Binary(t, "cosign")
	for _, kind := range testregistry.Kinds() {
		t.Run(string(kind), func(t *testing.T) {
			f := newFixture(t, where(kind))
			_, key, pub := peers.CosignKeys(t)
			im := testkit.PushImage(t, f.dst, "linux/amd64", "image")
			peers.CosignSign(t, key, f.reg.Ref("wasm/app", im.Manifest.Digest.String()), peers.CosignLegacy)
			policy := sprintf("version: v1\npolicies:\n  - name: app\n    scopes: [%q]\n    artifacts: [image]\n    signatures:\n      authorities:\n        - name: release\n          cosign: {key: %s, insecureIgnoreTlog: true}\n", f.scope(t), pub)
			res, err := f.verify(t, f.policy(t, policy), verify.Options{}, f.refTo("image"))
			mustPass(t, res, err)
			if res.SubjectKind != artifact.SubjectImage || res.Signatures.Satisfied != 1 {
				t.Errorf("kind %s, signatures %+v", res.SubjectKind, res.Signatures)
			}
		})
	}
}

// A multi-platform index signed at the index verifies under platforms:
// index; under platforms: each one unsigned platform denies it, naming
// the platform, until it is signed too.
func TestVerifyAnySubjectIndex(t *testing.T) {
	for _, at := range everywhere {
		t.Run(string(at), func(t *testing.T) {
			f := newFixture(t, at)
			idx, images := testkit.PushIndex(t, f.dst, "multi", "linux/amd64", "linux/arm64")
			f.notationSign(t, idx)
			ref := f.refTo("multi")

			res, err := f.verify(t, f.policy(t, policyOf(f.scope(t), 1, "corp", "    artifacts: [index]\n")), verify.Options{}, ref)
			mustPass(t, res, err)
			if res.SubjectKind != artifact.SubjectIndex || len(res.Platforms) != 0 {
				t.Errorf("kind %s, platforms %+v", res.SubjectKind, res.Platforms)
			}

			each := f.policy(t, policyOf(f.scope(t), 1, "corp", "    artifacts: [index, image]\n    platforms: each\n"))
			f.notationSign(t, images[0].Manifest)
			res, err = f.verify(t, each, verify.Options{}, ref)
			if err != nil {
				t.Fatalf("undecided: %v", err)
			}
			c := failedWith(t, res, verify.ErrPlatform)
			if c.Name != verify.CheckPlatform || !strings.HasPrefix(c.Subject, "linux/arm64 ") || !strings.Contains(c.Reason, "linux/arm64") || !errors.Is(c.Err, verify.ErrThreshold) {
				t.Errorf("failed check %+v, want platform linux/arm64's threshold", c)
			}
			if len(res.Platforms) != 2 || !res.Platforms[0].Verified || res.Platforms[1].Verified || res.Platforms[0].Content.Digests != verify.DigestsChecked {
				t.Errorf("platforms %+v", res.Platforms)
			}
			if len(res.Failed()) != 1 {
				t.Errorf("failed %+v, want only linux/arm64", res.Failed())
			}

			f.notationSign(t, images[1].Manifest)
			res, err = f.verify(t, each, verify.Options{}, ref)
			mustPass(t, res, err)
			if len(res.Platforms) != 2 || !res.Platforms[1].Verified {
				t.Errorf("platforms %+v", res.Platforms)
			}
		})
	}
}

// A container image whose layer was changed after it was signed (same
// length, other bytes) is denied with artifact's digest error; with
// layers.digests: skip it is verified, and the result says the digests
// were skipped and why, and lists the choice as insecure.
func TestVerifyAnySubjectTamperedLayer(t *testing.T) {
	f := newFixture(t, atLayout)
	im := testkit.PushImage(t, f.dst, "linux/amd64", "image")
	f.notationSign(t, im.Manifest)
	ref, err := artifact.ParseReference(f.ref)
	if err != nil {
		t.Fatal(err)
	}
	blob := filepath.Join(ref.Path, "blobs", "sha256", im.Layer.Digest.Encoded())
	raw, err := os.ReadFile(blob)
	if err != nil {
		t.Fatal(err)
	}
	raw[len(raw)/2] ^= 0xff
	if err := os.WriteFile(blob, raw, 0o644); err != nil {
		t.Fatal(err)
	}

	res, err := f.verify(t, f.policy(t, policyOf(f.scope(t), 1, "corp", "    artifacts: [any]\n")), verify.Options{}, f.refTo("image"))
	if err != nil {
		t.Fatalf("undecided: %v", err)
	}
	c := failedWith(t, res, artifact.ErrDigestMismatch)
	if c.Name != verify.CheckLayers || !strings.Contains(c.Reason, im.Layer.Digest.String()) {
		t.Errorf("failed check %+v, want layers naming %s", c, im.Layer.Digest)
	}

	res, err = f.verify(t, f.policy(t, policyOf(f.scope(t), 1, "corp", "    artifacts: [any]\n    layers: {digests: skip}\n")), verify.Options{}, f.refTo("image"))
	mustPass(t, res, err)
	if c := res.Content; c == nil || c.Digests != verify.DigestsSkipped || !strings.Contains(c.Reason, "layers.digests: skip") {
		t.Errorf("content %+v, want digests skipped with the reason", c)
	}
	if !strings.Contains(strings.Join(res.Insecure, "\n"), "layers.digests: skip") {
		t.Errorf("insecure %q does not list layers.digests: skip", res.Insecure)
	}
}

// A manifest that lists more layers than any image has is denied from the
// manifest alone: not one of its layers is fetched.
func TestVerifyAnySubjectTooManyLayers(t *testing.T) {
	f := newFixture(t, atLayout)
	im := testkit.PushImage(t, f.dst, "linux/amd64", "image")
	ctx := testkit.Context(t)
	m := ocispec.Manifest{MediaType: ocispec.MediaTypeImageManifest, Config: im.Config}
	m.SchemaVersion = 2
	for range verify.MaxContentLayers + 1 {
		m.Layers = append(m.Layers, im.Layer)
	}
	raw, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	desc, err := oras.TagBytes(ctx, f.dst, ocispec.MediaTypeImageManifest, raw, "many")
	if err != nil {
		t.Fatal(err)
	}
	f.notationSign(t, desc)
	res, err := f.verify(t, f.policy(t, policyOf(f.scope(t), 1, "corp", "    artifacts: [any]\n")), verify.Options{}, f.refTo("many"))
	if err != nil {
		t.Fatalf("undecided: %v", err)
	}
	if c := failedWith(t, res, verify.ErrLayers); !strings.Contains(c.Reason, "257 layers") {
		t.Errorf("failed check %+v", c)
	}
}

// Every wasm shape published in the wild (testdata/shapes), Notation-signed
// with notation-go, verifies as a wasm subject under the default statement,
// on both registry kinds and in an OCI layout; its digests are all checked.
func TestVerifyShapesNotation(t *testing.T) {
	shapes := []string{"wasme", "istio-compat", "istio-compat-docker", "runwasi", "spin", "wasmcloud"}
	for _, at := range everywhere {
		t.Run(string(at), func(t *testing.T) {
			f := newFixture(t, at)
			for _, shape := range shapes {
				desc := testkit.PushLayout(t, f.dst, testkit.ShapeLayout(t, shape), "v1")
				if err := f.dst.Tag(testkit.Context(t), desc, shape); err != nil {
					t.Fatal(err)
				}
				f.notationSign(t, desc)
				res, err := f.verify(t, f.policy(t, policyOf(f.scope(t), 1, "corp", "")), verify.Options{}, f.refTo(shape))
				if err != nil {
					t.Fatalf("%s: undecided: %v", shape, err)
				}
				if !res.Pass || res.SubjectKind != artifact.SubjectWasm || res.Digest != desc.Digest {
					t.Errorf("%s: verdict %s kind %s digest %s: %+v", shape, res.Verdict, res.SubjectKind, res.Digest, res.Failed())
				}
			}
		})
	}
}
