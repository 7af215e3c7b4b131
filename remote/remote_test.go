package remote_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/registry"
	"oras.land/oras-go/v2/registry/remote/auth"
	"oras.land/oras-go/v2/registry/remote/credentials"

	"github.com/wasmgate/wasmgate/internal/testrig/testkit"
	"github.com/wasmgate/wasmgate/internal/testrig/testregistry"
	"github.com/wasmgate/wasmgate/remote"
)

func repoRef(t *testing.T, s string) registry.Reference {
	t.Helper()
	r, err := registry.ParseReference(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// seed pushes a small blob-only manifest and tags it v1.
func seed(t *testing.T, reg *testregistry.Registry, repo string) {
	t.Helper()
	seedWith(t, reg, repo, nil)
}

func seedWith(t *testing.T, reg *testregistry.Registry, repo string, cred auth.CredentialFunc) {
	t.Helper()
	c := testkit.Client(t, reg, remote.Options{})
	r := c.Repository(repoRef(t, reg.Ref(repo, "")))
	if cred != nil {
		r.Client = &auth.Client{Credential: cred}
	}
	if _, err := oras.PushBytes(testkit.Context(t), r, "application/octet-stream", []byte("hello")); err != nil {
		t.Fatal(err)
	}
	if _, err := oras.TagBytes(testkit.Context(t), r, "application/vnd.oci.image.manifest.v1+json",
		[]byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2,"data":"e30="},"layers":[]}`), "v1"); err != nil {
		t.Fatal(err)
	}
}

func TestTimeouts(t *testing.T) {
	cases := []struct {
		name  string
		fault testregistry.Fault
	}{
		{"no response headers", testregistry.Hang()},
		{"body stalls", testregistry.Slow(1)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			reg := testregistry.GGCR(t)
			seed(t, reg, "x")
			reg.Faults.Inject("GET", "/manifests/", tc.fault)
			c := testkit.Client(t, reg, remote.Options{Timeout: 200 * time.Millisecond})
			start := time.Now()
			_, _, err := oras.FetchBytes(testkit.Context(t), c.Repository(repoRef(t, reg.Ref("x", ""))), "v1", oras.DefaultFetchBytesOptions)
			err = remote.Classify("fetch", reg.Host, err)
			if !errors.Is(err, remote.ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("err = %v, want ErrTimeout and DeadlineExceeded", err)
			}
			// Not retried: a registry that hung once would hang again.
			if d := time.Since(start); d > 3*time.Second {
				t.Errorf("took %s: the timeout was retried", d)
			}
		})
	}
}

func TestSlowButSteadyTransferIsNotATimeout(t *testing.T) {
	reg := testregistry.GGCR(t)
	seed(t, reg, "x")
	// ~2.5 s for the manifest at 100 B/s, against a 1 s stall timeout.
	reg.Faults.Inject("GET", "/manifests/v1", testregistry.Slow(100))
	c := testkit.Client(t, reg, remote.Options{Timeout: time.Second})
	if _, _, err := oras.FetchBytes(testkit.Context(t), c.Repository(repoRef(t, reg.Ref("x", ""))), "v1", oras.DefaultFetchBytesOptions); err != nil {
		t.Fatal(err)
	}
}

func TestClassify(t *testing.T) {
	cases := []struct {
		status int
		want   error
	}{
		{http.StatusUnauthorized, remote.ErrUnauthorized},
		{http.StatusForbidden, remote.ErrDenied},
		{http.StatusNotFound, remote.ErrNotFound},
		{http.StatusServiceUnavailable, remote.ErrServer},
	}
	for _, tc := range cases {
		t.Run(http.StatusText(tc.status), func(t *testing.T) {
			reg := testregistry.GGCR(t)
			seed(t, reg, "x")
			reg.Faults.Inject("", "/manifests/", testregistry.Status(tc.status, 0))
			c := testkit.Client(t, reg, remote.Options{Timeout: 5 * time.Second})
			_, err := c.Repository(repoRef(t, reg.Ref("x", ""))).Resolve(testkit.Context(t), "v1")
			err = remote.Classify("resolve", reg.Host, err)
			var re *remote.Error
			if !errors.Is(err, tc.want) || !errors.As(err, &re) || re.Host != reg.Host {
				t.Fatalf("err = %v, want %v on %s", err, tc.want, reg.Host)
			}
		})
	}
	if err := remote.Classify("x", "h", context.Canceled); err != context.Canceled {
		t.Errorf("a caller's cancellation was reclassified: %v", err)
	}
}

// A registry that says it serves another digest than the one asked for is
// caught with a typed error, before any body is trusted.
func TestDigestHeaderMismatch(t *testing.T) {
	reg := testregistry.GGCR(t)
	seed(t, reg, "x")
	c := testkit.Client(t, reg, remote.Options{})
	repo := c.Repository(repoRef(t, reg.Ref("x", "")))
	desc, err := repo.Resolve(testkit.Context(t), "v1")
	if err != nil {
		t.Fatal(err)
	}
	reg.Faults.Inject("", "/manifests/sha256:", testregistry.ReplaceBody(func(b []byte) []byte { return append(b, ' ') }))
	_, err = repo.Fetch(testkit.Context(t), desc)
	if !errors.Is(remote.Classify("fetch", reg.Host, err), remote.ErrDigestMismatch) {
		t.Fatalf("err = %v, want ErrDigestMismatch", err)
	}
}

func TestRedirects(t *testing.T) {
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("the plain HTTP server was reached: %s", r.URL)
	}))
	defer plain.Close()
	var tlsSrv *httptest.Server
	tlsSrv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.Contains(r.URL.Path, "/downgrade/"):
			http.Redirect(w, r, plain.URL+r.URL.Path, http.StatusTemporaryRedirect)
		default: // an endless loop
			http.Redirect(w, r, tlsSrv.URL+r.URL.Path+"x", http.StatusTemporaryRedirect)
		}
	}))
	defer tlsSrv.Close()
	host := strings.TrimPrefix(tlsSrv.URL, "https://")
	c := testkit.Client(t, nil, remote.Options{Transport: tlsSrv.Client().Transport, Timeout: 5 * time.Second})
	for repo, want := range map[string]error{"downgrade": remote.ErrInsecureRedirect, "loop": remote.ErrTooManyRedirects} {
		_, err := c.Repository(repoRef(t, host+"/"+repo+"/x")).Resolve(testkit.Context(t), "v1")
		if err = remote.Classify("resolve", host, err); !errors.Is(err, want) {
			t.Errorf("%s: err = %v, want %v", repo, err, want)
		}
	}
}

// Login checks the credentials against the registry and stores them in a
// Docker config.json; a later client reads them from there.
func TestLoginStoresDockerCredentials(t *testing.T) {
	// A real registry behind HTTP Basic authentication.
	srv := httptest.NewServer(basicAuth("alice", "s3cret", testregistry.NewGGCRHandler()))
	defer srv.Close()
	reg := &testregistry.Registry{Host: strings.TrimPrefix(srv.URL, "http://")}
	seedWith(t, reg, "x", auth.StaticCredential(reg.Host, auth.Credential{Username: "alice", Password: "s3cret"}))

	config := filepath.Join(t.TempDir(), "config.json")
	store, err := credentials.NewStore(config, credentials.StoreOptions{AllowPlaintextPut: true})
	if err != nil {
		t.Fatal(err)
	}
	c := testkit.Client(t, reg, remote.Options{Credentials: store})
	if err := c.Login(testkit.Context(t), reg.Host, "alice", "wrong"); !errors.Is(err, remote.ErrUnauthorized) {
		t.Fatalf("wrong password: %v, want ErrUnauthorized", err)
	}
	if err := c.Login(testkit.Context(t), reg.Host, "alice", "s3cret"); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(config)
	if err != nil || !strings.Contains(string(raw), reg.Host) {
		t.Fatalf("config.json: %s %v", raw, err)
	}
	// A new process: a client that reads the same config file.
	store2, err := credentials.NewStore(config, credentials.StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	c2 := testkit.Client(t, reg, remote.Options{Credentials: store2})
	if _, err := c2.Repository(repoRef(t, reg.Ref("x", ""))).Resolve(testkit.Context(t), "v1"); err != nil {
		t.Fatalf("resolve with stored credentials: %v", err)
	}
	if err := c2.Logout(testkit.Context(t), reg.Host); err != nil {
		t.Fatal(err)
	}
	_, err = testkit.Client(t, reg, remote.Options{Credentials: store2}).
		Repository(repoRef(t, reg.Ref("x", ""))).Resolve(testkit.Context(t), "v1")
	if !errors.Is(remote.Classify("resolve", reg.Host, err), remote.ErrUnauthorized) {
		t.Fatalf("after logout: %v, want ErrUnauthorized", err)
	}
}

// basicAuth guards next with HTTP Basic authentication.
func basicAuth(user, pass string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); ok && u == user && p == pass {
			next.ServeHTTP(w, r)
			return
		}
		w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`)
	})
}

func TestPlainHTTPHostsFromEnv(t *testing.T) {
	got := remote.PlainHTTPHostsFromEnv(" localhost:5000, ,127.0.0.1:1234 ")
	if len(got) != 2 || got[0] != "localhost:5000" || got[1] != "127.0.0.1:1234" {
		t.Errorf("got %q", got)
	}
	c := testkit.Client(t, nil, remote.Options{PlainHTTP: got})
	if !c.IsPlainHTTP("LOCALHOST:5000") || c.IsPlainHTTP("localhost:5001") {
		t.Error("IsPlainHTTP matches the wrong hosts")
	}
}
