package serve_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"log"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"

	"oras.land/oras-go/v2/registry/remote/credentials"

	"github.com/wasmgate/wasmgate/access"
	"github.com/wasmgate/wasmgate/artifact"
	"github.com/wasmgate/wasmgate/internal/sample"
	"github.com/wasmgate/wasmgate/internal/testrig/testregistry"
	"github.com/wasmgate/wasmgate/remote"
	"github.com/wasmgate/wasmgate/serve"
	"github.com/wasmgate/wasmgate/sign"
)

// Decide admission for an image the way every endpoint does: the first
// request verifies, the next ones for the same digest are answered from the
// kept verdict (the tag is still resolved each time). Serve s.Handler()
// over TLS for Gatekeeper, Kyverno or the webhooks.
func ExampleServer_Check() {
	ctx := context.Background()
	srv := httptest.NewServer(testregistry.NewGGCRHandler()) // a registry, in process
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	client, err := remote.New(remote.Options{PlainHTTP: []string{u.Host}, Credentials: credentials.NewMemoryStore()})
	if err != nil {
		log.Fatal(err)
	}
	opener := &access.Opener{Client: client}

	// A publisher pushes and signs the module.
	dir, _ := os.MkdirTemp("", "serve-example")
	defer os.RemoveAll(dir)
	wasm := filepath.Join(dir, "hello.wasm")
	_ = os.WriteFile(wasm, sample.HelloWasm(), 0o644)
	pkg, _ := artifact.Pack(wasm, sample.PolicyYAML(), artifact.BuildOptions{})
	ref, _ := artifact.ParseReference(u.Host + "/wasm/hello:v1")
	repo, _ := opener.Destination(ref)
	if err := access.Push(ctx, repo, pkg, "v1", access.PushOptions{}); err != nil {
		log.Fatal(err)
	}
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if _, err := sign.Cosign(ctx, repo, pkg.Manifest, key, sign.Options{}); err != nil {
		log.Fatal(err)
	}
	der, _ := x509.MarshalPKIXPublicKey(key.Public())
	_ = os.WriteFile(filepath.Join(dir, "release.pub"), pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o644)
	_ = os.WriteFile(filepath.Join(dir, "trust.yaml"), []byte(policyYAML), 0o644)

	s, err := serve.New(ctx, serve.Options{PolicyFile: filepath.Join(dir, "trust.yaml"), Opener: opener})
	if err != nil {
		log.Fatal(err) // a policy that does not load: the service does not start
	}
	for range 2 {
		d := s.Check(ctx, u.Host+"/wasm/hello:v1")
		fmt.Println(d.Verdict, d.Allowed, d.Source, d.Digest == pkg.Manifest.Digest)
	}
	// Output:
	// verified true verified true
	// verified true cache true
}
