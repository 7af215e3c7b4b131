// Package hostile holds wasmgate's table of hostile-input scenarios
// (hostile_test.go), listed in SECURITY.md: a registry, a network or a
// publisher that misbehaves on purpose, each row asserting the typed error
// wasmgate refuses with and that nothing reached the cache's trusted area,
// the output directory or the loader. It has no code of its own.
package hostile
