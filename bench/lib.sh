# bench/lib.sh: shared set-up of the bench scripts (sourced). Builds the
# binaries into $out, isolates HOME, Docker config and the wasmgate cache
# in $out, starts a registry on loopback (start_registry KIND), a counting,
# latency-injecting proxy in front of one (start_proxy, count_requests), and
# puts GOPATH/bin on PATH for the peers installed with go install.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export GOTOOLCHAIN=local
runs=${RUNS:-15}
summary=${SUMMARY:-}
out=bench/out/$1
rm -rf "$out" && mkdir -p "$out"
out=$(cd "$out" && pwd)
export PATH="$(go env GOPATH)/bin:$PATH"
# Keep Go's caches where they are when HOME moves below (builds stay warm).
export GOPATH="$(go env GOPATH)" GOCACHE="$(go env GOCACHE)" GOMODCACHE="$(go env GOMODCACHE)"
go build -o "$out/wasmgate" ./cmd/wasmgate
go build -o "$out/testregistry" ./cmd/wasmgate-testregistry
# Only now isolate the tools from the user's files (go build needs HOME's caches).
export HOME="$out/home" DOCKER_CONFIG="$out/docker" WASMGATE_CACHE="$out/cache" COSIGN_PASSWORD= XDG_CONFIG_HOME="$out/config"
mkdir -p "$HOME"
registry_pids=()
trap 'for p in "${registry_pids[@]}"; do kill "$p" 2>/dev/null || true; done' EXIT

# start_registry KIND NAME: runs distribution or ggcr on 127.0.0.1 and sets
# the variable NAME to its host:port.
start_registry() {
	local kind=$1 name=$2 addr="$out/registry-$1.addr"
	"$out/testregistry" -kind "$kind" -addr 127.0.0.1:0 >"$addr" &
	registry_pids+=($!)
	for _ in $(seq 100); do [[ -s "$addr" ]] && break; sleep 0.1; done
	printf -v "$name" '%s' "$(head -1 "$addr")"
	export WASMGATE_PLAIN_HTTP="${WASMGATE_PLAIN_HTTP:+$WASMGATE_PLAIN_HTTP,}$(head -1 "$addr")"
}

# start_proxy UPSTREAM_HOST LATENCY NAME: runs bench/proxy on 127.0.0.1 in
# front of the registry at UPSTREAM_HOST (host:port), waiting LATENCY (20ms,
# 0) before forwarding each request, and sets the variable NAME to its
# host:port. References through it name that host instead of the registry's.
start_proxy() {
	local upstream=$1 latency=$2 name=$3 addr
	addr=$(mktemp "$out/proxy.XXXX.addr")
	[[ -x $out/proxy ]] || go build -o "$out/proxy" ./bench/proxy
	"$out/proxy" -listen 127.0.0.1:0 -upstream "http://$upstream" -latency "$latency" -addr-file "$addr" &
	registry_pids+=($!)
	for _ in $(seq 100); do [[ -s "$addr" ]] && break; sleep 0.1; done
	printf -v "$name" '%s' "$(head -1 "$addr")"
	export WASMGATE_PLAIN_HTTP="${WASMGATE_PLAIN_HTTP:+$WASMGATE_PLAIN_HTTP,}$(head -1 "$addr")"
}

# count_requests PROXY NAME CMD...: runs CMD once with the request count of
# the proxy at PROXY zeroed first, prints how many requests it forwarded and
# records them for NAME (a hyperfine command name) in $out/requests.tsv,
# which summarize and request_column read. CMD must succeed.
count_requests() {
	local proxy=$1 name=$2 n
	shift 2
	curl -fsS --noproxy '*' -X POST "http://$proxy/_proxy/reset"
	"$@" >"$out/count.log" 2>&1 || { echo "count_requests: $name failed:" >&2; cat "$out/count.log" >&2; return 1; }
	n=$(curl -fsS --noproxy '*' "http://$proxy/_proxy/count")
	printf '%s\t%s\n' "$name" "$n" >>"$out/requests.tsv"
	echo "$n"
}

# request_column HYPERFINE_MARKDOWN: adds the registry requests recorded by
# count_requests to hyperfine's markdown table, as a last column.
request_column() {
	python3 bench/summary.py --markdown "$1" "$out/requests.tsv"
}

# summarize HYPERFINE_JSON 'LABEL|OURS|PEER|le|TARGET|NOTE'...: appends rows
# to $SUMMARY (bench/run collects them) and prints them.
summarize() {
	local json=$1
	shift
	python3 bench/summary.py "$json" "${summary:-$out/summary.json}" "$@"
}

# notation_pki DIR CONFIG: a CA and a code-signing leaf made with openssl in
# DIR (leaf.key, chain.pem), and a Notation configuration directory CONFIG
# (truststore/x509/ca/bench, trustpolicy.json) that trusts the CA for every
# repository, as `notation cert add` and a strict trust policy would leave it.
notation_pki() {
	local n=$1 config=$2
	mkdir -p "$n" "$config/truststore/x509/ca/bench"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$n/ca.key" -out "$n/ca.crt" -days 2 \
		-subj "/CN=bench CA/O=acme" -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign" 2>/dev/null
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$n/leaf.key" -out "$n/leaf.csr" -subj "/CN=bench signer/O=acme" 2>/dev/null
	printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=codeSigning\n' >"$n/leaf.ext"
	openssl x509 -req -in "$n/leaf.csr" -CA "$n/ca.crt" -CAkey "$n/ca.key" -CAcreateserial -days 1 -extfile "$n/leaf.ext" -out "$n/leaf.crt" 2>/dev/null
	cat "$n/leaf.crt" "$n/ca.crt" >"$n/chain.pem"
	cp "$n/ca.crt" "$config/truststore/x509/ca/bench/ca.pem"
	cat >"$config/trustpolicy.json" <<'JSON'
{"version": "1.0", "trustPolicies": [{"name": "bench", "registryScopes": ["*"],
  "signatureVerification": {"level": "strict"}, "trustStores": ["ca:bench"], "trustedIdentities": ["*"]}]}
JSON
}
