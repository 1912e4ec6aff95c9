#!/usr/bin/env bash
# install.sh — installs the JSON Schema validator test-schema.sh uses: Ajv (pinned), from the
# npm registry, into .tools/schema/ of the repository (gitignored; never a global install).
# Does nothing when the pinned version is already there. Needs: node, npm.
# Usage: tests/ci/schema/install.sh [DIR]   (default: <repo>/.tools/schema)
set -euo pipefail

AJV_VERSION=8.17.1
root=$(cd "$(dirname "$0")/../../.." && pwd)
dir=${1:-$root/.tools/schema}

installed=$(node -e 'try { console.log(require(process.argv[1] + "/node_modules/ajv/package.json").version) } catch (e) {}' "$dir" 2>/dev/null || true)
if [ "$installed" = "$AJV_VERSION" ]; then
    exit 0
fi
command -v npm >/dev/null || { echo "install.sh: npm is required (Debian: apt-get install npm)" >&2; exit 2; }
mkdir -p "$dir"
[ -f "$dir/package.json" ] || printf '{"name": "bg-gate-schema-tools", "private": true}\n' >"$dir/package.json"
echo "install.sh: npm install ajv@$AJV_VERSION into $dir" >&2
npm install --prefix "$dir" --no-audit --no-fund --save-exact "ajv@$AJV_VERSION" >&2
