#!/usr/bin/env bash
# Rejects functions STYLE.md bans (unbounded or shell-based ones) and shell scripts with
# ShellCheck warnings. Prints offenders.
set -u
pattern='\b(sprintf|vsprintf|strcpy|strcat|atoi|atol|strtok|system|popen|gets)\s*\('
hits=$(grep -rnEw --include='*.c' --include='*.h' "$pattern" src include tests 2>/dev/null \
       | grep -vE '(snprintf|vsnprintf|bg_buf_printf)' || true)
if [ -n "$hits" ]; then
    echo "lint: banned functions (use snprintf, strtol with range checks, posix_spawn):"
    echo "$hits"
    exit 1
fi
# every tracked shell script (the demo, the tests' drivers, the CI integrations, the action's)
if command -v shellcheck >/dev/null && command -v git >/dev/null && [ -d .git ]; then
    mapfile -t scripts < <(git ls-files '*.sh')
    if ! shellcheck -x --severity=warning "${scripts[@]}"; then
        echo "lint: ShellCheck warnings in the shell scripts above"
        exit 1
    fi
elif [ -n "${CI:-}" ]; then
    echo "lint: shellcheck (Debian package) is missing: run scripts/install-deps.sh"
    exit 1
fi
echo "lint: ok"
