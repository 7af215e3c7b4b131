package hostile_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/registry/remote/auth"

	"github.com/wasmgate/wasmgate/access"
	"github.com/wasmgate/wasmgate/artifact"
	"github.com/wasmgate/wasmgate/internal/sample"
	"github.com/wasmgate/wasmgate/internal/testrig/testkit"
	"github.com/wasmgate/wasmgate/internal/testrig/testpki"
	"github.com/wasmgate/wasmgate/internal/testrig/testregistry"
	"github.com/wasmgate/wasmgate/remote"
	"github.com/wasmgate/wasmgate/sign"
)

func newKey(t *testing.T) crypto.Signer {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// oras_pushManifest pushes raw as an image manifest tagged tag in wasm/app.
func oras_pushManifest(t *testing.T, e *env, raw []byte, tag string) (ocispec.Descriptor, error) {
	return oras.TagBytes(testkit.Context(t), e.dst, ocispec.MediaTypeImageManifest, raw, tag)
}

func pushBlob(t *testing.T, e *env, mediaType string, data []byte) (ocispec.Descriptor, error) {
	return oras.PushBytes(testkit.Context(t), e.dst, mediaType, data)
}

// pushRaw pushes bytes that are not wasm as a wasm layer, in the shape
// wasmgate's own manifests have, bypassing Pack's checks.
func (e *env) pushRaw(t *testing.T, notWasm []byte, tag string) ocispec.Descriptor {
	t.Helper()
	layer, err := pushBlob(t, e, "application/wasm", notWasm)
	if err != nil {
		t.Fatal(err)
	}
	policy, err := pushBlob(t, e, "application/vnd.wasm.policy.v1+yaml", sample.PolicyYAML())
	if err != nil {
		t.Fatal(err)
	}
	config, configJSON, manifestJSON, err := artifact.BuildManifest(layer, artifact.KindModule, &policy, artifact.BuildOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pushBlob(t, e, config.MediaType, configJSON); err != nil {
		t.Fatal(err)
	}
	desc, err := oras_pushManifest(t, e, manifestJSON, tag)
	if err != nil {
		t.Fatal(err)
	}
	return desc
}

// otherArtifact is another real artifact (the probe-sized tiny module) in
// the same repository, tagged "other".
func (e *env) otherArtifact(t *testing.T) *artifact.Package {
	t.Helper()
	tiny := testkit.ReadFile(t, filepath.Join("..", "..", "..", "testdata", "wasm", "tiny.wasm"))
	return e.push(t, e.dst, tiny, sample.PolicyYAML(), "other")
}

// serveReferrers makes the Referrers API list descs for subject, whatever
// the registry holds.
func (e *env) serveReferrers(t *testing.T, subject digest.Digest, descs []ocispec.Descriptor) {
	t.Helper()
	for i := range descs {
		descs[i].ArtifactType = "application/vnd.dev.sigstore.bundle.v0.3+json"
	}
	raw, _ := json.Marshal(ocispec.Index{Versioned: versioned, MediaType: ocispec.MediaTypeImageIndex, Manifests: descs})
	e.reg.Faults.Inject("GET", "/referrers/"+subject.String(), testregistry.Respond(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", ocispec.MediaTypeImageIndex)
		w.Write(raw)
	})))
}

// copyFallbackIndex tags the tag schema index of from as the index of to.
func (e *env) copyFallbackIndex(t *testing.T, from, to digest.Digest) {
	t.Helper()
	tag := func(d digest.Digest) string { return strings.Replace(d.String(), ":", "-", 1) }
	_, raw, err := oras.FetchBytes(testkit.Context(t), e.dst, tag(from), oras.DefaultFetchBytesOptions)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := oras.TagBytes(testkit.Context(t), e.dst, ocispec.MediaTypeImageIndex, raw, tag(to)); err != nil {
		t.Fatal(err)
	}
}

// resubject pushes a copy of the referrer manifest desc with its subject
// changed to subject: the signature inside still names the old one.
func (e *env) resubject(t *testing.T, desc ocispec.Descriptor, subject ocispec.Descriptor) ocispec.Descriptor {
	t.Helper()
	raw, err := content.FetchAll(testkit.Context(t), e.dst, desc)
	if err != nil {
		t.Fatal(err)
	}
	var m ocispec.Manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	m.Subject = &ocispec.Descriptor{MediaType: subject.MediaType, Digest: subject.Digest, Size: subject.Size}
	raw, _ = json.Marshal(m)
	copied := content.NewDescriptorFromBytes(ocispec.MediaTypeImageManifest, raw)
	copied.ArtifactType = m.ArtifactType
	if err := e.dst.Push(testkit.Context(t), copied, bytes.NewReader(raw)); err != nil {
		t.Fatal(err)
	}
	return copied
}

// useNotation makes a Notation PKI and a policy whose one authority is it.
func (e *env) useNotation(t *testing.T) {
	t.Helper()
	root := testpki.NewRoot(t, "hostile test root", testpki.P256)
	e.notary = root.Issue(t, testpki.LeafOptions{CommonName: "acme release"})
	testpki.WriteNotationTrust(t, filepath.Join(e.dir, "notation"), "acme", []*x509.Certificate{root.Root()}, "")
	path := filepath.Join(e.dir, "trust.yaml")
	if err := os.WriteFile(path, []byte(`version: v1
policies:
  - name: app
    scopes: ["*"]
    signatures:
      authorities:
        - name: corp
          notation: {trustPolicy: notation/trustpolicy.json, trustStore: notation}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	e.setPolicyFile(t, path)
}

func (e *env) notationSign(t *testing.T, subject ocispec.Descriptor) ocispec.Descriptor {
	t.Helper()
	d, err := sign.Notation(testkit.Context(t), e.dst, subject, e.notary.NotationSigner(t), sign.NotationOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// tlsRedirectToHTTP serves the registry over TLS, trusted by a client made
// for it, and redirects every request to the plain HTTP registry.
func (e *env) tlsRedirectToHTTP(t *testing.T) string {
	t.Helper()
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://"+e.reg.Host+r.URL.RequestURI(), http.StatusTemporaryRedirect)
	}))
	t.Cleanup(srv.Close)
	c := testkit.Client(t, nil, remote.Options{Credentials: e.creds, Transport: srv.Client().Transport, Timeout: e.timeout})
	e.opener = &access.Opener{Client: c, Cache: e.cache}
	u, _ := url.Parse(srv.URL)
	return u.Host + "/wasm/app:v1"
}

// redirectWithCredentials makes the registry ask for credentials once
// (the client then sends them with every request to it) and redirect the
// wasm layer to another host, which records any Authorization it gets and
// serves the wrong bytes.
func (e *env) redirectWithCredentials(t *testing.T) string {
	t.Helper()
	var leaked atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" {
			leaked.Add(1)
		}
		io.WriteString(w, strings.Repeat("x", int(e.pkg.Wasm.Size)))
	}))
	t.Cleanup(other.Close)
	t.Cleanup(func() {
		if n := leaked.Load(); n != 0 {
			t.Errorf("credentials reached another host %d times", n)
		}
	})
	if err := e.creds.Put(context.Background(), e.reg.Host, auth.Credential{Username: "user", Password: "secret"}); err != nil {
		t.Fatal(err)
	}
	var challenged atomic.Bool
	var authorized atomic.Int32
	t.Cleanup(func() {
		if authorized.Load() == 0 {
			t.Error("the client never sent its credentials to the registry: the row proves nothing")
		}
	})
	e.reg.Faults.Inject("GET", "/manifests/v1$", testregistry.Respond(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" {
			authorized.Add(1)
		}
		if r.Header.Get("Authorization") == "" && !challenged.Swap(true) {
			w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", ocispec.MediaTypeImageManifest)
		w.Header().Set("Docker-Content-Digest", e.pkg.Manifest.Digest.String())
		w.Write(e.pkg.ManifestJSON)
	})))
	e.reg.Faults.Inject("GET", blobPath(e.pkg.Wasm.Digest), testregistry.Respond(http.RedirectHandler(other.URL+"/blob", http.StatusTemporaryRedirect)))
	return e.ref
}

// endlessReferrers makes the Referrers API answer pages of perPage
// entries, each with a Link to a next page, forever.
func (e *env) endlessReferrers(t *testing.T, perPage int) {
	t.Helper()
	var page atomic.Int64
	e.reg.Faults.Inject("GET", "/referrers/", testregistry.Respond(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := page.Add(1)
		descs := make([]ocispec.Descriptor, perPage)
		for i := range descs {
			descs[i] = ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, ArtifactType: "application/vnd.dev.sigstore.bundle.v0.3+json",
				Digest: digest.FromString(fmt.Sprintf("%d/%d", n, i)), Size: 500}
		}
		raw, _ := json.Marshal(ocispec.Index{Versioned: versioned, MediaType: ocispec.MediaTypeImageIndex, Manifests: descs})
		w.Header().Set("Content-Type", ocispec.MediaTypeImageIndex)
		w.Header().Set("Link", fmt.Sprintf(`<%s?page=%d>; rel="next"`, r.URL.Path, n+1))
		w.Write(raw)
	})))
}
