#!/usr/bin/env bash
# make demo — the whole story on one machine, on 127.0.0.1 only:
#   1. bg-mock as a "good" and a "bad" model; `bg-gate eval` on evals/ against each.
#   2. Blue-green with the real nginx: two bg-mock pools restarted by a pool script (as
#      `docker compose up -d vllm-green` would be), releases committed to a git repository:
#      deploy a first release, a better one (promoted, traffic verified), a bad one
#      (stopped by the gate, live untouched), roll back, print `status`.
# It stops everything it started (by PID). Usage: demo.sh BG_GATE_BIN BG_MOCK_BIN
set -u
gate=$1 mock=$2
export BG_MOCK_BIN=$mock
root=$(cd "$(dirname "$0")/.." && pwd)
out=${DEMO_OUT:-$root/demo-out}
rm -rf "$out" && mkdir -p "$out"
pids=()
cleanup() {
    declare -F stop_bluegreen >/dev/null && stop_bluegreen
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
}
trap cleanup EXIT INT TERM
say() { printf '\n\033[1m== %s ==\033[0m\n' "$*"; }
[ -n "${NO_COLOR:-}" ] && say() { printf '\n== %s ==\n' "$*"; }

# ---------------------------------------------------------------- part 1: eval
start_mock() { # name table → sets url_<name>
    local name=$1 table=$2
    "$mock" --port 0 --port-file "$out/$name.port" --answers "$table" \
        --latency-ms 15 --jitter-ms 10 --token-ms 2 2>"$out/$name.log" &
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
    say "bg-gate eval against the $name model (${!url_var})"
    "$gate" eval --endpoint "${!url_var}" --suite "$root/evals" --concurrency 8 \
        --threshold pass_rate=1 --threshold p95_ms=2000 --reports "$out/eval-$name" --no-progress
    verdicts+=("eval, $name model: exit $?")
done

# ---------------------------------------------------------------- part 2: blue-green
. "$root/scripts/lib-bluegreen.sh"

say "starting blue (the model in production before bg-gate) and nginx on 127.0.0.1:$router"
start_bluegreen || exit 3
ask() { curl -s -D - -o "$out/answer.json" -H 'Content-Type: application/json' \
        -d '{"model":"any","messages":[{"role":"user","content":"What is the capital of France?"}]}' \
        "http://127.0.0.1:$router/v1/chat/completions" | tr -d '\r' | sed -n 's/^X-BG-Upstream: /    answered by upstream /p'
        sed -n 's/.*"model":"\([^"]*\)".*/    model: \1/p' "$out/answer.json"; }
sleep 1; ask

step() { # title tag served commit-message
    write_config "$3"; git_commit "$4"
    say "$1"
    (cd "$repo" && "$gate" resolve --against HEAD~1 2>/dev/null | sed -n '/^against/,$p')
    (cd "$repo" && "$gate" deploy --reports "$out/deploy-$2")
    local rc=$?
    verdicts+=("deploy $2 ($3): exit $rc")
    ask
}
write_config acme-support-v1; git_commit "release v1"
say "deploy release v1 (first deploy: to the idle pool, green)"
(cd "$repo" && "$gate" deploy --reports "$out/deploy-v1"); verdicts+=("deploy v1: exit $?"); ask
step "deploy release v2 (a better model: promoted to blue, traffic verified)" v2 acme-support-v2 "release v2"
step "deploy a bad release (the gate stops it; live traffic untouched)" bad acme-support-bad "bad release"
say "roll back to the warm previous pool"
(cd "$repo" && "$gate" rollback); verdicts+=("rollback: exit $?"); ask
say "bg-gate status"
(cd "$repo" && "$gate" status)

# a canary: the same served name, a new revision; each step baked and analysed live
# (both pools' /metrics, probes through nginx), paused at 10 % to look at it
export PROMOTION_EXTRA='"strategy": "canary", "steps": [10, 50, 100], "bake_s": 2, "analysis": {"interval_s": 1, "inconclusive_limit_s": 20, "checks": [{"metric": "e2e_p95_s", "max_ratio_to_old": 3, "min_samples": 3}]}, "probes": {"suite": "evals/smoke.jsonl", "rate": 60}'
write_config acme-support-v1 v1.1; git_commit "release v1.1 (canary)"
unset PROMOTION_EXTRA
say "deploy release v1.1 as a canary, paused once 10 % has baked"
(cd "$repo" && "$gate" deploy --pause-at 10 --reports "$out/deploy-canary"); verdicts+=("canary to 10 %: exit $?")
(cd "$repo" && "$gate" status | sed -n '/^router/p;/^canary/,/^last/p')
say "promote --full: the rest of the ramp, verified through nginx"
(cd "$repo" && "$gate" promote --full); verdicts+=("promote --full: exit $?"); ask

say "demo summary"
printf '  %s\n' "${verdicts[@]}"
echo "  reports: $out/eval-*/ and $out/deploy-*/ (junit.xml, report.json, summary.md, metrics.txt)"
expected=("eval, good model: exit 0" "eval, bad model: exit 1" "deploy v1: exit 0"
          "deploy v2 (acme-support-v2): exit 0" "deploy bad (acme-support-bad): exit 1" "rollback: exit 0"
          "canary to 10 %: exit 0" "promote --full: exit 0")
[ "${verdicts[*]}" = "${expected[*]}" ] || { echo "demo: unexpected outcome"; exit 1; }
