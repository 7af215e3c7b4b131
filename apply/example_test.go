package apply_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"

	"github.com/wasmgate/wasmgate/access"
	"github.com/wasmgate/wasmgate/apply"
	"github.com/wasmgate/wasmgate/artifact"
	"github.com/wasmgate/wasmgate/internal/sample"
	"github.com/wasmgate/wasmgate/loader"
	"github.com/wasmgate/wasmgate/sign"
	"github.com/wasmgate/wasmgate/verify"
)

// A trust policy for every OCI layout ("local/<directory>"): signed with
// the release key, which is checked alone (no transparency log), and the
// publisher's permission policy required.
const trustPolicy = `version: v1
policies:
  - name: local
    scopes: ["local/*"]
    signatures:
      authorities:
        - name: release
          cosign: {key: release.pub, insecureIgnoreTlog: true}
    layers: {requirePolicy: true}
`

// publishLayout pushes the sample module, with its permission policy, to
// the OCI layout dir/name and, when key is not nil, signs it there. It
// returns the layout reference pinned by digest.
func publishLayout(ctx context.Context, dir, name string, key *ecdsa.PrivateKey) string {
	wasm := filepath.Join(dir, "hello.wasm")
	orFatal(os.WriteFile(wasm, sample.HelloWasm(), 0o644))
	pkg, err := artifact.Pack(wasm, sample.PolicyYAML(), artifact.BuildOptions{})
	orFatal(err)
	ref, err := artifact.ParseReference("oci-layout:" + filepath.Join(dir, name) + ":v1")
	orFatal(err)
	dst, err := (&access.Opener{}).Destination(ref)
	orFatal(err)
	orFatal(access.Push(ctx, dst, pkg, ref.Tag, access.PushOptions{}))
	if key != nil {
		_, err = sign.Cosign(ctx, dst, pkg.Manifest, key, sign.Options{})
		orFatal(err)
	}
	return "oci-layout:" + filepath.Join(dir, name) + "@" + pkg.Manifest.Digest.String()
}

func orFatal(err error) {
	if err != nil {
		log.Fatal(err)
	}
}

// Provision three components from one components file: one signed and
// granted what its policy asks, the same one without grants, and one
// nobody signed. Each gets an outcome; only the first is written out.
// Applying again fetches nothing: the verified files are still there.
func ExampleApply() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "apply-example")
	orFatal(err)
	defer os.RemoveAll(dir)

	// The publisher's side: a key, a signed and an unsigned artifact.
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	orFatal(err)
	signed := publishLayout(ctx, dir, "hello", key)
	unsigned := publishLayout(ctx, dir, "unsigned", nil)

	// The host's side: the public key, a trust policy, a components file.
	der, err := x509.MarshalPKIXPublicKey(key.Public())
	orFatal(err)
	orFatal(os.WriteFile(filepath.Join(dir, "release.pub"), pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o644))
	orFatal(os.WriteFile(filepath.Join(dir, "trust.yaml"), []byte(trustPolicy), 0o644))
	orFatal(os.MkdirAll(filepath.Join(dir, "data"), 0o755))
	components := strings.NewReplacer("SIGNED", signed, "UNSIGNED", unsigned).Replace(`version: v1
policy: trust.yaml
components:
  - name: hello
    ref: SIGNED
    grants:
      dirs: ["/data=./data"]
      env: {GREETING: hello}
      maxMemory: 64Mi
      maxTime: 10s
  - name: hello-no-grants
    ref: SIGNED
  - name: unsigned
    ref: UNSIGNED
    grants:
      dirs: ["/data=./data"]
      env: {GREETING: hello}
`)
	orFatal(os.WriteFile(filepath.Join(dir, "components.yaml"), []byte(components), 0o644))

	spec, err := apply.Load(filepath.Join(dir, "components.yaml"))
	orFatal(err)
	opts := apply.Options{Dir: filepath.Join(dir, "components"), Strict: true}
	out, err := apply.Apply(ctx, spec, &access.Opener{}, opts)
	if err != nil {
		log.Fatal(err) // nothing was tried: a trust policy, strict mode
	}
	for _, o := range out {
		fmt.Println(o.Name, o.Status)
		var ceiling *loader.CeilingError
		switch {
		case o.Status == apply.StatusApplied:
			sb := o.Sandbox
			fmt.Println("  files:", filepath.Base(o.Files.Wasm), filepath.Base(o.Files.Policy))
			fmt.Println("  sandbox:", sb.Mounts[0].Path, sb.Mounts[0].Write, sb.Env[0].Key, sb.Timeout)
		case errors.As(o.Err, &ceiling):
			// Every request beyond the grants, listed at once.
			fmt.Println("  beyond the grants:", len(ceiling.Missing))
		case errors.Is(o.Err, verify.ErrNotVerified):
			// Why: the failed checks of the verification, each typed.
			for _, c := range o.Result.Failed() {
				fmt.Println("  failed:", c.Name, errors.Is(c.Err, verify.ErrThreshold))
			}
		}
	}

	out, err = apply.Apply(ctx, spec, &access.Opener{}, opts)
	orFatal(err)
	fmt.Println(out[0].Name, out[0].Status)
	// Output:
	// hello applied
	//   files: hello.wasm policy.yaml
	//   sandbox: /data false GREETING 10s
	// hello-no-grants refused
	//   beyond the grants: 2
	// unsigned denied
	//   failed: signatures true
	// hello present
}

// A components file is checked whole when it is loaded: a component name
// names a directory, so it is refused unless it is a safe one.
func ExampleLoad() {
	dir, err := os.MkdirTemp("", "apply-example")
	orFatal(err)
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "components.yaml")
	orFatal(os.WriteFile(path, []byte(`version: v1
policy: trust.yaml
components:
  - name: ../escape
    ref: registry.example/wasm/hello:v1
`), 0o644))

	_, err = apply.Load(path)
	fmt.Println(errors.Is(err, apply.ErrSpec))
	// Output: true
}

// Strict mode refuses a reference that is not pinned by digest, before
// anything is fetched or any trust policy read.
func ExampleApply_strict() {
	dir, err := os.MkdirTemp("", "apply-example")
	orFatal(err)
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "components.yaml")
	orFatal(os.WriteFile(path, []byte(`version: v1
policy: trust.yaml
components:
  - name: hello
    ref: registry.example/wasm/hello:v1
`), 0o644))

	spec, err := apply.Load(path)
	orFatal(err)
	_, err = apply.Apply(context.Background(), spec, &access.Opener{}, apply.Options{Dir: filepath.Join(dir, "out"), Strict: true})
	fmt.Println(errors.Is(err, apply.ErrNotPinned))
	// Output: true
}
