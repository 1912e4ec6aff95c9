#!/usr/bin/env bash
# Deploy benchmark (not a timed test). For each nginx mode (reload, then hitless when Debian's
# Lua module is installed), on the demo's blue-green setup (two bg-mock pools, nginx, a git
# repository), prints
#   - the overhead of `bg-gate deploy` beyond the pool's cold start (health phase) and the
#     eval (gate phase), from the deploy's own JSON report;
#   - flip time: from starting `bg-gate promote` to the first of 10 answers in a row through
#     nginx from the new pool, seen by an outside probe; and how long the command took
#     (it goes on to verify through the router and drain the old pool after the flip).
#   tests/bench/bench-deploy.sh BG_GATE_BIN BG_MOCK_BIN      (or: make bench)
set -u
gate=$1 mock=$2
export BG_MOCK_BIN=$mock
root=$(cd "$(dirname "$0")/../.." && pwd)
base=$(mktemp -d /tmp/bg-bench-deploy.XXXXXX)
chmod 755 "$base"   # nginx workers (user nobody) read the hitless weights file under it
trap 'rm -rf "$base"' EXIT
LUA_MODULE=/usr/lib/nginx/modules/ngx_http_lua_module.so

overhead() { # report.json → "total health gate overhead"
    python3 - "$1" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
ph = {p["phase"]: p["duration_s"] for p in r["deploy"]["lifecycle"]}
total = sum(ph.values())
print(f'{total:.2f} {ph.get("health", 0):.2f} {ph.get("gate", 0):.2f} {total - ph.get("health", 0) - ph.get("gate", 0):.2f}')
PY
}

flip() { # upstream port → "visible_ms command_ms" of one `bg-gate promote`
    # The probe starts promote itself, so both clocks start together. It sends requests
    # in-process, each on a new connection (as a client that does not reuse one would),
    # ~1 ms apart; visible = the send time of the first of 10 answers in a row from the
    # new pool. (A curl process per request takes tens of ms to start: a poor clock.)
    (cd "$repo" && python3 - "$router" "127.0.0.1:$1" "$gate" <<'PY'
import http.client, subprocess, sys, time
port, want, gate = int(sys.argv[1]), sys.argv[2], sys.argv[3]
t0 = time.monotonic()
cmd = subprocess.Popen([gate, "promote", "-q"])
streak, first, took = 0, None, None
while (streak < 10 or took is None) and time.monotonic() - t0 < 30:
    if took is None and cmd.poll() is not None:
        took = time.monotonic() - t0
    if streak >= 10:
        time.sleep(0.005)
        continue
    sent = time.monotonic()
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        c.request("GET", "/v1/models")
        r = c.getresponse()
        r.read()
        up = r.getheader("X-BG-Upstream")
        c.close()
    except OSError:
        up = None
    if up == want:
        if streak == 0:
            first = sent
        streak += 1
    else:
        streak = 0
    time.sleep(0.001)
vis = f"{1000 * (first - t0):.0f}" if streak >= 10 else "timeout"
fail = "" if cmd.wait() == 0 else " (promote failed)"
print(f"{vis} {1000 * took:.0f}{fail}" if took is not None else f"{vis} timeout")
PY
    )
}

bench_mode() { # reload|hitless: deploys v1 and v2, then 6 promotes back and forth
    ROUTER_MODE=$1
    out="$base/$1"
    mkdir -p "$out"
    # shellcheck source=scripts/lib-bluegreen.sh
    . "$root/scripts/lib-bluegreen.sh"
    trap 'stop_bluegreen' RETURN
    start_bluegreen >/dev/null || { echo "$1: setup failed"; return 3; }
    printf '\nnginx mode %s\n%-10s %8s %9s %8s %11s\n' "$1" deploy total_s health_s gate_s overhead_s
    for v in v1 v2; do
        write_config "acme-support-$v"; git_commit "$v"
        (cd "$repo" && "$gate" deploy -q --reports "$out/r-$v") || { echo "deploy $v failed"; return 1; }
        read -r total health gatet over < <(overhead "$out/r-$v/report.json")
        printf '%-10s %8s %9s %8s %11s\n' "$v" "$total" "$health" "$gatet" "$over"
    done
    printf '%-10s %10s %12s\n' flip visible_ms command_ms
    for i in 1 2 3 4 5 6; do   # v1 went to green, v2 to blue: promote green, blue, green, …
        target=$([ $((i % 2)) -eq 1 ] && echo "$green" || echo "$blue")
        read -r visible took rest < <(flip "$target")
        printf '%-10s %10s %12s %s\n' "promote$i" "$visible" "$took" "${rest:-}"
    done
}

for mode in ${BENCH_MODES:-reload hitless}; do   # BENCH_MODES=hitless: one mode only
    if [ "$mode" = hitless ] && [ ! -f "$LUA_MODULE" ]; then
        echo "nginx mode hitless: skipped ($LUA_MODULE missing: apt-get install libnginx-mod-http-lua)"
        continue
    fi
    (bench_mode "$mode") || exit $?
done
echo "targets: flip visible <= 200 ms (reload), <= 50 ms (hitless); deploy overhead <= 1 s"
