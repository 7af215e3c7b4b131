package loader_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wasmgate/wasmgate/access"
	"github.com/wasmgate/wasmgate/internal/sample"
	"github.com/wasmgate/wasmgate/internal/testrig/testkit"
	"github.com/wasmgate/wasmgate/loader"
	"github.com/wasmgate/wasmgate/remote"
	"github.com/wasmgate/wasmgate/sign"
	"github.com/wasmgate/wasmgate/verify"
)

// The tag moves between verification and loading: what runs is the
// verified digest's bytes, held by the Artifact, never the new content.
// A real pipeline: the sample module with its policy, signed with a fresh
// key in an OCI layout, verified under a trust policy; then the tag is
// pointed at the probe module, signed by the same key.
func TestLoadRunsTheVerifiedBytesAfterTheTagMoved(t *testing.T) {
	ctx := testkit.Context(t)
	dir := t.TempDir()
	site := testkit.Open(t, nil, "oci-layout:"+filepath.Join(dir, "app")+":v1", remote.Options{})
	o, dst, layoutRef := &access.Opener{}, site.Target, site.Ref
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	publish := func(wasm []byte) {
		pkg := testkit.Push(t, dst, testkit.TempFile(t, "m.wasm", wasm), sample.PolicyYAML(), "v1")
		if _, err := sign.Cosign(ctx, dst, pkg.Manifest, key, sign.Options{}); err != nil {
			t.Fatal(err)
		}
	}
	publish(sample.HelloWasm())
	testkit.WritePublicKey(t, filepath.Join(dir, "k.pub"), key.Public())
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
