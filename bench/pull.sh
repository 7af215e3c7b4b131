#!/usr/bin/env bash
# bench/pull.sh: pull of a 64 MiB wasm layer from a local distribution
# registry by wasmgate (size and digest checked while streaming to disk),
# side by side with `regctl blob get` of the same layer and `sha256sum` of
# the same bytes (the hashing limit), and wasmgate's peak RSS (GNU time).
# Needs hyperfine, GNU time, regctl (go install
# github.com/regclient/regclient/cmd/regctl@v0.11.7).
source "$(dirname "$0")/lib.sh" pull
size_mib=${SIZE_MIB:-64}
start_registry distribution host
# A wasm preamble followed by random bytes: wasmgate checks the preamble.
{ printf '\x00asm\x01\x00\x00\x00'; head -c $((size_mib * 1024 * 1024 - 8)) /dev/urandom; } >"$out/big.wasm"
ref="$host/bench/big:v1"
"$out/wasmgate" push "$out/big.wasm" "$ref" >/dev/null
layer=$(sha256sum "$out/big.wasm" | awk '{print "sha256:" $1}')
echo "pushed $ref, ${size_mib} MiB layer $layer"
args=(-n "wasmgate pull (no cache)" "$out/wasmgate pull --no-cache $ref -o $out/pulled"
	-n "sha256sum (file in page cache)" "sha256sum $out/big.wasm")
if command -v regctl >/dev/null; then
	regctl registry set "$host" --tls disabled >/dev/null
	args+=(-n "regctl blob get" "sh -c 'regctl blob get $host/bench/big $layer > $out/regctl.out'")
else
	echo "regctl not installed: skipping that comparison"
fi
hyperfine --warmup 2 --runs "$runs" --export-markdown "$out/pull.md" --export-json "$out/pull.json" \
	--prepare "rm -rf $out/pulled" "${args[@]}"
rm -rf "$out/pulled"
/usr/bin/time -f "%M" -o "$out/rss" "$out/wasmgate" pull --no-cache "$ref" -o "$out/pulled" >/dev/null
rss_mib=$(($(cat "$out/rss") / 1024))
echo "wasmgate pull peak RSS: $rss_mib MiB for a ${size_mib} MiB layer"
echo "{\"peakRSSMiB\": $rss_mib, \"layerMiB\": $size_mib}" >"$out/rss.json"
cat "$out/pull.md"
rows=("pull of ${size_mib} MiB: throughput relative to sha256sum|wasmgate pull (no cache)|sha256sum (file in page cache)|ge|0.8|peak RSS ${rss_mib} MiB")
command -v regctl >/dev/null && rows+=("pull of ${size_mib} MiB: wasmgate vs regctl blob get|wasmgate pull (no cache)|regctl blob get|le|1.0|same layer, same registry")
summarize "$out/pull.json" "${rows[@]}"
