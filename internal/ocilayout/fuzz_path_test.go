package ocilayout

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// FuzzPaths: the cache maps digests to blob paths and tags (repository +
// tag or digest, from references a user or a registry gives) to index
// entries. No digest that passes checkDigest leads outside blobs/<alg>/,
// and no tag, however hostile, is ever used as a path: Tag either refuses
// it or records it in index.json only.
func FuzzPaths(f *testing.F) {
	f.Add("sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a", "r.test/app:v1")
	f.Add("sha256:../../../etc/passwd", "../../etc/passwd")
	f.Add("sha512:"+strings.Repeat("0", 128), "r.test/app@sha256:00")
	f.Add("md5:d41d8cd98f00b204e9800998ecf8427e", "a/b/../../c:d")
	dir := f.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		f.Fatal(err)
	}
	blobs := filepath.Join(dir, ocispec.ImageBlobsDir) + string(filepath.Separator)
	f.Fuzz(func(t *testing.T, d, tag string) {
		dg := digest.Digest(d)
		if checkDigest(dg) == nil {
			p := s.blobPath(dg)
			if !strings.HasPrefix(p, blobs) || filepath.Dir(filepath.Dir(p))+string(filepath.Separator) != blobs {
				t.Fatalf("digest %q maps to %s, outside %s<alg>/", d, p, blobs)
			}
		}
		desc := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: digest.FromString(d), Size: 1}
		_ = s.Tag(context.Background(), desc, tag) // fails: the manifest is not stored; must not touch paths
		matches, _ := filepath.Glob(filepath.Join(dir, "*"))
		for _, m := range matches {
			switch filepath.Base(m) {
			case "blobs", "index.json", "oci-layout", "index.json.lock":
			default:
				t.Fatalf("tag %q created %s", tag, m)
			}
		}
	})
}
