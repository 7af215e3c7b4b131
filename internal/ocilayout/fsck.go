package ocilayout

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// BlobInfo describes a stored blob as the file system sees it; nothing in
// it has been checked against the content.
type BlobInfo struct {
	Digest  digest.Digest
	Size    int64
	ModTime time.Time
}

// blobAlgorithms are the blobs/ subdirectories this package reads.
var blobAlgorithms = []digest.Algorithm{digest.SHA256, digest.SHA512}

// walkEntry is one directory entry met by walkBlobs: a blob (d set), a
// temporary file (tmp), or anything else.
type walkEntry struct {
	path string // relative to the layout root, slash-separated
	d    digest.Digest
	tmp  bool
	info fs.FileInfo
}

// walkBlobs calls fn for every entry under blobs/, reading directories in
// batches so a large cache is never listed into memory at once. Entries that
// vanish while walking (a concurrent Delete) are skipped.
func (s *Store) walkBlobs(ctx context.Context, fn func(walkEntry) error) error {
	algDirs, err := os.ReadDir(s.path(ocispec.ImageBlobsDir))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, ad := range algDirs {
		alg := digest.Algorithm(ad.Name())
		rel := ocispec.ImageBlobsDir + "/" + ad.Name()
		if !ad.IsDir() || !slices.Contains(blobAlgorithms, alg) {
			info, err := ad.Info()
			if err == nil {
				err = fn(walkEntry{path: rel, info: info})
			}
			if err != nil && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
			continue
		}
		if err := s.walkAlgDir(ctx, alg, rel, fn); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) walkAlgDir(ctx context.Context, alg digest.Algorithm, rel string, fn func(walkEntry) error) error {
	dir, err := os.Open(s.path(filepath.FromSlash(rel)))
	if err != nil {
		return err
	}
	defer dir.Close()
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		entries, err := dir.ReadDir(256)
		for _, e := range entries {
			info, ierr := e.Info()
			if errors.Is(ierr, fs.ErrNotExist) {
				continue
			}
			if ierr != nil {
				return ierr
			}
			we := walkEntry{path: rel + "/" + e.Name(), info: info}
			if d := digest.NewDigestFromEncoded(alg, e.Name()); info.Mode().IsRegular() && d.Validate() == nil {
				we.d = d
			} else if strings.HasPrefix(e.Name(), tmpPrefix) {
				we.tmp = true
			}
			if err := fn(we); err != nil {
				return err
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// Blobs calls fn for every stored blob, in no particular order, until fn
// returns an error, which Blobs returns. It reads names and sizes only.
func (s *Store) Blobs(ctx context.Context, fn func(BlobInfo) error) error {
	err := s.walkBlobs(ctx, func(e walkEntry) error {
		if e.d == "" {
			return nil
		}
		return fn(BlobInfo{Digest: e.d, Size: e.info.Size(), ModTime: e.info.ModTime()})
	})
	return s.errf("blobs", "", "", err)
}

// DefaultTempGrace is how old a temporary file must be before Fsck calls
// it stray when FsckOptions.TempGrace is zero. A Push in progress keeps its
// file's modification time fresh, so only a push stalled this long would be
// cut short.
const DefaultTempGrace = time.Hour

// FsckOptions configures Fsck. The zero value checks without changing
// anything.
type FsckOptions struct {
	// Repair removes corrupt blobs, stray temporary files, and index.json
	// entries whose blob is missing. Without it Fsck only reports.
	Repair bool
	// TempGrace is the age after which a temporary file is stray. Zero
	// means DefaultTempGrace.
	TempGrace time.Duration
}

// Report is what Fsck found. Paths are relative to the layout directory.
type Report struct {
	Blobs      int                  // blobs hashed
	Bytes      int64                // bytes hashed
	Corrupt    []digest.Digest      // blobs whose content does not hash to their name
	StrayTemps []string             // temporary files older than the grace period
	Dangling   []ocispec.Descriptor // index.json entries whose blob is missing
	Unknown    []string             // other entries under blobs/, never touched
	Removed    int                  // files removed and index entries dropped, with Repair
}

// Fsck re-hashes every blob, streaming, and looks for stray temporary files
// and index.json entries that point at missing blobs. With opts.Repair it
// removes what it found (except Unknown entries); a corrupt blob is only
// removed if the file is still the one that was hashed, so a concurrent
// Push that replaced it is kept. It returns what it found so far along with
// any error, such as ctx ending.
func (s *Store) Fsck(ctx context.Context, opts FsckOptions) (Report, error) {
	var r Report
	if opts.Repair && s.readOnly {
		return r, s.errf("fsck", "", "", ErrReadOnly)
	}
	grace := opts.TempGrace
	if grace == 0 {
		grace = DefaultTempGrace
	}
	cutoff := time.Now().Add(-grace)
	strayTemp := func(rel string, info fs.FileInfo) error {
		if !info.ModTime().Before(cutoff) {
			return nil
		}
		r.StrayTemps = append(r.StrayTemps, rel)
		if opts.Repair {
			return s.removeIfSame(rel, info, &r.Removed)
		}
		return nil
	}

	err := s.walkBlobs(ctx, func(e walkEntry) error {
		switch {
		case e.tmp:
			return strayTemp(e.path, e.info)
		case e.d == "":
			r.Unknown = append(r.Unknown, e.path)
			return nil
		}
		info, n, ok, err := s.hashBlob(ctx, e.d)
		if errors.Is(err, fs.ErrNotExist) {
			return nil // deleted while walking
		}
		if err != nil {
			return err
		}
		r.Blobs++
		r.Bytes += n
		if ok {
			return nil
		}
		r.Corrupt = append(r.Corrupt, e.d)
		if opts.Repair {
			return s.removeIfSame(e.path, info, &r.Removed)
		}
		return nil
	})
	if err != nil {
		return r, s.errf("fsck", "", "", err)
	}

	// index.json is replaced by rename, so its own temporaries are in the root.
	root, err := os.ReadDir(s.dir)
	if err != nil {
		return r, s.errf("fsck", "", "", err)
	}
	for _, e := range root {
		if !strings.HasPrefix(e.Name(), tmpPrefix) {
			continue
		}
		if info, err := e.Info(); err == nil {
			if err := strayTemp(e.Name(), info); err != nil {
				return r, s.errf("fsck", "", "", err)
			}
		}
	}

	if err := s.checkDangling(ctx, opts.Repair, &r); err != nil {
		return r, s.errf("fsck", "", "", err)
	}
	return r, nil
}

// hashBlob hashes the blob d, streaming. info describes the file that was
// hashed, for removeIfSame.
func (s *Store) hashBlob(ctx context.Context, d digest.Digest) (info fs.FileInfo, n int64, ok bool, err error) {
	f, err := os.Open(s.blobPath(d))
	if err != nil {
		return nil, 0, false, err
	}
	defer f.Close()
	if info, err = f.Stat(); err != nil {
		return nil, 0, false, err
	}
	h := d.Algorithm().Hash()
	if n, err = copyCtx(ctx, h, f, info.Size()); err != nil {
		return nil, n, false, err
	}
	return info, n, d.Algorithm().Encode(h.Sum(nil)) == d.Encoded(), nil
}

// removeIfSame removes rel if it is still the file info describes.
func (s *Store) removeIfSame(rel string, info fs.FileInfo, removed *int) error {
	p := s.path(filepath.FromSlash(rel))
	cur, err := os.Lstat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if !os.SameFile(info, cur) {
		return nil
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	*removed++
	return nil
}

// checkDangling lists index.json entries whose blob is missing and, with
// repair, drops them under the exclusive lock: tools such as oras-go load
// every manifest the index names, and a missing one fails the whole layout.
func (s *Store) checkDangling(ctx context.Context, repair bool, r *Report) error {
	missing := func(m ocispec.Descriptor) bool {
		if m.Digest.Validate() != nil {
			return false // not ours to judge; Resolve and Fetch report it
		}
		_, err := os.Stat(s.blobPath(m.Digest))
		return errors.Is(err, fs.ErrNotExist)
	}
	if !repair {
		idx, err := s.readIndex(ctx)
		if err != nil {
			return err
		}
		for _, m := range idx.Manifests {
			if missing(m) {
				r.Dangling = append(r.Dangling, m)
			}
		}
		return nil
	}
	return s.updateIndex(ctx, func(idx *ocispec.Index) (bool, error) {
		kept := idx.Manifests[:0]
		for _, m := range idx.Manifests {
			if missing(m) {
				r.Dangling = append(r.Dangling, m)
				continue
			}
			kept = append(kept, m)
		}
		idx.Manifests = kept
		r.Removed += len(r.Dangling)
		return len(r.Dangling) > 0, nil
	}, nil)
}
