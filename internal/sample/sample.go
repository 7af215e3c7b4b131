// Package sample embeds the artifact the quickstart publishes, and that
// tests use as their real WASI module: hello.wasm, a WASI preview 1
// command built from testdata/wasm/src/hello, and its permission policy.
//
// Regenerate hello.wasm with:
//
//	GOOS=wasip1 GOARCH=wasm go build -trimpath -ldflags="-s -w" -o internal/sample/hello.wasm ./testdata/wasm/src/hello
package sample

import _ "embed"

//go:embed hello.wasm
var helloWasm []byte

//go:embed policy.yaml
var policyYAML []byte

// HelloWasm returns a copy of the sample module.
func HelloWasm() []byte { return append([]byte(nil), helloWasm...) }

// PolicyYAML returns a copy of the sample permission policy.
func PolicyYAML() []byte { return append([]byte(nil), policyYAML...) }

//go:embed testdata/trust.yaml
var trustYAML []byte

// TrustPolicyYAML returns a copy of the quickstart's trust policy
// (testdata/trust.yaml): the files it names are relative to it.
func TrustPolicyYAML() []byte { return append([]byte(nil), trustYAML...) }
