package loader

import (
	"context"
	"errors"
	"fmt"

	"github.com/opencontainers/go-digest"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"

	"github.com/wasmgate/wasmgate/artifact"
	"github.com/wasmgate/wasmgate/permissions"
	"github.com/wasmgate/wasmgate/verify"
)

// Module is a compiled WASI preview 1 module bound to its sandbox, ready
// to [Module.Run]. Close it to release the compiled code.
type Module struct {
	ref     string
	digest  digest.Digest
	unsafe  bool
	sandbox *Sandbox
	host    Host

	rt       wazero.Runtime
	cache    wazero.CompilationCache
	compiled wazero.CompiledModule
}

// Load compiles a verified artifact's module under the sandbox that its
// publisher's policy and the host's ceiling allow (see [Effective]).
//
// Load is strict: it refuses an Artifact that package verify did not build
// ([ErrNotVerified]), a component ([ErrComponent]: wazero runs WASI
// preview 1 core modules only) and an artifact without a policy layer
// ([ErrNoPolicy]). The wasm it compiles is the bytes that were verified,
// held in memory by the Artifact, never re-read.
func Load(ctx context.Context, a *verify.Artifact, host Host) (*Module, error) {
	if a == nil || a.Digest() == "" {
		return nil, fmt.Errorf("loader: %w: verify it with package verify (wasmgate verify) first", ErrNotVerified)
	}
	if a.Kind() == artifact.KindComponent {
		if id := a.Component(); id != "" {
			// One component of a Spin application (verify.Verifier.FetchComponent).
			return nil, componentError(a.Reference() + " component " + id)
		}
		return nil, componentError(a.Reference())
	}
	if a.Permissions() == nil {
		return nil, fmt.Errorf("loader: %s: %w; strict mode runs a module only under permissions its publisher signed", a.Reference(), ErrNoPolicy)
	}
	sb, err := Effective(a.Permissions(), host)
	if err != nil {
		return nil, err
	}
	m, err := compile(ctx, a.Wasm(), sb, host)
	if err != nil {
		return nil, err
	}
	m.ref, m.digest = a.Reference(), a.Digest()
	return m, nil
}

// LoadUnsafe compiles wasm bytes that nobody verified, under the same
// sandbox as [Load]: perms (nil asks for nothing) within the host's ceiling.
// The bytes and the policy are whatever the caller says they are; a CLI
// that uses this must say so loudly. [Module.Unsafe] reports it.
func LoadUnsafe(ctx context.Context, wasm []byte, perms *permissions.Policy, host Host) (*Module, error) {
	kind, err := artifact.DetectKind(wasm)
	if err != nil {
		return nil, fmt.Errorf("loader: %w: %w", ErrInvalidModule, err)
	}
	if kind == artifact.KindComponent {
		return nil, componentError("")
	}
	sb, err := Effective(perms, host)
	if err != nil {
		return nil, err
	}
	m, err := compile(ctx, wasm, sb, host)
	if err != nil {
		return nil, err
	}
	m.unsafe = true
	return m, nil
}

func componentError(ref string) error {
	if ref == "" {
		ref = "module"
	}
	return fmt.Errorf("loader: %s: %w; run `wasmgate pull --verified -o DIR` and give the verified component to a component runtime such as wasmtime", ref, ErrComponent)
}

func compile(ctx context.Context, wasm []byte, sb *Sandbox, host Host) (_ *Module, err error) {
	pages, err := declaredMemoryPages(wasm)
	if err != nil {
		return nil, fmt.Errorf("loader: %w: %w", ErrInvalidModule, err)
	}
	if pages*PageSize > sb.MemoryBytes {
		return nil, memoryLimitError(sb.MemoryBytes, 0, fmt.Errorf("the module declares %s of initial memory", formatBytes(pages*PageSize)))
	}

	m := &Module{sandbox: sb, host: host}
	defer func() {
		if err != nil {
			m.Close(ctx)
		}
	}()
	// WithCloseOnContextDone makes the timeout stop a module in a loop
	// that never calls the host. The memory limit is not set here; see
	// memory.go.
	cfg := wazero.NewRuntimeConfig().WithCloseOnContextDone(true)
	if host.CacheDir != "" {
		if m.cache, err = wazero.NewCompilationCacheWithDir(host.CacheDir); err != nil {
			return nil, fmt.Errorf("loader: compilation cache %s: %w", host.CacheDir, err)
		}
		cfg = cfg.WithCompilationCache(m.cache)
	}
	m.rt = wazero.NewRuntimeWithConfig(ctx, cfg)
	if _, err = wasi_snapshot_preview1.Instantiate(ctx, m.rt); err != nil {
		return nil, fmt.Errorf("loader: instantiate WASI preview 1: %w", err)
	}
	if m.compiled, err = m.rt.CompileModule(ctx, wasm); err != nil {
		return nil, fmt.Errorf("loader: %w: %w", ErrInvalidModule, err)
	}
	return m, nil
}

// Sandbox is what the module is granted, for the user to see.
func (m *Module) Sandbox() *Sandbox { return m.sandbox }

// Digest is the verified manifest digest; empty after [LoadUnsafe].
func (m *Module) Digest() digest.Digest { return m.digest }

// Reference is the verified artifact's pinned reference; empty after
// [LoadUnsafe].
func (m *Module) Reference() string { return m.ref }

// Unsafe reports that the module came from [LoadUnsafe]: its bytes and
// policy were not verified.
func (m *Module) Unsafe() bool { return m.unsafe }

// Close releases the compiled code and the runtime. It is safe to call
// more than once, but not while Run is running.
func (m *Module) Close(ctx context.Context) error {
	var errs []error
	if m.rt != nil {
		errs = append(errs, m.rt.Close(ctx))
		m.rt = nil
	}
	if m.cache != nil {
		errs = append(errs, m.cache.Close(ctx))
		m.cache = nil
	}
	return errors.Join(errs...)
}
