// Package testkit is what wasmgate's tests share: helpers that no product
// code imports. Rigs that stand in for a service (a registry, Fulcio, a TUF
// repository) have packages of their own under internal/.
package testkit
