#!/usr/bin/env bash
# bench/run_warm.sh: warm `wasmgate run` (verified from the local cache, the
# module compiled before) against `wazero run` with a compilation cache, on
# the sample module reading a file and printing a greeting. wasmgate's run
# includes its whole pipeline: trust policy, resolve, every digest,
# signature, sandbox. Needs hyperfine and wazero
# (go install github.com/tetratelabs/wazero/cmd/wazero@v1.12.0).
source "$(dirname "$0")/lib.sh" run
mkdir -p "$out/data"
echo "bench data" >"$out/data/in.txt"
layout="oci-layout:$out/layout"
digest=$("$out/wasmgate" push internal/sample/hello.wasm --permissions internal/sample/policy.yaml "$layout:v1")
ref="$layout@$digest"
"$out/wasmgate" generate-key-pair --output-key-prefix "$out/release" >/dev/null
"$out/wasmgate" sign --key "$out/release.key" "$ref" >/dev/null
cat >"$out/trust.yaml" <<'YAML'
version: v1
policies:
  - name: bench
    scopes: ["*"]
    signatures:
      authorities:
        - name: release
          cosign: {key: release.pub, insecureIgnoreTlog: true}
    layers: {requirePolicy: true}
YAML
export GREETING=hi
wg="$out/wasmgate run --policy $out/trust.yaml $ref --allow-env GREETING --allow-dir /data=$out/data -- /data/in.txt"
wz="wazero run -cachedir $out/wazero-cache -env GREETING=hi -mount $out/data:/data:ro internal/sample/hello.wasm /data/in.txt"
$wg >/dev/null && $wz >/dev/null # compile once: both caches warm
hyperfine -N --warmup 3 --runs "$runs" --export-markdown "$out/run.md" --export-json "$out/run.json" \
	-n "wasmgate run (warm: verify, sandbox, cached compile)" "$wg" \
	-n "wazero run (compilation cache)" "$wz"
cat "$out/run.md"
summarize "$out/run.json" \
	"warm run vs wazero run with a compilation cache|wasmgate run (warm: verify, sandbox, cached compile)|wazero run (compilation cache)|le|1.5|wasmgate run includes the trust policy, every digest, the signature and the sandbox"
