#!/usr/bin/env bash
# test-schema.sh — keeps schema/bg-gate.schema.json and bg-gate's own config parser in
# agreement. Usage: tests/ci/schema/test-schema.sh BG_GATE_BIN
#
#  1. The schema compiles with Ajv in strict mode as draft-07 (installed by install.sh into
#     .tools/schema; the test runs install.sh, which does nothing when Ajv is there).
#  2. Every key list bg-gate's C parser accepts (the *_keys[] arrays, the threshold table,
#     the driver registries) equals the schema's properties at the matching place.
#  3. Every example config of the repository — tests/ci/schema/valid/*.json, the ```json
#     config blocks of every tracked *.md (README.md, evals/README.md, docs/…), the config
#     scripts/lib-bluegreen.sh writes, tests/fixtures/**/bg-gate*.json — is valid for the
#     schema AND for bg-gate (`validate` exit 0; with a release section also `resolve` exit 0
#     in a git repository holding the config and its templates).
#  4. Every tests/ci/schema/invalid/*.json is rejected by the schema AND by bg-gate (exit 2),
#     each for the reason tests/ci/schema/expect-invalid.tsv names (both messages checked).
# Needs: node + npm (Ajv from the npm registry), git. Talks to nothing: bg-gate validate
# and resolve contact no server.
set -euo pipefail

[ $# -eq 1 ] || { echo "usage: $0 BG_GATE_BIN" >&2; exit 2; }
gate=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
tools=${BG_SCHEMA_TOOLS:-$root/.tools/schema}
schema=$root/schema/bg-gate.schema.json
tool=$here/validate.mjs
[ -x "$gate" ] || { echo "$0: $gate is not executable" >&2; exit 2; }

work=$(mktemp -d /tmp/bg-schema-test.XXXXXX)
cleanup() { rm -rf "$work"; }
trap cleanup EXIT

passed=0 failed=0
ok() { echo "ok - $*"; passed=$((passed + 1)); }
not_ok() { echo "not ok - $*"; failed=$((failed + 1)); }

"$here/install.sh" "$tools" >"$work/install.log" 2>&1 || { cat "$work/install.log"; exit 2; }

# --- 1. the schema itself ---------------------------------------------------------------
if node "$tool" "$tools" "$schema" >"$work/compile.log" 2>&1; then
    ok "schema compiles with Ajv $(node -p 'require(process.argv[1]).version' "$tools/node_modules/ajv/package.json") (strict, draft-07 meta-schema)"
else
    not_ok "schema compiles with Ajv (strict, draft-07)"; sed 's/^/    /' "$work/compile.log"
fi

# --- 2. the schema's keys are bg-gate's keys --------------------------------------------
c_keys() { # FILE:ARRAY... → sorted union of the arrays' strings
    local spec
    for spec in "$@"; do node "$tool" --c-strings "$root/${spec%%:*}" "${spec#*:}"; done | sort -u
}
schema_keys() { node "$tool" --schema-keys "$schema" "$1" | sort -u; }
same_keys() { # description schema-pointer FILE:ARRAY...
    local what=$1 ptr=$2; shift 2
    local want got
    if ! want=$(c_keys "$@" 2>&1) || ! got=$(schema_keys "$ptr" 2>&1); then
        not_ok "keys of $what: $want $got"; return
    fi
    if [ "$want" = "$got" ]; then
        ok "keys of $what match bg-gate ($(echo "$want" | wc -l))"
    else
        not_ok "keys of $what: bg-gate accepts [$(echo "$want" | tr '\n' ' ')] but the schema has [$(echo "$got" | tr '\n' ' ')]"
    fi
}
same_keys "the top level" "" src/config/config.c:top_keys
same_keys "gate" /definitions/gate src/config/config.c:gate_keys
same_keys "gate.embeddings / gate.judge" /definitions/auxModel src/config/config.c:aux_keys
same_keys "gate.reports" /definitions/gate/properties/reports src/config/config.c:report_keys
same_keys "gate.thresholds (the threshold table)" /definitions/gate/properties/thresholds src/eval/gate.c:METRICS
same_keys "release" /definitions/release src/release/release.c:release_keys
same_keys "release.model" /definitions/release/properties/model src/release/release.c:model_keys
same_keys "release.serving" /definitions/release/properties/serving src/release/release.c:serving_keys
same_keys "pools" /definitions/pools src/pool/pools.c:pools_keys
same_keys "pools.<pool>" /definitions/pool src/pool/pools.c:pool_keys
same_keys "pools.<pool>.stop" /definitions/pool/properties/stop src/pool/pools.c:stop_keys
same_keys "pools.<pool>.deploy (all drivers)" /definitions/deploy src/pool/pools.c:allowed \
    src/pool/command.c:command_keys src/pool/http.c:http_keys src/pool/static.c:static_keys
same_keys "health" /definitions/health src/pool/pools.c:health_keys
router_arrays=(src/router/router.c:allowed src/router/nginx.c:nginx_keys src/router/file.c:file_keys
               src/router/command.c:command_keys)
[ -f "$root/src/router/haproxy.c" ] && router_arrays+=(src/router/haproxy.c:haproxy_keys)
same_keys "router (all drivers)" /definitions/router "${router_arrays[@]}"
same_keys "promotion" /definitions/promotion src/deploy/settings.c:promotion_keys
same_keys "state" /definitions/state src/deploy/settings.c:state_keys
same_keys "promotion.analysis" /definitions/analysis src/deploy/analysis.c:analysis_keys
same_keys "promotion.analysis.checks[]" /definitions/analysis_check src/deploy/analysis.c:check_keys
same_keys "promotion.analysis.prometheus" /definitions/analysis/properties/prometheus \
    src/deploy/analysis.c:prometheus_keys
if [ -f "$root/src/deploy/hooks.c" ]; then
    same_keys "hooks" /definitions/hooks src/deploy/hooks.c:hook_names
    same_keys "hooks.<hook>" /definitions/hooks/properties/pre_deploy src/deploy/hooks.c:hook_keys
    same_keys "notify" /definitions/notify src/deploy/hooks.c:notify_keys
fi
same_registry() { # description schema-pointer-to-enum source-files...
    local what=$1 ptr=$2; shift 2
    local want got
    want=$(sed -n 's/^ *\.name = "\([^"]*\)",.*/\1/p' "$@" | sort -u)
    got=$(node "$tool" --schema-enum "$schema" "$ptr" | sort -u)
    if [ "$want" = "$got" ]; then ok "$what match bg-gate's registry ($(echo "$want" | tr '\n' ' '))"
    else not_ok "$what: bg-gate has [$(echo "$want" | tr '\n' ' ')], the schema [$(echo "$got" | tr '\n' ' ')]"; fi
}
same_registry "router drivers" /definitions/router/properties/driver "$root"/src/router/*.c
same_registry "pool drivers" /definitions/deploy/properties/driver "$root"/src/pool/*.c

# --- bg-gate's verdict on one config -----------------------------------------------------
# Runs in a fresh directory holding the config as bg-gate.json and a copy of evals/ (the
# default suites and what the examples name). With a release section, also `resolve` in a
# git repository made there, with every template the config names. Prints bg-gate's
# message; returns its exit code.
bg_verdict() {
    local cfg=$1 dir
    dir=$(mktemp -d "$work/run.XXXXXX")
    cp "$cfg" "$dir/bg-gate.json"
    mkdir -p "$dir/evals" && cp "$root"/evals/*.jsonl "$dir/evals/"
    local rc=0
    (cd "$dir" && "$gate" validate --config bg-gate.json -q) >"$dir/out" 2>&1 || rc=$?
    if [ $rc -eq 0 ] && grep -q '"release"' "$cfg"; then
        local p
        while IFS= read -r p; do
            mkdir -p "$dir/$(dirname "$p")" && echo "template $p" >"$dir/$p"
        done < <(node "$tool" --template-paths "$cfg")
        git -C "$dir" init -q
        git -C "$dir" add -A
        git -C "$dir" -c user.name=test -c user.email=test@example.invalid commit -qm config
        (cd "$dir" && "$gate" resolve -q) >"$dir/out" 2>&1 || rc=$?
    fi
    cat "$dir/out"
    return $rc
}

# --- 3. every example config is valid for both ------------------------------------------
examples=("$here"/valid/*.json)
mkdir -p "$work/md"
while IFS= read -r md; do
    while IFS= read -r f; do examples+=("$f"); done < <(cd "$root" && node "$tool" --extract-md "$md" "$work/md")
done < <(cd "$root" && git ls-files '*.md')
# the config scripts/lib-bluegreen.sh writes for the demo and the benchmarks (sourced in a
# subshell: it only creates files under $out until start_bluegreen, which is not called)
bluegreen=$work/bluegreen
# shellcheck disable=SC1091,SC2034 # lib-bluegreen.sh reads $out and $root
if (out=$bluegreen && mkdir -p "$out" &&
    . "$root/scripts/lib-bluegreen.sh" && write_config acme-support-v1) >"$work/bluegreen.log" 2>&1; then
    cp "$bluegreen/repo/bg-gate.json" "$work/lib-bluegreen.json"
    examples+=("$work/lib-bluegreen.json")
else
    not_ok "scripts/lib-bluegreen.sh writes a config"; sed 's/^/    /' "$work/bluegreen.log"
fi
while IFS= read -r f; do examples+=("$f"); done < <(find "$root/tests/fixtures" -name 'bg-gate*.json' 2>/dev/null)

declare -A verdict=() detail=()
while IFS=$'\t' read -r v f d; do verdict[$f]=$v; detail[$f]=${d:-}; done \
    < <(node "$tool" "$tools" "$schema" "${examples[@]}" "$here"/invalid/*.json)

name_of() { local f=$1; f=${f#"$root/"}; f=${f#"$work/md/"}; echo "${f#"$work/"}"; }
for f in "${examples[@]}"; do
    n=$(name_of "$f")
    if [ "${verdict[$f]:-}" != valid ]; then
        not_ok "$n: valid for the schema: ${detail[$f]:-no verdict}"
        continue
    fi
    if msg=$(bg_verdict "$f"); then
        ok "$n: valid for the schema and for bg-gate"
    else
        not_ok "$n: valid for the schema, but bg-gate says: $msg"
    fi
done

# --- 4. every invalid example is rejected by both, for the same reason ------------------
expect=$here/expect-invalid.tsv
declare -A listed=()
while IFS=$'\t' read -r file want_schema want_gate; do
    case $file in '#'* | '') continue ;; esac
    listed[$file]=1
    f=$here/invalid/$file
    if [ ! -f "$f" ]; then not_ok "invalid/$file: listed in expect-invalid.tsv but missing"; continue; fi
    if [ "${verdict[$f]:-}" != invalid ]; then
        not_ok "invalid/$file: the schema accepts it (wanted: $want_schema)"
    elif [[ "${detail[$f]}" != *"$want_schema"* ]]; then
        not_ok "invalid/$file: the schema rejects it, but not with \"$want_schema\": ${detail[$f]}"
    else
        rc=0; msg=$(bg_verdict "$f") || rc=$?
        if [ $rc -ne 2 ]; then
            not_ok "invalid/$file: bg-gate exits $rc, wanted 2 ($want_gate): $msg"
        elif [[ "$msg" != *"$want_gate"* ]]; then
            not_ok "invalid/$file: bg-gate rejects it, but not with \"$want_gate\": $msg"
        else
            ok "invalid/$file: rejected by the schema and by bg-gate ($want_gate)"
        fi
    fi
done <"$expect"
for f in "$here"/invalid/*.json; do
    [ -n "${listed[$(basename "$f")]:-}" ] || not_ok "invalid/$(basename "$f"): not listed in expect-invalid.tsv"
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
