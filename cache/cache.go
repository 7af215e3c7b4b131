// Package cache is wasmgate's local content-addressed store: an OCI image
// layout (readable by oras, regctl and skopeo) under the user cache
// directory, holding every blob wasmgate fetched, keyed by digest, and
// pointers from the references that were pulled to the manifest digests
// they resolved to.
//
// The cache never vouches for content. A blob is committed only after the
// bytes streamed from the registry matched their digest, and every read
// from the cache is verified again by the reader (the artifact package
// hashes everything it reads, cached or not). Several processes can use
// one cache at once: blobs are written to temporary files and renamed,
// and index.json is updated under a file lock.
package cache

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/wasmgate/wasmgate/internal/ocilayout"
)

// EnvDir names the environment variable that overrides the cache directory.
const EnvDir = "WASMGATE_CACHE"

// ErrNotCached: offline, and the cache does not have what was asked for.
var ErrNotCached = errors.New("not in the cache (offline)")

// DefaultDir returns $WASMGATE_CACHE, else <user cache dir>/wasmgate.
func DefaultDir() (string, error) {
	if d := os.Getenv(EnvDir); d != "" {
		return d, nil
	}
	base, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no cache directory (set %s): %w", EnvDir, err)
	}
	return filepath.Join(base, "wasmgate"), nil
}

// Cache is a local content-addressed store. It is safe for concurrent use
// by goroutines and processes.
type Cache struct {
	store *ocilayout.Store
}

// Open opens (creating if needed) the cache in dir.
func Open(dir string) (*Cache, error) {
	s, err := ocilayout.Open(dir, ocilayout.Options{AllowAnyRefName: true})
	if err != nil {
		return nil, err
	}
	return &Cache{store: s}, nil
}

// Dir is the cache's directory.
func (c *Cache) Dir() string { return c.store.Dir() }

// Entry is one cached reference.
type Entry struct {
	Reference string `json:"reference"` // host/repo:tag or host/repo@digest
	Digest    string `json:"digest"`
	MediaType string `json:"mediaType"`
	Size      int64  `json:"size"`
}

// List returns the cached references, sorted.
func (c *Cache) List(ctx context.Context) ([]Entry, error) {
	descs, err := c.store.Manifests(ctx)
	if err != nil {
		return nil, err
	}
	var out []Entry
	for _, d := range descs {
		name := d.Annotations[ocispec.AnnotationRefName]
		if name == "" {
			continue
		}
		out = append(out, Entry{Reference: name, Digest: d.Digest.String(), MediaType: d.MediaType, Size: d.Size})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Reference < out[j].Reference })
	return out, nil
}

// Clear removes the whole cache directory. A process writing to the cache
// at the same time fails its own write (its rename finds no directory);
// it does not leave a corrupt cache behind.
func (c *Cache) Clear() error {
	dir := c.store.Dir()
	if dir == "" || dir == filepath.Dir(dir) {
		return fmt.Errorf("refusing to remove %q", dir)
	}
	return os.RemoveAll(dir)
}

// Has reports whether the blob d is in the cache.
func (c *Cache) Has(ctx context.Context, d digest.Digest) (bool, error) {
	return c.store.Exists(ctx, ocispec.Descriptor{Digest: d})
}

// VerifyReport is what [Cache.Verify] found.
type VerifyReport struct {
	Dir     string   `json:"dir"`
	Checked int      `json:"checked"`
	Bytes   int64    `json:"bytes"`
	Corrupt []string `json:"corrupt"` // digests removed
	Stray   []string `json:"strayTemps,omitempty"`
}

// Verify re-hashes every cached blob, removes those whose bytes do not
// match their digest (and the references to them), and clears abandoned
// temporary files.
func (c *Cache) Verify(ctx context.Context) (VerifyReport, error) {
	rep, err := c.store.Fsck(ctx, ocilayout.FsckOptions{Repair: true})
	if err != nil {
		return VerifyReport{}, err
	}
	out := VerifyReport{Dir: c.Dir(), Checked: rep.Blobs, Bytes: rep.Bytes, Corrupt: []string{}, Stray: rep.StrayTemps}
	for _, d := range rep.Corrupt {
		out.Corrupt = append(out.Corrupt, d.String())
	}
	return out, nil
}
