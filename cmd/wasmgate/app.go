package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/urfave/cli/v2"
)

// Exit codes. verify will refine 1 into "denied" and 3 "undecided".
const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2
)

// errUsage marks errors in how wasmgate was called (exit code 2).
var errUsage = errors.New("usage")

func usageError(format string, a ...any) error {
	return fmt.Errorf("%w: %s", errUsage, fmt.Sprintf(format, a...))
}

// run is the whole command, with its writers injected so tests can run it
// in process.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	app := newApp(stdout, stderr)
	err := app.RunContext(ctx, reorderArgs(app, args))
	if err == nil {
		return exitOK
	}
	if msg := err.Error(); msg != "" {
		fmt.Fprintf(stderr, "wasmgate: %s\n", msg)
	}
	var exit cli.ExitCoder
	switch {
	case errors.Is(err, errUsage):
		return exitUsage
	case errors.As(err, &exit):
		return exit.ExitCode()
	}
	return exitError
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
		EnableBashCompletion: false,
		// Errors are printed once, by run.
		ExitErrHandler: func(*cli.Context, error) {},
		OnUsageError: func(_ *cli.Context, err error, _ bool) error {
			return fmt.Errorf("%w: %w", errUsage, err)
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
			verifyBlobCommand(),
			verifyAttestationCommand(),
			signCommand(),
			attestCommand(),
			generateKeyPairCommand(),
			loginCommand(),
			logoutCommand(),
			cacheCommand(),
			quickstartCommand(),
			versionCommand(),
		},
	}
	markUsageErrors(app.Commands)
	return app
}

// markUsageErrors makes flag parsing errors of every command usage errors
// (exit 2); urfave/cli asks each command separately.
func markUsageErrors(cmds []*cli.Command) {
	for _, c := range cmds {
		c.OnUsageError = func(_ *cli.Context, err error, _ bool) error {
			return fmt.Errorf("%w: %w", errUsage, err)
		}
		markUsageErrors(c.Subcommands)
	}
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
	switch c.String("output") {
	case "text", "json":
	default:
		return usageError("--output must be text or json, not %q", c.String("output"))
	}
	return nil
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
