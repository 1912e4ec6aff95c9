#!/usr/bin/env bash
# make demo: start bg-mock as a "good" and a "bad" model on 127.0.0.1, gate both with
# `bg-gate eval` on evals/, print the verdicts and where the reports are, then stop the
# mocks (by the PIDs we started). Usage: demo.sh BG_GATE_BIN BG_MOCK_BIN
set -u
gate=$1 mock=$2
root=$(cd "$(dirname "$0")/.." && pwd)
out=${DEMO_OUT:-$root/demo-out}
rm -rf "$out" && mkdir -p "$out"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; }
trap cleanup EXIT INT TERM

start_mock() { # name table → sets url_<name>
    local name=$1 table=$2
    "$mock" --port 0 --port-file "$out/$name.port" --answers "$table" \
        --latency-ms 15 --jitter-ms 10 --token-ms 2 --request-log "$out/$name.requests.jsonl" \
        2>"$out/$name.log" &
    pids+=($!)
    for _ in $(seq 100); do [ -s "$out/$name.port" ] && break; sleep 0.05; done
    [ -s "$out/$name.port" ] || { echo "bg-mock $name did not start:"; cat "$out/$name.log"; exit 3; }
    printf -v "url_$name" 'http://127.0.0.1:%s/v1' "$(cat "$out/$name.port")"
}

start_mock good "$root/tests/mock/models/good.json"
start_mock bad "$root/tests/mock/models/bad.json"

verdicts=()
for name in good bad; do
    url_var="url_$name"
    echo
    echo "== bg-gate eval against the $name model (${!url_var}) =="
    "$gate" eval --endpoint "${!url_var}" --suite "$root/evals" --concurrency 8 \
        --threshold pass_rate=1 --threshold p95_ms=2000 --reports "$out/$name" --no-progress
    rc=$?
    verdicts+=("$name model: exit $rc ($( [ $rc -eq 0 ] && echo passed || echo 'gate said no' ))")
done

echo
echo "== demo summary =="
printf '  %s\n' "${verdicts[@]}"
echo "  reports: $out/good/ and $out/bad/ (junit.xml, report.json, summary.md, metrics.txt)"
# the demo succeeds when the good model passes and the bad one is stopped by the gate
[[ ${verdicts[0]} == *"exit 0"* && ${verdicts[1]} == *"exit 1"* ]]
