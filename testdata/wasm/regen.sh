#!/usr/bin/env bash
# regen.sh: regenerates the wasm fixtures in testdata/wasm/.
# Needs: go (GOOS=wasip1 support), wat2wasm (Debian package wabt), node + npm.
# jco is installed into a temporary directory outside the repository.
set -euo pipefail

JCO_VERSION=1.35.0
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"

# 1. hello.wasm: WASI preview 1 command built from Go.
(cd "$root" && GOOS=wasip1 GOARCH=wasm go build -trimpath -ldflags="-s -w" \
	-o internal/sample/hello.wasm ./testdata/wasm/src/hello)

# 2. tiny.wasm: hand-written core module.
(cd "$here" && wat2wasm tiny.wat -o tiny.wasm)

# 3. component.wasm (tiny.wasm + wit/tiny.wit), sockets.wasm and capabilities.wasm
#    (their .wat + wit/*.wit): components, by wasm-tools via jco.
jco_dir="$(mktemp -d)"
trap 'rm -rf "$jco_dir"' EXIT
(cd "$jco_dir" && npm init -y >/dev/null &&
	npm install --no-audit --no-fund --loglevel=error "@bytecodealliance/jco@$JCO_VERSION" >/dev/null)
(cd "$here" && node src/component/build.mjs "$jco_dir" >/dev/null)

# Check the headers: core module version 1, component layer 1 / version 0x0d.
check() {
	local got
	got="$(head -c 8 "$here/$1" | od -An -tx1 | tr -d ' \n')"
	if [[ "$got" != "$2" ]]; then
		echo "$1: bad header $got (want $2)" >&2
		exit 1
	fi
}
check ../../internal/sample/hello.wasm 0061736d01000000
check tiny.wasm 0061736d01000000
check component.wasm 0061736d0d000100
check sockets.wasm 0061736d0d000100
check capabilities.wasm 0061736d0d000100

cd "$here"
for f in ../../internal/sample/hello.wasm tiny.wasm component.wasm sockets.wasm capabilities.wasm; do
	printf '%s  %s bytes  sha256:%s\n' "$f" "$(wc -c <"$f" | tr -d ' ')" "$(sha256sum "$f" | cut -d' ' -f1)"
done
