package loader

import (
	"fmt"
	"strings"
)

// ParseMount reads a directory grant as the CLI and components files
// write it: PATH (the same directory on the host), PATH=HOSTDIR, each
// with an optional :rw or :ro suffix; read-only unless :rw. The Mount is
// checked when a Host using it is (Effective, Load).
func ParseMount(spec string) (Mount, error) {
	var m Mount
	s := spec
	if rest, ok := strings.CutSuffix(s, ":rw"); ok {
		s, m.Write = rest, true
	} else if rest, ok := strings.CutSuffix(s, ":ro"); ok {
		s = rest
	}
	m.Path, m.Dir, _ = strings.Cut(s, "=")
	if m.Path == "" {
		return m, fmt.Errorf("%w: directory grant %q: want PATH, PATH:rw or PATH=HOSTDIR[:rw]", ErrHost, spec)
	}
	return m, nil
}
