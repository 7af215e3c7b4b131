#!/usr/bin/env bash
# bench/verify.sh: wasmgate verify vs cosign verify on the same signed
# artifact on a local registry, in one run (hyperfine). Bundle format and
# legacy format. Needs hyperfine, cosign (go install
# github.com/sigstore/cosign/v3/cmd/cosign@v3.1.3). Loopback only, offline.
set -euo pipefail
cd "$(dirname "$0")/.."
export GOTOOLCHAIN=local
runs=${RUNS:-20}
out=bench/out/verify
rm -rf "$out" && mkdir -p "$out"
export PATH="$(go env GOPATH)/bin:$PATH"
go build -o "$out/wasmgate" ./cmd/wasmgate
go build -o "$out/testregistry" ./cmd/wasmgate-testregistry
# Only now isolate the tools from the user's files (go build needs HOME's caches).
export HOME="$PWD/$out/home" DOCKER_CONFIG="$PWD/$out/docker" WASMGATE_CACHE="$PWD/$out/cache" COSIGN_PASSWORD=
mkdir -p "$HOME"
"$out/testregistry" -kind ggcr -addr 127.0.0.1:0 >"$out/registry.addr" &
reg_pid=$!
trap 'kill $reg_pid 2>/dev/null || true' EXIT
for _ in $(seq 50); do [[ -s "$out/registry.addr" ]] && break; sleep 0.1; done
host=$(head -1 "$out/registry.addr")
export WASMGATE_PLAIN_HTTP=$host

digest=$("$out/wasmgate" push internal/sample/hello.wasm --policy internal/sample/policy.yaml "$host/bench/hello:v1")
ref="$host/bench/hello@$digest"
(cd "$out" && cosign generate-key-pair >/dev/null 2>&1)
cosign signing-config create --out "$out/sc.json" >/dev/null 2>&1
cosign trusted-root create --out "$out/tr.json" >/dev/null 2>&1
cosign sign --key "$out/cosign.key" --signing-config "$out/sc.json" --trusted-root "$out/tr.json" \
	--allow-http-registry -y "$ref" >/dev/null 2>&1
cosign sign --key "$out/cosign.key" --new-bundle-format=false --use-signing-config=false --tlog-upload=false \
	--allow-http-registry -y "$ref" >/dev/null 2>&1
echo "signed $ref in both formats ($(cosign version 2>/dev/null | grep GitVersion | awk '{print $2}'))"

hyperfine --warmup 3 --runs "$runs" --export-markdown "$out/verify.md" --export-json "$out/verify.json" \
	-n "wasmgate verify (bundle)" "$out/wasmgate verify $ref --key $out/cosign.pub --insecure-ignore-tlog --format bundle" \
	-n "cosign verify (bundle)" "cosign verify --key $out/cosign.pub --insecure-ignore-tlog --trusted-root $out/tr.json --allow-http-registry $ref" \
	-n "wasmgate verify (legacy)" "$out/wasmgate verify $ref --key $out/cosign.pub --insecure-ignore-tlog --format legacy" \
	-n "cosign verify (legacy)" "cosign verify --key $out/cosign.pub --insecure-ignore-tlog --new-bundle-format=false --allow-http-registry $ref" \
	-n "wasmgate verify (both formats)" "$out/wasmgate verify $ref --key $out/cosign.pub --insecure-ignore-tlog" \
	-n "wasmgate version (start-up)" "$out/wasmgate version" \
	-n "cosign version (start-up)" "cosign version"
echo
cat "$out/verify.md"
python3 - "$out/verify.json" <<'PY'
import json, sys, statistics
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
def med(n): return statistics.median(r[n]["times"]) * 1000
print()
for fmt in ("bundle", "legacy"):
    w, c = med(f"wasmgate verify ({fmt})"), med(f"cosign verify ({fmt})")
    print(f"median {fmt}: wasmgate {w:.1f} ms, cosign {c:.1f} ms, ratio cosign/wasmgate {c/w:.2f}")
PY
