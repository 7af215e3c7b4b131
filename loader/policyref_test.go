package loader_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wasmgate/wasmgate/internal/sample"
	"github.com/wasmgate/wasmgate/internal/testrig/testkit"
	"github.com/wasmgate/wasmgate/internal/testrig/testregistry"
	"github.com/wasmgate/wasmgate/loader"
	"github.com/wasmgate/wasmgate/referrers"
	"github.com/wasmgate/wasmgate/remote"
	"github.com/wasmgate/wasmgate/sign"
	"github.com/wasmgate/wasmgate/verify"
)

// Strict mode over a permission policy that came as a signed referrer of
// a single-layer artifact: the sandbox is that policy's, as it would be a
// layer's. On both registry kinds; real keys, signatures and module.
func TestLoadRunsUnderAPolicyReferrer(t *testing.T) {
	for _, kind := range testregistry.Kinds() {
		t.Run(string(kind), func(t *testing.T) {
			ctx := testkit.Context(t)
			reg := testregistry.New(t, kind)
			site := testkit.Open(t, reg, reg.Ref("wasm/hello", "v1"), remote.Options{})
			dir := t.TempDir()
			key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
			if err != nil {
				t.Fatal(err)
			}
			pkg := testkit.Push(t, site.Target, testkit.TempFile(t, "hello.wasm", sample.HelloWasm()), nil, "v1")
			if pkg.Policy != nil {
				t.Fatal("a policy layer; want the wasm alone")
			}
			if _, err := sign.Cosign(ctx, site.Target, pkg.Manifest, key, sign.Options{}); err != nil {
				t.Fatal(err)
			}
			desc, err := referrers.AttachPolicy(ctx, site.Target, pkg.Manifest, sample.PolicyYAML(), referrers.AttachOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := sign.Cosign(ctx, site.Target, desc, key, sign.Options{}); err != nil {
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
			v, err := verify.New(policy, site.Opener, verify.Options{})
			if err != nil {
				t.Fatal(err)
			}
			a, _, err := v.Fetch(ctx, site.Ref)
			if err != nil {
				t.Fatal(err)
			}
			if s := a.PolicySource(); s.From != verify.PolicyFromReferrer || len(s.Referrers) != 1 || s.Referrers[0] != desc.Digest {
				t.Fatalf("policy source %+v, want referrer %s", s, desc.Digest)
			}
			if err := os.WriteFile(filepath.Join(dir, "hello.txt"), []byte("a file"), 0o644); err != nil {
				t.Fatal(err)
			}
			var stdout bytes.Buffer
			env := func(k string) (string, bool) { return "hi from the referrer's policy", k == "GREETING" }
			m, err := loader.Load(ctx, a, loader.Host{EnvKeys: []string{"GREETING", "HOME"}, Env: env,
				Mounts: []loader.Mount{{Path: "/data", Dir: dir}}, Stdout: &stdout, CacheDir: cacheDir})
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close(ctx)
			sb := m.Sandbox()
			if len(sb.Env) != 1 || sb.Env[0].Key != "GREETING" || len(sb.Mounts) != 1 || sb.Mounts[0].Path != "/data" || sb.MemoryBytes != 64<<20 {
				t.Errorf("sandbox %+v, want the referrer policy's (GREETING, /data read, 64Mi)", sb)
			}
			if code, err := m.Run(ctx); err != nil || code != 0 {
				t.Fatalf("run: %d %v", code, err)
			}
			if !strings.Contains(stdout.String(), "hi from the referrer's policy") {
				t.Errorf("stdout %q", stdout.String())
			}

			// Without permissionPolicy the referrer is not read: strict mode
			// refuses an artifact with no policy.
			if err := os.WriteFile(filepath.Join(dir, "trust.yaml"), []byte(strings.Split(trust, "    permissionPolicy")[0]), 0o644); err != nil {
				t.Fatal(err)
			}
			policy, err = verify.LoadPolicy(context.Background(), filepath.Join(dir, "trust.yaml"), verify.LoadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			v, _ = verify.New(policy, site.Opener, verify.Options{})
			b, _, err := v.Fetch(ctx, site.Ref)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := loader.Load(ctx, b, loader.Host{CacheDir: cacheDir}); !errors.Is(err, loader.ErrNoPolicy) {
				t.Errorf("Load without a policy: %v, want ErrNoPolicy", err)
			}
		})
	}
}
