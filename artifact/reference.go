package artifact

import (
	"fmt"
	"net/url"
	"path/filepath"
	"strings"

	"github.com/opencontainers/go-digest"
	"oras.land/oras-go/v2/registry"
)

// RefKind says where a reference points.
type RefKind string

const (
	RefRegistry RefKind = "registry" // host/repo[:tag|@digest], optionally oci://
	RefLayout   RefKind = "layout"   // oci-layout:PATH[:tag|@digest]
	RefFile     RefKind = "file"     // file://PATH or a plain path to a .wasm
	RefHTTPS    RefKind = "https"    // https://host/path/x.wasm
)

// LayoutPrefix introduces an OCI image layout directory reference.
const LayoutPrefix = "oci-layout:"

// Reference is a parsed artifact reference. Which fields are set depends
// on Kind.
type Reference struct {
	Kind RefKind
	// Registry is the registry reference (RefRegistry). Its Reference field
	// is the tag or the digest; a digest wins when both were written.
	Registry registry.Reference
	// Path is the layout directory (RefLayout) or the file (RefFile).
	Path string
	// Tag is the layout tag (RefLayout); empty when pinned by digest.
	Tag string
	// Digest is the pinned digest (RefRegistry, RefLayout), if any.
	Digest digest.Digest
	// URL is the https URL (RefHTTPS).
	URL *url.URL
}

// ParseReference parses s. Explicit prefixes decide first: "oci://",
// "oci-layout:", "file://", "https://". Without one, s is a registry
// reference when its first path component looks like a host (it contains
// a dot or a colon, or is "localhost") and it does not start like a path
// ("/", "./", "../", "~"), and a file path otherwise. Plain
// "http://" is refused: fetch over https or pin a digest in a registry.
func ParseReference(s string) (Reference, error) {
	bad := func(format string, a ...any) (Reference, error) {
		return Reference{}, fmt.Errorf("%w %q: %s", ErrInvalidReference, s, fmt.Sprintf(format, a...))
	}
	switch {
	case s == "":
		return bad("empty")
	case strings.HasPrefix(s, "oci://"):
		return parseRegistry(strings.TrimPrefix(s, "oci://"), s)
	case strings.HasPrefix(s, LayoutPrefix):
		return parseLayout(strings.TrimPrefix(s, LayoutPrefix), s)
	case strings.HasPrefix(s, "file://"):
		p := strings.TrimPrefix(s, "file://")
		if p == "" {
			return bad("no path after file://")
		}
		return Reference{Kind: RefFile, Path: filepath.Clean(p)}, nil
	case strings.HasPrefix(s, "https://"):
		u, err := url.Parse(s)
		if err != nil || u.Host == "" {
			return bad("not a valid https URL")
		}
		return Reference{Kind: RefHTTPS, URL: u}, nil
	case strings.HasPrefix(s, "http://"):
		return bad("plain http URLs are not fetched; use https:// with --digest")
	}
	if first, _, ok := strings.Cut(s, "/"); ok && looksLikeHost(first) && !isPathLike(s) {
		return parseRegistry(s, s)
	}
	return Reference{Kind: RefFile, Path: filepath.Clean(s)}, nil
}

// isPathLike reports strings that are paths however their first component
// looks: absolute, or relative to . or .., or home.
func isPathLike(s string) bool {
	return filepath.IsAbs(s) || strings.HasPrefix(s, "./") || strings.HasPrefix(s, "../") || strings.HasPrefix(s, "~")
}

func looksLikeHost(s string) bool {
	return s == "localhost" || strings.ContainsAny(s, ".:")
}

func parseRegistry(s, raw string) (Reference, error) {
	r, err := registry.ParseReference(s)
	if err != nil {
		return Reference{}, fmt.Errorf("%w %q: %w", ErrInvalidReference, raw, err)
	}
	ref := Reference{Kind: RefRegistry, Registry: r}
	if d, err := r.Digest(); err == nil {
		ref.Digest = d
	}
	return ref, nil
}

func parseLayout(s, raw string) (Reference, error) {
	ref := Reference{Kind: RefLayout, Path: s}
	if at := strings.LastIndex(s, "@"); at >= 0 && strings.Contains(s[at:], ":") {
		d, err := digest.Parse(s[at+1:])
		if err != nil {
			return Reference{}, fmt.Errorf("%w %q: %w", ErrInvalidReference, raw, err)
		}
		ref.Path, ref.Digest = s[:at], d
	} else if colon := strings.LastIndex(s, ":"); colon > strings.LastIndex(s, "/") && ValidTag(s[colon+1:]) {
		ref.Path, ref.Tag = s[:colon], s[colon+1:]
	}
	if ref.Path == "" {
		return Reference{}, fmt.Errorf("%w %q: no layout directory", ErrInvalidReference, raw)
	}
	ref.Path = filepath.Clean(ref.Path)
	return ref, nil
}

// Object is the tag or digest to look up inside the repository or layout;
// empty when neither was given.
func (r Reference) Object() string {
	switch {
	case r.Digest != "":
		return r.Digest.String()
	case r.Kind == RefRegistry:
		return r.Registry.Reference
	default:
		return r.Tag
	}
}

// WithDigest returns r pinned to d, for reporting what a tag resolved to.
func (r Reference) WithDigest(d digest.Digest) Reference {
	r.Digest = d
	r.Tag = ""
	if r.Kind == RefRegistry {
		r.Registry.Reference = d.String()
	}
	return r
}

// String formats r in the syntax ParseReference reads.
func (r Reference) String() string {
	switch r.Kind {
	case RefRegistry:
		// A bare reference whose registry does not look like a host
		// ("0/00") would read back as a file path: keep the scheme then.
		if !looksLikeHost(r.Registry.Registry) {
			return "oci://" + r.Registry.String()
		}
		return r.Registry.String()
	case RefLayout:
		switch {
		case r.Digest != "":
			return LayoutPrefix + r.Path + "@" + r.Digest.String()
		case r.Tag != "":
			return LayoutPrefix + r.Path + ":" + r.Tag
		}
		// A path that ends like a tag (":0") reads back as path + tag;
		// a trailing slash keeps it a path.
		if colon := strings.LastIndex(r.Path, ":"); colon > strings.LastIndex(r.Path, "/") && ValidTag(r.Path[colon+1:]) {
			return LayoutPrefix + r.Path + "/"
		}
		return LayoutPrefix + r.Path
	case RefFile:
		return "file://" + r.Path
	case RefHTTPS:
		return r.URL.Redacted()
	}
	return ""
}
