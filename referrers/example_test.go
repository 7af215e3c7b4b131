package referrers_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"

	"github.com/opencontainers/go-digest"
	"oras.land/oras-go/v2/registry/remote/credentials"

	"github.com/wasmgate/wasmgate/access"
	"github.com/wasmgate/wasmgate/artifact"
	"github.com/wasmgate/wasmgate/internal/testrig/testregistry"
	"github.com/wasmgate/wasmgate/permissions"
	"github.com/wasmgate/wasmgate/referrers"
	"github.com/wasmgate/wasmgate/remote"
)

// Attach an SBOM to a module in a registry and discover it. The registry
// here is go-containerregistry's, in process on 127.0.0.1, with the
// Referrers API; against one without it (distribution, most mirrors)
// the same calls go through the "sha256-<hex>" tag schema instead.
func ExampleDiscover() {
	ctx := context.Background()
	srv := httptest.NewServer(testregistry.NewGGCRHandler())
	defer srv.Close()
	u, _ := url.Parse(srv.URL)

	// One client per process; plain HTTP only for the host named here,
	// and credentials kept in memory rather than in ~/.docker.
	c, err := remote.New(remote.Options{PlainHTTP: []string{u.Host}, Credentials: credentials.NewMemoryStore()})
	if err != nil {
		log.Fatal(err)
	}
	ref, err := artifact.ParseReference(u.Host + "/wasm/tiny:v1")
	if err != nil {
		log.Fatal(err)
	}
	o := &access.Opener{Client: c}
	repo, err := o.Destination(ref)
	if err != nil {
		log.Fatal(err)
	}
	pkg, err := artifact.Pack("../testdata/wasm/tiny.wasm", nil, artifact.BuildOptions{})
	if err != nil {
		log.Fatal(err)
	}
	if err := access.Push(ctx, repo, pkg, "v1", access.PushOptions{}); err != nil {
		log.Fatal(err)
	}

	// Referrers point at a digest, never a tag: attach to pkg.Manifest.
	_, err = referrers.Attach(ctx, repo, pkg.Manifest, "application/spdx+json",
		[]referrers.Blob{{MediaType: "application/spdx+json", Data: []byte(`{"spdxVersion":"SPDX-2.3"}`)}},
		referrers.AttachOptions{})
	if err != nil {
		log.Fatal(err)
	}

	// API lets Discover ask the Referrers API itself, and say so.
	res, err := referrers.Discover(ctx, repo, pkg.Manifest, referrers.Options{API: o.ReferrersAPI(ref)})
	if err != nil {
		log.Fatal(err) // the registry failed: no listing at all
	}
	fmt.Println("listed by", res.Listing, "rejected", len(res.Rejected))
	for _, r := range res.Referrers {
		fmt.Println(r.Kind, r.ArtifactType, r.Found)
	}
	// Output:
	// listed by api rejected 0
	// sbom application/spdx+json [api]
}

// Tree follows referrers of referrers: here a signature on an SBOM, in an
// OCI layout directory (a layout has no Referrers API, so the tag schema
// index that Attach keeps there is what lists them).
func ExampleTree() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "referrers-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	ref, err := artifact.ParseReference("oci-layout:" + filepath.Join(dir, "layout") + ":v1")
	if err != nil {
		log.Fatal(err)
	}
	layout, err := (&access.Opener{}).Destination(ref)
	if err != nil {
		log.Fatal(err)
	}
	pkg, err := artifact.Pack("../testdata/wasm/tiny.wasm", nil, artifact.BuildOptions{})
	if err != nil {
		log.Fatal(err)
	}
	if err := access.Push(ctx, layout, pkg, ref.Tag, access.PushOptions{}); err != nil {
		log.Fatal(err)
	}
	sbom, err := referrers.Attach(ctx, layout, pkg.Manifest, "application/spdx+json",
		[]referrers.Blob{{MediaType: "application/spdx+json", Data: []byte(`{"spdxVersion":"SPDX-2.3"}`)}},
		referrers.AttachOptions{})
	if err != nil {
		log.Fatal(err)
	}
	_, err = referrers.Attach(ctx, layout, sbom, "application/vnd.example.signature",
		[]referrers.Blob{{MediaType: "application/octet-stream", Data: []byte("signature bytes")}},
		referrers.AttachOptions{})
	if err != nil {
		log.Fatal(err)
	}

	// Options{} on a layout: no API, tag schema only.
	res, err := referrers.Tree(ctx, layout, pkg.Manifest, 2, referrers.Options{})
	if err != nil {
		log.Fatal(err)
	}
	var show func(rs []referrers.Referrer, indent string)
	show = func(rs []referrers.Referrer, indent string) {
		for _, r := range rs {
			fmt.Println(indent+string(r.Kind), r.ArtifactType, r.Found)
			show(r.Referrers, indent+"  ")
		}
	}
	fmt.Println("listed by", res.Listing)
	show(res.Referrers, "")

	// Discover is Tree at depth 1: the signature on the SBOM is not listed.
	res, err = referrers.Discover(ctx, layout, pkg.Manifest, referrers.Options{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(res.Referrers), len(res.Referrers[0].Referrers))
	// Output:
	// listed by tag
	// sbom application/spdx+json [tag]
	//   other application/vnd.example.signature [tag]
	// 1 0
}

// Ask only for the kinds a verifier reads: among scan reports and SBOMs
// (which tools attach by the hundred), a Notation verifier needs only
// Notation signatures. The layout's fallback index names each entry's
// artifact type, so the others are skipped without being read; an entry
// listed with no type would be read and judged by its manifest.
func ExampleOptions_kinds() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "referrers-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	ref, err := artifact.ParseReference("oci-layout:" + filepath.Join(dir, "layout") + ":v1")
	if err != nil {
		log.Fatal(err)
	}
	layout, err := (&access.Opener{}).Destination(ref)
	if err != nil {
		log.Fatal(err)
	}
	pkg, err := artifact.Pack("../testdata/wasm/tiny.wasm", nil, artifact.BuildOptions{})
	if err != nil {
		log.Fatal(err)
	}
	if err := access.Push(ctx, layout, pkg, ref.Tag, access.PushOptions{}); err != nil {
		log.Fatal(err)
	}
	for i := range 3 {
		_, err := referrers.Attach(ctx, layout, pkg.Manifest, "application/vnd.example.scan-report",
			[]referrers.Blob{{MediaType: "application/json", Data: fmt.Appendf(nil, `{"scan":%d}`, i)}}, referrers.AttachOptions{})
		if err != nil {
			log.Fatal(err)
		}
	}
	_, err = referrers.Attach(ctx, layout, pkg.Manifest, "application/vnd.cncf.notary.signature",
		[]referrers.Blob{{MediaType: "application/jose+json", Data: []byte(`{}`)}}, referrers.AttachOptions{})
	if err != nil {
		log.Fatal(err)
	}

	res, err := referrers.Discover(ctx, layout, pkg.Manifest, referrers.Options{Kinds: []referrers.Kind{referrers.KindNotation}})
	if err != nil {
		log.Fatal(err)
	}
	for _, r := range res.Referrers {
		fmt.Println(r.Kind)
	}
	fmt.Println("skipped", res.Skipped, "of which unread", res.Unfetched, res.SkippedTypes)
	// Output:
	// notation-signature
	// skipped 3 of which unread 3 map[application/vnd.example.scan-report:3]
}

// The fallback tag under which a registry without the Referrers API keeps
// the index of a subject's referrers.
func ExampleTagSchema() {
	d := digest.Digest("sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a")
	fmt.Println(referrers.TagSchema(d))
	// Output: sha256-44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a
}

// A publisher whose artifact has one layer (as wkg writes it) attaches
// its permission policy as a referrer; the policy is checked before
// anything is sent. The referrer counts for a trust policy once signed
// (wasmgate sign REF@<digest>) by an authority its permissionPolicy names.
func ExampleAttachPolicy() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "attach-policy")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	ref, err := artifact.ParseReference("oci-layout:" + filepath.Join(dir, "app") + ":v1")
	if err != nil {
		log.Fatal(err)
	}
	o := &access.Opener{}
	dst, err := o.Destination(ref)
	if err != nil {
		log.Fatal(err)
	}
	pkg, err := artifact.Pack("../testdata/wasm/tiny.wasm", nil, artifact.BuildOptions{})
	if err != nil {
		log.Fatal(err)
	}
	if err := access.Push(ctx, dst, pkg, "v1", access.PushOptions{}); err != nil {
		log.Fatal(err)
	}
	_, err = referrers.AttachPolicy(ctx, dst, pkg.Manifest, []byte("version: \"1.0\"\npermissions: {storage: nope}\n"), referrers.AttachOptions{})
	fmt.Println("refused:", errors.Is(err, permissions.ErrInvalid))

	policy := []byte("version: \"1.0\"\npermissions:\n  environment:\n    allow:\n      - key: GREETING\n")
	if _, err := referrers.AttachPolicy(ctx, dst, pkg.Manifest, policy, referrers.AttachOptions{}); err != nil {
		log.Fatal(err)
	}
	res, err := referrers.Discover(ctx, dst, pkg.Manifest, referrers.Options{Kinds: []referrers.Kind{referrers.KindPermissionPolicy}})
	if err != nil {
		log.Fatal(err)
	}
	for _, r := range res.Referrers {
		fmt.Println(r.Kind, r.ArtifactType)
	}
	// Output:
	// refused: true
	// permission-policy application/vnd.wasm.policy.v1+yaml
}
