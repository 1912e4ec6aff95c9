#!/usr/bin/env bash
# HAProxy router benchmark (not a timed test): starts two bg-mock pools and Debian's HAProxy
# with the documented configuration (docs/haproxy.cfg, pointed at a temp dir and loopback
# ports) and runs tests/bench/bench_router through bg-gate's "haproxy" driver:
#   - 50 flips: set() until HAProxy's reply, and from the reply to the first answer through
#     HAProxy from the new pool (target: <= 10 ms);
#   - canary steps 1/25/50/75 %: the split realized over the 200 and 2,000 answers right
#     after each step.
#   tests/bench/bench-haproxy.sh BG_GATE_BUILD_DIR BG_MOCK_BIN     (or: make bench)
set -u
build=$1 mock=$2
root=$(cd "$(dirname "$0")/../.." && pwd)
bench=$build/tests/bench/bench_router
[ -x /usr/sbin/haproxy ] || { echo "bench-haproxy: haproxy is not installed"; exit 0; }
[ -x "$bench" ] || { echo "bench-haproxy: $bench missing (make $bench)"; exit 2; }
out=$(mktemp -d /tmp/bg-bench-haproxy.XXXXXX)
pids=()
cleanup() {
    [ -f "$out/haproxy.pid" ] && kill "$(cat "$out/haproxy.pid")" 2>/dev/null
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
    rm -rf "$out"
}
trap cleanup EXIT
port() { # a free port below the ephemeral range
    local p low
    read -r low _ </proc/sys/net/ipv4/ip_local_port_range
    while :; do
        p=$((15000 + RANDOM % (low - 15000)))
        (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
    done
}
for pool in blue green; do
    "$mock" --port 0 --port-file "$out/$pool.port" --model "$pool-model" >/dev/null 2>&1 &
    pids+=($!)
done
for _ in $(seq 200); do [ -s "$out/blue.port" ] && [ -s "$out/green.port" ] && break; sleep 0.02; done
blue=$(cat "$out/blue.port") green=$(cat "$out/green.port") front=$(port)
sed -e "s#/run/haproxy/admin.sock mode 660#$out/admin.sock mode 600#" \
    -e "s#127.0.0.1:8080#127.0.0.1:$front#" -e "s#10.0.0.11:8000#127.0.0.1:$blue#" \
    -e "s#10.0.0.21:8000#127.0.0.1:$green#" "$root/docs/haproxy.cfg" >"$out/haproxy.cfg"
/usr/sbin/haproxy -f "$out/haproxy.cfg" -D -p "$out/haproxy.pid" || { echo "haproxy did not start"; exit 3; }
for _ in $(seq 200); do [ -S "$out/admin.sock" ] && break; sleep 0.02; done
cat >"$out/config.json" <<JSON
{"pools": {"blue": {"endpoints": ["http://127.0.0.1:$blue/v1"]},
           "green": {"endpoints": ["http://127.0.0.1:$green/v1"]}},
 "router": {"driver": "haproxy", "runtime_api": "unix:$out/admin.sock",
            "state_file": "$out/weights.json", "endpoint": "http://127.0.0.1:$front/v1",
            "upstream_header": "X-BG-Upstream"}}
JSON
echo "== HAProxy $(/usr/sbin/haproxy -v | head -1 | awk '{print $3}') (docs/haproxy.cfg), bg-mock pools"
"$bench" "$out/config.json" 50
