// Package verify will hold wasmgate's verification pipeline: one trust
// policy over every kind of evidence, and the Result that only it can
// build. Today its subpackage [github.com/wasmgate/wasmgate/evidence/cosign]
// verifies cosign signatures in both of cosign's formats.
package verify
