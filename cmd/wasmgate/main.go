// Command wasmgate pushes, pulls, inspects, signs, verifies and caches
// WebAssembly artifacts in OCI registries. The work is done by the library
// packages; this command parses flags, calls them and prints.
package main

import (
	"context"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
)

// gcPercent is the collector's target for a CLI run. A command lives tens
// of milliseconds and its live heap is a few megabytes (blobs stream
// through fixed buffers), so the default of 100 spends a fifth of a verify
// in collections that free almost nothing (bench/gate.sh: 42 ms at 100,
// 34 ms at 400). GOGC in the environment still wins.
const gcPercent = 400

func main() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
