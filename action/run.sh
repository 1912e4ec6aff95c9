#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# run.sh — runs one bg-gate command with the action's inputs (environment variables
# BG_COMMAND, BG_CONFIG, BG_REV, BG_SUITE, BG_ENDPOINT, BG_ARGS, BG_JUNIT, BG_REPORTS_DIR,
# BG_WORKDIR; the binary in BG_BIN), then writes the step outputs and the job summary
# from bg-gate's own machine-readable output (report.json of --reports, status --json,
# resolve --json). This step does not fail because of bg-gate's exit code: it records it
# in the exit-code output and the last step of the action exits with it.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

bin=${BG_BIN:-bg-gate}
cmd=${BG_COMMAND:-eval}
rc=2
verdict=error
reason=""
release_id=""
live_pool=""
pass_rate=""
p95_ms=""
junit_path=""
report_path=""
reports=""

err() { echo "::error title=bg-gate action::$1"; reason=$1; }

# Newline- or whitespace-separated list input → one flag per item.
add_list() { # flag value
    local item
    while read -r item; do
        [ -n "$item" ] && argv+=("$1" "$item")
    done < <(printf '%s\n' "$2" | tr -s '[:blank:]' '\n')
}

# Extra flags: split into words like a shell (quotes and backslashes respected) by xargs,
# which expands nothing: no variables, no globs, no command substitution.
split_args() {
    extra=()
    [ -n "${BG_ARGS:-}" ] || return 0
    local words
    words=$(mktemp)
    if ! printf '%s\n' "$BG_ARGS" | xargs printf '%s\0' >"$words" 2>/dev/null; then
        rm -f "$words"
        err "args: unbalanced quotes in: $BG_ARGS"
        return 1
    fi
    mapfile -d '' -t extra <"$words"
    rm -f "$words"
}

ignored() { # input-name value: inputs the command does not take
    [ -z "$2" ] || echo "::warning title=bg-gate action::input '$1' is not used by bg-gate $cmd; ignored"
}

json() { # file jq-filter → value or ""
    [ -s "$1" ] || return 0
    jq -r "($2) // empty" "$1" 2>/dev/null || true
}

# The live pool and its release, from `bg-gate status --json` (best effort).
read_status() {
    local out
    out=$(mktemp)
    if "$bin" status "${cfg[@]}" --json >"$out" 2>/dev/null; then
        live_pool=$(json "$out" '.router.live')
        [ -n "$live_pool" ] || live_pool=$(json "$out" '.state.live')
        # a canary ramp that stopped at a --pause-at step (deploy, promote --step)
        if [ "$rc" -eq 0 ] && [ "$(json "$out" '.state.deploy.phase')" = ramp ]; then
            verdict=paused
        fi
        if [ -z "$release_id" ] && [ -n "$live_pool" ]; then
            release_id=$(json "$out" ".state.pools[\"$live_pool\"].release_id")
        fi
    fi
    rm -f "$out"
}

run_main() {
    if [ -n "${BG_WORKDIR:-}" ]; then
        cd "$BG_WORKDIR" || { err "working-directory $BG_WORKDIR: no such directory"; return; }
    fi
    case "$cmd" in
        eval | deploy | resolve | status | promote | rollback) ;;
        *) err "command '$cmd': expected eval, deploy, resolve, status, promote or rollback"; return ;;
    esac
    command -v jq >/dev/null || { err "jq is required (apt-get install jq)"; return; }
    split_args || return

    cfg=()
    [ -z "${BG_CONFIG:-}" ] || cfg=(--config "$BG_CONFIG")
    argv=("$bin" "$cmd" "${cfg[@]}")
    case "$cmd" in
        eval | deploy | resolve) [ -z "${BG_REV:-}" ] || argv+=(--rev "$BG_REV") ;;
        *) ignored rev "${BG_REV:-}" ;;
    esac
    if [ "$cmd" = eval ]; then
        add_list --suite "${BG_SUITE:-}"
        add_list --endpoint "${BG_ENDPOINT:-}"
        argv+=(--no-progress)
    else
        ignored suite "${BG_SUITE:-}"
        ignored endpoint "${BG_ENDPOINT:-}"
    fi
    if [ "$cmd" = eval ] || [ "$cmd" = deploy ]; then
        if [ -n "${BG_REPORTS_DIR:-}" ]; then
            if ! mkdir -p "$BG_REPORTS_DIR"; then
                err "reports-dir $BG_REPORTS_DIR: cannot create it"
                return
            fi
            reports=$(cd "$BG_REPORTS_DIR" && pwd)
        else
            reports=$(mktemp -d "${RUNNER_TEMP:-/tmp}/bg-gate-reports.XXXXXX")
        fi
        argv+=(--reports "$reports")
    else
        ignored junit "${BG_JUNIT:-}"
    fi
    local stdout="" stderr
    stderr=$(mktemp)
    case "$cmd" in resolve | status) stdout=$(mktemp); argv+=(--json) ;; esac
    argv+=("${extra[@]}")

    echo "+ ${argv[*]}"
    # stderr is shown in the log and kept for the reason output; stdout carries bg-gate's
    # workflow commands (annotations) straight to the runner, or the JSON we read
    if [ -n "$stdout" ]; then
        "${argv[@]}" >"$stdout" 2> >(tee "$stderr" >&2)
        rc=$?
        cat "$stdout"
    else
        "${argv[@]}" 2> >(tee "$stderr" >&2)
        rc=$?
    fi
    wait # for tee to finish writing the stderr copy

    local report="$reports/report.json"
    if [ -n "$reports" ] && [ -s "$report" ]; then
        report_path=$report
        pass_rate=$(json "$report" '.summary.pass_rate | select(type == "number") | (. * 10000 | round) / 10000')
        p95_ms=$(json "$report" '.summary.e2e_ms.p95 | select(type == "number") | (. * 10 | round) / 10')
        release_id=$(json "$report" '.release.id')
        reason=$(json "$report" '.verdict_reason')
        local failure
        failure=$(json "$report" '[.deploy.lifecycle[]? | select(.failure) | "\(.phase): \(.failure)"] | join("\n")')
        [ -z "$failure" ] || reason=${reason:+$reason$'\n'}$failure
    fi
    if [ -n "$reports" ] && [ -s "$reports/junit.xml" ]; then
        junit_path=$reports/junit.xml
        if [ -n "${BG_JUNIT:-}" ]; then
            if mkdir -p "$(dirname "$BG_JUNIT")" && cp "$reports/junit.xml" "$BG_JUNIT"; then
                junit_path=$(cd "$(dirname "$BG_JUNIT")" && pwd)/$(basename "$BG_JUNIT")
            else
                echo "::warning title=bg-gate action::could not copy the JUnit report to $BG_JUNIT"
            fi
        fi
    fi

    case "$cmd" in
        eval)
            verdict=$(json "$report" '.verdict')
            [ "$rc" -le 1 ] || verdict=error
            [ -n "$verdict" ] || verdict=error
            ;;
        deploy)
            case "$(json "$report" '.deploy.decision')" in
                promoted) verdict=promoted ;;
                nothing-to-deploy) verdict=nothing-to-deploy ;;
                gate-failed | blocked-by-hook) verdict=failed ;;
                paused) verdict=paused ;;
                rolled-back) verdict=rolled-back ;;
                *) verdict=error ;;
            esac
            ;;
        promote) [ "$rc" -ne 0 ] || verdict=promoted ;;
        rollback) [ "$rc" -ne 0 ] || verdict=rolled-back ;;
        resolve)
            [ "$rc" -ne 0 ] || verdict=ok
            release_id=$(json "$stdout" '.release_id')
            ;;
        status)
            [ "$rc" -ne 0 ] || verdict=ok
            live_pool=$(json "$stdout" '.router.live')
            [ -n "$live_pool" ] || live_pool=$(json "$stdout" '.state.live')
            [ -z "$live_pool" ] || release_id=$(json "$stdout" ".state.pools[\"$live_pool\"].release_id")
            ;;
    esac
    case "$cmd" in deploy | promote | rollback) read_status ;; esac
    # no report to explain a failure: the end of bg-gate's own error output
    if [ "$rc" -ne 0 ] && [ -z "$reason" ] && [ -s "$stderr" ]; then
        reason=$(grep -v '^::' "$stderr" | tail -n 20)
    fi
    rm -f "$stderr" ${stdout:+"$stdout"}
}

write_summary() {
    local title="bg-gate $cmd: $verdict (exit $rc)"
    if [ -n "$reports" ] && [ -s "$reports/summary.md" ]; then
        bg_summary_add "$reports/summary.md"
        return
    fi
    local text="## $title"$'\n'
    [ -z "$live_pool" ] || text+=$'\n'"**live pool** $live_pool"
    [ -z "$release_id" ] || text+=$'\n'"**release** \`$release_id\`"
    if [ -n "$reason" ]; then
        text+=$'\n\n```\n'"$reason"$'\n```'
    fi
    bg_summary_text "$text"$'\n'
}

run_main
[ -n "${GITHUB_STEP_SUMMARY:-}" ] && write_summary
bg_set_output verdict "$verdict"
bg_set_output exit-code "$rc"
bg_set_output reason "$reason"
bg_set_output release-id "$release_id"
bg_set_output live-pool "$live_pool"
bg_set_output pass-rate "$pass_rate"
bg_set_output p95-ms "$p95_ms"
bg_set_output junit-path "$junit_path"
bg_set_output report-path "$report_path"
bg_set_output reports-dir "$reports"
echo "bg-gate $cmd: verdict $verdict, exit code $rc"
exit 0
