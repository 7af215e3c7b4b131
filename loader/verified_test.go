package loader_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wasmgate/wasmgate/access"
	"github.com/wasmgate/wasmgate/artifact"
	"github.com/wasmgate/wasmgate/internal/sample"
	"github.com/wasmgate/wasmgate/loader"
	"github.com/wasmgate/wasmgate/sign"
	"github.com/wasmgate/wasmgate/verify"
)

// The tag moves between verification and loading: what runs is the
// verified digest's bytes, held by the Artifact, never the new content.
// A real pipeline: the sample module with its policy, signed with a fresh
// key in an OCI layout, verified under a trust policy; then the tag is
// pointed at the probe module, signed by the same key.
func TestLoadRunsTheVerifiedBytesAfterTheTagMoved(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	layout := "oci-layout:" + filepath.Join(dir, "app") + ":v1"
	ref, err := artifact.ParseReference(layout)
	if err != nil {
		t.Fatal(err)
	}
	o := &access.Opener{}
	dst, err := o.Destination(ref)
	if err != nil {
		t.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	publish := func(wasm []byte) {
		path := filepath.Join(t.TempDir(), "m.wasm")
		if err := os.WriteFile(path, wasm, 0o644); err != nil {
			t.Fatal(err)
		}
		pkg, err := artifact.Pack(path, sample.PolicyYAML(), artifact.BuildOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if err := access.Push(ctx, dst, pkg, "v1", access.PushOptions{}); err != nil {
			t.Fatal(err)
		}
		if _, err := sign.Cosign(ctx, dst, pkg.Manifest, key, sign.Options{}); err != nil {
			t.Fatal(err)
		}
	}
	publish(sample.HelloWasm())
	der, err := x509.MarshalPKIXPublicKey(key.Public())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "k.pub"), pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "trust.yaml"), []byte("version: v1\npolicies:\n  - name: p\n    scopes: [\"*\"]\n    signatures:\n      authorities:\n        - name: k\n          cosign: {key: k.pub, insecureIgnoreTlog: true}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	policy, err := verify.LoadPolicy(context.Background(), filepath.Join(dir, "trust.yaml"), verify.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	v, err := verify.New(policy, o, verify.Options{})
	if err != nil {
		t.Fatal(err)
	}
	layoutRef, err := artifact.ParseReference(layout)
	if err != nil {
		t.Fatal(err)
	}
	a, _, err := v.Fetch(ctx, layoutRef)
	if err != nil {
		t.Fatal(err)
	}

	publish(probeWasm) // the tag now names another, also signed, artifact

	var stdout bytes.Buffer
	m, err := loader.Load(ctx, a, loader.Host{EnvKeys: []string{"GREETING"}, Mounts: []loader.Mount{{Path: "/data", Dir: dir}}, Stdout: &stdout, CacheDir: cacheDir})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close(ctx)
	if code, err := m.Run(ctx); err != nil || code != 0 {
		t.Fatalf("run: %d %v", code, err)
	}
	if !strings.Contains(stdout.String(), "hello from wasmgate") || m.Digest() != a.Digest() {
		t.Errorf("ran %s (%q), want the verified %s", m.Digest(), stdout.String(), a.Digest())
	}
	b, _, err := v.Fetch(ctx, layoutRef)
	if err != nil || b.Digest() == a.Digest() {
		t.Fatalf("the tag did not move: %v", err)
	}
}
