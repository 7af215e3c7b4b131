#!/usr/bin/env bash
# bench/serve.sh: wasmgate-serve under admission load, on loopback. 50
# artifacts signed with a cosign key and 20 more signed with cosign and
# Notation and attested (SLSA provenance), a trust policy requiring all of
# that, wasmgate-serve in front of the registry through bench/proxy (to
# count registry requests), and bench/admission-load sending AdmissionReview
# requests for Pods:
#   cold: the first request for each of the 20 fully evidenced artifacts,
#         one at a time: p99 against the peer chain's median (cosign verify +
#         cosign verify-attestation + notation verify: bench/gate.sh's row,
#         when bench/run ran it first) and Gatekeeper's 3 s budget;
#   warm: 10,000 requests over the 50 artifacts, 32 in flight: p50, p99,
#         throughput, verifications per artifact, registry requests, peak RSS.
source "$(dirname "$0")/lib.sh" serve
go build -o "$out/wasmgate-serve" ./cmd/wasmgate-serve
go build -o "$out/admission-load" ./bench/admission-load
start_registry ggcr host
start_proxy "$host" 0 proxy
"$out/wasmgate" generate-key-pair --output-key-prefix "$out/release" >/dev/null
"$out/wasmgate" generate-key-pair --output-key-prefix "$out/vsa" >/dev/null

# Notation: a CA and a code-signing leaf (lib.sh's notation_pki).
n="$out/pki"
notation_pki "$n" "$out/notation"
printf '{"buildDefinition":{"buildType":"https://example.test/build@v1","externalParameters":{"ref":"refs/heads/main"}},"runDetails":{"builder":{"id":"https://github.com/acme/builder@v1"}}}' >"$out/provenance.json"

: >"$out/warm.txt"
: >"$out/cold.txt"
for i in $(seq -w 1 50); do
	ref="$host/bench/w$i:v1"
	# Each artifact its own digest: the module with its policy, annotated.
	"$out/wasmgate" push internal/sample/hello.wasm --permissions internal/sample/policy.yaml --annotation "bench=w$i" "$ref" >/dev/null
	"$out/wasmgate" sign --key "$out/release.key" "$ref" >/dev/null
	echo "$proxy/bench/w$i:v1" >>"$out/warm.txt"
done
for i in $(seq -w 1 20); do
	ref="$host/bench/full/c$i:v1"
	"$out/wasmgate" push internal/sample/hello.wasm --permissions internal/sample/policy.yaml --annotation "bench=c$i" "$ref" >/dev/null
	"$out/wasmgate" sign --key "$out/release.key" "$ref" >/dev/null
	"$out/wasmgate" sign "$ref" --notation-key "$n/leaf.key" --notation-cert "$n/chain.pem" >/dev/null
	"$out/wasmgate" attest --key "$out/release.key" --type slsaprovenance1 --predicate "$out/provenance.json" "$ref" >/dev/null
	echo "$proxy/bench/full/c$i:v1" >>"$out/cold.txt"
done
cat >"$out/trust.yaml" <<YAML
version: v1
policies:
  - name: full
    scopes: ["$proxy/bench/full/*"]
    signatures:
      threshold: 2
      authorities:
        - name: release
          cosign: {key: release.pub, insecureIgnoreTlog: true}
        - name: corp
          notation: {trustPolicy: notation/trustpolicy.json, trustStore: notation}
    attestations:
      - predicateType: slsaprovenance1
        signedBy: [release]
        conditions: ['predicate.runDetails.builder.id.startsWith("https://github.com/acme/")']
    layers: {requirePolicy: true}
  - name: fleet
    scopes: ["$proxy/bench/*"]
    signatures:
      authorities:
        - name: release
          cosign: {key: release.pub, insecureIgnoreTlog: true}
    layers: {requirePolicy: true}
YAML

# start_serve LOG ARGS...: runs wasmgate-serve, sets addr to where it listens.
start_serve() {
	local log=$1
	shift
	"$out/wasmgate-serve" --policy "$out/trust.yaml" --insecure-listen-http --addr 127.0.0.1:0 --plain-http "$proxy" \
		--max-in-flight 128 --reload-interval 0 "$@" 2>"$log" &
	serve_pid=$!
	registry_pids+=("$serve_pid")
	for _ in $(seq 100); do grep -q '"listening"' "$log" 2>/dev/null && break; sleep 0.1; done
	addr=$(python3 -c 'import json,sys; print(next(json.loads(l)["addr"] for l in open(sys.argv[1]) if "listening" in l))' "$log")
}
# Replica 1 writes a VSA after each verification it runs that passes.
start_serve "$out/serve.log" --vsa-verifier-id https://wasmgate.dev/bench --vsa-key "$out/vsa.key"
url="http://$addr/admission/v1/validate"
verified() { curl -fsS "http://$addr/metrics" | awk '/^wasmgate_serve_verdicts_total\{source="verified",verdict="verified"\}/ {print $2}'; }

curl -fsS -X POST "http://$proxy/_proxy/reset"
"$out/admission-load" -url "$url" -images "$out/cold.txt" -requests 20 -concurrency 1 >"$out/cold.json"
cold_requests=$(curl -fsS "http://$proxy/_proxy/count")
curl -fsS -X POST "http://$proxy/_proxy/reset"
"$out/admission-load" -url "$url" -images "$out/warm.txt" -requests 10000 -concurrency 32 >"$out/warm.json"
warm_requests=$(curl -fsS "http://$proxy/_proxy/count")
verifications=$(verified)
rss=$(awk '/VmHWM/ {printf "%.0f", $2/1024}' "/proc/$serve_pid/status")
# Replica 2 trusts replica 1's VSAs: its first request on each of the 20
# fully evidenced artifacts.
start_serve "$out/serve2.log" --vsa-verifier-id https://wasmgate.dev/bench --vsa-trust "$out/vsa.pub"
"$out/admission-load" -url "http://$addr/admission/v1/validate" -images "$out/cold.txt" -requests 20 -concurrency 1 >"$out/vsa.json"
by_vsa=$(curl -fsS "http://$addr/metrics" | awk '/^wasmgate_serve_verdicts_total\{source="vsa",verdict="verified"\}/ {print $2}')
echo "cold: $(cat "$out/cold.json") registry requests: $cold_requests"
echo "vsa reuse (replica 2): $(cat "$out/vsa.json") verified by VSA: ${by_vsa:-0}"
echo "warm: $(cat "$out/warm.json") registry requests: $warm_requests; verified verifications so far: $verifications; peak RSS ${rss} MiB"

python3 - "$out/cold.json" "$out/warm.json" "${SUMMARY:-}" "$cold_requests" "$warm_requests" "$verifications" "$rss" "$out/vsa.json" "${by_vsa:-0}" <<'PY'
import json, sys
cold, warm = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
summary, cold_req, warm_req, verifications, rss = sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), int(float(sys.argv[6] or 0)), sys.argv[7]
vsa, by_vsa = json.load(open(sys.argv[8])), int(float(sys.argv[9] or 0))
if vsa["failed"] or vsa["allowed"] != 20 or by_vsa != 20:
    sys.exit(f"serve vsa: {vsa['allowed']} of 20 allowed, {by_vsa} by VSA")
for name, r, want in (("cold", cold, 20), ("warm", warm, 10000)):
    if r["failed"] or r["allowed"] != want:
        sys.exit(f"serve {name}: {r['allowed']} of {want} allowed, {r['denied']} denied, {r['failed']} failed")
peer = None
try:
    peer = next(x for x in json.load(open(summary)) if x["label"].startswith("full verify"))["peerMs"]
except Exception:
    pass
rows = []
def row(label, ours, base, target, note):
    ratio = ours / base
    rows.append({"label": label, "oursMs": round(ours, 2), "peerMs": round(base, 2), "oursRange": [ours, ours], "peerRange": [base, base],
                 "ratio": round(ratio, 3), "direction": "le", "target": target, "met": ratio <= target, "note": note})
if peer:
    row("serve, cold: p99 of a first request (cosign + Notation + SLSA attestation) vs the peer chain", cold["p99Ms"], peer, 1,
        f"20 artifacts one at a time; p50 {cold['p50Ms']:.1f} ms; {cold_req / 20:.1f} registry requests each; peer chain from the full-verify row")
row("serve, cold: p99 of a first request (cosign + Notation + SLSA attestation) vs Gatekeeper's 3 s budget", cold["p99Ms"], 3000, 0.1,
    f"p50 {cold['p50Ms']:.1f} ms")
row("serve, warm: p99 of 10,000 admission requests (50 artifacts, 32 in flight) vs Gatekeeper's 3 s budget", warm["p99Ms"], 3000, 0.1,
    f"p50 {warm['p50Ms']:.2f} ms, {warm['perSecond']:.0f} requests/s; {verifications - 20} verifications for 50 artifacts "
    f"(one per digest); {warm_req} registry requests ({warm_req / 10000:.2f} per admission request: the tag's HEAD); peak RSS {rss} MiB")
row("serve, VSA reuse: a second replica's first request vs the first replica's (cosign + Notation + attestation)", vsa["p99Ms"], cold["p99Ms"], 1,
    f"p99 of 20 first requests each; p50 {vsa['p50Ms']:.1f} vs {cold['p50Ms']:.1f} ms; all 20 verified by replica 1's VSA; replica 1's include writing the VSA")
for r in rows:
    print(f"{r['label']}: {r['oursMs']:.1f} ms vs {r['peerMs']:.1f} ms, ratio {r['ratio']:.3f} (target <= {r['target']}) {'MET' if r['met'] else 'NOT MET'}")
if summary:
    try:
        old = json.load(open(summary))
    except (FileNotFoundError, ValueError):
        old = []
    json.dump(old + rows, open(summary, "w"), indent=2)
PY
