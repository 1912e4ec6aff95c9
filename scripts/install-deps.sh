#!/usr/bin/env bash
# Installs the Debian packages bg-gate needs to build, test and run its demo — only the
# ones that are missing, so a ready machine pays nothing. Usage: install-deps.sh [build|demo|test]
set -euo pipefail

build_pkgs=(gcc make pkg-config libcurl4-openssl-dev libgit2-dev libcjson-dev
            libmicrohttpd-dev libpcre2-dev)
test_pkgs=(check valgrind clang libclang-rt-14-dev libxml2-utils wrk git time nginx libnginx-mod-http-ndk libnginx-mod-http-lua
           haproxy python3-junitparser mandoc groff-base man-db rsync shellcheck jq python3-yaml)

demo_pkgs=(nginx git curl)

want=("${build_pkgs[@]}")
case "${1:-test}" in
    test) want+=("${test_pkgs[@]}")
          # the CI tool tests (tests/ci) use Node from npm; a machine with its own Node
          # (NodeSource ships npm inside nodejs) keeps it
          command -v npm >/dev/null 2>&1 || want+=(nodejs npm) ;;
    demo) want+=("${demo_pkgs[@]}") ;;
esac

missing=()
for p in "${want[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "bg-gate: installing Debian packages: ${missing[*]}" >&2
sudo=()
[ "$(id -u)" -eq 0 ] || sudo=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
# Packages with a system service (nginx) must not start it: the tests run their own
# instances on loopback ports. policy-rc.d tells invoke-rc.d to leave services alone.
policy=/usr/sbin/policy-rc.d
made_policy=0
if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | "${sudo[@]}" tee "$policy" >/dev/null
    "${sudo[@]}" chmod +x "$policy"
    made_policy=1
fi
rc=0
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || rc=$?
[ $made_policy -eq 1 ] && "${sudo[@]}" rm -f "$policy"
exit $rc
