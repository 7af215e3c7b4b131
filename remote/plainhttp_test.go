package remote_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"oras.land/oras-go/v2/registry/remote/credentials"

	"github.com/wasmgate/wasmgate/internal/testrig/testkit"
	"github.com/wasmgate/wasmgate/internal/testrig/testregistry"
	"github.com/wasmgate/wasmgate/remote"
)

// A registry that speaks only plain HTTP, reached over https (its host not
// in Options.PlainHTTP): ErrPlainHTTP, naming both ways to allow it,
// instead of Go's "server gave HTTP response to HTTPS client" alone.
func TestPlainHTTPRegistryOverHTTPS(t *testing.T) {
	reg := testregistry.GGCR(t)
	seed(t, reg, "x")
	c, err := remote.New(remote.Options{Credentials: credentials.NewMemoryStore(), PlainHTTP: []string{"elsewhere.example"}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Repository(repoRef(t, reg.Ref("x", ""))).Resolve(testkit.Context(t), "v1")
	err = remote.Classify("resolve", reg.Host, err)
	var re *remote.Error
	if !errors.Is(err, remote.ErrPlainHTTP) || !errors.Is(err, http.ErrSchemeMismatch) || !errors.As(err, &re) || re.Host != reg.Host {
		t.Fatalf("err = %v, want ErrPlainHTTP wrapping http.ErrSchemeMismatch on %s", err, reg.Host)
	}
	for _, want := range []string{"--plain-http", "WASMGATE_PLAIN_HTTP=" + reg.Host} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q does not name %s", err, want)
		}
	}
	// Over plain HTTP, as asked, it answers.
	plain := testkit.Client(t, reg, remote.Options{})
	if _, err := plain.Repository(repoRef(t, reg.Ref("x", ""))).Resolve(testkit.Context(t), "v1"); err != nil {
		t.Fatal(err)
	}
}

// Every registry failure names what to do next.
func TestClassifiedErrorsNameTheNextStep(t *testing.T) {
	cases := []struct {
		kind error
		says string
	}{
		{remote.ErrUnauthorized, "wasmgate login h.example"},
		{remote.ErrDenied, "wasmgate login h.example"},
		{remote.ErrNotFound, "check the repository and the tag or digest"},
		{remote.ErrUnreachable, "check the host name and your network"},
		{remote.ErrServer, "retry later"},
		{remote.ErrPlainHTTP, "WASMGATE_PLAIN_HTTP=h.example"},
	}
	for _, tc := range cases {
		err := &remote.Error{Op: "resolve", Host: "h.example", Kind: tc.kind, Err: errors.New("cause")}
		if !strings.Contains(err.Error(), tc.says) || !strings.HasSuffix(err.Error(), ": cause") {
			t.Errorf("%v: %q does not say %q", tc.kind, err, tc.says)
		}
	}
}
