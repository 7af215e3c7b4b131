package verify_test

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

	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/content/oci"

	"github.com/wasmgate/wasmgate/access"
	"github.com/wasmgate/wasmgate/artifact"
	"github.com/wasmgate/wasmgate/internal/sample"
	"github.com/wasmgate/wasmgate/referrers"
	"github.com/wasmgate/wasmgate/sign"
	"github.com/wasmgate/wasmgate/verify"
)

const exampleSpinPolicy = `version: v1
policies:
  - name: spin
    scopes: ["*"]
    signatures:
      authorities:
        - name: release
          cosign: {key: release.pub, insecureIgnoreTlog: true}
    permissionPolicy: {signedBy: [release]}
    layers: {requirePolicy: true}
`

// FetchComponent verifies a whole Spin application and keeps one
// component. The application (testdata/shapes/spin, as spin registry push
// writes one) is copied into a layout and signed; having no policy layer,
// its permission policy is attached as a referrer and signed too.
func ExampleVerifier_FetchComponent() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	src, err := oci.NewFromFS(ctx, os.DirFS(filepath.Join("..", "testdata", "shapes", "spin")))
	must(err)
	dst, err := oci.New(filepath.Join(dir, "layout"))
	must(err)
	app, err := oras.Copy(ctx, src, "v1", dst, "v1", oras.DefaultCopyOptions)
	must(err)
	pol, err := referrers.AttachPolicy(ctx, dst, app, sample.PolicyYAML(), referrers.AttachOptions{})
	must(err)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(err)
	_, err = sign.Cosign(ctx, dst, app, key, sign.Options{})
	must(err)
	_, err = sign.Cosign(ctx, dst, pol, key, sign.Options{})
	must(err)
	der, err := x509.MarshalPKIXPublicKey(key.Public())
	must(err)
	must(os.WriteFile(filepath.Join(dir, "release.pub"), pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o644))
	must(os.WriteFile(filepath.Join(dir, "trust.yaml"), []byte(exampleSpinPolicy), 0o644))

	policy, err := verify.LoadPolicy(ctx, filepath.Join(dir, "trust.yaml"), verify.LoadOptions{})
	if err != nil {
		log.Fatal(err)
	}
	v, err := verify.New(policy, &access.Opener{}, verify.Options{})
	if err != nil {
		log.Fatal(err)
	}
	ref, err := artifact.ParseReference("oci-layout:" + filepath.Join(dir, "layout") + ":v1")
	if err != nil {
		log.Fatal(err)
	}
	a, _, err := v.FetchComponent(ctx, ref, "hello")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(a.Component(), a.Kind(), a.PolicySource().From, a.Permissions().Summary().EnvKeys)

	// A name the application does not have: its ids, and the verdict stands.
	_, res, err := v.FetchComponent(ctx, ref, "nope")
	var ce *verify.ComponentError
	fmt.Println(errors.As(err, &ce), ce.IDs, res.Verdict)
	// Output:
	// hello module referrer [GREETING]
	// true [hello adder] verified
}
