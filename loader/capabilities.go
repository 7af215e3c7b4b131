package loader

import (
	"fmt"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/wasmgate/wasmgate/internal/atomicfile"
	"github.com/wasmgate/wasmgate/permissions"
)

// Capabilities is what a component host (wasmtime, Wassette) is to grant
// a verified component: its signed policy within the host's ceiling. Only
// [ComponentCapabilities] builds one. Its two renderings are
// [Capabilities.WasmtimeFlags] (and the file form
// [Capabilities.WasmtimeFile]) and [Capabilities.Policy], a Wassette
// permission policy.
type Capabilities struct {
	// Storage are the granted storage rules, as the policy writes them
	// (guest paths), with access narrowed to what the ceiling allows.
	Storage []permissions.StorageRule
	// StorageDeny are the policy's storage deny rules, kept as they are:
	// a deny rule never widens a grant.
	StorageDeny []permissions.StorageRule
	// Mounts are the whole directories among Storage, with the host
	// directory behind each (from the ceiling's mount, or the path itself
	// without a ceiling): what a preopen-based host such as wasmtime can
	// grant.
	Mounts []Mount
	// Env are the names of the granted environment variables. Values are
	// never part of Capabilities: the component host takes them from its
	// own environment.
	Env []string
	// Network are the policy's network allow rules, all of them or none
	// (Host.AllowNoNetwork), and NetworkDeny its deny rules.
	Network, NetworkDeny []permissions.NetworkRule
	// The policy's resource limits; zero when it sets none.
	MemoryBytes uint64
	CPUMillis   int64
	Timeout     time.Duration
	// Dropped lists what the policy asks for and the ceiling does not
	// grant. Unlike [Effective], which refuses such a policy, a component
	// gets the intersection, and the caller shows this list.
	Dropped []string

	// writeOnly are the mounted directories the policy grants write and
	// not read, which no preopen can express.
	writeOnly map[string]bool
}

// ComponentCapabilities returns what a component host is to grant a
// component whose policy is perms (nil asks for nothing) under ceiling.
//
// A nil ceiling means "what the policy asks": every rule is granted, and
// a directory is the same path on the host. A non-nil ceiling narrows, it
// does not refuse (compare [Effective]): directories and variables the
// ceiling does not allow are left out, write access is kept only where
// the ceiling's mount allows it, and every such cut is listed in Dropped.
// The ceiling has no network grant (a [Host] describes WASI preview 1,
// which has none); the policy's network rules are granted unless
// ceiling.AllowNoNetwork, which drops them. Memory, CPU and time limits
// are the policy's: they restrict, they never grant.
//
// An invalid ceiling gives an error wrapping [ErrHost].
func ComponentCapabilities(perms *permissions.Policy, ceiling *Host) (*Capabilities, error) {
	var hostMounts []Mount
	if ceiling != nil {
		var err error
		if hostMounts, err = ceiling.mounts(); err != nil {
			return nil, err
		}
	}
	var p permissions.Permissions
	if perms != nil {
		p = perms.Permissions
	}
	c := &Capabilities{
		StorageDeny: slices.Clone(p.Storage.Deny),
		NetworkDeny: slices.Clone(p.Network.Deny),
		MemoryBytes: p.Resources.MemoryBytes(),
		CPUMillis:   p.Resources.Limits.CPUMillis,
		Timeout:     p.Resources.Limits.Timeout,
		writeOnly:   map[string]bool{},
	}
	c.storage(p.Storage.Allow, ceiling != nil, hostMounts)
	for _, r := range p.Environment.Allow {
		switch {
		case slices.Contains(c.Env, r.Key):
		case ceiling != nil && !ceiling.allowsEnv(r.Key):
			c.Dropped = append(c.Dropped, "environment "+r.Key+": the host does not allow it")
		default:
			c.Env = append(c.Env, r.Key)
		}
	}
	if ceiling != nil && ceiling.AllowNoNetwork && len(p.Network.Allow) > 0 {
		c.Dropped = append(c.Dropped, "network: the host runs it without network (allowNoNetwork)")
	} else {
		c.Network = slices.Clone(p.Network.Allow)
	}
	return c, nil
}

// storage narrows the allow rules to the ceiling (when bounded) and
// collects the whole directories among them as mounts.
func (c *Capabilities) storage(allow []permissions.StorageRule, bounded bool, host []Mount) {
	type dirAccess struct{ read, write bool }
	dirs := map[string]*dirAccess{}
	for _, r := range allow {
		r := permissions.StorageRule{URI: r.URI, Access: slices.Clone(r.Access)}
		p := r.Path()
		var hm Mount
		if bounded {
			lit := literalPrefix(p)
			if !path.IsAbs(lit) {
				c.Dropped = append(c.Dropped, "storage "+r.URI+": a relative path lies within no host directory")
				continue
			}
			var ok bool
			if hm, ok = coveringMount(host, lit); !ok || lit == "/" {
				c.Dropped = append(c.Dropped, "storage "+r.URI+": the host allows no directory that contains it")
				continue
			}
			if r.Can(permissions.AccessWrite) && !hm.Write {
				r.Access = slices.DeleteFunc(r.Access, func(a permissions.Access) bool { return a == permissions.AccessWrite })
				c.Dropped = append(c.Dropped, "storage "+r.URI+" write: the host allows "+hm.Path+" read only")
				if len(r.Access) == 0 {
					continue
				}
			}
		}
		c.Storage = append(c.Storage, r)
		if dir, ok := wholeDir(p); ok && dir != "/" {
			d := dirs[dir]
			if d == nil {
				d = &dirAccess{}
				dirs[dir] = d
			}
			d.read = d.read || r.Can(permissions.AccessRead)
			d.write = d.write || r.Can(permissions.AccessWrite)
		}
	}
	var mounts []Mount
	for _, dir := range slices.Sorted(maps.Keys(dirs)) {
		m := Mount{Path: dir, Dir: filepath.FromSlash(dir), Write: dirs[dir].write}
		if hm, ok := coveringMount(host, dir); bounded && ok {
			m.Dir = filepath.Join(hm.Dir, filepath.FromSlash(strings.TrimPrefix(dir, hm.Path)))
		}
		if !dirs[dir].read {
			c.writeOnly[dir] = true
		}
		mounts = append(mounts, m)
	}
	c.Mounts = dropNested(mounts)
}

// formatQuantity writes bytes as a Kubernetes quantity that package
// permissions reads back to the same number: Gi, Mi, Ki when exact, else
// plain bytes (a string: a bare YAML number would be megabytes).
func formatQuantity(n uint64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%dGi", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%dMi", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%dKi", n>>10)
	}
	return fmt.Sprintf("%d", n)
}

// The files [Capabilities.WriteFiles] writes, beside the verified wasm
// and policy.yaml (verify.Artifact.WriteFiles).
const (
	// WasmtimeFlagsFile holds [Capabilities.WasmtimeFile].
	WasmtimeFlagsFile = "capabilities.wasmtime.txt"
	// EffectivePolicyFile holds [Capabilities.Policy].
	EffectivePolicyFile = "policy.effective.yaml"
)

// CapabilityFiles are the paths WriteFiles wrote.
type CapabilityFiles struct {
	Wasmtime string `json:"wasmtime"`
	Policy   string `json:"policy"`
}

// WriteFiles writes [WasmtimeFlagsFile] and [EffectivePolicyFile] into
// dir, each atomically: both are rendered first, and when the second
// write fails the first file is removed, so dir holds both or neither.
func (c *Capabilities) WriteFiles(dir string) (CapabilityFiles, error) {
	policy, err := c.Policy()
	if err != nil {
		return CapabilityFiles{}, err
	}
	f := CapabilityFiles{Wasmtime: filepath.Join(dir, WasmtimeFlagsFile), Policy: filepath.Join(dir, EffectivePolicyFile)}
	if err := atomicfile.Write(f.Wasmtime, c.WasmtimeFile()); err != nil {
		return CapabilityFiles{}, fmt.Errorf("loader: %w", err)
	}
	if err := atomicfile.Write(f.Policy, policy); err != nil {
		os.Remove(f.Wasmtime)
		return CapabilityFiles{}, fmt.Errorf("loader: %w", err)
	}
	return f, nil
}
