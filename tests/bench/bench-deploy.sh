#!/usr/bin/env bash
# Deploy benchmark (not a timed test): on the demo's blue-green setup (nginx in reload mode,
# two bg-mock pools, a git repository), prints
#   - the overhead of `bg-gate deploy` beyond the pool's cold start (health phase) and the
#     eval (gate phase), from the deploy's own JSON report;
#   - flip time: from starting `bg-gate rollback` to the first of 10 answers in a row through
#     nginx from the new pool, measured by an outside probe; and the time the command took.
#   tests/bench/bench-deploy.sh BG_GATE_BIN BG_MOCK_BIN      (or: make bench)
set -u
gate=$1 mock=$2
export BG_MOCK_BIN=$mock
root=$(cd "$(dirname "$0")/../.." && pwd)
out=$(mktemp -d /tmp/bg-bench-deploy.XXXXXX)
trap 'stop_bluegreen; rm -rf "$out"' EXIT
. "$root/scripts/lib-bluegreen.sh"
start_bluegreen >/dev/null || exit 3

overhead() { # report.json → "total health gate overhead"
    python3 - "$1" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
ph = {p["phase"]: p["duration_s"] for p in r["deploy"]["lifecycle"]}
total = sum(ph.values())
print(f'{total:.2f} {ph.get("health", 0):.2f} {ph.get("gate", 0):.2f} {total - ph.get("health", 0) - ph.get("gate", 0):.2f}')
PY
}
printf '%-10s %8s %9s %8s %11s\n' deploy total_s health_s gate_s overhead_s
for v in v1 v2; do
    write_config "acme-support-$v"; git_commit "$v"
    (cd "$repo" && "$gate" deploy -q --reports "$out/r-$v") || { echo "deploy $v failed"; exit 1; }
    read -r total health gatet over < <(overhead "$out/r-$v/report.json")
    printf '%-10s %8s %9s %8s %11s\n' "$v" "$total" "$health" "$gatet" "$over"
done

probe() { # upstream port → ms from start until the first of 10 answers in a row from it
    local want="127.0.0.1:$1" streak=0 t0 sent first=0
    t0=$(date +%s%N)
    while [ $streak -lt 10 ]; do
        sent=$(date +%s%N)
        up=$(curl -s -o /dev/null -D - "http://127.0.0.1:$router/v1/models" | tr -d '\r' | sed -n 's/^X-BG-Upstream: //p')
        if [ "$up" = "$want" ]; then
            [ $streak -eq 0 ] && first=$sent
            streak=$((streak + 1))
        else
            streak=0
        fi
        [ $(( (sent - t0) / 1000000 )) -gt 10000 ] && break
    done
    echo $(( (first - t0) / 1000000 ))
}
printf '\n%-10s %10s %12s\n' flip visible_ms command_ms
for i in 1 2 3; do
    target=$([ $((i % 2)) -eq 1 ] && echo "$green" || echo "$blue")
    t0=$(date +%s%N)
    probe "$target" >"$out/probe" &
    ppid=$!
    (cd "$repo" && "$gate" rollback -q) || echo "rollback $i failed"
    t1=$(date +%s%N)
    wait $ppid
    printf '%-10s %10s %12s\n' "rollback$i" "$(cat "$out/probe")" $(( (t1 - t0) / 1000000 ))
done
echo "targets: flip visible <= 200 ms (reload mode), deploy overhead <= 1 s"
