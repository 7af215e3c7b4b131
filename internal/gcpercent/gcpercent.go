// Package gcpercent sets the collector's target for a wasmgate run, from
// its init function, so that it is in force while the other packages are
// initialised: they allocate about 3.5 MB, which under the default GOGC=100
// (a 4 MB minimum heap) starts a collection before main runs in most runs
// (~2 ms of a 14 ms `wasmgate version`). Only cmd/wasmgate imports it, for
// that side effect; GOGC in the environment still wins.
//
// It imports only os and runtime/debug, so Go's initialisation order (the
// first ready package by import path) runs it after about 1.5 MB of the
// dependencies' allocations, well before the trigger.
package gcpercent

import (
	"os"
	"runtime/debug"
)

// Percent is the collector's target for a CLI run. A command lives tens
// of milliseconds and its live heap is a few megabytes (blobs stream
// through fixed buffers), so the default of 100 spends a fifth of a verify
// in collections that free almost nothing (bench/gate.sh: 42 ms at 100,
// 34 ms at 400).
const Percent = 400

func init() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(Percent)
	}
}
