// Package testkit is what wasmgate's tests share: helpers that no product
// code imports (the architecture test checks it). The rigs that stand in
// for a service — a registry, Fulcio, a TUF repository, a revocation
// responder, the peer CLIs — are its siblings under internal/testrig.
package testkit
