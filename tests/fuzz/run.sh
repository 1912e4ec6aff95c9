#!/usr/bin/env bash
# run.sh SECONDS — builds the libFuzzer targets (tests/fuzz/fuzz_*.c) and runs each for
# SECONDS (default 20). Fails if any target crashes, leaks, hits undefined behaviour or
# hangs; prints one line per target.
#
# The library sources (src/util, src/eval, src/pool/prom.c) are compiled here with clang and
# -fsanitize=fuzzer-no-link,address,undefined: the Makefile's libbggate.a is built by gcc
# without coverage instrumentation, so it cannot be reused. Seeds in corpus/<target>/ are
# copied to a temporary working corpus; nothing is written into the source tree except
# the build directory. A crashing input is kept in $FUZZ_BUILD/crashes/<target>/.
#
# Environment: FUZZ_BUILD (default build-fuzz), FUZZ_CC (default clang),
# FUZZ_TARGETS (space-separated names, default all), FUZZ_CFLAGS (extra compiler flags).
set -euo pipefail

seconds=${1:-20}
case $seconds in
    '' | *[!0-9]*) echo "usage: $0 SECONDS" >&2; exit 2 ;;
esac

root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
build=${FUZZ_BUILD:-build-fuzz}
cc=${FUZZ_CC:-clang}
pkgs="libcjson libpcre2-8 libcurl"

if ! command -v "$cc" >/dev/null 2>&1; then
    echo "fuzz: $cc not found (libFuzzer needs clang)" >&2
    exit 1
fi

warn="-Wall -Wextra -Werror -Wshadow -Wformat=2 -Wstrict-prototypes -Wmissing-prototypes \
-Wvla -Wno-unused-command-line-argument"
# shellcheck disable=SC2086
cflags="-std=c11 -D_GNU_SOURCE $warn -O1 -g -fno-omit-frame-pointer \
-fno-sanitize-recover=all -Iinclude $(pkg-config --cflags $pkgs) ${FUZZ_CFLAGS:-}"
# shellcheck disable=SC2086
libs="$(pkg-config --libs $pkgs) -lm"

mkdir -p "$build/obj"
rm -f "$build/obj/"*.o "$build/libbggate-fuzz.a"

# The library, instrumented for coverage; an archive so a target links only what it uses.
for src in src/util/*.c src/eval/*.c src/pool/prom.c; do
    [ -e "$src" ] || continue
    obj="$build/obj/$(echo "${src%.c}" | tr / _).o"
    # shellcheck disable=SC2086
    "$cc" $cflags -fsanitize=fuzzer-no-link,address,undefined -c "$src" -o "$obj"
done
ar rcs "$build/libbggate-fuzz.a" "$build/obj/"*.o

targets=${FUZZ_TARGETS:-$(cd tests/fuzz && ls fuzz_*.c | sed 's/\.c$//')}
for t in $targets; do
    # shellcheck disable=SC2086
    "$cc" $cflags -fsanitize=fuzzer,address,undefined "tests/fuzz/$t.c" \
        "$build/libbggate-fuzz.a" $libs -o "$build/$t"
done

work=$(mktemp -d "${TMPDIR:-/tmp}/bg-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT

status=0
for t in $targets; do
    mkdir -p "$work/$t/corpus" "$work/$t/artifacts"
    if [ -d "tests/fuzz/corpus/$t" ]; then
        cp -R "tests/fuzz/corpus/$t/." "$work/$t/corpus/"
    fi
    log="$work/$t/log"
    if "$build/$t" -max_total_time="$seconds" -max_len=65536 -timeout=10 \
        -print_final_stats=1 -artifact_prefix="$work/$t/artifacts/" \
        "$work/$t/corpus" >"$log" 2>&1; then
        runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
        inputs=$(find "$work/$t/corpus" -type f | wc -l)
        printf 'fuzz: %-14s ok (%s runs in %ss, corpus %s inputs)\n' "$t" "${runs:-?}" \
            "$seconds" "$inputs"
    else
        status=1
        mkdir -p "$build/crashes/$t"
        cp "$work/$t/artifacts/"* "$build/crashes/$t/" 2>/dev/null || true
        printf 'fuzz: %-14s FAILED (inputs kept in %s/crashes/%s/, replay with %s/%s FILE)\n' \
            "$t" "$build" "$t" "$build" "$t"
        {
            grep -m 1 -E 'ERROR|runtime error|Timeout|out-of-memory' "$log" || tail -n 5 "$log"
            grep -E '^ *#[0-9]+ 0x' "$log" | head -n 8
            grep -m 1 'SUMMARY' "$log" || true
        } | sed 's/^/    /'
    fi
done
exit $status
