#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# build.sh — provides the bg-gate binary the run step uses, in this order:
#   1. $BG_GATE_BIN, when set: a prebuilt binary (self-hosted runners, tests);
#   2. $BG_CACHE_DIR/bg-gate, when its stamp matches $BG_KEY (restored by actions/cache,
#      or left by an earlier job on a self-hosted runner) and it runs;
#   3. otherwise: install the Debian/Ubuntu build dependencies that are missing
#      (scripts/install-deps.sh build) and build it from the action's own source into
#      $BG_CACHE_DIR, which actions/cache then saves at the end of the job.
# A cached binary whose shared libraries are missing gets the dependencies installed.
# Outputs: bin (absolute path), cache-hit (true/false). Adds the binary's directory to PATH.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"
src=$(cd "${GITHUB_ACTION_PATH:-$here}/.." && pwd)

runs() { "$1" --version >/dev/null 2>&1; }

publish() { # bin cache-hit
    local bin
    bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
    "$bin" --version
    bg_set_output bin "$bin"
    bg_set_output cache-hit "$2"
    [ -z "${GITHUB_PATH:-}" ] || dirname "$bin" >>"$GITHUB_PATH"
}

# the run step reads bg-gate's JSON with jq (preinstalled on GitHub's Ubuntu images)
if ! command -v jq >/dev/null; then
    echo "bg-gate: installing jq"
    sudo=()
    [ "$(id -u)" -eq 0 ] || sudo=(sudo)
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq jq >/dev/null ||
        { "${sudo[@]}" apt-get update -qq && DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq jq >/dev/null; }
fi

if [ -n "${BG_GATE_BIN:-}" ]; then
    if [ ! -x "$BG_GATE_BIN" ]; then
        echo "::error title=bg-gate action::BG_GATE_BIN=$BG_GATE_BIN is not an executable file"
        exit 2
    fi
    echo "bg-gate: using the prebuilt binary \$BG_GATE_BIN"
    publish "$BG_GATE_BIN" false
    exit 0
fi

dir=${BG_CACHE_DIR:?BG_CACHE_DIR is not set (the key step did not run)}
key=${BG_KEY:?BG_KEY is not set (the key step did not run)}
deps() { bash "$src/scripts/install-deps.sh" build; }

if [ -x "$dir/bg-gate" ] && [ "$(cat "$dir/key" 2>/dev/null)" = "$key" ]; then
    if ! runs "$dir/bg-gate"; then
        echo "bg-gate: the cached binary does not start; installing its libraries"
        deps
    fi
    if runs "$dir/bg-gate"; then
        echo "bg-gate: cached build $key"
        publish "$dir/bg-gate" true
        exit 0
    fi
    echo "bg-gate: the cached binary still does not start; rebuilding"
fi

echo "::group::bg-gate: build from source ($key)"
deps
build=$(mktemp -d "${RUNNER_TEMP:-/tmp}/bg-gate-build.XXXXXX")
trap 'rm -rf "$build"' EXIT
jobs=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 2)
make -C "$src" -j"$jobs" BUILD="$build" "$build/bg-gate"
mkdir -p "$dir"
# rename into place: a concurrent job on a self-hosted runner never runs half a binary
cp "$build/bg-gate" "$dir/bg-gate.tmp.$$"
mv -f "$dir/bg-gate.tmp.$$" "$dir/bg-gate"
printf '%s\n' "$key" >"$dir/key.tmp.$$"
mv -f "$dir/key.tmp.$$" "$dir/key"
echo "::endgroup::"
publish "$dir/bg-gate" false
