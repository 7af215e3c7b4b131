package testregistry

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/registry/remote"
	"oras.land/oras-go/v2/registry/remote/auth"
	"oras.land/oras-go/v2/registry/remote/errcode"
)

// authedRepository is reg.Repository(repo) with an oras-go auth client that
// presents cred.
func authedRepository(t *testing.T, reg *Registry, repo string, cred auth.Credential) *remote.Repository {
	r := reg.Repository(t, repo)
	r.Client = &auth.Client{Client: reg.Server.Client(), Credential: auth.StaticCredential(reg.Host, cred)}
	return r
}

func TestAuthFaults(t *testing.T) {
	cases := []struct {
		name      string
		fault     Fault
		challenge string // the scheme of the 401's WWW-Authenticate
	}{
		{"basic", BasicAuth("alice", "s3cret"), "Basic"},
		{"token", TokenAuth("alice", "s3cret", "tok-123"), "Bearer"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			faultKinds(t, func(t *testing.T, reg *Registry, img image) {
				reg.Faults.Inject("", "", tc.fault)

				res := do(t, reg, "GET", manifestPath("v1"), "")
				res.Body.Close()
				if res.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(res.Header.Get("WWW-Authenticate"), tc.challenge+" ") {
					t.Fatalf("anonymous GET: %d, WWW-Authenticate %q", res.StatusCode, res.Header.Get("WWW-Authenticate"))
				}

				// oras-go's auth client answers the challenge (a token flow for
				// Bearer) and reads the image.
				good := authedRepository(t, reg, "wasm/hello", auth.Credential{Username: "alice", Password: "s3cret"})
				desc, err := good.Resolve(t.Context(), "v1")
				if err != nil || desc.Digest != img.manifest.Digest {
					t.Fatalf("resolve with the right credentials: %v %v", desc.Digest, err)
				}
				if got, err := content.FetchAll(t.Context(), good, img.layer); err != nil || string(got) != string(img.layerBytes) {
					t.Fatalf("fetch the layer: %v", err)
				}
				if tc.challenge == "Bearer" && reg.Faults.Count("GET", "^"+TokenPath+"$") == 0 {
					t.Error("no token was requested")
				}

				bad := authedRepository(t, reg, "wasm/hello", auth.Credential{Username: "alice", Password: "wrong"})
				_, err = bad.Resolve(t.Context(), "v1")
				var er *errcode.ErrorResponse
				if !errors.As(err, &er) || er.StatusCode != http.StatusUnauthorized {
					t.Errorf("resolve with a wrong password: %v, want 401", err)
				}
			})
		})
	}
}
