#!/usr/bin/env bash
# Rejects functions STYLE.md bans: unbounded or shell-based ones. Prints offenders.
set -u
pattern='\b(sprintf|vsprintf|strcpy|strcat|atoi|atol|strtok|system|popen|gets)\s*\('
hits=$(grep -rnEw --include='*.c' --include='*.h' "$pattern" src include tests 2>/dev/null \
       | grep -vE '(snprintf|vsnprintf|bg_buf_printf)' || true)
if [ -n "$hits" ]; then
    echo "lint: banned functions (use snprintf, strtol with range checks, posix_spawn):"
    echo "$hits"
    exit 1
fi
echo "lint: ok"
