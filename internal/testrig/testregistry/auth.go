package testregistry

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
)

// TokenPath is where [TokenAuth] serves its token endpoint.
const TokenPath = "/token"

// BasicAuth passes a request through only when it carries HTTP Basic
// credentials user:pass; any other gets 401 with `WWW-Authenticate: Basic
// realm="testregistry"`. Inject it for every path ("") to put a registry
// behind a login.
func BasicAuth(user, pass string) Fault {
	return Fault{name: "BasicAuth", fn: func(f *Faults, w *statusWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); ok && u == user && p == pass {
			f.next.ServeHTTP(w, r)
			return
		}
		w.Header().Set("WWW-Authenticate", `Basic realm="testregistry"`)
		writeError(w, r, http.StatusUnauthorized, "UNAUTHORIZED", "testregistry: authentication required")
	}}
}

// TokenAuth puts the registry behind the token flow of Docker's registry
// token specification, as Docker Hub, GHCR and Harbor run it: a request
// without `Authorization: Bearer token` gets 401 with a Bearer challenge
// whose realm is this server's [TokenPath] (with the repository scope the
// request needs); GET [TokenPath] with HTTP Basic user:pass answers
// {"token": token, "access_token": token} (401 with other credentials).
// Inject it for every path (""): it serves [TokenPath] itself. The token is
// the same for every scope, which is all a client can observe anyway.
func TokenAuth(user, pass, token string) Fault {
	return Fault{name: "TokenAuth", fn: func(f *Faults, w *statusWriter, r *http.Request) {
		if r.URL.Path == TokenPath {
			if u, p, ok := r.BasicAuth(); !ok || u != user || p != pass {
				w.Header().Set("WWW-Authenticate", `Basic realm="testregistry"`)
				writeError(w, r, http.StatusUnauthorized, "UNAUTHORIZED", "testregistry: wrong credentials for a token")
				return
			}
			body, _ := json.Marshal(map[string]any{"token": token, "access_token": token, "expires_in": 300})
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Content-Length", strconv.Itoa(len(body)))
			w.WriteHeader(http.StatusOK)
			w.Write(body)
			return
		}
		if r.Header.Get("Authorization") == "Bearer "+token {
			f.next.ServeHTTP(w, r)
			return
		}
		challenge := fmt.Sprintf(`Bearer realm="http://%s%s",service="testregistry"`, r.Host, TokenPath)
		if m := repoPath.FindStringSubmatch(r.URL.Path); m != nil {
			action := "pull"
			if r.Method != http.MethodGet && r.Method != http.MethodHead {
				action = "pull,push"
			}
			challenge += fmt.Sprintf(`,scope="repository:%s:%s"`, m[1], action)
		}
		w.Header().Set("WWW-Authenticate", challenge)
		writeError(w, r, http.StatusUnauthorized, "UNAUTHORIZED", "testregistry: authentication required")
	}}
}

// repoPath captures the repository name of a distribution API path.
var repoPath = regexp.MustCompile(`^/v2/(.+)/(?:manifests|blobs|tags|referrers)/`)
