package permissions

import (
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// The decoders below mirror Wassette's types one for one (crates/policy
// types.rs): a section is a mapping, an optional field may be absent or
// null, and a list of rules may be null.

func decodeStorage(n *yaml.Node, path string) (StoragePermissions, error) {
	var s StoragePermissions
	f, err := mapping(n, path, "allow", "deny")
	if err != nil {
		return s, err
	}
	if s.Allow, err = rules(f["allow"], join(path, "allow"), decodeStorageRule); err != nil {
		return s, err
	}
	s.Deny, err = rules(f["deny"], join(path, "deny"), decodeStorageRule)
	return s, err
}

func decodeStorageRule(n *yaml.Node, path string) (StorageRule, error) {
	var r StorageRule
	f, err := mapping(n, path, "uri", "access")
	if err != nil {
		return r, err
	}
	if f["uri"] == nil {
		return r, errAt(n, join(path, "uri"), ErrInvalid, `is required, such as uri: "fs:///data/**"`)
	}
	if r.URI, err = str(f["uri"], join(path, "uri")); err != nil {
		return r, err
	}
	if reason := checkStorageURI(r.URI); reason != "" {
		return r, errAt(f["uri"], join(path, "uri"), ErrInvalid, "%s", reason)
	}
	access := f["access"]
	if access == nil || isNull(access) {
		return r, errAt(n, join(path, "access"), ErrInvalid, "is required: a list of read, write")
	}
	items, err := sequence(access, join(path, "access"))
	if err != nil {
		return r, err
	}
	if len(items) == 0 {
		return r, errAt(access, join(path, "access"), ErrInvalid, "is empty; list read, write or both")
	}
	for i, item := range items {
		p := index(join(path, "access"), i)
		s, err := str(item, p)
		if err != nil {
			return r, err
		}
		a := Access(s)
		if a != AccessRead && a != AccessWrite {
			return r, errAt(item, p, ErrInvalid, "%q is not an access type; allowed: read, write", clip(s))
		}
		if r.Can(a) {
			return r, errAt(item, p, ErrInvalid, "%q is listed twice", s)
		}
		r.Access = append(r.Access, a)
	}
	return r, nil
}

func decodeNetwork(n *yaml.Node, path string) (NetworkPermissions, error) {
	var s NetworkPermissions
	f, err := mapping(n, path, "allow", "deny")
	if err != nil {
		return s, err
	}
	if s.Allow, err = rules(f["allow"], join(path, "allow"), decodeNetworkRule); err != nil {
		return s, err
	}
	s.Deny, err = rules(f["deny"], join(path, "deny"), decodeNetworkRule)
	return s, err
}

// decodeNetworkRule reads one of {host}, {cidr} or {defaults: true}.
// Wassette's untagged enum would quietly take the first shape that fits an
// entry with two keys; here such an entry is an error.
func decodeNetworkRule(n *yaml.Node, path string) (NetworkRule, error) {
	var r NetworkRule
	f, err := mapping(n, path, "host", "cidr", "defaults")
	if err != nil {
		return r, err
	}
	if len(f) != 1 {
		return r, errAt(n, path, ErrInvalid, "must have exactly one of host, cidr, defaults")
	}
	switch {
	case f["host"] != nil:
		p := join(path, "host")
		if r.Host, err = str(f["host"], p); err != nil {
			return r, err
		}
		if reason := checkHost(r.Host); reason != "" {
			return r, errAt(f["host"], p, ErrInvalid, "%s", reason)
		}
	case f["cidr"] != nil:
		p := join(path, "cidr")
		if r.CIDR, err = str(f["cidr"], p); err != nil {
			return r, err
		}
		if reason := checkCIDR(r.CIDR); reason != "" {
			return r, errAt(f["cidr"], p, ErrInvalid, "%s", reason)
		}
	default:
		v := f["defaults"]
		if v.Kind != yaml.ScalarNode || v.ShortTag() != "!!bool" || !boolValue(v) {
			return r, errAt(v, join(path, "defaults"), ErrInvalid, "must be true, not %s; leave the entry out to use no defaults", describe(v))
		}
		r.Defaults = true
	}
	return r, nil
}

func decodeEnvironment(n *yaml.Node, path string) (EnvironmentPermissions, error) {
	var s EnvironmentPermissions
	f, err := mapping(n, path, "allow")
	if err != nil {
		return s, err
	}
	s.Allow, err = rules(f["allow"], join(path, "allow"), func(n *yaml.Node, path string) (EnvironmentRule, error) {
		var r EnvironmentRule
		f, err := mapping(n, path, "key")
		if err != nil {
			return r, err
		}
		p := join(path, "key")
		if f["key"] == nil {
			return r, errAt(n, p, ErrInvalid, "is required, such as key: HOME")
		}
		if r.Key, err = str(f["key"], p); err != nil {
			return r, err
		}
		if reason := checkEnvKey(r.Key); reason != "" {
			return r, errAt(f["key"], p, ErrInvalid, "%s", reason)
		}
		return r, nil
	})
	return s, err
}

func decodeResources(n *yaml.Node, path string) (Resources, error) {
	var r Resources
	f, err := mapping(n, path, "limits", "cpu", "memory", "io")
	if err != nil {
		return r, err
	}
	if v := present(f["limits"]); v != nil {
		if r.Limits, err = decodeLimits(v, join(path, "limits")); err != nil {
			return r, err
		}
	}
	if v := present(f["cpu"]); v != nil {
		p := join(path, "cpu")
		pct, err := strconv.ParseFloat(v.Value, 64)
		if !isNumber(v) || err != nil || math.IsNaN(pct) || math.IsInf(pct, 0) || pct < 0 {
			return r, errAt(v, p, ErrInvalid, "must be a CPU percentage of 0 or more, not %s", describe(v))
		}
		r.LegacyCPUPercent = &pct
	}
	if v := present(f["memory"]); v != nil {
		p := join(path, "memory")
		mib, err := strconv.ParseUint(v.Value, 10, 64)
		if v.ShortTag() != "!!int" || err != nil || mib == 0 || mib > math.MaxUint64>>20 {
			return r, errAt(v, p, ErrInvalid, "must be a whole number of megabytes from 1 to %d, not %s; or use limits.memory such as \"512Mi\"", uint64(math.MaxUint64>>20), describe(v))
		}
		r.LegacyMemoryMiB = &mib
	}
	if v := present(f["io"]); v != nil {
		iops, err := strconv.ParseUint(v.Value, 10, 64)
		if v.ShortTag() != "!!int" || err != nil {
			return r, errAt(v, join(path, "io"), ErrInvalid, "must be a whole number of IO operations per second, not %s", describe(v))
		}
		r.LegacyIOPS = &iops
	}
	return r, nil
}

func decodeLimits(n *yaml.Node, path string) (Limits, error) {
	var l Limits
	f, err := mapping(n, path, "cpu", "memory", "timeout")
	if err != nil {
		return l, err
	}
	if v := present(f["cpu"]); v != nil {
		p := join(path, "cpu")
		if v.Kind != yaml.ScalarNode || (v.ShortTag() != "!!str" && !isNumber(v)) {
			return l, errAt(v, p, ErrInvalid, `must be cores ("2", 0.5) or millicores ("500m"), not %s`, describe(v))
		}
		var reason string
		if l.CPUMillis, reason = parseCPU(v.Value); reason != "" {
			return l, errAt(v, p, ErrInvalid, "%q %s", clip(v.Value), reason)
		}
	}
	if v := present(f["memory"]); v != nil {
		p := join(path, "memory")
		switch {
		case v.Kind == yaml.ScalarNode && v.ShortTag() == "!!str":
			var reason string
			if l.MemoryBytes, reason = parseMemory(v.Value); reason != "" {
				return l, errAt(v, p, ErrInvalid, "%q %s", clip(v.Value), reason)
			}
		case v.Kind == yaml.ScalarNode && v.ShortTag() == "!!int":
			// Wassette reads a bare number as megabytes (MemoryLimit::Number,
			// times 1024*1024). A host must not read the same signed policy
			// differently, so this does too.
			mib, err := strconv.ParseUint(v.Value, 10, 64)
			if err != nil || mib == 0 || mib > math.MaxUint64>>20 {
				return l, errAt(v, p, ErrInvalid, "a bare number is megabytes and must be from 1 to %d, not %s", uint64(math.MaxUint64>>20), describe(v))
			}
			l.MemoryBytes = mib << 20
		default:
			return l, errAt(v, p, ErrInvalid, `must be a quantity such as "512Mi", "1Gi" or "64M", not %s`, describe(v))
		}
	}
	if v := present(f["timeout"]); v != nil {
		p := join(path, "timeout")
		s, err := str(v, p)
		if err != nil {
			return l, errAt(v, p, ErrInvalid, `must be a duration such as "30s" or "2m", not %s`, describe(v))
		}
		d, err := time.ParseDuration(s)
		if err != nil || d <= 0 {
			return l, errAt(v, p, ErrInvalid, `%q is not a positive duration; write a number and a unit (ns, us, ms, s, m, h), such as "30s"`, clip(s))
		}
		l.Timeout = d
	}
	return l, nil
}

func decodeRuntime(n *yaml.Node, path string) (Runtime, error) {
	var r Runtime
	f, err := mapping(n, path, "docker", "hyperlight")
	if err != nil {
		return r, err
	}
	if v := present(f["hyperlight"]); v != nil {
		if v.Kind != yaml.MappingNode || len(v.Content) > 0 {
			return r, errAt(v, join(path, "hyperlight"), ErrInvalid, "must be empty: Wassette reserves it and defines no settings yet")
		}
	}
	v := present(f["docker"])
	if v == nil {
		return r, nil
	}
	p := join(path, "docker")
	if f, err = mapping(v, p, "security"); err != nil {
		return r, err
	}
	if v = present(f["security"]); v == nil {
		return r, nil
	}
	p = join(p, "security")
	if f, err = mapping(v, p, "privileged", "no_new_privileges", "capabilities"); err != nil {
		return r, err
	}
	sec := &r.Docker.Security
	if sec.Privileged, err = optBool(f["privileged"], join(p, "privileged")); err != nil {
		return r, err
	}
	if sec.NoNewPrivileges, err = optBool(f["no_new_privileges"], join(p, "no_new_privileges")); err != nil {
		return r, err
	}
	if v = present(f["capabilities"]); v == nil {
		return r, nil
	}
	p = join(p, "capabilities")
	if f, err = mapping(v, p, "drop", "add"); err != nil {
		return r, err
	}
	if sec.Capabilities.Drop, err = capabilities(f["drop"], join(p, "drop")); err != nil {
		return r, err
	}
	sec.Capabilities.Add, err = capabilities(f["add"], join(p, "add"))
	return r, err
}

// capabilityNames are the Docker capabilities Wassette's CapabilityAction knows.
var capabilityNames = []string{"ALL", "NET_BIND_SERVICE", "SYS_ADMIN", "SYS_TIME"}

func capabilities(n *yaml.Node, path string) ([]string, error) {
	if n == nil {
		return nil, nil
	}
	items, err := sequence(n, path)
	if err != nil {
		return nil, err
	}
	out := []string{} // an empty list stays distinct from an absent one
	for i, item := range items {
		p := index(path, i)
		s, err := str(item, p)
		if err != nil {
			return nil, err
		}
		if !slices.Contains(capabilityNames, s) {
			return nil, errAt(item, p, ErrInvalid, "%q is not a capability; allowed: %s", clip(s), strings.Join(capabilityNames, ", "))
		}
		if slices.Contains(out, s) {
			return nil, errAt(item, p, ErrInvalid, "%q is listed twice", s)
		}
		out = append(out, s)
	}
	return out, nil
}

func decodeIPC(n *yaml.Node, path string) (IPCPermissions, error) {
	var s IPCPermissions
	f, err := mapping(n, path, "allow", "deny")
	if err != nil {
		return s, err
	}
	rule := func(n *yaml.Node, path string) (IPCRule, error) {
		var r IPCRule
		f, err := mapping(n, path, "uri")
		if err != nil {
			return r, err
		}
		p := join(path, "uri")
		if f["uri"] == nil {
			return r, errAt(n, p, ErrInvalid, `is required, such as uri: "pipe://service"`)
		}
		if r.URI, err = str(f["uri"], p); err != nil {
			return r, err
		}
		if r.URI == "" || hasControl(r.URI) {
			return r, errAt(f["uri"], p, ErrInvalid, "must be a non-empty URI without control characters")
		}
		return r, nil
	}
	if s.Allow, err = rules(f["allow"], join(path, "allow"), rule); err != nil {
		return s, err
	}
	s.Deny, err = rules(f["deny"], join(path, "deny"), rule)
	return s, err
}

// rules decodes a list of rules; an absent or null list has none.
func rules[T any](n *yaml.Node, path string, decode func(*yaml.Node, string) (T, error)) ([]T, error) {
	if n == nil {
		return nil, nil
	}
	items, err := sequence(n, path)
	if err != nil {
		return nil, err
	}
	out := make([]T, 0, len(items))
	for i, item := range items {
		r, err := decode(item, index(path, i))
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

func optBool(n *yaml.Node, path string) (*bool, error) {
	if present(n) == nil {
		return nil, nil
	}
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" {
		return nil, errAt(n, path, ErrInvalid, "must be true or false, not %s", describe(n))
	}
	b := boolValue(n)
	return &b, nil
}

// boolValue reads a node already known to be tagged !!bool.
func boolValue(n *yaml.Node) bool {
	var b bool
	return n.Decode(&b) == nil && b
}

func isNumber(n *yaml.Node) bool {
	t := n.ShortTag()
	return n.Kind == yaml.ScalarNode && (t == "!!int" || t == "!!float")
}
