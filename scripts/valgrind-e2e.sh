#!/usr/bin/env bash
# Runs bg-gate itself under valgrind against bg-mock (good model, and a bad one that also
# injects 500s, malformed bodies and truncated streams), streamed and not: any leak or
# memory error fails. Usage: valgrind-e2e.sh BG_GATE_BIN BG_MOCK_BIN
set -u
# output must not change with the CI job this runs in (GITHUB_ACTIONS, GITLAB_CI)
unset GITHUB_ACTIONS GITLAB_CI BG_GATE_CI
gate=$1 mock=$2
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/bg-valgrind.XXXXXX)
pids=()
cleanup() {
    declare -F stop_bluegreen >/dev/null && stop_bluegreen
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
    rm -rf "$work"
}
trap cleanup EXIT
# shellcheck disable=SC2054 # the commas belong to valgrind's option values
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
# the blue-green lifecycle under valgrind: deploy, a gate failure (with restore), another
# deploy, rollback, status, abort, decommission, resolve --against live
export BG_MOCK_BIN=$mock
out="$work/bluegreen"; mkdir -p "$out"
. "$root/scripts/lib-bluegreen.sh"
if [ -x /usr/sbin/nginx ] && start_bluegreen >/dev/null; then
    check() { # name expected-exit cmd...
        local name=$1 want=$2; shift 2
        (cd "$repo" && "${vg[@]}" "$gate" "$@" -q >/dev/null 2>"$work/$name.err")
        local rc=$?
        if [ $rc -eq "$want" ]; then echo "  valgrind: $name: clean (exit $rc)"; passed=$((passed + 1))
        else echo "  valgrind: $name: exit $rc (wanted $want)"; cat "$work/$name.err"; failed=$((failed + 1)); fi
    }
    write_config acme-support-v1; git_commit v1; check deploy-v1 0 deploy
    write_config acme-support-bad; git_commit bad; check deploy-bad 1 deploy
    write_config acme-support-v2; git_commit v2; check deploy-v2 0 deploy
    check rollback 0 rollback
    check status 0 status --json
    check abort 0 abort
    check decommission 0 decommission
    (cd "$repo" && "${vg[@]}" "$gate" resolve --against live >/dev/null 2>&1) && passed=$((passed + 1)) || failed=$((failed + 1))
    # a canary ramp (live analysis, probes, pause, promote --step) and a gate with the live
    # pool as its baseline; the live pool serves acme-support-v1 after the rollback
    PROMOTION_EXTRA='"strategy": "canary", "steps": [50, 100], "bake_s": 1, "analysis": {"interval_s": 1, "inconclusive_limit_s": 30, "checks": [{"metric": "e2e_p95_s", "max_ratio_to_old": 10, "min_samples": 1}]}, "probes": {"suite": "evals/smoke.jsonl", "rate": 10}'
    write_config acme-support-v1 v1-canary
    python3 - "$repo/bg-gate.json" <<'PY'
import json, sys
p = sys.argv[1]; c = json.load(open(p)); c["gate"]["baseline"] = "live"
c["gate"]["thresholds"]["max_latency_ratio"] = 50; json.dump(c, open(p, "w"))
PY
    git_commit v1-canary
    check canary-pause 0 deploy --pause-at 50
    check canary-step 0 promote --step
    unset PROMOTION_EXTRA
    stop_bluegreen
else
    echo "  valgrind: SKIPPED the blue-green cycle: nginx is missing or did not start"
fi
echo "valgrind e2e: $passed passed, $failed failed"
[ $failed -eq 0 ]
