package loader_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"os"
	"path/filepath"
	"testing"

	"github.com/wasmgate/wasmgate/access"
	"github.com/wasmgate/wasmgate/internal/sample"
	"github.com/wasmgate/wasmgate/internal/testrig/testkit"
	"github.com/wasmgate/wasmgate/loader"
	"github.com/wasmgate/wasmgate/referrers"
	"github.com/wasmgate/wasmgate/remote"
	"github.com/wasmgate/wasmgate/sign"
	"github.com/wasmgate/wasmgate/verify"
)

// Strict mode runs one component of a verified Spin application
// (testdata/shapes/spin) under the application's permission policy, a
// signed referrer: the sandbox is that policy's, and what runs is hello's
// verified bytes. Real layout, keys, signatures and module.
func TestLoadRunsAComponentOfAVerifiedSpinApp(t *testing.T) {
	ctx := testkit.Context(t)
	dir := t.TempDir()
	site := testkit.Open(t, nil, "oci-layout:"+filepath.Join(dir, "app")+":v1", remote.Options{})
	app := testkit.PushLayout(t, site.Target, testkit.ShapeLayout(t, "spin"), "v1")
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pol, err := referrers.AttachPolicy(ctx, site.Target, app, sample.PolicyYAML(), referrers.AttachOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sign.Cosign(ctx, site.Target, app, key, sign.Options{}); err != nil {
		t.Fatal(err)
	}
	if _, err := sign.Cosign(ctx, site.Target, pol, key, sign.Options{}); err != nil {
		t.Fatal(err)
	}
	testkit.WritePublicKey(t, filepath.Join(dir, "k.pub"), key.Public())
	trust := "version: v1\npolicies:\n  - name: p\n    scopes: [\"*\"]\n    signatures:\n      authorities:\n        - name: k\n          cosign: {key: k.pub, insecureIgnoreTlog: true}\n" +
		"    permissionPolicy: {signedBy: [k]}\n    layers: {requirePolicy: true}\n"
	if err := os.WriteFile(filepath.Join(dir, "trust.yaml"), []byte(trust), 0o644); err != nil {
		t.Fatal(err)
	}
	policy, err := verify.LoadPolicy(context.Background(), filepath.Join(dir, "trust.yaml"), verify.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	v, err := verify.New(policy, &access.Opener{}, verify.Options{})
	if err != nil {
		t.Fatal(err)
	}
	a, _, err := v.FetchComponent(ctx, site.Ref, "hello")
	if err != nil {
		t.Fatal(err)
	}
	var stdout bytes.Buffer
	m, err := loader.Load(ctx, a, loader.Host{EnvKeys: []string{"GREETING"}, Mounts: []loader.Mount{{Path: "/data", Dir: dir}}, Stdout: &stdout, CacheDir: cacheDir})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close(ctx)
	if sb := m.Sandbox(); len(sb.Env) != 1 || sb.Env[0].Key != "GREETING" {
		t.Errorf("sandbox %+v, want the referrer policy's", sb)
	}
	if code, err := m.Run(ctx); err != nil || code != 0 {
		t.Fatalf("run: %d %v", code, err)
	}
	if stdout.String() != "hello from a wasm plugin\n" || m.Digest() != app.Digest {
		t.Errorf("ran %s: %q", m.Digest(), stdout.String())
	}
}
