# lib.sh — helpers the action's step scripts source: step outputs in the runner's
# delimiter syntax and a size-capped job summary. No side effects when sourced.
# shellcheck shell=bash

# The runner's cap on one step's summary is 1024 KiB; stay a little under it so the
# truncation note fits.
BG_SUMMARY_MAX=${BG_SUMMARY_MAX:-1000000}

bg_delimiter() {
    local hex
    hex=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
    printf 'ghadelimiter_%s' "$hex"
}

# bg_set_output NAME VALUE — appends NAME to $GITHUB_OUTPUT as
#   NAME<<DELIM
#   VALUE
#   DELIM
# with a random delimiter that occurs in no line of VALUE, so any value (several lines,
# '=' or '%' in it, a line that reads "EOF") comes back to the caller unchanged.
bg_set_output() {
    local name=$1 value=$2 delim
    [ -n "${GITHUB_OUTPUT:-}" ] || { echo "bg-gate action: GITHUB_OUTPUT is not set" >&2; return 1; }
    delim=$(bg_delimiter)
    while printf '%s\n' "$value" | grep -qxF -- "$delim"; do delim=$(bg_delimiter); done
    printf '%s<<%s\n%s\n%s\n' "$name" "$delim" "$value" "$delim" >>"$GITHUB_OUTPUT"
}

# bg_summary_add FILE — appends FILE to $GITHUB_STEP_SUMMARY, cut at a line boundary
# with a note when it would take the step's summary past BG_SUMMARY_MAX bytes.
bg_summary_add() {
    local file=$1 used=0 room size note
    [ -n "${GITHUB_STEP_SUMMARY:-}" ] || return 0
    [ -f "$GITHUB_STEP_SUMMARY" ] && used=$(wc -c <"$GITHUB_STEP_SUMMARY")
    size=$(wc -c <"$file")
    note=$'\n\n> **Summary truncated** to stay under GitHub\'s 1 MiB job-summary limit: the full report is in the reports directory (summary.md, report.json).\n'
    room=$((BG_SUMMARY_MAX - used))
    if [ "$size" -le "$room" ]; then
        cat "$file" >>"$GITHUB_STEP_SUMMARY"
        return 0
    fi
    room=$((room - ${#note} - 16))
    [ "$room" -gt 0 ] || return 0
    # whole lines only: a half-written table row or a cut UTF-8 sequence would garble it
    head -c "$room" "$file" | sed '$d' >>"$GITHUB_STEP_SUMMARY"
    printf '%s' "$note" >>"$GITHUB_STEP_SUMMARY"
}

# bg_summary_text TEXT — appends a short text (no truncation needed) to the summary.
bg_summary_text() {
    [ -n "${GITHUB_STEP_SUMMARY:-}" ] || return 0
    printf '%s\n' "$1" >>"$GITHUB_STEP_SUMMARY"
}
