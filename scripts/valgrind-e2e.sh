#!/usr/bin/env bash
# Runs bg-gate itself under valgrind against bg-mock (good model, and a bad one that also
# injects 500s, malformed bodies and truncated streams), streamed and not: any leak or
# memory error fails. Usage: valgrind-e2e.sh BG_GATE_BIN BG_MOCK_BIN
set -u
gate=$1 mock=$2
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/bg-valgrind.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; rm -rf "$work"; }
trap cleanup EXIT
vg=(valgrind -q --leak-check=full --show-leak-kinds=definite,indirect
    --errors-for-leak-kinds=definite,indirect --error-exitcode=99)
failed=0; passed=0
run() { # name table mock-args... -- gate-args...
    local name=$1 table=$2; shift 2
    local margs=() ; while [ "$1" != -- ]; do margs+=("$1"); shift; done; shift
    "$mock" --port 0 --port-file "$work/$name.port" --answers "$root/$table" "${margs[@]}" \
        >/dev/null 2>"$work/$name.log" &
    pids+=($!)
    for _ in $(seq 200); do [ -s "$work/$name.port" ] && break; sleep 0.02; done
    "${vg[@]}" "$gate" eval --endpoint "http://127.0.0.1:$(cat "$work/$name.port")/v1" \
        --suite "$root/evals" --reports "$work/$name-reports" --no-progress -q "$@" >/dev/null
    local rc=$?
    if [ $rc -eq 99 ] || [ $rc -gt 3 ]; then
        echo "  valgrind: $name: exit $rc"; failed=$((failed + 1))
    else
        echo "  valgrind: $name: clean (exit $rc)"; passed=$((passed + 1))
    fi
}
run good tests/mock/models/good.json -- --stream
run bad-errors tests/mock/models/bad.json --error-rate 0.3 --error-kinds 500,malformed,truncate -- --stream
run bad-whole tests/mock/models/bad.json --error-rate 0.3 --error-kinds 500,malformed,truncate -- --no-stream
echo "valgrind e2e: $passed passed, $failed failed"
[ $failed -eq 0 ]
