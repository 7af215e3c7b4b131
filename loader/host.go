package loader

import (
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Defaults that a zero [Host] gets. They are ceilings, not grants: a
// policy that asks for less gets less.
const (
	// DefaultMaxMemory is the memory ceiling when Host.MaxMemory is 0.
	DefaultMaxMemory uint64 = 256 << 20

	// MaxMemoryLimit is the most any module can get: 65536 pages of 64 KiB,
	// all that a 32-bit wasm memory can address. Larger Host.MaxMemory
	// values mean this.
	MaxMemoryLimit uint64 = 65536 * PageSize

	// DefaultMaxTime is the run-time ceiling when Host.MaxTime is 0. A
	// module that never returns would otherwise hold the host forever.
	DefaultMaxTime = time.Minute

	// NoTimeLimit, as Host.MaxTime, lifts the ceiling: only a policy's own
	// timeout, if it sets one, stops the module.
	NoTimeLimit time.Duration = -1

	// PageSize is the size of a wasm memory page. Memory limits are
	// rounded down to whole pages.
	PageSize = 64 << 10
)

// Mount is a directory that a module may see: in a [Host], one the host
// is willing to grant; in a [Sandbox], one that is granted.
type Mount struct {
	// Path is the directory as policies name it (fs://PATH) and as the
	// module sees it: an absolute, clean, slash-separated path, not "/".
	// In a Host it also covers every directory below it.
	Path string `json:"path"`
	// Dir is the host directory behind Path. Empty in a Host means Path
	// itself, on the host. A policy that asks for Path/sub gets Dir/sub.
	Dir string `json:"dir"`
	// Write allows creating, changing and deleting files. Without it the
	// mount is read-only.
	Write bool `json:"write"`
}

// Host is what a host is willing to grant a module: the ceiling that a
// publisher's policy must fit within (see [Effective]), and the module's
// standard streams and arguments.
//
// The zero value grants nothing: no directories, no environment
// variables, no network, [DefaultMaxMemory] and [DefaultMaxTime].
type Host struct {
	// Mounts are the directories that policies may ask for. Mounts must
	// not nest: one Path may not lie below another.
	Mounts []Mount
	// EnvKeys are the environment variables that policies may ask for.
	EnvKeys []string
	// Env looks up the values of granted variables; nil means
	// [os.LookupEnv]. It is called by [Effective], once per variable.
	Env func(key string) (string, bool)
	// MaxMemory is the most linear memory a module may use, in bytes;
	// 0 means [DefaultMaxMemory].
	MaxMemory uint64
	// MaxTime is the longest a module may run; 0 means [DefaultMaxTime]
	// and [NoTimeLimit] means no ceiling.
	MaxTime time.Duration
	// AllowNoNetwork runs a module whose policy asks for network access
	// without it: WASI preview 1 has no sockets, so the grant cannot be
	// honoured. The dropped rules are listed in Sandbox.NetworkDropped.
	AllowNoNetwork bool
	// ClampLimits runs a module whose policy asks for more memory or time
	// than MaxMemory or MaxTime under those ceilings instead of refusing
	// it. The module then has less than its publisher declared and may
	// fail for it; each lowered limit is listed in Sandbox.Clamped.
	// Directories, variables and network are never clamped: a request for
	// one the host does not grant is always refused.
	ClampLimits bool

	// Args are the module's arguments, program name first (os.Args style);
	// empty means the program name "module" alone.
	Args []string
	// Stdin, Stdout and Stderr are the module's standard streams; nil
	// means an empty input and discarded output.
	Stdin          io.Reader
	Stdout, Stderr io.Writer

	// CacheDir, when set, keeps compiled machine code across processes
	// (wazero's compilation cache), so that loading a module a second time
	// skips compiling it. wazero runs what it finds there without checking
	// it: the directory must be writable only by the host's own user.
	CacheDir string
}

func (h Host) maxMemory() uint64 {
	switch {
	case h.MaxMemory == 0:
		return DefaultMaxMemory
	case h.MaxMemory > MaxMemoryLimit:
		return MaxMemoryLimit
	}
	return h.MaxMemory
}

// maxTime returns the ceiling, 0 for none.
func (h Host) maxTime() time.Duration {
	switch {
	case h.MaxTime == 0:
		return DefaultMaxTime
	case h.MaxTime < 0:
		return 0
	}
	return h.MaxTime
}

func (h Host) lookupEnv(key string) (string, bool) {
	if h.Env == nil {
		return os.LookupEnv(key)
	}
	return h.Env(key)
}

func (h Host) allowsEnv(key string) bool { return slices.Contains(h.EnvKeys, key) }

// mounts checks Host.Mounts and returns them with Dir filled in.
func (h Host) mounts() ([]Mount, error) {
	out := make([]Mount, 0, len(h.Mounts))
	for _, m := range h.Mounts {
		switch {
		case !path.IsAbs(m.Path) || path.Clean(m.Path) != m.Path:
			return nil, fmt.Errorf("loader: %w: mount path %q must be absolute and clean, such as /data", ErrHost, m.Path)
		case m.Path == "/":
			return nil, fmt.Errorf("loader: %w: mount path / would let a policy ask for any directory; list the directories", ErrHost)
		}
		if m.Dir == "" {
			m.Dir = filepath.FromSlash(m.Path)
		}
		if !filepath.IsAbs(m.Dir) {
			return nil, fmt.Errorf("loader: %w: mount %s: host directory %q must be absolute", ErrHost, m.Path, m.Dir)
		}
		for _, o := range out {
			if within(m.Path, o.Path) || within(o.Path, m.Path) {
				// Nested ceilings would need nested mounts, and WASI
				// preview 1 cannot keep a module that holds the outer
				// mount out of the inner directory.
				return nil, fmt.Errorf("loader: %w: mounts %s and %s nest; list directories that do not contain each other", ErrHost, o.Path, m.Path)
			}
		}
		out = append(out, m)
	}
	return out, nil
}

// coveringMount returns the host mount whose Path is dir or contains it.
func coveringMount(mounts []Mount, dir string) (Mount, bool) {
	for _, m := range mounts {
		if within(dir, m.Path) {
			return m, true
		}
	}
	return Mount{}, false
}

// within reports whether slash path p is dir or lies below it.
func within(p, dir string) bool {
	return p == dir || dir == "/" || strings.HasPrefix(p, dir+"/")
}
