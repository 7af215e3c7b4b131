#!/usr/bin/env bash
# regen.sh: rebuilds loader/testdata/probe.wasm, the WASI preview 1 module
# that package loader's tests and examples run. Needs only go.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"

(cd "$root" && GOOS=wasip1 GOARCH=wasm go build -trimpath -ldflags="-s -w" \
	-o loader/testdata/probe.wasm ./loader/testdata/src/probe)

f="$here/probe.wasm"
printf 'loader/testdata/probe.wasm  %s bytes  sha256:%s\n' \
	"$(wc -c <"$f" | tr -d ' ')" "$(sha256sum "$f" | cut -d' ' -f1)"
