package loader

import (
	"fmt"
	"maps"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/wasmgate/wasmgate/permissions"
)

// Effective checks a publisher's policy against the host's ceiling and
// returns the sandbox a module gets. It grants nothing the policy does not
// ask for and nothing the host does not allow: a request beyond the
// ceiling is refused, never silently narrowed, because a module that was
// promised a directory, a variable, 64 MiB or 30 s and gets less fails in
// ways its publisher did not test. The one exception is opt-in:
// [Host.ClampLimits] lowers a memory or time limit over the ceiling to the
// ceiling, and the sandbox lists each one in Sandbox.Clamped. perms may be
// nil, which asks for nothing.
//
// The policy maps onto WASI preview 1 as follows:
//
//   - storage: each allow rule fs:///DIR or fs:///DIR/** becomes a mount of
//     DIR, read-only unless both the policy and the host mount grant
//     write. The host directory is the covering Host mount's Dir plus the
//     rest of the path. "/" is never mounted. Other patterns, relative
//     paths and write-only rules cannot be expressed and are refused.
//   - storage deny: a rule that covers a whole mount removes it (read) or
//     makes it read-only (write only). A rule inside a mount that would
//     take something away is refused, since a WASI preview 1 preopen
//     cannot hide or protect part of its tree; so is a relative deny
//     path, which cannot be matched against mounts.
//   - environment: the listed variables the host allows, with values
//     from Host.Env; a variable the host has no value for stays unset.
//   - resources.limits.memory (or the legacy resources.memory): the
//     memory limit, rounded down to whole 64 KiB pages. A policy without
//     one gets the host's ceiling; one over the ceiling is refused, or
//     gets the ceiling with Host.ClampLimits.
//   - resources.limits.timeout: the run-time limit, likewise: the
//     policy's when it is within the ceiling, the ceiling when the policy
//     sets none (absence means "not declared", not "forever", since
//     Wassette has no timeout at all), refused or clamped when over it.
//   - network: WASI preview 1 has no sockets, so any allow rule is
//     refused, unless Host.AllowNoNetwork, which runs without network and
//     lists the dropped rules. ipc allow rules are refused.
//   - cpu, the legacy cpu and io limits and runtime.docker: not enforced
//     and listed in Sandbox.Unenforced. A module runs on one thread and
//     the timeout bounds its time.
//
// When the policy asks for more than the host allows, or for something
// the sandbox cannot express, Effective returns a [*CeilingError] that
// lists every such request, each with the [Grant] that would admit it. An
// invalid Host gives an error wrapping [ErrHost].
func Effective(perms *permissions.Policy, host Host) (*Sandbox, error) {
	hostMounts, err := host.mounts()
	if err != nil {
		return nil, err
	}
	var p permissions.Permissions
	if perms != nil {
		p = perms.Permissions
	}
	c := &CeilingError{}
	sb := &Sandbox{
		Mounts: storage(p.Storage, hostMounts, c),
		Env:    environment(p.Environment, host, c),
	}
	network(p, host, sb, c)
	resources(p, host, sb, c)
	if !c.empty() {
		return nil, c
	}
	// Empty lists, not null, in the JSON form.
	if sb.Mounts == nil {
		sb.Mounts = []Mount{}
	}
	if sb.Env == nil {
		sb.Env = []EnvVar{}
	}
	return sb, nil
}

func storage(sp permissions.StoragePermissions, host []Mount, c *CeilingError) []Mount {
	type request struct {
		uri         string
		read, write bool
	}
	asked := map[string]*request{}
	for _, r := range sp.Allow {
		dir, ok := wholeDir(r.Path())
		switch {
		case !ok:
			c.Unsupported = append(c.Unsupported, Difference{Request: "storage " + r.URI, Reason: "a mount is a whole absolute directory; ask for fs:///DIR/** or fs:///DIR"})
			continue
		case dir == "/":
			c.Missing = append(c.Missing, Difference{Request: "storage " + r.URI, Reason: "the root directory is never mounted"})
			continue
		}
		req := asked[dir]
		if req == nil {
			req = &request{uri: r.URI}
			asked[dir] = req
		}
		req.read = req.read || r.Can(permissions.AccessRead)
		req.write = req.write || r.Can(permissions.AccessWrite)
	}

	var mounts []Mount
	for _, dir := range slices.Sorted(maps.Keys(asked)) {
		req := asked[dir]
		hm, ok := coveringMount(host, dir)
		switch {
		case !req.read:
			c.Unsupported = append(c.Unsupported, Difference{Request: "storage " + req.uri, Reason: "write without read; WASI preview 1 cannot grant write-only access"})
		case !ok:
			c.Missing = append(c.Missing, Difference{
				Request: "storage " + req.uri,
				Reason:  "host allows no directory that contains " + dir,
				Grant:   Grant{Kind: GrantDir, Mount: Mount{Path: dir, Write: req.write}},
			})
		case req.write && !hm.Write:
			// The fix widens the host's mount: a second, writable mount
			// below it would nest, which a Host refuses.
			c.Missing = append(c.Missing, Difference{
				Request: "storage " + req.uri + " write",
				Reason:  "host allows " + hm.Path + " read only",
				Grant:   Grant{Kind: GrantDir, Mount: Mount{Path: hm.Path, Dir: hm.Dir, Write: true}},
			})
		default:
			rel := strings.TrimPrefix(dir, hm.Path)
			mounts = append(mounts, Mount{Path: dir, Dir: filepath.Join(hm.Dir, filepath.FromSlash(rel)), Write: req.write})
		}
	}
	return dropNested(applyDeny(mounts, sp.Deny, c))
}

func applyDeny(mounts []Mount, deny []permissions.StorageRule, c *CeilingError) []Mount {
	for _, d := range deny {
		denyRead, denyWrite := d.Can(permissions.AccessRead), d.Can(permissions.AccessWrite)
		dir, exact := wholeDir(d.Path())
		if !exact {
			dir = literalPrefix(d.Path())
		}
		if !path.IsAbs(dir) {
			c.Unsupported = append(c.Unsupported, Difference{Request: "storage deny " + d.URI, Reason: "relative paths cannot be matched against mounts"})
			continue
		}
		var kept []Mount
		for _, m := range mounts {
			switch {
			case exact && within(m.Path, dir): // covers the whole mount
				if denyRead {
					continue
				}
				if denyWrite {
					m.Write = false
				}
			case within(dir, m.Path) || within(m.Path, dir): // part of it, or a pattern
				if denyRead || (denyWrite && m.Write) {
					c.Unsupported = append(c.Unsupported, Difference{
						Request: "storage deny " + d.URI,
						Reason:  "lies within mount " + m.Path + ", and WASI preview 1 cannot take part of a mounted directory away",
					})
				}
			}
			kept = append(kept, m)
		}
		mounts = kept
	}
	return mounts
}

// dropNested removes mounts that a mount above them already grants with
// at least the same access. mounts is sorted by Path, so parents come
// first.
func dropNested(mounts []Mount) []Mount {
	var out []Mount
	for _, m := range mounts {
		if !slices.ContainsFunc(out, func(o Mount) bool { return within(m.Path, o.Path) && (o.Write || !m.Write) }) {
			out = append(out, m)
		}
	}
	return out
}

// wholeDir returns the directory that an fs:// path names when it names a
// whole absolute directory tree: "/data" and "/data/**" both give "/data".
func wholeDir(p string) (string, bool) {
	d := strings.TrimSuffix(p, "/**")
	if d == "" {
		d = "/"
	}
	if !path.IsAbs(d) || strings.Contains(d, "*") {
		return "", false
	}
	return path.Clean(d), true
}

// literalPrefix returns the directory before a pattern's first wildcard.
func literalPrefix(p string) string {
	i := strings.Index(p, "*")
	if i < 0 {
		return path.Clean(p)
	}
	return path.Clean(p[:strings.LastIndex(p[:i], "/")+1])
}

func environment(env permissions.EnvironmentPermissions, host Host, c *CeilingError) []EnvVar {
	var vars []EnvVar
	for _, r := range env.Allow {
		switch {
		case !host.allowsEnv(r.Key):
			c.Missing = append(c.Missing, Difference{Request: "environment " + r.Key, Reason: "host does not allow it", Grant: Grant{Kind: GrantEnv, Env: r.Key}})
		case !slices.ContainsFunc(vars, func(v EnvVar) bool { return v.Key == r.Key }):
			v, ok := host.lookupEnv(r.Key)
			vars = append(vars, EnvVar{Key: r.Key, Set: ok, value: v})
		}
	}
	return vars
}

func network(p permissions.Permissions, host Host, sb *Sandbox, c *CeilingError) {
	var asked []string
	for _, r := range p.Network.Allow {
		switch {
		case r.Host != "":
			asked = append(asked, "host "+r.Host)
		case r.CIDR != "":
			asked = append(asked, "cidr "+r.CIDR)
		case r.Defaults:
			asked = append(asked, "defaults (Wassette's common hosts)")
		}
	}
	if host.AllowNoNetwork {
		sb.NetworkDropped = asked
	} else {
		for _, a := range asked {
			c.Network = append(c.Network, Difference{Request: a, Grant: Grant{Kind: GrantNoNetwork}})
		}
	}
	for _, r := range p.IPC.Allow {
		c.Unsupported = append(c.Unsupported, Difference{Request: "ipc " + r.URI, Reason: "WASI preview 1 has no IPC"})
	}
}

func resources(p permissions.Permissions, host Host, sb *Sandbox, c *CeilingError) {
	mem, hostMem := p.Resources.MemoryBytes(), host.maxMemory()
	switch {
	case mem > hostMem && host.ClampLimits:
		sb.Clamped = append(sb.Clamped, Clamp{Limit: "memory", Asked: formatBytes(mem), Granted: formatBytes(hostMem / PageSize * PageSize)})
		mem = hostMem
	case mem > hostMem:
		c.Missing = append(c.Missing, Difference{
			Request: "memory " + formatBytes(mem),
			Reason:  "host allows at most " + formatBytes(hostMem),
			Grant:   Grant{Kind: GrantMemory, MemoryBytes: mem},
		})
	case mem == 0:
		mem = hostMem
	}
	sb.MemoryBytes = mem / PageSize * PageSize

	t, hostTime := p.Resources.Limits.Timeout, host.maxTime()
	switch {
	case hostTime > 0 && t > hostTime && host.ClampLimits:
		sb.Clamped = append(sb.Clamped, Clamp{Limit: "timeout", Asked: t.String(), Granted: hostTime.String()})
		t = hostTime
	case hostTime > 0 && t > hostTime:
		c.Missing = append(c.Missing, Difference{
			Request: "timeout " + t.String(),
			Reason:  "host allows at most " + hostTime.String(),
			Grant:   Grant{Kind: GrantTime, Time: t},
		})
	case t == 0:
		t = hostTime
	}
	sb.Timeout = t

	r := p.Resources
	if m := r.Limits.CPUMillis; m > 0 {
		sb.Unenforced = append(sb.Unenforced, fmt.Sprintf("cpu %dm (wazero has no CPU quota; a module runs on one thread)", m))
	}
	if r.LegacyCPUPercent != nil {
		sb.Unenforced = append(sb.Unenforced, fmt.Sprintf("resources.cpu %g%% (wazero has no CPU quota)", *r.LegacyCPUPercent))
	}
	if r.LegacyIOPS != nil {
		sb.Unenforced = append(sb.Unenforced, fmt.Sprintf("resources.io %d (wazero has no I/O quota)", *r.LegacyIOPS))
	}
	if d := p.Runtime.Docker.Security; d.Privileged != nil || d.NoNewPrivileges != nil || len(d.Capabilities.Add)+len(d.Capabilities.Drop) > 0 {
		sb.Unenforced = append(sb.Unenforced, "runtime.docker (settings for a container runtime; a wasm module has no such privileges)")
	}
}
