package remote

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/opencontainers/go-digest"
)

// digestTransport refuses a response to a request by digest whose
// Docker-Content-Digest header names another digest. oras-go notices the
// same lie but reports it as untyped text; catching it here gives callers
// [ErrDigestMismatch] to test with errors.Is. (The body itself is always
// hashed by the reader; this only types the header case.)
type digestTransport struct{ base http.RoundTripper }

func (t *digestTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		return resp, err
	}
	asked := requestedDigest(req.URL.Path)
	header := resp.Header.Get("Docker-Content-Digest")
	if asked == "" || header == "" || digest.Digest(header) == asked {
		return resp, nil
	}
	resp.Body.Close()
	return nil, fmt.Errorf("%w: asked %s for %s, it answered with Docker-Content-Digest %s",
		ErrDigestMismatch, req.URL.Host, asked, header)
}

// requestedDigest is the digest a /v2/<name>/manifests/<digest> or
// /v2/<name>/blobs/<digest> path asks for, or "".
func requestedDigest(path string) digest.Digest {
	i := strings.LastIndexByte(path, '/')
	if i < 0 {
		return ""
	}
	kind := path[:i]
	if !strings.HasSuffix(kind, "/manifests") && !strings.HasSuffix(kind, "/blobs") {
		return ""
	}
	d, err := digest.Parse(path[i+1:])
	if err != nil {
		return ""
	}
	return d
}
