package main

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/wasmgate/wasmgate/artifact"
	"github.com/wasmgate/wasmgate/cache"
	"github.com/wasmgate/wasmgate/loader"
	"github.com/wasmgate/wasmgate/permissions"
)

// run's own exit codes, apart from the module's (passed through) and 2
// (usage): those of `timeout DURATION docker run --memory SIZE`, high
// codes that a module rarely uses. A module that exits with one of them
// itself cannot be told apart; runExitCodes documents them for --help.
const (
	exitRunTimeLimit   = 124 // the sandbox's time limit stopped the module, as timeout(1)
	exitRunFailed      = 125 // could not decide, or wasmgate itself failed
	exitRunRefused     = 126 // not verified, or the sandbox cannot be granted
	exitRunMemoryLimit = 137 // the module needs more memory than the sandbox's limit, as an OOM-killed container
)

// runExitCodes is the table of run --help, docs/hosts.md and the README.
const runExitCodes = `Exit codes:
  the module's  the module ran to its end (0 included)
  2             usage
  124           the sandbox's time limit stopped the module (as timeout(1))
  125           wasmgate could not decide (registry, network) or itself failed
  126           refused: not verified, or a policy beyond the host's ceiling (the message names the flag that grants it)
  137           the module needs more memory than the sandbox's limit (as an out-of-memory container)`

// hostFlags are the host ceiling: what the host is willing to grant.
func hostFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringSliceFlag{Name: "allow-dir", Usage: "grant a directory a policy may ask for: PATH, PATH:rw, or PATH=HOSTDIR[:rw] (repeatable; read-only unless :rw)"},
		&cli.StringSliceFlag{Name: "allow-env", Usage: "grant an environment variable a policy may ask for; its value comes from this environment (repeatable)"},
		&cli.StringFlag{Name: "max-memory", Usage: "most linear memory a module may use (e.g. 64Mi; default 256Mi); a policy that asks for more is refused, unless --clamp-limits"},
		&cli.DurationFlag{Name: "max-time", Usage: "longest a module may run (default 1m); a policy that asks for longer is refused, unless --clamp-limits"},
		&cli.BoolFlag{Name: "clamp-limits", Usage: "run a policy that asks for more memory or time than --max-memory/--max-time under those limits instead of refusing it (printed)"},
		&cli.BoolFlag{Name: "allow-no-network", Usage: "run a module whose policy asks for network without it (WASI preview 1 has no sockets)"},
		&cli.StringFlag{Name: "host-policy", Usage: "the host ceiling as a YAML file, as apply's grants: dirs [PATH=HOSTDIR[:rw]], env {KEY: value or null}, maxMemory, maxTime, allowNoNetwork, clampLimits"},
	}
}

func runCommand() *cli.Command {
	return &cli.Command{
		Name:      "run",
		Usage:     "verify a WASI preview 1 module under a trust policy, then run it in the sandbox its signed policy asks for, within the host's ceiling",
		ArgsUsage: "REF [-- ARGS...]",
		Description: "Strict: the trust policy must pass and the artifact must carry a permission policy layer; the module " +
			"gets what its publisher's policy asks for, nothing more, and only if the host allows all of it: a policy that " +
			"asks for more than the host allows (a directory, a variable, network, more memory or time) is refused with " +
			"each difference and the flag that would grant it. With --clamp-limits a policy's memory and time limits over " +
			"--max-memory/--max-time are lowered to them instead, and the sandbox says so. What runs is the bytes that " +
			"were verified. A Spin application of several components runs one at a time: --component NAME verifies the " +
			"whole application and runs that component under the application's signed policy.\n\n" + runExitCodes,
		Flags: withCommon(append(append(registryFlags(), hostFlags()...),
			&cli.StringFlag{Name: "policy", Usage: "the trust policy (required unless --insecure-skip-verify)"},
			&cli.StringFlag{Name: "scope", Usage: "select policies by this repository name (an OCI layout copied from a registry)"},
			&cli.BoolFlag{Name: "print-permissions", Usage: "verify, print the effective sandbox and exit without running"},
			&cli.BoolFlag{Name: "insecure-skip-verify", Usage: "run without verifying signatures (digests are still checked); printed loudly"},
			&cli.StringFlag{Name: "permissions", Usage: "with --insecure-skip-verify and a local .wasm file: its permission policy"},
			&cli.BoolFlag{Name: "no-compile-cache", Usage: "compile the module every time"},
			&cli.StringFlag{Name: "component", Usage: "the component of a Spin application to run alone (a core module): the whole application is verified, the component runs under the application's signed permission policy (a policy referrer: wasmgate attach --policy, then sign it)"},
		)...),
		Before: before,
		Action: runAction,
	}
}

func runAction(c *cli.Context) error {
	if c.NArg() == 0 {
		return usageError("run wants a REF")
	}
	ref, err := parseRef(c.Args().First())
	if err != nil {
		return err
	}
	host, err := hostCeiling(c)
	if err != nil {
		return err
	}
	host.Args = append([]string{moduleName(ref)}, c.Args().Tail()...)
	host.Stdin, host.Stdout, host.Stderr = os.Stdin, c.App.Writer, c.App.ErrWriter
	if !c.Bool("no-compile-cache") {
		dir, err := cache.DefaultDir()
		if err != nil {
			return err
		}
		host.CacheDir = filepath.Join(dir, "compiled")
	}
	var m *loader.Module
	if c.Bool("insecure-skip-verify") {
		if c.IsSet("policy") {
			return usageError("--insecure-skip-verify and --policy contradict each other")
		}
		fmt.Fprintln(c.App.ErrWriter, "wasmgate: WARNING: --insecure-skip-verify: running a module whose signatures were NOT verified; only its digests were checked")
		if m, err = loadUnverified(c, ref, host); err != nil {
			return runFailure(err, host, nil)
		}
	} else {
		if c.String("policy") == "" {
			return usageError("run verifies first: --policy FILE (the trust policy), or --insecure-skip-verify")
		}
		a, _, err := fetchVerified(c, ref, exitRunRefused, exitRunFailed)
		if err != nil {
			return err
		}
		if m, err = loader.Load(c.Context, a, host); err != nil {
			return runFailure(err, host, nil)
		}
	}
	// The module runs for as long as --max-time allows, not --deadline,
	// which bounds reaching the registry and verifying.
	defer m.Close(unbounded(c))
	sb := m.Sandbox()
	if c.Bool("print-permissions") {
		if jsonOutput(c) {
			return printJSON(c, map[string]any{"reference": m.Reference(), "digest": m.Digest(), "unsafe": m.Unsafe(), "clampLimits": host.ClampLimits, "sandbox": sb})
		}
		fmt.Fprintf(c.App.Writer, "%s\n%s\n", m.Reference(), sb)
		return nil
	}
	for _, cl := range sb.Clamped {
		fmt.Fprintf(c.App.ErrWriter, "wasmgate: clamped to the host's ceiling: %s %s, less than the %s its policy asks for\n", cl.Limit, cl.Granted, cl.Asked)
	}
	code, err := m.Run(unbounded(c))
	if err != nil {
		return runFailure(err, host, sb)
	}
	if code != 0 {
		return cli.Exit("", int(code))
	}
	return nil
}

// runFailure maps the loader's errors to run's exit codes (runExitCodes)
// and says what to change. sb is the sandbox the module ran in; nil when
// it failed to load.
func runFailure(err error, host loader.Host, sb *loader.Sandbox) error {
	var ce *loader.CeilingError
	switch {
	case errors.Is(err, errUsage):
		return err
	case errors.Is(err, loader.ErrTimeLimit):
		return cli.Exit(err.Error()+"\n"+limitHint("timeout", host, sb), exitRunTimeLimit)
	case errors.Is(err, loader.ErrMemoryLimit):
		msg := err.Error()
		if le := (*loader.LimitError)(nil); errors.As(err, &le) && le.ExitCode != 0 {
			msg += fmt.Sprintf(" (the module exited with code %d after the sandbox refused it more memory)", le.ExitCode)
		}
		return cli.Exit(msg+"\n"+limitHint("memory", host, sb), exitRunMemoryLimit)
	case errors.As(err, &ce):
		return cli.Exit(err.Error()+ceilingHint(ce), exitRunRefused)
	case errors.Is(err, loader.ErrMultipleComponents):
		return cli.Exit(err.Error()+"\nwasmgate: wasmgate runs one core module: run one component alone with --component NAME", exitRunRefused)
	case errors.Is(err, loader.ErrNoSuchComponent):
		return usageError("%v", err)
	case errors.Is(err, loader.ErrComponent):
		return cli.Exit(err.Error()+"\nwasmgate: a component needs a component runtime: wasmgate pull --verified --policy FILE -o DIR REF writes the verified wasm and policy for one", exitRunRefused)
	case errors.Is(err, loader.ErrExceedsCeiling), errors.Is(err, loader.ErrNetwork), errors.Is(err, loader.ErrUnsupported),
		errors.Is(err, loader.ErrNoPolicy), errors.Is(err, loader.ErrNotVerified), errors.Is(err, loader.ErrInvalidModule):
		return cli.Exit(err.Error(), exitRunRefused)
	case errors.Is(err, loader.ErrHost):
		return usageError("%v", err)
	}
	// Not found, authentication and configuration keep their codes from
	// the table; 125 is for what may pass on retry, or wasmgate's own failure.
	return cli.Exit(err.Error(), registryExit(err, exitRunFailed))
}

// ceilingHint names, for each difference the host could grant, the flag
// and the key of a --host-policy file (apply's grants) that grant it.
func ceilingHint(ce *loader.CeilingError) string {
	grants := ce.Grants()
	if len(grants) == 0 {
		return "\nwasmgate: no host setting grants this; the publisher's policy has to change"
	}
	var b strings.Builder
	b.WriteString("\nwasmgate: to grant it, pass (or set in a --host-policy file, or in apply's grants):")
	limits := false
	for _, g := range grants {
		var flag, key string
		switch g.Kind {
		case loader.GrantDir:
			spec := mountSpec(g.Mount)
			flag, key = "--allow-dir "+spec, fmt.Sprintf("dirs: [%q]", spec)
			if g.Mount.Dir != "" {
				key += " (in place of the read-only grant)"
			}
		case loader.GrantEnv:
			flag, key = "--allow-env "+g.Env, fmt.Sprintf("env: {%s: null}", g.Env)
		case loader.GrantMemory:
			q := quantity(g.MemoryBytes)
			flag, key, limits = "--max-memory "+q, "maxMemory: "+q, true
		case loader.GrantTime:
			flag, key, limits = "--max-time "+g.Time.String(), "maxTime: "+g.Time.String(), true
		case loader.GrantNoNetwork:
			flag, key = "--allow-no-network", "allowNoNetwork: true (the module runs without network)"
		default:
			continue
		}
		fmt.Fprintf(&b, "\n  %-34s %s", flag, key)
	}
	if limits {
		b.WriteString("\n  or --clamp-limits (clampLimits: true) to run it under the host's memory and time limits, with less than its policy asks for")
	}
	if len(ce.Unsupported) > 0 || slices.ContainsFunc(ce.Missing, func(d loader.Difference) bool { return d.Grant.Kind == loader.GrantNone }) {
		b.WriteString("\nwasmgate: what no host setting grants needs a different policy from its publisher")
	}
	return b.String()
}

// mountSpec writes a Grant's mount as --allow-dir reads it; HOSTDIR
// stands for the host directory the user has to choose.
func mountSpec(m loader.Mount) string {
	s := m.Path
	switch m.Dir {
	case "":
		s += "=HOSTDIR"
	case filepath.FromSlash(m.Path):
	default:
		s += "=" + m.Dir
	}
	if m.Write {
		s += ":rw"
	}
	return s
}

// quantity writes bytes as --max-memory reads them: 64Mi, 1Gi, or bytes.
func quantity(n uint64) string {
	for _, u := range []struct {
		suffix string
		shift  uint
	}{{"Gi", 30}, {"Mi", 20}, {"Ki", 10}} {
		if n >= 1<<u.shift && n%(1<<u.shift) == 0 {
			return fmt.Sprintf("%d%s", n>>u.shift, u.suffix)
		}
	}
	return fmt.Sprint(n)
}

// limitHint says who set the limit that stopped the module, and what would
// raise it. limit is "timeout" or "memory".
func limitHint(limit string, host loader.Host, sb *loader.Sandbox) string {
	flag, key, policyKey := "--max-time", "maxTime", "resources.limits.timeout"
	if limit == "memory" {
		flag, key, policyKey = "--max-memory", "maxMemory", "resources.limits.memory"
	}
	if sb == nil {
		return fmt.Sprintf("wasmgate: the sandbox's %s limit is its policy's %s, or the host's %s (%s in a --host-policy file) when the policy sets none", limit, policyKey, flag, key)
	}
	for _, cl := range sb.Clamped {
		if cl.Limit == limit {
			return fmt.Sprintf("wasmgate: its policy asks for %s; --clamp-limits ran it under the host's %s: give it what it asks with %s (%s in a --host-policy file)", cl.Asked, cl.Granted, flag, key)
		}
	}
	bySandbox := sb.Timeout < hostMaxTime(host)
	if limit == "memory" {
		bySandbox = sb.MemoryBytes < hostMaxMemory(host)/loader.PageSize*loader.PageSize
	}
	if bySandbox {
		return fmt.Sprintf("wasmgate: the limit is the one its publisher's policy sets (%s); a host does not raise it", policyKey)
	}
	return fmt.Sprintf("wasmgate: the limit is the host's: allow more with %s (%s in a --host-policy file)", flag, key)
}

// hostMaxTime and hostMaxMemory are the ceilings a Host means, with the
// loader's defaults for zero.
func hostMaxTime(h loader.Host) time.Duration {
	switch {
	case h.MaxTime == 0:
		return loader.DefaultMaxTime
	case h.MaxTime < 0:
		return math.MaxInt64
	}
	return h.MaxTime
}

func hostMaxMemory(h loader.Host) uint64 {
	if h.MaxMemory == 0 {
		return loader.DefaultMaxMemory
	}
	return min(h.MaxMemory, loader.MaxMemoryLimit)
}

// loadUnverified reads a local file or fetches the artifact with its
// digests checked and no signature (loader.ReadFilesUnsafe,
// loader.FetchUnsafe), and loads it through LoadUnsafe.
func loadUnverified(c *cli.Context, ref artifact.Reference, host loader.Host) (*loader.Module, error) {
	if ref.Kind == artifact.RefFile {
		if c.IsSet("component") {
			return nil, usageError("--component picks a component of a Spin application in a registry or layout, not of a local file")
		}
		wasm, perms, err := loader.ReadFilesUnsafe(ref.Path, c.String("permissions"))
		if err != nil {
			return nil, usageError("%v", err)
		}
		return loader.LoadUnsafe(c.Context, wasm, perms, host)
	}
	if c.IsSet("permissions") {
		return nil, usageError("--permissions is for a local .wasm file; an artifact carries its own policy layer")
	}
	_, src, object, err := source(c, ref)
	if err != nil {
		return nil, err
	}
	wasm, perms, err := loader.FetchUnsafeComponent(c.Context, src, object, c.String("component"))
	if err != nil {
		return nil, wrapRegistry("run", ref, err)
	}
	return loader.LoadUnsafe(c.Context, wasm, perms, host)
}

// hostCeiling builds the Host from --host-policy and the flags (the flags
// add to the file).
func hostCeiling(c *cli.Context) (loader.Host, error) {
	var h loader.Host
	if p := c.String("host-policy"); p != "" {
		var err error
		if h, err = loader.LoadGrants(p); err != nil {
			return h, usageError("--host-policy: %v", err)
		}
	}
	for _, spec := range c.StringSlice("allow-dir") {
		m, err := parseMount(spec)
		if err != nil {
			return h, err
		}
		h.Mounts = append(h.Mounts, m)
	}
	h.EnvKeys = append(h.EnvKeys, c.StringSlice("allow-env")...)
	if s := c.String("max-memory"); s != "" {
		n, err := permissions.ParseBytes(s)
		if err != nil {
			return h, usageError("--max-memory: %v", err)
		}
		h.MaxMemory = n
	}
	if c.IsSet("max-time") {
		h.MaxTime = c.Duration("max-time")
	}
	h.AllowNoNetwork = h.AllowNoNetwork || c.Bool("allow-no-network")
	h.ClampLimits = h.ClampLimits || c.Bool("clamp-limits")
	return h, nil
}

// parseMount reads --allow-dir; a host directory is made absolute.
func parseMount(spec string) (loader.Mount, error) {
	m, err := loader.ParseMount(spec)
	if err != nil {
		return m, usageError("--allow-dir: %v", err)
	}
	if m.Dir != "" {
		if m.Dir, err = filepath.Abs(m.Dir); err != nil {
			return m, usageError("--allow-dir %q: %v", spec, err)
		}
	}
	return m, nil
}

// moduleName is argv[0] for the module: its repository's last element.
func moduleName(ref artifact.Reference) string {
	switch ref.Kind {
	case artifact.RefFile:
		return filepath.Base(ref.Path)
	case artifact.RefRegistry:
		r := ref.Registry.Repository
		return r[strings.LastIndex(r, "/")+1:]
	}
	return filepath.Base(ref.Path)
}
