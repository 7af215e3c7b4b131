package loader

import (
	"fmt"
	"strings"
	"time"
	"unicode"
)

// The wasmtime CLI options used here, as `wasmtime run --help` and
// https://docs.wasmtime.dev/cli-options.html describe them (wasmtime 20
// and later, whose `run` takes components):
//
//   - --dir HOST_DIR::GUEST_DIR preopens a host directory under a guest
//     name. wasmtime opens it with every permission (DirPerms::all,
//     FilePerms::all in src/common.rs): there is no read-only form.
//   - --env NAME passes the variable with its value in wasmtime's own
//     environment, and leaves it unset when wasmtime has none.
//   - -S inherit-network=y gives the guest the host's whole network;
//     wasmtime has no per-host or per-address rule. -S
//     allow-ip-name-lookup=y adds name resolution, -S http=y links
//     wasi:http (outgoing requests go out through the host too).
//   - -W max-memory-size=BYTES bounds each linear memory; -W timeout=Nms
//     bounds the run time.

// WasmtimeFlags returns the `wasmtime run` arguments that grant c, one
// element per argument ("--dir", "/srv/data::/data", ...), in the order
// directories, variables, network, limits. They grant nothing c does not:
// what wasmtime cannot grant exactly ([Capabilities.WasmtimeNotes]) is
// left out rather than widened. No capabilities: no arguments.
func (c *Capabilities) WasmtimeFlags() []string {
	var args []string
	for _, f := range c.wasmtime() {
		args = append(args, f.name, f.value)
	}
	return args
}

// WasmtimeNotes lists what wasmtime cannot grant as c says: read-only and
// write-only directories (wasmtime's --dir grants read and write), deny
// rules inside a directory, storage patterns that are not a whole
// directory, network rules narrower than "everything", a CPU limit. Each
// says what was done instead.
func (c *Capabilities) WasmtimeNotes() []string {
	var notes []string
	for _, m := range c.Mounts {
		if _, why := c.exactMount(m); why != "" {
			notes = append(notes, why)
		}
	}
	for _, r := range c.Storage {
		if d, ok := wholeDir(r.Path()); !ok || d == "/" {
			notes = append(notes, fmt.Sprintf("storage %s is not a whole directory (fs:///DIR or fs:///DIR/**): wasmtime can only preopen directories, so it is not granted here", r.URI))
		}
	}
	if len(c.Network) > 0 {
		var rules []string
		for _, r := range c.Network {
			rules = append(rules, networkRule(r))
		}
		notes = append(notes, "network: the policy allows "+strings.Join(rules, ", ")+"; wasmtime cannot restrict a guest to hosts or addresses, so -S inherit-network=y grants the whole network")
	}
	if len(c.NetworkDeny) > 0 {
		notes = append(notes, "network deny rules are not enforced by wasmtime")
	}
	if c.CPUMillis > 0 {
		notes = append(notes, fmt.Sprintf("cpu %dm: wasmtime run has no CPU quota", c.CPUMillis))
	}
	return notes
}

// WasmtimeFile is [Capabilities.WasmtimeFlags] as a file: comment lines
// (starting with #) with WasmtimeNotes, then one flag per line with its
// value quoted for a POSIX shell and for xargs:
//
//	grep -v '^#' capabilities.wasmtime.txt | xargs sh -c 'exec wasmtime run "$@" app.wasm' wasmtime
//
// (GNU xargs runs the command once when there are no flags.)
func (c *Capabilities) WasmtimeFile() []byte {
	var b strings.Builder
	b.WriteString("# wasmtime run flags for the effective capabilities: the signed policy within the host's ceiling (wasmgate pull --verified).\n")
	b.WriteString("# Use: grep -v '^#' capabilities.wasmtime.txt | xargs sh -c 'exec wasmtime run \"$@\" app.wasm' wasmtime\n")
	for _, n := range c.WasmtimeNotes() {
		b.WriteString("# " + oneLine(n) + "\n")
	}
	for _, d := range c.Dropped {
		b.WriteString("# not granted by the host's ceiling: " + oneLine(d) + "\n")
	}
	for _, f := range c.wasmtime() {
		b.WriteString(f.name + " " + shellQuote(f.value) + "\n")
	}
	return []byte(b.String())
}

type flag struct{ name, value string }

func (c *Capabilities) wasmtime() []flag {
	var flags []flag
	for _, m := range c.Mounts {
		if ok, _ := c.exactMount(m); ok {
			flags = append(flags, flag{"--dir", m.Dir + "::" + m.Path})
		}
	}
	for _, k := range c.Env {
		flags = append(flags, flag{"--env", k})
	}
	if len(c.Network) > 0 {
		flags = append(flags, flag{"-S", "inherit-network=y"}, flag{"-S", "allow-ip-name-lookup=y"}, flag{"-S", "http=y"})
	}
	if c.MemoryBytes > 0 {
		flags = append(flags, flag{"-W", fmt.Sprintf("max-memory-size=%d", c.MemoryBytes)})
	}
	if c.Timeout > 0 {
		// Whole milliseconds, rounded up: a sub-millisecond limit must not
		// become 0, and humantime reads no Go fractions ("1.5s").
		ms := (c.Timeout + time.Millisecond - 1) / time.Millisecond
		flags = append(flags, flag{"-W", fmt.Sprintf("timeout=%dms", ms)})
	}
	return flags
}

// exactMount reports whether --dir grants m exactly, and otherwise why
// not and what was done.
func (c *Capabilities) exactMount(m Mount) (bool, string) {
	flag := "--dir " + shellQuote(m.Dir+"::"+m.Path)
	switch {
	case strings.Contains(m.Dir, "::") || strings.Contains(m.Path, "::") || hasControl(m.Dir) || hasControl(m.Path):
		return false, fmt.Sprintf("storage %s (host %s): the path cannot be written as a wasmtime --dir; not granted", m.Path, m.Dir)
	case c.writeOnly[m.Path]:
		return false, fmt.Sprintf("storage %s is write-only in the policy, and wasmtime's --dir grants read and write; not granted (add %s only if the guest may read it)", m.Path, flag)
	case !m.Write:
		return false, fmt.Sprintf("storage %s is read-only in the policy, and wasmtime's --dir grants read and write; not granted (add %s only when the host directory is read-only to wasmtime, e.g. a read-only bind mount)", m.Path, flag)
	}
	for _, d := range c.StorageDeny {
		lit := literalPrefix(d.Path())
		if within(lit, m.Path) || within(m.Path, lit) {
			return false, fmt.Sprintf("storage %s: the policy denies %s inside it, which wasmtime cannot enforce; not granted (add %s to grant the whole directory)", m.Path, d.URI, flag)
		}
	}
	return true, ""
}

func hasControl(s string) bool { return strings.ContainsFunc(s, unicode.IsControl) }

// oneLine keeps a note inside its comment line.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
}

// shellQuote quotes s for a POSIX shell and for xargs, leaving it bare
// when nothing in it is special.
func shellQuote(s string) string {
	if s != "" && !strings.ContainsFunc(s, func(r rune) bool {
		return !(r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune("-_./:=@%+,", r)))
	}) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
