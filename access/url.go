package access

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/wasmgate/wasmgate/artifact"
)

// FetchURL downloads the plain .wasm file at ref (a [RefHTTPS] reference)
// into dir with the same bounds as a registry pull: at most maxBytes (0:
// [DefaultMaxLayerBytes]), streamed to a temporary file, hashed in the
// same pass and renamed into place only when its digest is pinned. A URL
// names no digest of its own, so pinned is required.
func FetchURL(ctx context.Context, hc *http.Client, ref artifact.Reference, pinned digest.Digest, dir string, maxBytes int64) (*File, artifact.Kind, error) {
	if ref.Kind != artifact.RefHTTPS {
		return nil, "", fmt.Errorf("%w: %s is not an https reference", artifact.ErrUnsupported, ref)
	}
	if pinned == "" {
		return nil, "", &artifact.Error{Op: "fetch", Reference: ref.String(), Err: fmt.Errorf("%w: pass --digest sha256:… for an https URL", artifact.ErrDigestRequired)}
	}
	if err := pinned.Validate(); err != nil {
		return nil, "", fmt.Errorf("%w: %w", artifact.ErrUnsupportedDigest, err)
	}
	if maxBytes <= 0 {
		maxBytes = artifact.DefaultMaxLayerBytes
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, ref.URL.String(), nil)
	if err != nil {
		return nil, "", err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, "", &artifact.Error{Op: "fetch", Reference: ref.String(), Err: err}
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, "", &artifact.Error{Op: "fetch", Reference: ref.String(), Err: fmt.Errorf("HTTP %s", resp.Status)}
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
	it := &staged{desc: ocispec.Descriptor{MediaType: artifact.MediaTypeWasm, Digest: pinned,
		Annotations: map[string]string{ocispec.AnnotationTitle: name}}, role: artifact.RoleWasm, tmp: f.Name()}
	st.add(it)
	var header artifact.WasmHeader
	digester := pinned.Algorithm().Digester()
	n, err := io.Copy(io.MultiWriter(f, digester.Hash(), &header), io.LimitReader(resp.Body, maxBytes+1))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	switch {
	case err != nil:
		return nil, "", &artifact.Error{Op: "fetch", Reference: ref.String(), Err: err}
	case n > maxBytes:
		return nil, "", &artifact.SizeError{What: "wasm file", Digest: pinned, Limit: maxBytes, Actual: -1, Err: artifact.ErrTooLarge}
	case digester.Digest() != pinned:
		return nil, "", &artifact.DigestError{What: "wasm file " + ref.String(), Expected: pinned, Actual: digester.Digest()}
	}
	kind, err := artifact.DetectKind(header.Bytes())
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
