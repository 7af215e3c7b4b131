package main

import (
	"errors"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"
)

// serveBinary is the program `wasmgate serve` runs: the service is its own
// binary, so that every other command starts without the initialisation
// of OPA's and Kubernetes' types (~3 ms).
const serveBinary = "wasmgate-serve"

func serveCommand() *cli.Command {
	return &cli.Command{
		Name:      "serve",
		Usage:     "verify for Kubernetes admission: Gatekeeper external data, Kyverno, admission webhooks (runs wasmgate-serve)",
		ArgsUsage: "--policy trust.yaml --tls-cert F --tls-key F [--client-ca F] [--addr :8443]",
		Description: "Runs " + serveBinary + " with these arguments, found next to wasmgate or on PATH " +
			"(go install github.com/wasmgate/wasmgate/cmd/" + serveBinary + "); `wasmgate serve --help` lists its flags. " +
			"See docs/kubernetes.md.",
		SkipFlagParsing: true,
		Action:          serveAction,
	}
}

// findServe is wasmgate-serve next to this executable, else on PATH.
func findServe() (string, error) {
	if self, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(self), serveBinary)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	p, err := exec.LookPath(serveBinary)
	if err != nil {
		return "", usageError("wasmgate serve runs %s, which is neither next to wasmgate nor on PATH: "+
			"go install github.com/wasmgate/wasmgate/cmd/%s@latest (or, in a checkout, go run ./cmd/%s ARGS)", serveBinary, serveBinary, serveBinary)
	}
	return p, nil
}

// serveAction runs wasmgate-serve with the arguments, passing on SIGHUP
// (reload) and, when wasmgate is asked to stop, SIGTERM (a graceful
// shutdown); its exit code is wasmgate's.
func serveAction(c *cli.Context) error {
	bin, err := findServe()
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(c.Context, bin, c.Args().Slice()...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, c.App.Writer, c.App.ErrWriter
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 30 * time.Second
	if err := cmd.Start(); err != nil {
		return err
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	for {
		select {
		case s := <-hup:
			_ = cmd.Process.Signal(s)
		case err := <-done:
			if c.Context.Err() != nil && cmd.ProcessState != nil && cmd.ProcessState.Success() {
				return nil // asked to stop, and it stopped cleanly
			}
			var exit *exec.ExitError
			if errors.As(err, &exit) {
				return cli.Exit("", exit.ExitCode())
			}
			return err
		}
	}
}
