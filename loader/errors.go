package loader

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Sentinel errors. Callers branch on them with [errors.Is]; the typed
// errors below wrap them and say what exactly was refused.
var (
	// ErrNotVerified: Load was given an Artifact that package verify did
	// not build, such as the zero value. Verify it first, or use
	// [LoadUnsafe] and say so to the user.
	ErrNotVerified = errors.New("artifact is not verified")

	// ErrNoPolicy: the artifact carries no policy layer. In strict mode a
	// module runs only under permissions its publisher signed.
	ErrNoPolicy = errors.New("artifact has no policy layer")

	// ErrMultipleComponents: a Spin application of several components,
	// and no component was named ([FetchUnsafeComponent]).
	ErrMultipleComponents = errors.New("a Spin application of several components: name the one to run")

	// ErrNoSuchComponent: the component named is not one of the
	// application's, or the artifact is not a Spin application.
	ErrNoSuchComponent = errors.New("no such component")

	// ErrComponent: the wasm is a component (WASI preview 2), which wazero
	// cannot run.
	ErrComponent = errors.New("wasm component (WASI preview 2) cannot run in wazero")

	// ErrImportNotGranted: a verified component imports a WASI interface
	// that needs a permission (network, storage, environment) its policy
	// does not grant. [*ImportError] names each import.
	ErrImportNotGranted = errors.New("component imports a capability its policy does not grant")

	// ErrExceedsCeiling: the policy asks for more than the Host allows.
	// [*CeilingError] lists the difference.
	ErrExceedsCeiling = errors.New("policy asks for more than the host allows")

	// ErrNetwork: the policy grants network access, which WASI preview 1
	// has no way to provide. Set [Host.AllowNoNetwork] to run without it.
	ErrNetwork = errors.New("policy asks for network access, which WASI preview 1 cannot grant")

	// ErrUnsupported: the policy asks for something a WASI preview 1
	// sandbox cannot express exactly, such as a storage pattern that is not
	// a whole directory or a deny rule inside a mounted directory.
	// Granting more than the publisher signed is not an option.
	ErrUnsupported = errors.New("policy cannot be enforced by a WASI preview 1 sandbox")

	// ErrHost: the Host itself is invalid, such as a relative mount path or
	// two mounts that nest.
	ErrHost = errors.New("invalid host configuration")

	// ErrInvalidModule: the bytes are not a core module that wazero can
	// compile. The wazero error, when there is one, is wrapped too.
	ErrInvalidModule = errors.New("invalid wasm module")

	// ErrMemoryLimit: the module declares or grows memory beyond the
	// sandbox's limit. See [LimitError] for what is and is not detected.
	ErrMemoryLimit = errors.New("memory limit exceeded")

	// ErrTimeLimit: the module ran longer than the sandbox's timeout.
	// [*LimitError] for it also matches [context.DeadlineExceeded].
	ErrTimeLimit = errors.New("time limit exceeded")
)

// CeilingError lists everything a policy asks for that this host does not
// grant, all at once, so that a user can fix the host (or ask the
// publisher) in one pass. Each [Difference] names the policy entry, the
// reason and, when a host setting would admit it, that setting ([Grant]).
type CeilingError struct {
	// Missing are requests beyond the [Host] ceiling (ErrExceedsCeiling).
	Missing []Difference
	// Network are the network rules, when the host did not set
	// AllowNoNetwork (ErrNetwork).
	Network []Difference
	// Unsupported are requests that WASI preview 1 cannot express exactly
	// (ErrUnsupported). No host setting grants them.
	Unsupported []Difference
}

// Difference is one request of a policy that the host does not grant.
type Difference struct {
	// Request names the policy entry, such as "storage fs:///data/** write"
	// or "environment GREETING".
	Request string
	// Reason says why it is not granted, such as "host allows /data read
	// only"; empty for network rules, whose reason is their section's.
	Reason string
	// Grant is the host setting that would admit the request; its Kind is
	// [GrantNone] when none would (the root directory, what WASI preview 1
	// cannot express).
	Grant Grant
}

// String is the line [CeilingError.Error] prints: "Request: Reason".
func (d Difference) String() string {
	if d.Reason == "" {
		return d.Request
	}
	return d.Request + ": " + d.Reason
}

// GrantKind names the [Host] setting that a [Grant] is about.
type GrantKind string

// The kinds of [Grant], one per Host setting a policy can need.
const (
	// GrantNone: no host setting admits the request.
	GrantNone GrantKind = ""
	// GrantDir: a directory in Host.Mounts, see Grant.Mount.
	GrantDir GrantKind = "dir"
	// GrantEnv: a variable in Host.EnvKeys, see Grant.Env.
	GrantEnv GrantKind = "env"
	// GrantMemory: Host.MaxMemory of at least Grant.MemoryBytes, or
	// Host.ClampLimits to run under the host's ceiling instead.
	GrantMemory GrantKind = "memory"
	// GrantTime: Host.MaxTime of at least Grant.Time, or Host.ClampLimits
	// to run under the host's ceiling instead.
	GrantTime GrantKind = "time"
	// GrantNoNetwork: Host.AllowNoNetwork, which runs the module without
	// the network it asks for (WASI preview 1 has no sockets).
	GrantNoNetwork GrantKind = "noNetwork"
)

// Grant is what a host would have to grant for one request to pass. It is
// stated in [Host]'s terms, not a command line's, so that each front end
// (a CLI flag, a grants file key, a Go field) can name it its own way.
type Grant struct {
	Kind GrantKind
	// Mount, for GrantDir: the directory to allow, with Write when the
	// policy writes there. Dir is the host directory of the host's
	// existing, read-only, mount of Path, which would need Write; it is
	// empty when the host mounts nothing there and must choose one.
	Mount Mount
	// Env, for GrantEnv: the variable's name.
	Env string
	// MemoryBytes, for GrantMemory: the policy's memory limit, the least
	// Host.MaxMemory that admits it.
	MemoryBytes uint64
	// Time, for GrantTime: the policy's timeout, the least Host.MaxTime
	// that admits it.
	Time time.Duration
}

func (e *CeilingError) empty() bool {
	return len(e.Missing) == 0 && len(e.Network) == 0 && len(e.Unsupported) == 0
}

func (e *CeilingError) Error() string {
	var b strings.Builder
	b.WriteString("loader: the policy asks for more than this host can grant")
	section := func(title string, diffs []Difference) {
		if len(diffs) == 0 {
			return
		}
		b.WriteString("\n" + title + ":")
		for _, d := range diffs {
			b.WriteString("\n  " + d.String())
		}
	}
	section("beyond the host's limits", e.Missing)
	section("network (WASI preview 1 has no sockets; allow running without network to continue)", e.Network)
	section("not expressible in WASI preview 1", e.Unsupported)
	return b.String()
}

// Grants returns the distinct host settings that the differences need, in
// their order; differences that no setting admits are left out (see
// [CeilingError.Unsupported] and the GrantNone entries of Missing).
func (e *CeilingError) Grants() []Grant {
	var out []Grant
	for _, list := range [][]Difference{e.Missing, e.Network, e.Unsupported} {
		for _, d := range list {
			if d.Grant.Kind != GrantNone && !slices.Contains(out, d.Grant) {
				out = append(out, d.Grant)
			}
		}
	}
	return out
}

// Unwrap returns the sentinel of every non-empty list.
func (e *CeilingError) Unwrap() []error {
	var errs []error
	if len(e.Missing) > 0 {
		errs = append(errs, ErrExceedsCeiling)
	}
	if len(e.Network) > 0 {
		errs = append(errs, ErrNetwork)
	}
	if len(e.Unsupported) > 0 {
		errs = append(errs, ErrUnsupported)
	}
	return errs
}

// LimitError reports a module stopped by a sandbox limit.
//
// A time limit is exact: the module was stopped because the timeout that
// wasmgate set expired, not because the caller's context ended.
//
// A memory limit is reported when the module declares more initial memory
// than the limit (before it runs), or when the sandbox refused a
// memory.grow and the module then exited with a non-zero code or trapped.
// The refusal itself is exact; that it caused the exit is the only
// inference, and it is the usual one: Go's runtime exits with code 2 ("out
// of memory"), Rust's aborts with a trap. A module that handles the refusal
// and exits 0 is not reported.
type LimitError struct {
	// Err is ErrMemoryLimit or ErrTimeLimit.
	Err error
	// Limit is the limit that was hit, such as "64 MiB" or "500ms".
	Limit string
	// ExitCode is the module's exit code, 0 when it never ran.
	ExitCode uint32
	// Cause is what stopped the module: context.DeadlineExceeded, the
	// wazero error, or nil.
	Cause error
}

func (e *LimitError) Error() string {
	msg := fmt.Sprintf("loader: %v (limit %s)", e.Err, e.Limit)
	if e.Cause != nil {
		msg += ": " + e.Cause.Error()
	}
	return msg
}

// Unwrap returns the sentinel and the cause, so that errors.Is matches
// ErrTimeLimit and context.DeadlineExceeded alike.
func (e *LimitError) Unwrap() []error {
	if e.Cause == nil {
		return []error{e.Err}
	}
	return []error{e.Err, e.Cause}
}

func timeLimitError(d time.Duration, code uint32, cause error) *LimitError {
	return &LimitError{Err: ErrTimeLimit, Limit: d.String(), ExitCode: code, Cause: cause}
}

func memoryLimitError(limit uint64, code uint32, cause error) *LimitError {
	return &LimitError{Err: ErrMemoryLimit, Limit: formatBytes(limit), ExitCode: code, Cause: cause}
}
