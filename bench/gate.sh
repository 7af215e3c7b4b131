#!/usr/bin/env bash
# bench/gate.sh: full verification of one artifact on a local registry —
# cosign bundle signature + Notation signature + SLSA provenance attestation
# + manifest and layer digests — by `wasmgate verify --policy`, against the
# peer chain a user would run instead: `cosign verify` + `cosign
# verify-attestation` + Notation verification. The notation CLI is not served
# by the module proxy here, so Notation runs through bench/notation-verify, a
# driver over notation-go doing what `notation verify` does (same library,
# same steps). Each command is timed on its own with hyperfine; the chain's
# time is the sum of its three medians. Loopback only, offline.
# Needs hyperfine, openssl, cosign v3 (go install github.com/sigstore/cosign/v3/cmd/cosign@v3.1.3).
source "$(dirname "$0")/lib.sh" gate
go build -o "$out/notation-verify" ./bench/notation-verify
start_registry ggcr host

digest=$("$out/wasmgate" push internal/sample/hello.wasm --permissions internal/sample/policy.yaml "$host/bench/hello:v1")
ref="$host/bench/hello@$digest"

# cosign: a key, a v3 bundle signature and a SLSA provenance attestation.
(cd "$out" && cosign generate-key-pair >/dev/null 2>&1)
cosign signing-config create --out "$out/sc.json" >/dev/null 2>&1
cosign trusted-root create --out "$out/tr.json" >/dev/null 2>&1
cosign sign --key "$out/cosign.key" --signing-config "$out/sc.json" --trusted-root "$out/tr.json" \
	--allow-http-registry -y "$ref" >/dev/null 2>&1
printf '{"buildDefinition":{"buildType":"https://example.test/build@v1","externalParameters":{"ref":"refs/heads/main"}},"runDetails":{"builder":{"id":"https://github.com/acme/builder@v1"}}}' >"$out/provenance.json"
cosign attest --key "$out/cosign.key" --type slsaprovenance1 --predicate "$out/provenance.json" \
	--signing-config "$out/sc.json" --trusted-root "$out/tr.json" --allow-http-registry -y "$ref" >/dev/null 2>&1

# Notation: a CA and a code-signing leaf (openssl), the notation
# configuration directory, a JWS signature in notation's own format.
n="$out/pki"
notation_pki "$n" "$XDG_CONFIG_HOME/notation"
"$out/wasmgate" sign "$ref" --notation-key "$n/leaf.key" --notation-cert "$n/chain.pem" >/dev/null
cp "$XDG_CONFIG_HOME/notation/trustpolicy.json" "$out/notation-trustpolicy.json"

cat >"$out/trust.yaml" <<YAML
version: v1
policies:
  - name: bench
    scopes: ["$host/bench/*"]
    signatures:
      threshold: 2
      authorities:
        - name: release
          cosign: {key: cosign.pub, insecureIgnoreTlog: true}
        - name: corp
          notation: {trustPolicy: notation-trustpolicy.json, trustStore: config/notation}
    attestations:
      - predicateType: slsaprovenance1
        signedBy: [release]
        conditions: ['predicate.runDetails.builder.id.startsWith("https://github.com/acme/")']
    layers: {requirePolicy: true}
YAML
# Every command must pass before it is timed.
"$out/wasmgate" verify --policy "$out/trust.yaml" "$ref" >"$out/wasmgate.txt"
cosign verify --key "$out/cosign.pub" --insecure-ignore-tlog --trusted-root "$out/tr.json" --allow-http-registry "$ref" >/dev/null 2>&1
cosign verify-attestation --key "$out/cosign.pub" --insecure-ignore-tlog --trusted-root "$out/tr.json" --type slsaprovenance1 --allow-http-registry "$ref" >/dev/null 2>&1
"$out/notation-verify" -plain-http "$ref" >/dev/null
echo "verified $ref: cosign bundle + Notation JWS + SLSA provenance ($(cosign version 2>/dev/null | grep GitVersion | awk '{print $2}'); notation via notation-go)"

hyperfine --warmup 3 --runs "$runs" -N --export-markdown "$out/gate.md" --export-json "$out/gate.json" \
	-n "wasmgate verify --policy (cosign, Notation, attestation, digests)" "$out/wasmgate verify --policy $out/trust.yaml $ref" \
	-n "cosign verify" "cosign verify --key $out/cosign.pub --insecure-ignore-tlog --trusted-root $out/tr.json --allow-http-registry $ref" \
	-n "cosign verify-attestation" "cosign verify-attestation --key $out/cosign.pub --insecure-ignore-tlog --trusted-root $out/tr.json --type slsaprovenance1 --allow-http-registry $ref" \
	-n "notation verify (notation-go driver)" "$out/notation-verify -plain-http $ref"
echo
cat "$out/gate.md"
summarize "$out/gate.json" \
	"full verify (cosign + Notation + SLSA attestation + digests) vs the peer chain|wasmgate verify --policy (cosign, Notation, attestation, digests)|cosign verify+cosign verify-attestation+notation verify (notation-go driver)|le|0.25|peer chain = sum of the three medians; Notation through notation-go (no notation CLI in the module proxy)"
