#!/usr/bin/env bash
# bench/discover.sh: `wasmgate discover --artifact-type <sigstore bundle>`
# of an artifact with 3 referrers of that type, alone and among 1,000
# unrelated referrers, on a registry with the Referrers API (ggcr) and one
# without (distribution: the tag schema index). Needs hyperfine.
source "$(dirname "$0")/lib.sh" discover
go build -o "$out/seed" ./bench/seed-referrers
bundle=application/vnd.dev.sigstore.bundle.v0.3+json
args=()
for kind in ggcr distribution; do
	start_registry "$kind" host
	fallback=""
	[[ $kind == distribution ]] && fallback=-fallback
	for n in 0 1000; do
		digest=$("$out/wasmgate" push internal/sample/hello.wasm "$host/bench/r$n:v1")
		"$out/seed" -plain-http $fallback -relevant 3 -unrelated "$n" "$host/bench/r$n@$digest"
		args+=(-n "$kind: 3 referrers among $n unrelated" "$out/wasmgate discover --no-cache --no-legacy-tags --artifact-type $bundle $host/bench/r$n@$digest")
	done
done
hyperfine -N --warmup 3 --runs "$runs" --export-markdown "$out/discover.md" --export-json "$out/discover.json" "${args[@]}"
cat "$out/discover.md"
summarize "$out/discover.json" \
	"discovery, 1,000 unrelated vs 3 (Referrers API, ggcr)|ggcr: 3 referrers among 1000 unrelated|ggcr: 3 referrers among 0 unrelated|le|2|ggcr lists the config media type as artifactType, so each unrelated entry is fetched to be judged" \
	"discovery, 1,000 unrelated vs 3 (tag schema, distribution)|distribution: 3 referrers among 1000 unrelated|distribution: 3 referrers among 0 unrelated|le|2|the fallback index carries each entry's artifactType: unrelated entries are skipped unfetched; the added time is mostly distribution serving a 1,000-entry index on this machine's 2 cores (wasmgate's own parse: ~4 ms by pprof of BenchmarkDiscover)"
