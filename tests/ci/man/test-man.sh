#!/usr/bin/env bash
# test-man.sh — man/bg-gate.1 renders cleanly and names every command and option the
# binary has. Usage: tests/ci/man/test-man.sh BG_GATE_BIN
# Needs (Debian): groff-base (groff, man), mandoc.
set -euo pipefail

[ $# -eq 1 ] || { echo "usage: $0 BG_GATE_BIN" >&2; exit 2; }
gate=$1
root=$(cd "$(dirname "$0")/../../.." && pwd)
page=$root/man/bg-gate.1
work=$(mktemp -d /tmp/bg-man-test.XXXXXX)
trap 'rm -rf "$work"' EXIT

passed=0 failed=0
ok() { echo "ok - $*"; passed=$((passed + 1)); }
not_ok() { echo "not ok - $*"; failed=$((failed + 1)); }
for tool in groff mandoc man; do
    command -v "$tool" >/dev/null || { echo "$0: $tool missing (apt-get install groff-base mandoc man-db)" >&2; exit 2; }
done

if groff -man -Tutf8 -ww -z "$page" >"$work/groff.log" 2>&1 && [ ! -s "$work/groff.log" ]; then
    ok "groff -man -ww: no warnings"
else
    not_ok "groff -man -ww warns:"; sed 's/^/    /' "$work/groff.log"
fi
if mandoc -Tlint -W style "$page" >"$work/mandoc.log" 2>&1; then
    ok "mandoc -Tlint -W style: clean"
else
    not_ok "mandoc -Tlint -W style:"; sed 's/^/    /' "$work/mandoc.log"
fi
if MANWIDTH=80 man -l "$page" >"$work/page.txt" 2>"$work/man.log" && [ ! -s "$work/man.log" ] &&
    grep -q '^NAME' "$work/page.txt" && grep -q '^EXIT STATUS' "$work/page.txt"; then
    ok "man -l renders it ($(wc -l <"$work/page.txt") lines)"
else
    not_ok "man -l does not render it cleanly"; sed 's/^/    /' "$work/man.log"
fi

# every command of `bg-gate --help` has its entry under COMMANDS
sed -n '/^COMMANDS/,/^OPTIONS/p' "$work/page.txt" >"$work/commands.txt"
"$gate" --help 2>&1 | sed -n '/^commands:/,/^$/p' | awk 'NR > 1 && NF { print $1 }' >"$work/cmds"
missing=$(while read -r c; do grep -Eq "^ {7}$c( |$)" "$work/commands.txt" || echo "$c"; done <"$work/cmds")
if [ -s "$work/cmds" ] && [ -z "$missing" ]; then ok "every command of bg-gate --help is described ($(wc -l <"$work/cmds"))"
else not_ok "commands missing from the man page: ${missing:-bg-gate --help listed none}"; fi

# every long option of every command's --help is in the page
missing=""
while read -r c; do
    while read -r opt; do
        grep -q -- "$opt" "$work/page.txt" || missing+=" $c:$opt"
    done < <("$gate" "$c" --help 2>&1 | grep -o -- '--[a-z][a-z-]*' | sort -u)
done <"$work/cmds"
if [ -z "$missing" ]; then ok "every long option of every command is in the page"
else not_ok "options missing from the man page:$missing"; fi

# every exit code of the README's table is under EXIT STATUS
sed -n '/^EXIT STATUS/,/^ENVIRONMENT/p' "$work/page.txt" >"$work/exit.txt"
codes=$(sed -n '/^## Exit codes/,/^## /s/^| \([0-9]\) |.*/\1/p' "$root/README.md")
missing=$(for c in $codes; do grep -Eq "^ {7}$c( |$)" "$work/exit.txt" || echo "$c"; done)
if [ -n "$codes" ] && [ -z "$missing" ]; then ok "every exit code of the README is under EXIT STATUS ($(echo "$codes" | tr '\n' ' '))"
else not_ok "exit codes missing under EXIT STATUS: ${missing:-none found in README}"; fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
