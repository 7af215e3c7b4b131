package loader_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/wasmgate/wasmgate/access"
	"github.com/wasmgate/wasmgate/artifact"
	"github.com/wasmgate/wasmgate/internal/sample"
	"github.com/wasmgate/wasmgate/loader"
	"github.com/wasmgate/wasmgate/sign"
	"github.com/wasmgate/wasmgate/verify"
)

// A Go host embedding wasmgate (docs/hosts.md): verify under the trust
// policy, then load the verified artifact under its policy ∩ what the host
// grants, and run it. The publisher's side (push and sign into an OCI
// layout) is in publishExample.
func Example_host() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "host-")
	defer os.RemoveAll(dir)
	ref := publishExample(dir) // oci-layout:DIR/app:v1, signed; DIR/trust.yaml trusts the key

	policy, err := verify.LoadPolicy(context.Background(), filepath.Join(dir, "trust.yaml"), verify.LoadOptions{})
	if err != nil {
		log.Fatal(err)
	}
	v, err := verify.New(policy, &access.Opener{}, verify.Options{})
	if err != nil {
		log.Fatal(err)
	}
	parsed, err := artifact.ParseReference(ref)
	if err != nil {
		log.Fatal(err)
	}
	verified, _, err := v.Fetch(ctx, parsed)
	if err != nil {
		log.Fatal(err) // not verified: nothing to load
	}
	data := filepath.Join(dir, "data")
	must(os.MkdirAll(data, 0o755))
	must(os.WriteFile(filepath.Join(data, "in.txt"), []byte("42"), 0o644))

	var out bytes.Buffer
	m, err := loader.Load(ctx, verified, loader.Host{
		Mounts:  []loader.Mount{{Path: "/data", Dir: data}}, // the policy asks for fs:///data/** read
		EnvKeys: []string{"GREETING"},
		Env:     func(k string) (string, bool) { return "hello", k == "GREETING" },
		Args:    []string{"hello", "/data/in.txt"},
		Stdout:  &out,
		// Compiled code is kept here across runs, keyed by the wasm's
		// digest; a directory only the host's user can write.
		CacheDir: cacheDir,
	})
	if err != nil {
		log.Fatal(err) // e.g. a *loader.CeilingError: the policy asks for more than the host grants
	}
	defer m.Close(ctx)
	for _, line := range m.Sandbox().Lines()[1:] { // [0] names the host directory
		fmt.Println(line)
	}
	code, err := m.Run(ctx)
	fmt.Print(out.String())
	fmt.Println("exit", code, err)
	// Output:
	// env GREETING
	// memory 64 MiB
	// timeout 10s
	// network none
	// hello from wasmgate
	// greeting: hello
	// file /data/in.txt: 42
	// exit 0 <nil>
}

func publishExample(dir string) string {
	ctx := context.Background()
	wasm := filepath.Join(dir, "hello.wasm")
	must(os.WriteFile(wasm, sample.HelloWasm(), 0o644))
	pkg, err := artifact.Pack(wasm, sample.PolicyYAML(), artifact.BuildOptions{})
	must(err)
	ref := "oci-layout:" + filepath.Join(dir, "app") + ":v1"
	r, err := artifact.ParseReference(ref)
	must(err)
	dst, err := (&access.Opener{}).Destination(r)
	must(err)
	must(access.Push(ctx, dst, pkg, "v1", access.PushOptions{}))
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(err)
	_, err = sign.Cosign(ctx, dst, pkg.Manifest, key, sign.Options{})
	must(err)
	der, err := x509.MarshalPKIXPublicKey(key.Public())
	must(err)
	must(os.WriteFile(filepath.Join(dir, "release.pub"), pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o644))
	must(os.WriteFile(filepath.Join(dir, "trust.yaml"), []byte(`version: v1
policies:
  - name: apps
    scopes: ["*"]
    signatures:
      authorities:
        - name: release
          cosign: {key: release.pub, insecureIgnoreTlog: true}
    layers: {requirePolicy: true}
`), 0o644))
	return ref
}

func must(err error) {
	if err != nil {
		log.Fatal(err)
	}
}
