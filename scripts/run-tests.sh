#!/usr/bin/env bash
# Runs Check test binaries and prints one closing line "tests: N passed, N failed".
# Usage: run-tests.sh "ENV=VALUE ..." BIN... ; VALGRIND=1 runs each under valgrind
# (leaks are errors). A binary that crashes or exits non-zero counts as failed.
# Tests print "SKIPPED <test>: <why>" when a tool they drive (nginx, HAProxy, wrk, git, the
# Lua module) is missing. `make test` installs them all and sets BG_TESTS_NO_SKIP=1, so
# there a skip is a failure: the suite must not pass without having run.
set -u
env_words=$1; shift
passed=0; failed=0; bad=(); skipped=0
for bin in "$@"; do
    name=${bin##*/}
    log=$(mktemp)
    cmd=("$bin")
    if [ "${VALGRIND:-0}" = 1 ]; then
        # shellcheck disable=SC2054 # the commas belong to valgrind's option values
        cmd=(valgrind -q --leak-check=full --show-leak-kinds=definite,indirect
             --errors-for-leak-kinds=definite,indirect --error-exitcode=99 "$bin")
    fi
    # shellcheck disable=SC2086
    env $env_words "${cmd[@]}" >"$log" 2>&1
    rc=$?
    summary=$(grep -E '^[0-9]+%: Checks: ' "$log" | tail -n 1)
    checks=$(sed -nE 's/.*Checks: ([0-9]+).*/\1/p' <<<"$summary")
    fails=$(sed -nE 's/.*Failures: ([0-9]+), Errors: ([0-9]+).*/\1+\2/p' <<<"$summary")
    checks=${checks:-0}; fails=$(( ${fails:-0} ))
    skips=$(grep -c '^SKIPPED ' "$log")
    skipped=$(( skipped + skips ))
    if [ "$skips" -gt 0 ]; then
        grep '^SKIPPED ' "$log" | sed 's/^/    /'
        if [ "${BG_TESTS_NO_SKIP:-0}" = 1 ]; then
            fails=$(( fails + skips ))
            bad+=("$name (skipped $skips with BG_TESTS_NO_SKIP=1)")
        fi
    fi
    if [ $rc -ne 0 ] || [ -z "$summary" ]; then
        [ $fails -eq 0 ] && fails=1
        cat "$log"
        bad+=("$name (exit $rc)")
    elif [ "${VERBOSE_TESTS:-0}" = 1 ]; then
        cat "$log"
    fi
    passed=$(( passed + checks - (fails > checks ? checks : fails) ))
    failed=$(( failed + fails ))
    printf '  %-28s %s\n' "$name" "${summary:-no Check summary (exit $rc)}"
    rm -f "$log"
done
[ ${#bad[@]} -gt 0 ] && printf 'failed: %s\n' "${bad[*]}"
if [ $skipped -gt 0 ]; then
    echo "tests: $passed passed, $failed failed, $skipped skipped"
else
    echo "tests: $passed passed, $failed failed"
fi
[ $failed -eq 0 ] && [ ${#bad[@]} -eq 0 ]
