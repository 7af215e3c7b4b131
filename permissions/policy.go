package permissions

import (
	"encoding/json"
	"strings"
	"time"
)

// Version is the only policy format version this package accepts.
const Version = "1.0"

// Policy is a parsed and validated Wassette policy v1.0 document.
//
// Only [Parse] builds a valid Policy; a Policy built by hand is not checked.
// The nesting follows the YAML (permissions.storage.allow[i].uri, ...). The
// JSON form uses lowerCamelCase keys and normalized values (bytes,
// millicores, Go duration strings); it is an output for tools, not an input
// format.
type Policy struct {
	// Schema is the optional "$schema" URL that Wassette's own policy files carry.
	Schema      string      `json:"$schema,omitempty"`
	Version     string      `json:"version"`
	Description string      `json:"description,omitempty"`
	Permissions Permissions `json:"permissions"`
}

// Permissions is the "permissions" mapping. A zero section grants nothing.
type Permissions struct {
	Storage     StoragePermissions     `json:"storage,omitzero"`
	Network     NetworkPermissions     `json:"network,omitzero"`
	Environment EnvironmentPermissions `json:"environment,omitzero"`
	// Resources sits under permissions, as in Wassette
	// (permissions.resources.limits), not at the top level.
	Resources Resources `json:"resources,omitzero"`
	// Runtime holds Wassette's container-runtime settings. They describe a
	// Docker sandbox; a wasm host has nothing to apply them to.
	Runtime Runtime        `json:"runtime,omitzero"`
	IPC     IPCPermissions `json:"ipc,omitzero"`
}

// StoragePermissions lists filesystem grants and denials.
type StoragePermissions struct {
	Allow []StorageRule `json:"allow,omitempty"`
	Deny  []StorageRule `json:"deny,omitempty"`
}

// StorageRule is one filesystem entry: an fs:// URI pattern and its access.
// Patterns may use "*" (one segment) and "**" (any depth, a whole segment).
type StorageRule struct {
	URI    string   `json:"uri"`
	Access []Access `json:"access"`
}

// Path returns the URI without its "fs://" scheme: "fs:///data" gives
// "/data" and "fs://work/**" gives "work/**".
func (r StorageRule) Path() string { return strings.TrimPrefix(r.URI, storageScheme) }

// Can reports whether the rule includes access a.
func (r StorageRule) Can(a Access) bool {
	for _, x := range r.Access {
		if x == a {
			return true
		}
	}
	return false
}

// Access is a storage access type.
type Access string

// The storage access types of the format.
const (
	AccessRead  Access = "read"
	AccessWrite Access = "write"
)

// NetworkPermissions lists outbound network grants and denials.
type NetworkPermissions struct {
	Allow []NetworkRule `json:"allow,omitempty"`
	Deny  []NetworkRule `json:"deny,omitempty"`
}

// NetworkRule is one network entry. Exactly one field is set, as in
// Wassette's untagged enum: Host (a name, "*.example.com" or "*"), CIDR (an
// IPv4 or IPv6 prefix in canonical form), or Defaults (Wassette's curated
// list of common HTTP hosts, written "defaults: true").
type NetworkRule struct {
	Host     string `json:"host,omitempty"`
	CIDR     string `json:"cidr,omitempty"`
	Defaults bool   `json:"defaults,omitempty"`
}

// EnvironmentPermissions lists the environment variables a module may read.
// Wassette defines no deny list for the environment.
type EnvironmentPermissions struct {
	Allow []EnvironmentRule `json:"allow,omitempty"`
}

// EnvironmentRule names one environment variable; wildcards are not allowed.
type EnvironmentRule struct {
	Key string `json:"key"`
}

// Resources is permissions.resources.
type Resources struct {
	Limits Limits `json:"limits,omitzero"`

	// The legacy fields that Wassette still accepts beside limits, in the
	// units of the policy-mcp v1 schema. Nil when absent.
	LegacyCPUPercent *float64 `json:"legacyCpuPercent,omitempty"` // resources.cpu
	LegacyMemoryMiB  *uint64  `json:"legacyMemoryMiB,omitempty"`  // resources.memory, in MB (read as MiB, as Wassette does)
	LegacyIOPS       *uint64  `json:"legacyIops,omitempty"`       // resources.io
}

// MemoryBytes returns the memory limit in bytes: limits.memory when set,
// else the legacy resources.memory; 0 when the policy sets neither.
func (r Resources) MemoryBytes() uint64 {
	if r.Limits.MemoryBytes > 0 {
		return r.Limits.MemoryBytes
	}
	if r.LegacyMemoryMiB != nil {
		return *r.LegacyMemoryMiB << 20 // checked for overflow when parsed
	}
	return 0
}

// Limits is permissions.resources.limits, normalized. Zero means absent.
type Limits struct {
	// CPUMillis is limits.cpu in thousandths of a core: "500m" is 500,
	// "2" and 2 are 2000.
	CPUMillis int64
	// MemoryBytes is limits.memory in bytes. Strings are Kubernetes
	// quantities ("512Mi", "1Gi", "64M", "1000000" bytes); a bare YAML
	// number is megabytes (MiB), because that is how Wassette reads it.
	MemoryBytes uint64
	// Timeout is limits.timeout, a Go duration such as "30s". It is
	// wasmgate's extension of the format: Wassette defines no timeout and
	// would ignore the key.
	Timeout time.Duration
}

// MarshalJSON writes the timeout as a duration string ("30s"), not nanoseconds.
func (l Limits) MarshalJSON() ([]byte, error) {
	type wire struct {
		CPUMillis   int64  `json:"cpuMillis,omitempty"`
		MemoryBytes uint64 `json:"memoryBytes,omitempty"`
		Timeout     string `json:"timeout,omitempty"`
	}
	w := wire{CPUMillis: l.CPUMillis, MemoryBytes: l.MemoryBytes}
	if l.Timeout > 0 {
		w.Timeout = l.Timeout.String()
	}
	return json.Marshal(w)
}

// Runtime is permissions.runtime. Wassette also reserves "hyperlight";
// this package accepts it only empty, since no runtime defines its keys.
type Runtime struct {
	Docker DockerRuntime `json:"docker,omitzero"`
}

// DockerRuntime is permissions.runtime.docker.
type DockerRuntime struct {
	Security DockerSecurity `json:"security,omitzero"`
}

// DockerSecurity is permissions.runtime.docker.security.
type DockerSecurity struct {
	Privileged      *bool              `json:"privileged,omitempty"`
	NoNewPrivileges *bool              `json:"noNewPrivileges,omitempty"` // YAML key no_new_privileges
	Capabilities    DockerCapabilities `json:"capabilities,omitzero"`
}

// DockerCapabilities lists Linux capabilities by Wassette's names: ALL,
// NET_BIND_SERVICE, SYS_ADMIN, SYS_TIME.
type DockerCapabilities struct {
	Drop []string `json:"drop,omitempty"`
	Add  []string `json:"add,omitempty"`
}

// IPCPermissions is permissions.ipc, which Wassette marks as future work.
type IPCPermissions struct {
	Allow []IPCRule `json:"allow,omitempty"`
	Deny  []IPCRule `json:"deny,omitempty"`
}

// IPCRule is one IPC endpoint URI, such as "pipe://app-service".
type IPCRule struct {
	URI string `json:"uri"`
}

// Summary is the compact view of a policy that `wasmgate inspect` prints.
type Summary struct {
	Version             string         `json:"version"`
	Storage             []StorageGrant `json:"storage,omitempty"`
	StorageDeny         []StorageGrant `json:"storageDeny,omitempty"`
	NetworkHosts        []string       `json:"networkHosts,omitempty"`
	NetworkCIDRs        []string       `json:"networkCidrs,omitempty"`
	NetworkDefaults     bool           `json:"networkDefaults,omitempty"`
	NetworkDeny         []string       `json:"networkDeny,omitempty"` // hosts and CIDRs
	NetworkDenyDefaults bool           `json:"networkDenyDefaults,omitempty"`
	EnvKeys             []string       `json:"envKeys,omitempty"`
	IPC                 []string       `json:"ipc,omitempty"`
	CPUMillis           int64          `json:"cpuMillis,omitempty"`
	MemoryBytes         uint64         `json:"memoryBytes,omitempty"`
	Timeout             string         `json:"timeout,omitempty"`
}

// StorageGrant is one storage entry of a [Summary].
type StorageGrant struct {
	URI    string   `json:"uri"`
	Access []Access `json:"access"`
}

// Summary returns the compact view of p, in document order.
func (p *Policy) Summary() Summary {
	perms := p.Permissions
	s := Summary{
		Version:     p.Version,
		Storage:     grants(perms.Storage.Allow),
		StorageDeny: grants(perms.Storage.Deny),
		CPUMillis:   perms.Resources.Limits.CPUMillis,
		MemoryBytes: perms.Resources.MemoryBytes(),
	}
	for _, r := range perms.Network.Allow {
		switch {
		case r.Host != "":
			s.NetworkHosts = append(s.NetworkHosts, r.Host)
		case r.CIDR != "":
			s.NetworkCIDRs = append(s.NetworkCIDRs, r.CIDR)
		case r.Defaults:
			s.NetworkDefaults = true
		}
	}
	for _, r := range perms.Network.Deny {
		switch {
		case r.Host != "":
			s.NetworkDeny = append(s.NetworkDeny, r.Host)
		case r.CIDR != "":
			s.NetworkDeny = append(s.NetworkDeny, r.CIDR)
		case r.Defaults:
			s.NetworkDenyDefaults = true
		}
	}
	for _, r := range perms.Environment.Allow {
		s.EnvKeys = append(s.EnvKeys, r.Key)
	}
	for _, r := range perms.IPC.Allow {
		s.IPC = append(s.IPC, r.URI)
	}
	if t := perms.Resources.Limits.Timeout; t > 0 {
		s.Timeout = t.String()
	}
	return s
}

func grants(rules []StorageRule) []StorageGrant {
	var out []StorageGrant
	for _, r := range rules {
		out = append(out, StorageGrant{URI: r.URI, Access: append([]Access(nil), r.Access...)})
	}
	return out
}
