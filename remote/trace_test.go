package remote_test

import (
	"bytes"
	"encoding/base64"
	"net/http"
	"strings"
	"testing"

	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/registry/remote/auth"
	"oras.land/oras-go/v2/registry/remote/credentials"

	"github.com/wasmgate/wasmgate/internal/testrig/testkit"
	"github.com/wasmgate/wasmgate/internal/testrig/testregistry"
	"github.com/wasmgate/wasmgate/remote"
)

// The trace of a real authenticated exchange (the registry token flow: a
// Bearer challenge, Basic credentials at the token endpoint, a token in
// its JSON answer, Bearer requests after) and of a redirect to a
// pre-signed blob URL shows every request and response, and no secret.
func TestTraceShowsRequestsAndRedactsSecrets(t *testing.T) {
	const (
		user, pass = "alice", "pass-7f3a91"
		token      = "TOKEN-c0ffee42"
	)
	secrets := map[string]string{
		"password":              pass,
		"Basic credentials":     base64.StdEncoding.EncodeToString([]byte(user + ":" + pass)),
		"bearer token":          token,
		"X-Amz-Signature":       "amzsig-5e1d",
		"X-Amz-Credential":      "AKIAEXAMPLE",
		"X-Amz-Security-Token":  "amztoken-77",
		"Azure SAS sig":         "azsig-0b0b",
		"token query parameter": "qtoken-9",
	}
	reg := testregistry.GGCR(t)
	seed(t, reg, "x")
	blob, blobData := seedBlob(t, reg, 64)
	reg.Faults.Inject("", "", testregistry.TokenAuth(user, pass, token))

	store := credentials.NewMemoryStore()
	if err := store.Put(testkit.Context(t), reg.Host, auth.Credential{Username: user, Password: pass}); err != nil {
		t.Fatal(err)
	}
	var trace testkit.SyncBuffer
	c := testkit.Client(t, reg, remote.Options{Credentials: store, Trace: &trace})
	repo := c.Repository(repoRef(t, reg.Ref("x", "")))
	if _, err := repo.Resolve(testkit.Context(t), "v1"); err != nil {
		t.Fatal(err)
	}

	// A blob served from "object storage" through a pre-signed URL, as
	// registries on S3 or Azure do.
	reg.Faults.Clear()
	presigned := "/presigned/blob?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=" + secrets["X-Amz-Credential"] +
		"&X-Amz-Security-Token=" + secrets["X-Amz-Security-Token"] + "&X-Amz-Signature=" + secrets["X-Amz-Signature"] +
		"&sig=" + secrets["Azure SAS sig"] + "&token=" + secrets["token query parameter"] + "&digest=" + blob.Digest.String()
	reg.Faults.Inject("GET", "^/presigned/", testregistry.Respond(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write(blobData)
	})))
	reg.Faults.Inject("GET", "/blobs/", testregistry.Respond(http.RedirectHandler(presigned, http.StatusTemporaryRedirect)))
	if got, err := content.FetchAll(testkit.Context(t), repo, blob); err != nil || !bytes.Equal(got, blobData) {
		t.Fatalf("fetch through the pre-signed URL: %v", err)
	}

	out := trace.String()
	t.Logf("trace:\n%s", out)
	base := "http://" + reg.Host
	for _, want := range []string{
		"> HEAD " + base + "/v2/x/manifests/v1",
		"< 401 Unauthorized",
		`[WWW-Authenticate: Bearer realm="` + base + `/token"`,
		"> GET " + base + "/token?scope=repository%3Ax%3Apull&service=testregistry [Authorization: Basic REDACTED]",
		"< 200 OK",
		"[Authorization: Bearer REDACTED]",
		"[Docker-Content-Digest: sha256:",
		"> GET " + base + "/v2/x/blobs/" + blob.Digest.String(),
		"< 307 Temporary Redirect",
		"X-Amz-Signature=REDACTED",
		"sig=REDACTED",
		"&token=REDACTED",
		"digest=" + strings.ReplaceAll(blob.Digest.String(), ":", "%3A"),
		"> GET " + base + "/presigned/blob?",
		"< body 64 bytes",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the trace lacks %q", want)
		}
	}
	for what, secret := range secrets {
		if strings.Contains(out, secret) {
			t.Errorf("the trace shows the %s", what)
		}
	}
}
