package ocilayout

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/registry"

	"github.com/wasmgate/wasmgate/artifact"
	"github.com/wasmgate/wasmgate/internal/boundedio"
)

var (
	_ oras.Target        = (*Store)(nil)
	_ content.Deleter    = (*Store)(nil)
	_ content.Untagger   = (*Store)(nil)
	_ registry.TagLister = (*Store)(nil)
)

// DefaultMaxBlobSize is the largest blob Push accepts when
// Options.MaxBlobSize is zero: 4 GiB, well above any WebAssembly module or
// OCI manifest, and small enough that a descriptor lying about its size
// cannot fill a disk by accident.
const DefaultMaxBlobSize int64 = 4 << 30

// MaxIndexSize bounds the index.json this package reads: 16 MiB, room for
// tens of thousands of tags. A larger file is refused, not truncated.
const MaxIndexSize = 16 << 20

// tmpPrefix starts the name of every file this package writes before
// renaming it into place. Fsck removes such files once they are older than
// FsckOptions.TempGrace.
const tmpPrefix = ".wasmgate-tmp-"

// Options configures Open. The zero value is the default for every field.
type Options struct {
	// MaxBlobSize is the largest blob, in bytes, that Push accepts.
	// Zero means DefaultMaxBlobSize; a negative value is an error.
	MaxBlobSize int64

	// AllowAnyRefName lets Tag record any ref name, not only an OCI tag
	// ([a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}). The cache uses it to key
	// entries by full reference, such as "registry.example/repo:v1".
	// Names must still be printable UTF-8 without spaces, at most 4096
	// bytes, and not a digest (a digest always resolves as a digest).
	// oras, regctl and skopeo read such names back unchanged, but their
	// own reference parsers may refuse to address them by name.
	AllowAnyRefName bool
}

// Store is an OCI image layout directory that any number of goroutines and
// processes can read and write at once. Its zero value is not usable; call
// Open or OpenReadOnly.
type Store struct {
	dir         string
	readOnly    bool
	maxBlobSize int64
	anyRefName  bool
}

// Open opens the OCI image layout in dir, creating dir and the layout if
// they do not exist. It refuses a directory that has other files but no
// oci-layout file, so that a mistyped path does not turn a project
// directory into a layout.
func Open(dir string, opts Options) (*Store, error) {
	if opts.MaxBlobSize < 0 {
		return nil, &Error{Op: "open", Dir: dir, Err: fmt.Errorf("Options.MaxBlobSize is %d, want 0 (default) or more", opts.MaxBlobSize)}
	}
	s := &Store{
		dir:         filepath.Clean(dir),
		maxBlobSize: opts.MaxBlobSize,
		anyRefName:  opts.AllowAnyRefName,
	}
	if s.maxBlobSize == 0 {
		s.maxBlobSize = DefaultMaxBlobSize
	}
	if err := os.MkdirAll(s.dir, 0o755); err != nil {
		return nil, s.errf("open", "", "", err)
	}
	// Open has no ctx (it mirrors os.Open); the only wait in it is for
	// the index lock while another process initializes the same layout.
	if err := s.init(context.Background()); err != nil {
		return nil, s.errf("open", "", "", err)
	}
	return s, nil
}

// OpenReadOnly opens an existing OCI image layout in dir. The store never
// writes to dir, not even a lock file; its write methods fail with
// ErrReadOnly.
func OpenReadOnly(dir string) (*Store, error) {
	s := &Store{dir: filepath.Clean(dir), readOnly: true, maxBlobSize: DefaultMaxBlobSize}
	if err := s.checkLayoutFile(); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			err = fmt.Errorf("%w: no %s file: %w", ErrNotLayout, ocispec.ImageLayoutFile, err)
		}
		return nil, s.errf("open", "", "", err)
	}
	if _, err := s.readIndex(context.Background()); err != nil {
		return nil, s.errf("open", "", "", err)
	}
	return s, nil
}

// Dir returns the layout directory.
func (s *Store) Dir() string { return s.dir }

func (s *Store) path(elem ...string) string {
	return filepath.Join(append([]string{s.dir}, elem...)...)
}

// init creates whatever part of the layout is missing. The oci-layout file
// is written last, so its presence means the layout is complete; creation
// runs under the exclusive index lock, so two processes opening a new
// directory at once do not both write index.json.
func (s *Store) init(ctx context.Context) error {
	layoutErr := s.checkLayoutFile()
	if layoutErr != nil && !errors.Is(layoutErr, fs.ErrNotExist) {
		return layoutErr
	}
	if layoutErr == nil {
		if _, err := os.Stat(s.path(ocispec.ImageIndexFile)); err == nil {
			_, err = s.readIndex(ctx)
			return err
		}
	} else if err := s.checkInitializable(); err != nil {
		return err
	}

	lk, err := s.lockIndex(ctx, true)
	if err != nil {
		return err
	}
	defer lk.release()
	if err := os.MkdirAll(s.path(ocispec.ImageBlobsDir, "sha256"), 0o755); err != nil {
		return err
	}
	switch _, err := os.Stat(s.path(ocispec.ImageIndexFile)); {
	case errors.Is(err, fs.ErrNotExist):
		if err := s.storeIndex(&ocispec.Index{}); err != nil {
			return err
		}
	case err != nil:
		return err
	default:
		if _, err := s.loadIndex(); err != nil {
			return err
		}
	}
	switch err := s.checkLayoutFile(); {
	case errors.Is(err, fs.ErrNotExist):
		b, _ := json.Marshal(ocispec.ImageLayout{Version: ocispec.ImageLayoutVersion})
		return s.writeFileAtomic(ocispec.ImageLayoutFile, b)
	default:
		return err
	}
}

// checkInitializable fails unless dir holds nothing but pieces this package
// writes while creating a layout.
func (s *Store) checkInitializable() error {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		switch n := e.Name(); {
		case n == lockName, n == ocispec.ImageIndexFile, n == ocispec.ImageBlobsDir && e.IsDir(), strings.HasPrefix(n, tmpPrefix):
		default:
			return fmt.Errorf("%w: directory is not empty (it has %q) and has no %s file; use a new or empty directory",
				ErrNotLayout, n, ocispec.ImageLayoutFile)
		}
	}
	return nil
}

// checkLayoutFile reads and checks the oci-layout file. A missing file is
// returned as an fs.ErrNotExist error.
func (s *Store) checkLayoutFile() error {
	b, err := boundedio.ReadFile(s.path(ocispec.ImageLayoutFile), 4<<10)
	if errors.Is(err, boundedio.ErrTooLarge) {
		return fmt.Errorf("%w: %w", ErrNotLayout, err)
	}
	if err != nil {
		return err
	}
	var layout ocispec.ImageLayout
	if err := json.Unmarshal(b, &layout); err != nil {
		return fmt.Errorf("%w: %s: %w", ErrNotLayout, ocispec.ImageLayoutFile, err)
	}
	if layout.Version != ocispec.ImageLayoutVersion {
		return fmt.Errorf("%s says imageLayoutVersion %q, this reads %q: %w",
			ocispec.ImageLayoutFile, layout.Version, ocispec.ImageLayoutVersion, ErrUnsupportedVersion)
	}
	if err := artifact.ValidateDocument(ocispec.MediaTypeLayoutHeader, b); err != nil {
		return fmt.Errorf("%w: %s: %w", ErrNotLayout, ocispec.ImageLayoutFile, err)
	}
	return nil
}

// createTemp creates a new file in dir whose name starts with tmpPrefix.
// Unlike os.CreateTemp it honours the umask with mode 0644, so blobs end
// up as readable as files other OCI tools write.
func createTemp(dir string) (*os.File, error) {
	for range 100 {
		name := filepath.Join(dir, tmpPrefix+strconv.FormatUint(rand.Uint64(), 36))
		f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		return f, err
	}
	return nil, fmt.Errorf("cannot create a temporary file in %s: too many name collisions", dir)
}

// writeFileAtomic replaces the file name in the layout root with data:
// temp file, fsync, rename, fsync of the directory. Readers see the old
// file or the new one, never a mix.
func (s *Store) writeFileAtomic(name string, data []byte) error {
	f, err := createTemp(s.dir)
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, s.path(name))
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	return syncDir(s.dir)
}

// copyCtx is io.Copy that stops when ctx is done. sizeHint, the expected
// length, only keeps the buffer small for small blobs.
func copyCtx(ctx context.Context, dst io.Writer, src io.Reader, sizeHint int64) (int64, error) {
	buf := make([]byte, min(max(sizeHint, 512), 256<<10))
	var n int64
	for {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		nr, rerr := src.Read(buf)
		if nr > 0 {
			nw, werr := dst.Write(buf[:nr])
			n += int64(nw)
			if werr != nil {
				return n, werr
			}
			if nw != nr {
				return n, io.ErrShortWrite
			}
		}
		if rerr == io.EOF {
			return n, nil
		}
		if rerr != nil {
			return n, rerr
		}
	}
}
