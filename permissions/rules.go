package permissions

import (
	"net/netip"
	"strings"
	"unicode"
)

// The checks below return "" when a value is allowed, else the reason it is
// not. They keep Wassette's rules (types.rs: validate_storage_uri,
// validate_network_host, validate_environment_key) and add a few that
// Wassette lacks, each marked.

const storageScheme = "fs://"

func checkStorageURI(uri string) string {
	if !strings.HasPrefix(uri, storageScheme) {
		return `must be an fs:// URI, such as "fs:///data/**" or "fs://workspace/**"`
	}
	path := uri[len(storageScheme):]
	if path == "" {
		return "has no path after fs://"
	}
	if hasControl(path) {
		return "must not contain control characters"
	}
	if strings.Contains(path, "***") {
		return "has too many wildcards (***); use * for one segment or ** for any depth"
	}
	for _, seg := range strings.Split(path, "/") {
		switch {
		case seg == "*" || seg == "**":
		case strings.Contains(seg, "**"):
			return "uses ** inside a segment; ** must be a whole path segment, as in fs://data/**"
		case strings.Count(seg, "*") > 1:
			return "has more than one * in the segment " + quote(seg)
		case seg == "." || seg == "..":
			// Not in Wassette. A grant that climbs out of its own prefix
			// reads as narrower than it is; ask for the clean path.
			return "must not contain . or .. segments; write the path in clean form"
		}
	}
	return ""
}

func checkHost(host string) string {
	if host == "" {
		return "must not be empty"
	}
	// Not in Wassette: a host with a scheme, a path or spaces never
	// matches a connection, so it is a mistake, not a grant.
	if strings.ContainsFunc(host, func(r rune) bool { return r == '/' || unicode.IsSpace(r) || unicode.IsControl(r) }) {
		return `must be a host name such as "api.example.com" or "*.example.com", without scheme, path or spaces`
	}
	if strings.Count(host, "*") > 1 {
		return "has more than one wildcard; only a leading *. is allowed"
	}
	if host == "*" {
		return ""
	}
	if strings.Contains(host, "*") && !strings.HasPrefix(host, "*.") {
		return `may use a wildcard only as a leading "*.", as in "*.example.com"`
	}
	if domain, ok := strings.CutPrefix(host, "*."); ok && (domain == "" || strings.HasSuffix(domain, ".")) {
		return `has no domain after "*."`
	}
	return ""
}

func checkCIDR(cidr string) string {
	// Wassette only asks for a "/"; its JSON schema asks for IPv4. This
	// takes any valid IPv4 or IPv6 prefix.
	p, err := netip.ParsePrefix(cidr)
	if err != nil {
		return "is not a CIDR prefix such as 10.0.0.0/8 or fd00::/8"
	}
	if m := p.Masked(); m != p {
		return "has bits set after the prefix length; write " + m.String()
	}
	return ""
}

func checkEnvKey(key string) string {
	switch {
	case key == "":
		return "must not be empty"
	case strings.Contains(key, "*"):
		return "must name one variable; wildcards are not allowed"
	case strings.Contains(key, "="): // not in Wassette: "A=B" can never be a variable's name
		return `must not contain "="`
	case hasControl(key):
		return "must not contain control characters"
	}
	return ""
}

func hasControl(s string) bool {
	return strings.ContainsFunc(s, unicode.IsControl)
}

func quote(s string) string { return `"` + clip(s) + `"` }
