#!/usr/bin/env bash
# bench/pull.sh: pull throughput of a 64 MiB wasm layer from a local
# distribution registry, side by side with sha256sum of the same bytes (the
# hashing limit), in one run. Prints medians (hyperfine) and wasmgate's
# peak RSS (GNU time). Needs hyperfine and GNU time (apt-get install
# hyperfine time). Loopback only.
set -euo pipefail
cd "$(dirname "$0")/.."
export GOTOOLCHAIN=local
runs=${RUNS:-10}
size_mib=${SIZE_MIB:-64}
out=bench/out
rm -rf "$out" && mkdir -p "$out"

go build -o "$out/wasmgate" ./cmd/wasmgate
go build -o "$out/testregistry" ./cmd/wasmgate-testregistry

"$out/testregistry" -kind distribution -addr 127.0.0.1:0 >"$out/registry.addr" &
reg_pid=$!
trap 'kill $reg_pid 2>/dev/null || true' EXIT
for _ in $(seq 50); do [[ -s "$out/registry.addr" ]] && break; sleep 0.1; done
host=$(head -1 "$out/registry.addr")
export WASMGATE_PLAIN_HTTP=$host WASMGATE_CACHE=$out/cache DOCKER_CONFIG=$out/docker

# A wasm preamble followed by random bytes: wasmgate checks the preamble.
{ printf '\x00asm\x01\x00\x00\x00'; head -c $((size_mib * 1024 * 1024 - 8)) /dev/urandom; } >"$out/big.wasm"
ref="$host/bench/big:v1"
digest=$("$out/wasmgate" push "$out/big.wasm" "$ref")
echo "pushed $ref ($digest), ${size_mib} MiB"

hyperfine --warmup 2 --runs "$runs" --export-markdown "$out/pull.md" \
	--prepare "rm -rf $out/pulled" \
	-n "wasmgate pull (no cache)" "$out/wasmgate pull --no-cache $ref -o $out/pulled" \
	-n "sha256sum (file in page cache)" "sha256sum $out/big.wasm"

rm -rf "$out/pulled"
/usr/bin/time -f "%M" -o "$out/rss" "$out/wasmgate" pull --no-cache "$ref" -o "$out/pulled" >/dev/null
echo
echo "wasmgate pull peak RSS: $(($(cat "$out/rss") / 1024)) MiB for a ${size_mib} MiB layer"
cat "$out/pull.md"
