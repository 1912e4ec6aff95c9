#!/usr/bin/env bash
# test-junit.sh — bg-gate's JUnit report read by real consumers: `bg-gate eval` against
# bg-mock serving the good and the bad model (tests/mock/models/), each JUnit file
# validated with xmllint against the Jenkins JUnit XSD (tests/fixtures/junit/) and parsed
# with junitparser (check_junit.py): test and failure counts per suite, failure messages,
# the file/line attributes CI annotations point at, the thresholds suite, exit codes.
# Usage: tests/ci/junit/test-junit.sh BG_GATE_BIN BG_MOCK_BIN
# Needs (Debian): libxml2-utils, python3-junitparser (run with /usr/bin/python3).
# Talks only to 127.0.0.1; starts its bg-mock servers itself and stops them by PID.
set -euo pipefail

[ $# -eq 2 ] || { echo "usage: $0 BG_GATE_BIN BG_MOCK_BIN" >&2; exit 2; }
abs() { echo "$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"; }
gate=$(abs "$1") mock=$(abs "$2")
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
xsd=$root/tests/fixtures/junit/jenkins-junit.xsd
python=/usr/bin/python3

work=$(mktemp -d /tmp/bg-junit-test.XXXXXX)
pids=()
cleanup() {
    local p
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

passed=0 failed=0
ok() { echo "ok - $*"; passed=$((passed + 1)); }
not_ok() { echo "not ok - $*"; failed=$((failed + 1)); }

command -v xmllint >/dev/null || { echo "$0: xmllint missing (apt-get install libxml2-utils)" >&2; exit 2; }
"$python" -c 'import junitparser' 2>/dev/null ||
    { echo "$0: junitparser missing (apt-get install python3-junitparser)" >&2; exit 2; }

start_mock() { # name table → prints the base URL
    local name=$1 table=$2
    "$mock" --port 0 --port-file "$work/$name.port" --answers "$root/$table" \
        >"$work/$name.log" 2>&1 &
    pids+=($!)
    local _
    for _ in $(seq 200); do [ -s "$work/$name.port" ] && break; sleep 0.025; done
    [ -s "$work/$name.port" ] || { echo "bg-mock $name did not start:" >&2; cat "$work/$name.log" >&2; exit 2; }
}

# the case count of each suite, from bg-gate validate
counts=()
for s in evals/golden.jsonl evals/smoke.jsonl; do
    n=$(cd "$root" && "$gate" validate --suite "$s" --json -q | sed -n 's/.*"cases":\([0-9]*\).*/\1/p')
    counts+=("$s=$n")
done

for model in good bad; do
    start_mock "$model" "tests/mock/models/$model.json"
    url="http://127.0.0.1:$(cat "$work/$model.port")/v1"
    junit=$work/$model-junit.xml
    rc=0
    # from the repository root with relative suites, as CI runs it: file="evals/…"
    (cd "$root" && timeout 60 "$gate" eval --endpoint "$url" --suite evals/golden.jsonl \
        --suite evals/smoke.jsonl --threshold pass_rate=1 --threshold p95_ms=2000 \
        --junit "$junit" --json-report "$work/$model-report.json" --no-progress -q) \
        >"$work/$model-eval.log" 2>&1 || rc=$?
    want=0; [ "$model" = bad ] && want=1
    if [ $rc -eq $want ]; then ok "$model model: bg-gate eval exits $rc"
    else not_ok "$model model: bg-gate eval exits $rc, wanted $want"; sed 's/^/    /' "$work/$model-eval.log"; fi
    if [ ! -s "$junit" ]; then not_ok "$model model: no JUnit file written"; continue; fi
    if xmllint --noout --schema "$xsd" "$junit" >"$work/$model-xmllint.log" 2>&1; then
        ok "$model model: JUnit validates against $(basename "$xsd") (xmllint)"
    else
        not_ok "$model model: JUnit does not validate against $(basename "$xsd")"; sed 's/^/    /' "$work/$model-xmllint.log"
    fi
    out=$("$python" "$here/check_junit.py" "$model" "$junit" "$work/$model-report.json" "${counts[@]}" 2>&1) || true
    echo "$out"
    passed=$((passed + $(grep -c '^ok - ' <<<"$out" || true)))
    n_bad=$(grep -c '^not ok - ' <<<"$out" || true)
    failed=$((failed + n_bad))
    if ! grep -q '^ok - ' <<<"$out" && [ "$n_bad" -eq 0 ]; then not_ok "$model model: check_junit.py ran: $out"; fi
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
