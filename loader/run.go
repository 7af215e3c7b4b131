package loader

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/experimental"
	experimentalsys "github.com/tetratelabs/wazero/experimental/sys"
	"github.com/tetratelabs/wazero/experimental/sysfs"
	"github.com/tetratelabs/wazero/sys"
)

// errSandboxTimeout is the cause of the context that carries the sandbox's
// timeout, so that Run tells it from the caller's own deadline.
var errSandboxTimeout = errors.New("sandbox timeout")

// Run instantiates the module in a fresh instance under its sandbox and
// runs its _start function. It returns the module's exit code: a module
// that exits non-zero has not failed to run, so err is nil then.
//
// err is a [*LimitError] when the sandbox's timeout ([ErrTimeLimit]) or
// memory limit ([ErrMemoryLimit]) stopped the module, wraps ctx's error
// when ctx ended first, and otherwise reports a trap or a mount that could
// not be opened. Run may be called more than once; each run starts from
// the module's initial state.
//
// Beyond the policy, a module gets the real clocks and crypto/rand as its
// random source (wazero's defaults are fake and deterministic).
func (m *Module) Run(ctx context.Context) (exitCode uint32, err error) {
	if m.rt == nil {
		return 0, errors.New("loader: run: module is closed")
	}
	fsc, closeFS, err := m.fsConfig()
	if err != nil {
		return 0, err
	}
	defer closeFS()

	runCtx, cancel := ctx, context.CancelFunc(func() {})
	if t := m.sandbox.Timeout; t > 0 {
		runCtx, cancel = context.WithTimeoutCause(ctx, t, errSandboxTimeout)
	}
	defer cancel()
	mem := &memoryLimit{limit: m.sandbox.MemoryBytes}
	runCtx = experimental.WithMemoryAllocator(runCtx, mem)

	args := m.host.Args
	if len(args) == 0 {
		// Programs read argv[0] as their name; Go's os.Args[1:] panics
		// on an empty argv.
		args = []string{"module"}
	}
	cfg := wazero.NewModuleConfig().
		WithName(""). // anonymous, so that Run can be called again
		WithArgs(args...).
		WithFSConfig(fsc).
		WithSysWalltime().WithSysNanotime().
		WithNanosleep(func(ns int64) { sleep(runCtx, ns) }).
		WithRandSource(rand.Reader)
	for _, e := range m.sandbox.Env {
		if e.Set {
			cfg = cfg.WithEnv(e.Key, e.value)
		}
	}
	if m.host.Stdin != nil {
		cfg = cfg.WithStdin(m.host.Stdin)
	}
	if m.host.Stdout != nil {
		cfg = cfg.WithStdout(m.host.Stdout)
	}
	if m.host.Stderr != nil {
		cfg = cfg.WithStderr(m.host.Stderr)
	}

	mod, err := m.rt.InstantiateModule(runCtx, m.compiled, cfg)
	if mod != nil {
		_ = mod.Close(ctx) // the instance ran to completion; nothing to report
	}
	return m.outcome(runCtx, err, mem)
}

// sleep is the module's clock sleep (poll_oneoff). wazero's own sleep
// does not watch the context, so a module asleep for an hour would outlive
// a one-second timeout; this one wakes when runCtx ends, and wazero then
// stops the module at its next call.
func sleep(runCtx context.Context, ns int64) {
	t := time.NewTimer(time.Duration(ns))
	defer t.Stop()
	select {
	case <-t.C:
	case <-runCtx.Done():
	}
}

// outcome turns wazero's result into an exit code and the loader's error.
func (m *Module) outcome(runCtx context.Context, err error, mem *memoryLimit) (uint32, error) {
	if err == nil {
		return 0, nil
	}
	var exit *sys.ExitError
	if !errors.As(err, &exit) {
		if mem.refused.Load() {
			return 0, memoryLimitError(mem.limit, 0, err)
		}
		return 0, fmt.Errorf("loader: module trapped: %w", err)
	}
	code := exit.ExitCode()
	switch {
	case code == sys.ExitCodeDeadlineExceeded && errors.Is(context.Cause(runCtx), errSandboxTimeout):
		return code, timeLimitError(m.sandbox.Timeout, code, context.DeadlineExceeded)
	case code == sys.ExitCodeDeadlineExceeded || code == sys.ExitCodeContextCanceled:
		// The caller's context ended; *sys.ExitError matches its error
		// with errors.Is.
		return code, fmt.Errorf("loader: module stopped: %w", err)
	case code != 0 && mem.refused.Load():
		return code, memoryLimitError(mem.limit, code, nil)
	}
	return code, nil
}

// fsConfig opens the sandbox's mounts for one run.
//
// Read-only mounts are served through an [os.Root], which refuses any
// path, symbolic links included, that leads out of the directory.
// wazero's own directory mounts follow symbolic links wherever they point,
// so writable mounts, which need them, refuse to create links: a module
// cannot plant "x -> ../../.." and walk out. Links that the host itself
// placed in a writable directory are followed.
func (m *Module) fsConfig() (wazero.FSConfig, func(), error) {
	fsc := wazero.NewFSConfig()
	var roots []*os.Root
	closeFS := func() {
		for _, r := range roots {
			_ = r.Close() // read-only handles; nothing was written through them
		}
	}
	for _, mt := range m.sandbox.Mounts {
		if fi, err := os.Stat(mt.Dir); err != nil || !fi.IsDir() {
			closeFS()
			if err == nil {
				err = errors.New("not a directory")
			}
			return nil, nil, fmt.Errorf("loader: mount %s: host directory %s: %w", mt.Path, mt.Dir, err)
		}
		if mt.Write {
			fsc = fsc.(sysfs.FSConfig).WithSysFSMount(noSymlinks{sysfs.DirFS(mt.Dir)}, mt.Path)
			continue
		}
		root, err := os.OpenRoot(mt.Dir)
		if err != nil {
			closeFS()
			return nil, nil, fmt.Errorf("loader: mount %s: %w", mt.Path, err)
		}
		roots = append(roots, root)
		fsc = fsc.WithFSMount(root.FS(), mt.Path)
	}
	return fsc, closeFS, nil
}

// noSymlinks is a writable directory in which a module cannot create
// symbolic links.
type noSymlinks struct{ experimentalsys.FS }

func (noSymlinks) Symlink(_, _ string) experimentalsys.Errno { return experimentalsys.EPERM }
