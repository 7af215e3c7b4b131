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
	"time"

	"github.com/wasmgate/wasmgate/access"
	"github.com/wasmgate/wasmgate/artifact"
	"github.com/wasmgate/wasmgate/internal/sample"
	"github.com/wasmgate/wasmgate/resultcache"
	"github.com/wasmgate/wasmgate/sign"
	"github.com/wasmgate/wasmgate/verify"
)

const examplePolicy = `version: v1
policies:
  - name: hello
    scopes: ["registry.example/wasm/*"]
    signatures:
      authorities:
        - name: release
          cosign: {key: release.pub, insecureIgnoreTlog: true}
    layers: {requirePolicy: true}
    requireDigest: false
`

// publish puts the sample module into an OCI layout under dir, signs it
// with a fresh key as cosign v3 does, and writes the public key and the
// trust policy beside it: what a publisher and a verifier would each have.
func publish(dir string) {
	ctx := context.Background()
	wasm := filepath.Join(dir, "hello.wasm")
	must(os.WriteFile(wasm, sample.HelloWasm(), 0o644))
	pkg, err := artifact.Pack(wasm, sample.PolicyYAML(), artifact.BuildOptions{})
	must(err)
	ref, err := artifact.ParseReference("oci-layout:" + filepath.Join(dir, "layout") + ":v1")
	must(err)
	dst, err := (&access.Opener{}).Destination(ref)
	must(err)
	must(access.Push(ctx, dst, pkg, "v1", access.PushOptions{}))
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(err)
	_, err = sign.Cosign(ctx, dst, pkg.Manifest, key, sign.Options{})
	must(err)
	der, err := x509.MarshalPKIXPublicKey(key.Public())
	must(err)
	must(os.WriteFile(filepath.Join(dir, "release.pub"), pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o644))
	must(os.WriteFile(filepath.Join(dir, "trust.yaml"), []byte(examplePolicy), 0o644))
}

func must(err error) {
	if err != nil {
		log.Fatal(err)
	}
}

// Verify an artifact under a trust policy file. The layout was copied
// from registry.example/wasm/hello, so Scope selects that repository's
// policy.
func ExampleVerifier_Verify() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	publish(dir)

	policy, err := verify.LoadPolicy(context.Background(), filepath.Join(dir, "trust.yaml"), verify.LoadOptions{})
	if err != nil {
		log.Fatal(err) // a *verify.PolicyError with the line
	}
	v, err := verify.New(policy, &access.Opener{}, verify.Options{Scope: "registry.example/wasm/hello"})
	if err != nil {
		log.Fatal(err)
	}
	ref, err := artifact.ParseReference("oci-layout:" + filepath.Join(dir, "layout") + ":v1")
	if err != nil {
		log.Fatal(err)
	}
	res, err := v.Verify(context.Background(), ref)
	if err != nil {
		log.Fatal(err) // undecided: registry, network, time
	}
	fmt.Println(res.Verdict, res.Pass)
	for _, c := range res.Checks {
		fmt.Println(c.Name, c.Status)
	}
	// Output:
	// verified true
	// scope passed
	// manifest passed
	// layers passed
	// signatures passed
}

// Keep verified verdicts, keyed by what they were reached on (manifest
// digest, repository, policy and trust material digests; never a tag):
// the second verification of the same artifact takes its evidence checks
// from the first, and says so. With a Dir, the cache outlives the process.
func ExampleOptions_results() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	publish(dir)

	policy, err := verify.LoadPolicy(context.Background(), filepath.Join(dir, "trust.yaml"), verify.LoadOptions{})
	if err != nil {
		log.Fatal(err)
	}
	results, err := resultcache.Open(resultcache.Options{})
	if err != nil {
		log.Fatal(err)
	}
	v, err := verify.New(policy, &access.Opener{}, verify.Options{Scope: "registry.example/wasm/hello",
		Results: results, ResultTTL: 10 * time.Minute})
	if err != nil {
		log.Fatal(err)
	}
	ref, err := artifact.ParseReference("oci-layout:" + filepath.Join(dir, "layout") + ":v1")
	if err != nil {
		log.Fatal(err)
	}
	for range 2 {
		res, err := v.Verify(context.Background(), ref)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(res.Verdict, "from the cache:", res.Cached != nil)
	}
	// Output:
	// verified from the cache: false
	// verified from the cache: true
}

// Fetch verifies and keeps the verified bytes: the only way to get a
// *verify.Artifact, which package loader requires.
func ExampleVerifier_Fetch() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	publish(dir)

	policy, err := verify.LoadPolicy(context.Background(), filepath.Join(dir, "trust.yaml"), verify.LoadOptions{})
	if err != nil {
		log.Fatal(err)
	}
	v, err := verify.New(policy, &access.Opener{}, verify.Options{Scope: "registry.example/wasm/hello"})
	if err != nil {
		log.Fatal(err)
	}
	ref, err := artifact.ParseReference("oci-layout:" + filepath.Join(dir, "layout") + ":v1")
	if err != nil {
		log.Fatal(err)
	}
	a, _, err := v.Fetch(context.Background(), ref)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(a.Kind(), len(a.Wasm()) == len(sample.HelloWasm()), a.Permissions().Summary().EnvKeys)

	// Under another repository's name no policy applies: not verified.
	other, err := verify.New(policy, &access.Opener{}, verify.Options{Scope: "registry.example/other/app/x"})
	if err != nil {
		log.Fatal(err)
	}
	_, res, err := other.Fetch(context.Background(), ref)
	fmt.Println(errors.Is(err, verify.ErrNotVerified), res.Verdict)
	// Output:
	// module true [GREETING]
	// true denied
}

// Trust material the policy names is read with the policy: a missing
// trusted root is refused then, with the line that names it.
func ExampleParsePolicy_error() {
	_, err := verify.ParsePolicy(context.Background(), []byte(`version: v1
policies:
  - name: app
    scopes: ["registry.example/wasm/**"]
    signatures:
      threshold: 2
      authorities:
        - name: ci
          cosign: {keyless: {trustedRoot: root.json, issuer: https://token.actions.githubusercontent.com, subjectRegExp: "^https://github.com/acme/"}}
`), "", verify.LoadOptions{})
	var pe *verify.PolicyError
	fmt.Println(errors.As(err, &pe), errors.Is(err, verify.ErrTrustMaterial), pe.Line)
	// Output:
	// true true 9
}

// Explain is what `wasmgate policy lint` prints.
func ExamplePolicy_Explain() {
	p, err := verify.ParsePolicy(context.Background(), []byte(`version: v1
policies:
  - name: app
    scopes: ["registry.example/wasm/**"]
    requireDigest: true
    mode: warn
    allowUnsigned: true
`), "", verify.LoadOptions{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Print(p.Explain())
	// Output:
	// policy app (line 3), mode warn
	//   ! warn mode: a denied artifact passes, with a warning
	//   applies to:
	//     registry.example/wasm/**: every repository under registry.example/wasm, at any depth
	//   the reference must be pinned by digest (name@sha256:...)
	//   artifacts: wasm artifacts only; any other subject is denied
	//   the manifest and every layer digest are checked; each layer at most 256 MiB
	//   layers other than wasm and its policy are refused
	//   ! insecure: allowUnsigned: no signature and no attestation is required; unsigned artifacts pass this policy
	//
	// A repository that no scope matches is denied.
}
