// Command wasmgate-testregistry runs one of internal/testrig/testregistry's
// in-memory OCI registries on a loopback address until SIGINT or SIGTERM, for
// CLI-level tests, benchmark scripts and manual use:
//
//	go run ./cmd/wasmgate-testregistry -kind distribution|ggcr -addr 127.0.0.1:5000
//
// The first line on stdout is the address it listens on (useful with port
// 0). It refuses non-loopback addresses: the registry has no authentication.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/wasmgate/wasmgate/internal/testrig/testregistry"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run serves until ctx ends and returns the exit code: 0 after a clean stop,
// 1 if the registry could not run, 2 for bad usage.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	kind := fs.String("kind", string(testregistry.KindDistribution),
		"registry to run: distribution (no Referrers API) or ggcr (Referrers API)")
	addr := fs.String("addr", "127.0.0.1:5000", "loopback `host:port` to listen on; port 0 picks a free one")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "%s: unexpected arguments %q\n", fs.Name(), fs.Args())
		return 2
	}

	h, err := testregistry.NewHandler(testregistry.Kind(*kind))
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", fs.Name(), err)
		return 2
	}
	l, err := testregistry.ListenLoopback(*addr)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", fs.Name(), err)
		if errors.Is(err, testregistry.ErrNotLoopback) {
			return 2
		}
		return 1
	}
	fmt.Fprintln(stdout, l.Addr().String())

	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	stopped := make(chan error, 1)
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		stopped <- srv.Shutdown(sctx)
	}()
	if err := srv.Serve(l); !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintf(stderr, "%s: %v\n", fs.Name(), err)
		return 1
	}
	if err := <-stopped; err != nil {
		fmt.Fprintf(stderr, "%s: stopping: %v\n", fs.Name(), err)
		return 1
	}
	return 0
}
