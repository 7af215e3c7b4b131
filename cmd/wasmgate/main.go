// Command wasmgate pushes, pulls, inspects, signs, verifies and caches
// WebAssembly artifacts in OCI registries. The work is done by the library
// packages; this command parses flags, calls them and prints.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	_ "github.com/wasmgate/wasmgate/internal/gcpercent" // first: sets GOGC before the other packages' init allocates
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
