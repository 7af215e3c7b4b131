#!/usr/bin/env bash
# bench/apply.sh: `wasmgate apply` of 50 components (each the 2.3 MB sample
# module with its policy, in its own repository, signed) against applying
# the slowest single one of them alone. Every run starts from an empty
# directory (nothing is "present"). Measured twice: on loopback (the blob
# cache warm from the warm-up runs), then with --no-cache through
# bench/proxy, which adds 10 ms before each registry request (each command's
# requests counted in one more run). Needs hyperfine.
source "$(dirname "$0")/lib.sh" apply
start_registry distribution host
start_proxy "$host" 10ms slow
"$out/wasmgate" generate-key-pair --output-key-prefix "$out/release" >/dev/null
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
all="$out/all.yaml"
printf 'version: v1\npolicy: trust.yaml\ncomponents:\n' >"$all"
for i in $(seq -w 1 50); do
	ref="$host/bench/c$i:v1"
	digest=$("$out/wasmgate" push internal/sample/hello.wasm --permissions internal/sample/policy.yaml "$ref")
	"$out/wasmgate" sign --key "$out/release.key" "$ref" >/dev/null
	entry="  - name: c$i\n    ref: $host/bench/c$i@$digest\n    grants: {dirs: [\"/data\"], env: {GREETING: hi}}\n"
	printf "$entry" >>"$all"
	printf "version: v1\npolicy: trust.yaml\ncomponents:\n$entry" >"$out/one-$i.yaml"
done
# The same files naming the proxy: same repositories, digests and signatures.
for f in "$all" "$out"/one-*.yaml; do
	sed "s|$host/|$slow/|" "$f" >"${f%.yaml}-slow.yaml"
done
args=(-n "apply 50 components" "$out/wasmgate apply -f $all --dir $out/components")
for i in 01 25 50; do
	args+=(-n "apply 1 component (c$i)" "$out/wasmgate apply -f $out/one-$i.yaml --dir $out/components")
done
hyperfine -N --warmup 2 --runs "$runs" --prepare "rm -rf $out/components" \
	--export-markdown "$out/apply.md" --export-json "$out/apply.json" "${args[@]}"
cat "$out/apply.md"
slowest() {
	python3 -c '
import json, statistics, sys
r = {x["command"]: statistics.median(x["times"]) for x in json.load(open(sys.argv[1]))["results"] if x["command"].startswith("apply 1 ")}
print(max(r, key=r.get))' "$1"
}
summarize "$out/apply.json" \
	"apply of 50 components vs the slowest single one|apply 50 components|$(slowest "$out/apply.json")|le|3|CPU-bound on loopback: 50 × 2.3 MB hashed and written, on $(nproc) cores"

args=(-n "apply 50 components (10 ms)" "$out/wasmgate apply -f $out/all-slow.yaml --dir $out/components --no-cache")
for i in 01 25 50; do
	args+=(-n "apply 1 component (c$i, 10 ms)" "$out/wasmgate apply -f $out/one-$i-slow.yaml --dir $out/components --no-cache")
done
for ((j = 1; j < ${#args[@]}; j += 3)); do
	rm -rf "$out/components"
	echo "${args[j]}: $(count_requests "$slow" "${args[j]}" ${args[j + 1]}) registry requests"
done
# Where the CPU of the 50 goes: the registry and the proxy share the machine.
server_cpu() { # clock ticks used so far by the registry and the proxy
	local t=0 p
	for p in "${registry_pids[@]}"; do t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat"))); done
	echo "$t"
}
rm -rf "$out/components"
before=$(server_cpu) user=? sys=?
if [[ -x /usr/bin/time ]]; then
	/usr/bin/time -f "%U %S" -o "$out/apply-cpu.txt" ${args[2]} >/dev/null
	read -r user sys <"$out/apply-cpu.txt"
else
	${args[2]} >/dev/null
fi
server_ms=$((($(server_cpu) - before) * 1000 / $(getconf CLK_TCK)))
echo "apply 50 components (10 ms): wasmgate ${user} s user + ${sys} s system; registry + proxy ${server_ms} ms of CPU"
hyperfine -N --warmup 1 --runs "$runs" --prepare "rm -rf $out/components" \
	--export-markdown "$out/apply-latency.md" --export-json "$out/apply-latency.json" "${args[@]}"
request_column "$out/apply-latency.md"
cat "$out/apply-latency.md"
summarize "$out/apply-latency.json" \
	"apply of 50 vs one, 10 ms registry latency|apply 50 components (10 ms)|$(slowest "$out/apply-latency.json")|le|3|--no-cache, through bench/proxy: 10 ms before each request; the 50 components share one registry, whose CPU (with the proxy's: ${server_ms} ms) shares the $(nproc) cores with wasmgate's (${user} s user, ${sys} s system, mostly writing 115 MB of files)"
