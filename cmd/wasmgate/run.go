package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/wasmgate/wasmgate/artifact"
	"github.com/wasmgate/wasmgate/cache"
	"github.com/wasmgate/wasmgate/loader"
	"github.com/wasmgate/wasmgate/permissions"
)

// run's own exit codes, apart from the module's (passed through) and 2
// (usage): as docker run, high codes a module rarely uses.
const (
	exitRunRefused = 126 // not verified, or the sandbox cannot be granted
	exitRunFailed  = 125 // could not decide, or wasmgate itself failed
)

// hostFlags are the host ceiling: what the host is willing to grant.
func hostFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringSliceFlag{Name: "allow-dir", Usage: "grant a directory a policy may ask for: PATH, PATH:rw, or PATH=HOSTDIR[:rw] (repeatable; read-only unless :rw)"},
		&cli.StringSliceFlag{Name: "allow-env", Usage: "grant an environment variable a policy may ask for; its value comes from this environment (repeatable)"},
		&cli.StringFlag{Name: "max-memory", Usage: "most linear memory a module may use (e.g. 64Mi; default 256Mi)"},
		&cli.DurationFlag{Name: "max-time", Usage: "longest a module may run (default 1m)"},
		&cli.BoolFlag{Name: "allow-no-network", Usage: "run a module whose policy asks for network without it (WASI preview 1 has no sockets)"},
		&cli.StringFlag{Name: "host-policy", Usage: "the host ceiling as a YAML file, as apply's grants: dirs [PATH=HOSTDIR[:rw]], env {KEY: value or null}, maxMemory, maxTime, allowNoNetwork"},
	}
}

func runCommand() *cli.Command {
	return &cli.Command{
		Name:      "run",
		Usage:     "verify a WASI preview 1 module under a trust policy, then run it in a sandbox made of its signed policy ∩ the host ceiling",
		ArgsUsage: "REF [-- ARGS...]",
		Description: "Strict: the trust policy must pass and the artifact must carry a permission policy layer; the module " +
			"gets what its publisher's policy asks for and the host allows, nothing more, and a policy that asks for more " +
			"than the host allows is refused with the difference. What runs is the bytes that were verified.\n\n" +
			"Exit codes: the module's own, 2 usage, 125 could not decide or wasmgate failed, 126 refused (not verified, " +
			"or a sandbox the host does not allow).",
		Flags: withCommon(append(append(registryFlags(), hostFlags()...),
			&cli.StringFlag{Name: "policy", Usage: "the trust policy (required unless --insecure-skip-verify)"},
			&cli.StringFlag{Name: "scope", Usage: "select policies by this repository name (an OCI layout copied from a registry)"},
			&cli.BoolFlag{Name: "print-permissions", Usage: "verify, print the effective sandbox and exit without running"},
			&cli.BoolFlag{Name: "insecure-skip-verify", Usage: "run without verifying signatures (digests are still checked); printed loudly"},
			&cli.StringFlag{Name: "permissions", Usage: "with --insecure-skip-verify and a local .wasm file: its permission policy"},
			&cli.BoolFlag{Name: "no-compile-cache", Usage: "compile the module every time"},
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
			return runError(err)
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
			return runError(err)
		}
	}
	defer m.Close(c.Context)
	if c.Bool("print-permissions") {
		if jsonOutput(c) {
			return printJSON(c, map[string]any{"reference": m.Reference(), "digest": m.Digest(), "unsafe": m.Unsafe(), "sandbox": m.Sandbox()})
		}
		fmt.Fprintf(c.App.Writer, "%s\n%s\n", m.Reference(), m.Sandbox())
		return nil
	}
	code, err := m.Run(c.Context)
	if err != nil {
		return runError(err)
	}
	if code != 0 {
		return cli.Exit("", int(code))
	}
	return nil
}

// runError maps the loader's refusals to 126 and the rest to 125.
func runError(err error) error {
	switch {
	case errors.Is(err, loader.ErrComponent):
		return cli.Exit(err.Error()+"\nwasmgate: a component needs a component runtime: wasmgate pull --verified --policy FILE -o DIR REF writes the verified wasm and policy for one", exitRunRefused)
	case errors.Is(err, loader.ErrExceedsCeiling), errors.Is(err, loader.ErrNetwork), errors.Is(err, loader.ErrUnsupported),
		errors.Is(err, loader.ErrNoPolicy), errors.Is(err, loader.ErrNotVerified), errors.Is(err, loader.ErrInvalidModule):
		return cli.Exit(err.Error(), exitRunRefused)
	case errors.Is(err, loader.ErrHost):
		return usageError("%v", err)
	}
	return cli.Exit(err.Error(), exitRunFailed)
}

// loadUnverified reads a local file or fetches the artifact with its
// digests checked and no signature (loader.ReadFilesUnsafe,
// loader.FetchUnsafe), and loads it through LoadUnsafe.
func loadUnverified(c *cli.Context, ref artifact.Reference, host loader.Host) (*loader.Module, error) {
	if ref.Kind == artifact.RefFile {
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
	wasm, perms, err := loader.FetchUnsafe(c.Context, src, object)
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
