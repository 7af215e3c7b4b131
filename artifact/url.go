package artifact

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// FetchURL downloads the plain .wasm file at ref (a [RefHTTPS] reference)
// into dir with the same bounds as a registry pull: at most maxBytes (0:
// [DefaultMaxLayerBytes]), streamed to a temporary file, hashed in the
// same pass and renamed into place only when its digest is pinned. A URL
// names no digest of its own, so pinned is required.
func FetchURL(ctx context.Context, hc *http.Client, ref Reference, pinned digest.Digest, dir string, maxBytes int64) (*File, Kind, error) {
	if ref.Kind != RefHTTPS {
		return nil, "", fmt.Errorf("%w: %s is not an https reference", ErrUnsupported, ref)
	}
	if pinned == "" {
		return nil, "", &Error{Op: "fetch", Reference: ref.String(), Err: fmt.Errorf("%w: pass --digest sha256:… for an https URL", ErrDigestRequired)}
	}
	if err := pinned.Validate(); err != nil {
		return nil, "", fmt.Errorf("%w: %w", ErrUnsupportedDigest, err)
	}
	if maxBytes <= 0 {
		maxBytes = DefaultMaxLayerBytes
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, ref.URL.String(), nil)
	if err != nil {
		return nil, "", err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, "", &Error{Op: "fetch", Reference: ref.String(), Err: err}
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, "", &Error{Op: "fetch", Reference: ref.String(), Err: fmt.Errorf("HTTP %s", resp.Status)}
	}
	created, err := ensureDir(dir)
	if err != nil {
		return nil, "", err
	}
	st := &staging{dir: dir}
	ok := false
	defer func() {
		if !ok {
			st.discard()
			if created {
				os.Remove(dir)
			}
		}
	}()
	f, err := os.CreateTemp(dir, ".wasmgate-*.partial")
	if err != nil {
		return nil, "", err
	}
	name := path.Base(ref.URL.Path)
	it := &staged{desc: ocispec.Descriptor{MediaType: MediaTypeWasm, Digest: pinned,
		Annotations: map[string]string{ocispec.AnnotationTitle: name}}, role: RoleWasm, tmp: f.Name()}
	st.add(it)
	var header headerWriter
	digester := pinned.Algorithm().Digester()
	n, err := io.Copy(io.MultiWriter(f, digester.Hash(), &header), io.LimitReader(resp.Body, maxBytes+1))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	switch {
	case err != nil:
		return nil, "", &Error{Op: "fetch", Reference: ref.String(), Err: err}
	case n > maxBytes:
		return nil, "", &SizeError{What: "wasm file", Digest: pinned, Limit: maxBytes, Actual: -1, Err: ErrTooLarge}
	case digester.Digest() != pinned:
		return nil, "", &DigestError{What: "wasm file " + ref.String(), Expected: pinned, Actual: digester.Digest()}
	}
	kind, err := DetectKind(header.b[:header.n])
	if err != nil {
		return nil, "", err
	}
	it.desc.Size = n
	st.name(kind)
	if err := st.commit(); err != nil {
		return nil, "", err
	}
	ok = true
	files := st.files()
	return &files[0], kind, nil
}
