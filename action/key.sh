#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# key.sh — the cache key of the bg-gate build: a hash of the action's own source (the
# repository the action was checked out from: $GITHUB_ACTION_PATH/..) plus the runner's
# OS, architecture and image, so a cached binary is never used with other libraries.
# hashFiles() only sees the workspace, so the key is computed here.
# Outputs: key, dir (where the build is cached), prebuilt (true when $BG_GATE_BIN names a
# binary to use instead of building).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"
src=$(cd "${GITHUB_ACTION_PATH:-$here}/.." && pwd)

if [ -n "${BG_GATE_BIN:-}" ]; then
    bg_set_output prebuilt true
    bg_set_output key ""
    bg_set_output dir ""
    exit 0
fi

# paths relative to the source root, sorted bytewise: the key does not depend on where
# the action was checked out
hash=$(cd "$src" && find Makefile include src -type f \( -name '*.c' -o -name '*.h' -o -name Makefile \) -print0 |
    LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -c1-24)
os=${RUNNER_OS:-$(uname -s)}
arch=${RUNNER_ARCH:-$(uname -m)}
image=${ImageOS:-}${ImageVersion:+-$ImageVersion}
if [ -z "$image" ] && [ -r /etc/os-release ]; then
    # self-hosted or container: the distribution and release the binary links against
    image=$(. /etc/os-release && printf '%s%s' "${ID:-linux}" "${VERSION_ID:-}")
fi
key="bg-gate-${os}-${arch}-${image:-unknown}-${hash}"
bg_set_output prebuilt false
bg_set_output key "$key"
bg_set_output dir "${HOME:-/tmp}/.cache/bg-gate-action/bin"
echo "bg-gate build key: $key"
