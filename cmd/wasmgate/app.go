package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"slices"

	"github.com/urfave/cli/v2"

	"github.com/wasmgate/wasmgate/artifact"
	"github.com/wasmgate/wasmgate/evidence/notation"
	"github.com/wasmgate/wasmgate/permissions"
	"github.com/wasmgate/wasmgate/remote"
)

// Exit codes, one table for every command (README, docs/ci.md); run adds
// its own for the module it runs (run.go). exitCode maps an error to one.
const (
	exitOK = 0 // success; verify: verified, or passed in warn or audit mode
	// exitError: a failure none of the codes below describes, which a
	// retry will not mend (content that fails its digest, a refused
	// redirect, a local file); verify: denied by the policy.
	exitError  = 1
	exitDenied = exitError
	// exitUsage: how wasmgate was called or configured: a flag, an
	// argument, an unknown command, a trust policy or its trust material,
	// an HTTPS client sent to a plain-HTTP registry.
	exitUsage = 2
	// exitUndecided: could not decide, and retrying may help: the network,
	// a registry that timed out or stalled, 429 and 5xx answers.
	exitUndecided = 3
	// exitNotFound: the repository, tag or digest does not exist.
	exitNotFound = 4
	// exitAuth: authentication refused: credentials missing or wrong
	// (401), or not allowed to do this (403).
	exitAuth = 5
)

// exitCode is the exit code of err, decided by its type alone: usage
// errors, an exit a command chose (cli.Exit), then registry failures by
// remote's sentinels (registryExit), else exitError.
func exitCode(err error) int {
	var exit cli.ExitCoder
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, errUsage):
		return exitUsage
	case errors.As(err, &exit):
		return exit.ExitCode()
	}
	return registryExit(err, exitError)
}

// registryExit is the code of a registry failure (remote.Classify's
// sentinels, or the caller's deadline), otherwise for anything else. When
// an error wraps several (an errors.Join), the one a user must act on
// first wins: configuration, credentials, a missing artifact, and only
// then a retry.
func registryExit(err error, otherwise int) int {
	switch {
	case errors.Is(err, remote.ErrPlainHTTP):
		return exitUsage
	case errors.Is(err, remote.ErrUnauthorized), errors.Is(err, remote.ErrDenied):
		return exitAuth
	case errors.Is(err, remote.ErrNotFound):
		return exitNotFound
	case errors.Is(err, remote.ErrTimeout), errors.Is(err, remote.ErrUnreachable), errors.Is(err, remote.ErrServer),
		errors.Is(err, context.DeadlineExceeded):
		return exitUndecided
	}
	return otherwise
}

// nextStep says what to do about err when its message cannot: the flags
// of this command line that bear on it. remote's messages already name
// what the host alone tells (wasmgate login, --plain-http).
func nextStep(err error) string {
	var deadline *remote.DeadlineError
	var rate *remote.RateError
	switch {
	case errors.As(err, &deadline), errors.As(err, &rate):
		return "" // timeouts too, whose messages name --deadline and --min-rate
	case errors.Is(err, remote.ErrTimeout):
		return "the registry sent nothing for the time --timeout allows: retry, or raise --timeout if it is slow rather than down"
	case errors.As(err, new(*notation.NoBlobTrustPolicyError)):
		return "name a statement of the blob trust policy with --notation-policy-name, or mark one \"globalPolicy\": true"
	case errors.Is(err, notation.ErrNoTrustPolicy):
		return "verify under a scope the Notation trust policy has a statement for (--notation-scope, or notation.scope in a trust policy), " +
			"or add this repository to a statement's registryScopes"
	}
	return ""
}

// errUsage marks errors in how wasmgate was called (exit code 2).
var errUsage = errors.New("usage")

func usageError(format string, a ...any) error {
	return fmt.Errorf("%w: %s", errUsage, fmt.Sprintf(format, a...))
}

// run is the whole command, with its writers injected so tests can run it
// in process.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	app := newApp(stdout, stderr)
	// A completion request is asked as the shell typed it: reordering would
	// move the flag prefix being completed away from the end.
	if n := len(args); n == 0 || args[n-1] != "--generate-bash-completion" {
		args = reorderArgs(app, args)
	}
	err := app.RunContext(ctx, args)
	if err == nil {
		return exitOK
	}
	if msg := err.Error(); msg != "" {
		fmt.Fprintf(stderr, "wasmgate: %s\n", msg)
	}
	if hint := nextStep(err); hint != "" {
		fmt.Fprintf(stderr, "wasmgate: %s\n", hint)
	}
	return exitCode(err)
}

func newApp(stdout, stderr io.Writer) *cli.App {
	app := &cli.App{
		Name:  "wasmgate",
		Usage: "verify, sign and load WebAssembly from OCI registries",
		Description: "References: registry/repo:tag, registry/repo@sha256:…, oci://…, " +
			"oci-layout:DIR[:tag|@digest], file://PATH or a path, https://…/x.wasm (with --digest).",
		Writer:               stdout,
		ErrWriter:            stderr,
		HideHelpCommand:      true,
		EnableBashCompletion: true,
		// Errors are printed once, by run.
		ExitErrHandler: func(*cli.Context, error) {},
		OnUsageError: func(_ *cli.Context, err error, _ bool) error {
			return withHelp(fmt.Errorf("%w: %w", errUsage, err), "wasmgate")
		},
		Commands: []*cli.Command{
			pushCommand(),
			pullCommand(),
			inspectCommand(),
			discoverCommand(),
			attachCommand(),
			copyCommand(),
			verifyCommand(),
			policyCommand(),
			catalogCommand(),
			runCommand(),
			applyCommand(),
			serveCommand(),
			verifyBlobCommand(),
			verifyDSSECommand(),
			verifyLayoutCommand(),
			verifyAttestationCommand(),
			signCommand(),
			attestCommand(),
			generateKeyPairCommand(),
			loginCommand(),
			logoutCommand(),
			cacheCommand(),
			quickstartCommand(),
			versionCommand(),
			completionCommand(),
			manCommand(),
		},
	}
	// A word that names no command is a usage error, not urfave/cli's
	// "No help topic" (its exit 3 would read as "retry").
	app.Action = func(c *cli.Context) error {
		name := c.Args().First()
		if name == "help" { // `wasmgate help CMD`, which urfave/cli's help suggests
			name = c.Args().Get(1)
			if name == "" {
				return cli.ShowAppHelp(c)
			}
			if c.App.Command(name) != nil {
				return cli.ShowCommandHelp(c, name)
			}
		}
		if name != "" {
			return withHelp(unknownCommand(c.App.Commands, "wasmgate", name), "wasmgate")
		}
		return cli.ShowAppHelp(c)
	}
	withDeadlines(app.Commands)
	prepareCommands("wasmgate", app.Commands)
	return app
}

// prepareCommands holds every command to the exit-code table: flag errors,
// missing required flags and unknown subcommands are usage errors (exit
// 2), and every usage error names the help to read; urfave/cli asks each
// command separately. It also names --max-layer-size when that limit
// refused a layer.
func prepareCommands(parent string, cmds []*cli.Command) {
	for _, c := range cmds {
		path := parent + " " + c.Name
		c.OnUsageError = func(_ *cli.Context, err error, _ bool) error {
			return withHelp(fmt.Errorf("%w: %w", errUsage, err), path)
		}
		if len(c.Subcommands) > 0 && c.Action == nil {
			subs := c.Subcommands
			c.Action = func(ctx *cli.Context) error {
				if ctx.Args().Present() {
					return unknownCommand(subs, path, ctx.Args().First())
				}
				return cli.ShowSubcommandHelp(ctx)
			}
		}
		requireFlags(c, path)
		nameLayerLimit(c)
		if before := c.Before; before != nil {
			c.Before = func(ctx *cli.Context) error { return withHelp(before(ctx), path) }
		}
		if action := c.Action; action != nil {
			c.Action = func(ctx *cli.Context) error { return withHelp(action(ctx), path) }
		}
		prepareCommands(path, c.Subcommands)
	}
}

// withHelp adds to a usage error where to read how the command is used.
func withHelp(err error, path string) error {
	if errors.Is(err, errUsage) {
		return fmt.Errorf("%w; see %s --help", err, path)
	}
	return err
}

// unknownCommand is the usage error for a command name that is not one of
// cmds, with the nearest name when there is one.
func unknownCommand(cmds []*cli.Command, path, name string) error {
	msg := fmt.Sprintf("%s: unknown command %q", path, name)
	if cli.SuggestCommand != nil { // nil when built with urfave_cli_no_suggest
		if s := cli.SuggestCommand(cmds, name); s != "" {
			msg += "; " + s
		}
	}
	return usageError("%s", msg)
}

// requireFlags checks a command's required flags itself, as a usage
// error: urfave/cli checks them before any hook, with an error of an
// unexported type that could only be recognized by its text.
func requireFlags(c *cli.Command, path string) {
	var required []string
	for _, f := range c.Flags {
		if sf, ok := f.(*cli.StringFlag); ok && sf.Required {
			sf.Required = false
			required = append(required, sf.Name)
		}
	}
	if len(required) == 0 {
		return
	}
	next := c.Before
	c.Before = func(ctx *cli.Context) error {
		for _, name := range required {
			if !ctx.IsSet(name) {
				return usageError("%s needs --%s", path, name)
			}
		}
		if next != nil {
			return next(ctx)
		}
		return nil
	}
}

// nameLayerLimit makes a command with --max-layer-size say so when a layer
// is over that limit: the size error alone names only the number.
func nameLayerLimit(c *cli.Command) {
	has := false
	for _, f := range c.Flags {
		if slices.Contains(f.Names(), "max-layer-size") {
			has = true
		}
	}
	if !has || c.Action == nil {
		return
	}
	action := c.Action
	c.Action = func(ctx *cli.Context) error {
		err := action(ctx)
		var se *artifact.SizeError
		if errors.As(err, &se) && errors.Is(se, artifact.ErrTooLarge) && se.Limit == layerLimit(ctx) {
			return fmt.Errorf("%w; that limit is --max-layer-size: raise it if a layer this large is expected", err)
		}
		return err
	}
}

// layerLimit is the value of --max-layer-size in bytes (a plain number or
// a quantity such as 64Mi); -1 when it cannot be read.
func layerLimit(ctx *cli.Context) int64 {
	if n, err := permissions.ParseBytes(ctx.String("max-layer-size")); err == nil && n <= math.MaxInt64 {
		return int64(n)
	}
	return -1
}

// Flags every command has.
var (
	outputFlag  = &cli.StringFlag{Name: "output", Value: "text", Usage: "output format: text or json"}
	verboseFlag = &cli.BoolFlag{Name: "verbose", Aliases: []string{"v"}, Usage: "log what happens, as structured logs on stderr"}
)

func withCommon(flags ...cli.Flag) []cli.Flag {
	return append([]cli.Flag{outputFlag, verboseFlag}, flags...)
}

// before validates the common flags; every command uses it.
func before(c *cli.Context) error {
	switch o := c.String("output"); o {
	case "text", "json":
	default:
		// oras users write --output DIR: name the flag they meant.
		return usageError("--output is the format, text or json, not %q; the output directory is -o DIR", o)
	}
	return nil
}

// withOutputFormats is flags with --output describing formats instead of
// the common "text or json" (verify also writes SARIF).
func withOutputFormats(formats string, flags []cli.Flag) []cli.Flag {
	out := make([]cli.Flag, len(flags))
	for i, f := range flags {
		if f == cli.Flag(outputFlag) {
			f = &cli.StringFlag{Name: "output", Value: "text", Usage: "output format: " + formats}
		}
		out[i] = f
	}
	return out
}

func logger(c *cli.Context) *slog.Logger {
	level := slog.LevelWarn
	if c.Bool("verbose") {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(c.App.ErrWriter, &slog.HandlerOptions{Level: level}))
}

func jsonOutput(c *cli.Context) bool { return c.String("output") == "json" }

// printJSON writes v as indented JSON to stdout.
func printJSON(c *cli.Context, v any) error {
	enc := json.NewEncoder(c.App.Writer)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// isTerminal reports whether w is a terminal, for progress bars.
func isTerminal(w io.Writer) (*os.File, bool) {
	f, ok := w.(*os.File)
	if !ok {
		return nil, false
	}
	return f, isatty(f)
}
