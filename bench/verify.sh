#!/usr/bin/env bash
# bench/verify.sh: `wasmgate verify` with only a cosign requirement against
# `cosign verify` on the same artifact (a cosign v3 bundle, then cosign's
# legacy .sig), and start-up alone. wasmgate also checks the manifest and
# every layer digest (2.3 MB of wasm here); cosign does not. Needs
# hyperfine and cosign (go install github.com/sigstore/cosign/v3/cmd/cosign@v3.1.3).
source "$(dirname "$0")/lib.sh" verify
start_registry ggcr host
digest=$("$out/wasmgate" push internal/sample/hello.wasm --permissions internal/sample/policy.yaml "$host/bench/hello:v1")
ref="$host/bench/hello@$digest"
(cd "$out" && cosign generate-key-pair >/dev/null 2>&1)
cosign signing-config create --out "$out/sc.json" >/dev/null 2>&1
cosign trusted-root create --out "$out/tr.json" >/dev/null 2>&1
cosign sign --key "$out/cosign.key" --signing-config "$out/sc.json" --trusted-root "$out/tr.json" \
	--allow-http-registry -y "$ref" >/dev/null 2>&1
cosign sign --key "$out/cosign.key" --new-bundle-format=false --use-signing-config=false --tlog-upload=false \
	--allow-http-registry -y "$ref" >/dev/null 2>&1
echo "signed $ref in both formats ($(cosign version 2>/dev/null | grep GitVersion | awk '{print $2}'))"
hyperfine -N --warmup 3 --runs "$runs" --export-markdown "$out/verify.md" --export-json "$out/verify.json" \
	-n "wasmgate verify (bundle)" "$out/wasmgate verify $ref --key $out/cosign.pub --insecure-ignore-tlog --format bundle" \
	-n "cosign verify (bundle)" "cosign verify --key $out/cosign.pub --insecure-ignore-tlog --trusted-root $out/tr.json --allow-http-registry $ref" \
	-n "wasmgate verify (legacy)" "$out/wasmgate verify $ref --key $out/cosign.pub --insecure-ignore-tlog --format legacy" \
	-n "cosign verify (legacy)" "cosign verify --key $out/cosign.pub --insecure-ignore-tlog --new-bundle-format=false --allow-http-registry $ref" \
	-n "wasmgate version (start-up)" "$out/wasmgate version" \
	-n "cosign version (start-up)" "cosign version"
cat "$out/verify.md"
summarize "$out/verify.json" \
	"cosign-only verify (bundle) vs cosign verify|wasmgate verify (bundle)|cosign verify (bundle)|le|0.5|wasmgate also checks every layer digest" \
	"cosign-only verify (legacy .sig) vs cosign verify|wasmgate verify (legacy)|cosign verify (legacy)|le|0.5|" \
	"start-up: wasmgate version vs cosign version|wasmgate version (start-up)|cosign version (start-up)|le|1.0|"
