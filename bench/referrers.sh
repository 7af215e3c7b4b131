#!/usr/bin/env bash
# bench/referrers.sh: `wasmgate verify --key` of an artifact signed 3 times
# (cosign v3 bundles), alone and among 1,000 unrelated referrers
# (application/vnd.example.unrelated, attached by bench/seed-referrers), on a
# registry with the Referrers API (ggcr) and one without (distribution: the
# tag schema index), against `cosign verify --key` of the same four, and
# `wasmgate discover` of them. wasmgate runs with --no-cache (cold, as cosign
# always is). Each command's registry requests are counted in one more run
# through bench/proxy (no added latency). Needs hyperfine and
# cosign (go install github.com/sigstore/cosign/v3/cmd/cosign@v3.1.3).
source "$(dirname "$0")/lib.sh" referrers
go build -o "$out/seed" ./bench/seed-referrers
(cd "$out" && cosign generate-key-pair >/dev/null 2>&1)
cosign signing-config create --out "$out/sc.json" >/dev/null 2>&1
cosign trusted-root create --out "$out/tr.json" >/dev/null 2>&1
bundle=application/vnd.dev.sigstore.bundle.v0.3+json
cosign_version() { cosign version 2>/dev/null | awk '/GitVersion/ {print $2}'; }
wasmgate_verify() { echo "$out/wasmgate verify $1 --key $out/cosign.pub --insecure-ignore-tlog --format bundle --no-cache"; }
cosign_verify() { echo "cosign verify --key $out/cosign.pub --insecure-ignore-tlog --trusted-root $out/tr.json --allow-http-registry $1"; }
wasmgate_discover() { echo "$out/wasmgate discover --no-cache --no-legacy-tags --artifact-type $bundle $1"; }
args=() cosign_left_out=()
for kind in ggcr distribution; do
	start_registry "$kind" host
	start_proxy "$host" 0 proxy
	fallback=""
	[[ $kind == distribution ]] && fallback=-fallback
	for n in 0 1000; do
		digest=$("$out/wasmgate" push internal/sample/hello.wasm --permissions internal/sample/policy.yaml "$host/bench/u$n:v1")
		ref="$host/bench/u$n@$digest"
		for _ in 1 2 3; do
			cosign sign --key "$out/cosign.key" --signing-config "$out/sc.json" --trusted-root "$out/tr.json" \
				--allow-http-registry -y "$ref" >/dev/null 2>&1
		done
		((n == 0)) || "$out/seed" -plain-http $fallback -relevant 0 -unrelated "$n" "$ref"
		for tool in wasmgate_verify cosign_verify wasmgate_discover; do
			name="${tool/_/ } ($kind, $n unrelated)"
			# word splitting is wanted: the commands hold no quoted arguments
			if ! count=$(count_requests "$proxy" "$name" $($tool "$proxy/bench/u$n@$digest")); then
				[[ $tool == cosign_verify ]] || exit 1
				cosign_left_out+=("$kind") # said in the summary row
				continue
			fi
			case $tool in # what each verifier accepted, as a check: 3 each
			wasmgate_verify) sigs=$(grep -c 'bundle sha256:.*: key' "$out/count.log" || true) ;;
			cosign_verify) sigs=$(grep -o '"docker-manifest-digest"' "$out/count.log" | wc -l) ;;
			*) sigs="" ;;
			esac
			echo "$name: $count registry requests${sigs:+, $sigs signatures verified}"
			args+=(-n "$name" "$($tool "$ref")")
		done
	done
done
hyperfine -N --warmup 3 --runs "$runs" --export-markdown "$out/referrers.md" --export-json "$out/referrers.json" "${args[@]}"
request_column "$out/referrers.md"
cat "$out/referrers.md"
# per_unrelated TOOL KIND: the extra registry requests per unrelated referrer.
per_unrelated() {
	awk -F'\t' -v a="$1 ($2, 0 unrelated)" -v b="$1 ($2, 1000 unrelated)" \
		'$1 == a {x = $2} $1 == b {y = $2} END {printf "%.2f", (y - x) / 1000}' "$out/requests.tsv"
}
rows=()
for kind in ggcr distribution; do
	api="Referrers API; ggcr lists the config type (the empty JSON) as every entry's artifactType, so each must be read to be judged"
	[[ $kind == distribution ]] && api="tag schema index, which names each entry's artifactType"
	note="$api, --no-cache; $(per_unrelated "wasmgate verify" "$kind") requests per unrelated referrer"
	if [[ " ${cosign_left_out[*]} " == *" $kind "* ]]; then
		rows+=("verify, 1,000 unrelated vs 3 referrers ($kind)|wasmgate verify ($kind, 1000 unrelated)|wasmgate verify ($kind, 0 unrelated)|le|2|$note; cosign $(cosign_version) could not verify these bundles here, so no cosign row")
	else
		rows+=("verify, 1,000 unrelated vs 3 referrers ($kind)|wasmgate verify ($kind, 1000 unrelated)|wasmgate verify ($kind, 0 unrelated)|le|2|$note")
		rows+=("cosign verify, 1,000 unrelated vs 3 referrers ($kind), informational|cosign verify ($kind, 1000 unrelated)|cosign verify ($kind, 0 unrelated)|le|2|the peer's own ratio; $(per_unrelated "cosign verify" "$kind") requests per unrelated referrer")
	fi
done
summarize "$out/referrers.json" "${rows[@]}"
