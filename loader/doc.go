// Package loader runs a verified wasm module in wazero under the
// permissions its publisher signed, never more than the host allows.
//
// The pipeline is strict: [Load] takes only a [verify.Artifact], which
// only package verify builds, and refuses one without a policy layer. The
// policy (Wassette's policy v1.0, parsed by package permissions) is
// checked against a [Host] ceiling by [Effective]; the result, a
// [Sandbox], becomes the module's WASI preview 1 configuration:
// directory mounts, environment variables, a memory limit and a timeout.
// A policy that asks for more than the host allows, or for something WASI
// preview 1 cannot express, is refused with a [*CeilingError] listing
// every difference and the [Grant] that would admit it, so that nothing
// is granted silently and nothing the publisher restricted is silently
// widened. A host may instead run a policy's memory and time limits under
// its own ceiling (Host.ClampLimits); the sandbox then lists what it
// lowered.
//
//	m, err := loader.Load(ctx, verified, loader.Host{
//		Mounts:   []loader.Mount{{Path: "/var/cache/weather", Write: true}},
//		EnvKeys:  []string{"OPENWEATHER_API_KEY"},
//		CacheDir: cacheDir,
//	})
//	if err != nil { ... }
//	defer m.Close(ctx)
//	fmt.Println(m.Sandbox())
//	code, err := m.Run(ctx)
//
// [LoadUnsafe] runs bytes that nobody verified through the same sandbox;
// its name is the warning.
//
// # What wazero and WASI preview 1 cannot do
//
//   - Components (WASI preview 2) do not run in wazero: [ErrComponent].
//     [CheckComponent] is strict mode for a verified component handed to
//     another runtime: an import that needs network, storage or
//     environment permission its policy does not grant is refused
//     ([ErrImportNotGranted]). [ComponentCapabilities] computes what a
//     component host is to grant it (its policy within the host's
//     ceiling) as wasmtime run flags and as a Wassette policy.
//   - There are no sockets, so network grants cannot be honoured:
//     [ErrNetwork], unless Host.AllowNoNetwork runs the module without.
//   - A mount is a whole directory. wasmgate cannot hide or protect part
//     of it, so deny rules inside a mount are refused ([ErrUnsupported]).
//   - wazero's writable directory mounts follow symbolic links. A module
//     cannot create links in them; links the host placed there are
//     followed. Read-only mounts go through [os.Root] and cannot be left.
//   - There is no CPU quota; a module runs on one goroutine and the
//     timeout bounds its time. The timeout stops a module in a loop or
//     asleep; one blocked reading Host.Stdin stops when the read returns.
//     Tables are not limited.
//   - Memory is capped by the allocator wasmgate gives wazero (see
//     memory.go for why not wazero's page limit). When the cap refuses a
//     memory.grow and the module then fails, Run reports ErrMemoryLimit.
package loader
