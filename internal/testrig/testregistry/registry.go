package testregistry

import (
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"oras.land/oras-go/v2/registry/remote"
)

// Registry is a registry served on 127.0.0.1 for one test.
type Registry struct {
	Kind   Kind
	URL    *url.URL // http://127.0.0.1:PORT
	Host   string   // "127.0.0.1:PORT", the registry part of a reference
	Server *httptest.Server
	// Faults sits between Server and the registry: every request is logged
	// there and faults are injected there.
	Faults *Faults
}

// Distribution starts an empty distribution v3 registry (no Referrers API)
// that stops when the test ends.
func Distribution(t testing.TB) *Registry {
	t.Helper()
	return New(t, KindDistribution)
}

// GGCR starts an empty go-containerregistry registry (Referrers API on) that
// stops when the test ends.
func GGCR(t testing.TB) *Registry {
	t.Helper()
	return New(t, KindGGCR)
}

// Kinds lists every kind, for tests that run against each registry.
func Kinds() []Kind { return []Kind{KindDistribution, KindGGCR} }

// New starts an empty registry of the given kind that stops when the test
// ends.
func New(t testing.TB, kind Kind) *Registry {
	t.Helper()
	h, err := NewHandler(kind)
	if err != nil {
		t.Fatal(err)
	}
	faults := NewFaults(h)
	srv := httptest.NewServer(faults)
	t.Cleanup(func() {
		// Release held requests and drop live connections first:
		// httptest.Server.Close waits for active requests, and a test
		// that left a hung request behind would otherwise hang here.
		faults.Close()
		srv.CloseClientConnections()
		srv.Close()
		if s, ok := h.(interface{ Shutdown() error }); ok {
			s.Shutdown()
		}
	})
	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	return &Registry{Kind: kind, URL: u, Host: u.Host, Server: srv, Faults: faults}
}

// Ref builds a reference to repo in this registry: "HOST/repo" when
// tagOrDigest is empty, "HOST/repo@sha256:…" when it is a digest (tags cannot
// contain ':'), "HOST/repo:tag" otherwise.
func (r *Registry) Ref(repo, tagOrDigest string) string {
	switch {
	case tagOrDigest == "":
		return r.Host + "/" + repo
	case strings.Contains(tagOrDigest, ":"):
		return r.Host + "/" + repo + "@" + tagOrDigest
	default:
		return r.Host + "/" + repo + ":" + tagOrDigest
	}
}

// Repository returns an oras-go client for repo over plain HTTP, for tests
// that seed or inspect content directly. Its client does not retry, so each
// call is exactly the requests it makes and faults are seen as they are.
func (r *Registry) Repository(t testing.TB, repo string) *remote.Repository {
	t.Helper()
	rp, err := remote.NewRepository(r.Ref(repo, ""))
	if err != nil {
		t.Fatalf("testregistry: repository %q: %v", repo, err)
	}
	rp.PlainHTTP = true
	rp.Client = r.Server.Client()
	return rp
}
