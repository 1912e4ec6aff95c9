#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR/../../..
# The GitLab CI template (gitlab/), run for real with gitlab-ci-local's shell executor on
# 127.0.0.1 — no GitLab, no network. In throwaway git repositories laid out like a user's
# project (templates/bg-gate.yml as a component project has it, the plain template under
# gitlab/, evals/), it checks:
#   - the component's spec:inputs against its body, and that its scripts are the plain
#     template's; the inputs and BG_GATE_* variables the examples use are ones the templates
#     declare (gitlab-ci-local ignores unknown inputs), and a misspelling is reported;
#   - which jobs the example pipelines create on a merge request and on the default branch
#     (rules, manual rollback, environment, resource group), for `include: component`,
#     the plain include and `include: local` with inputs (two environments side by side);
#   - the merge-request eval job of both examples against bg-mock: passes with the good
#     model, fails with bg-gate's exit 1 with the bad one, and uploads junit.xml and
#     metrics.txt as artifacts both times;
#   - when nginx is there: deploy, a gate-failing deploy, status and the manual rollback
#     of the component example against the blue-green setup of scripts/lib-bluegreen.sh.
# bg-gate is handed to the jobs through the bg_gate_bin input / BG_GATE_BIN, so nothing is
# rebuilt. Needs tests/ci/gitlab/install.sh first.
# Usage: tests/ci/gitlab/test-gitlab.sh BG_GATE_BIN BG_MOCK_BIN
set -euo pipefail

if [ $# -ne 2 ]; then
    echo "usage: $0 BG_GATE_BIN BG_MOCK_BIN" >&2
    exit 2
fi
abs() { case $1 in /*) echo "$1" ;; *) echo "$PWD/$1" ;; esac; }
gate=$(abs "$1")
# the binary under test comes from the arguments; a BG_GATE_BIN or BG_GATE_CI of the calling
# shell (the e2e tests' own variables) must not leak into the runs that build or detect
unset BG_GATE_BIN BG_GATE_CI GITHUB_ACTIONS GITHUB_SHA GITLAB_CI CI_COMMIT_SHA
mock=$(abs "$2")
root=$(cd "$(dirname "$0")/../../.." && pwd)
tools="$root/.tools/gitlab/node_modules/.bin"
py=/usr/bin/python3
ciy="$root/tests/ci/gitlab/ci_yaml.py"
fixtures="$root/tests/ci/gitlab/fixtures"
tpl="$root/gitlab/templates/bg-gate.yml"
plain="$root/gitlab/bg-gate.gitlab-ci.yml"
examples="$root/gitlab/examples"

passed=0
failed=0
ok() { echo "ok - $1"; passed=$((passed + 1)); }
not_ok() { # description [log file to show]
    echo "not ok - $1"
    failed=$((failed + 1))
    if [ -n "${2:-}" ] && [ -f "$2" ]; then tail -n 40 "$2" | sed 's/^/    # /'; fi
}

for f in "$gate" "$mock" "$tools/gitlab-ci-local" "$tools/node"; do
    if [ ! -x "$f" ]; then
        echo "not ok - $f is missing (build bg-gate; run tests/ci/gitlab/install.sh)"
        echo "0 passed, 1 failed"
        exit 1
    fi
done
if ! "$py" -c 'import yaml' 2>/dev/null; then
    echo "not ok - $py cannot import yaml (run tests/ci/gitlab/install.sh)"
    echo "0 passed, 1 failed"
    exit 1
fi

work=$(mktemp -d /tmp/bg-gitlab.XXXXXX)
pids=()
cleanup() {
    if declare -F stop_bluegreen >/dev/null; then stop_bluegreen; fi
    local p
    for p in "${pids[@]}"; do
        kill "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
    done
    rm -rf "$work"
}
trap cleanup EXIT

# ---------------------------------------------------------------------------------------
# helpers

start_mock() { # name answers-table: sets $mock_port (not in a subshell: the pid is kept)
    "$mock" --port 0 --port-file "$work/$1.port" --answers "$root/$2" >/dev/null 2>"$work/$1.log" &
    pids+=($!)
    local _
    for _ in $(seq 250); do
        if [ -s "$work/$1.port" ]; then mock_port=$(cat "$work/$1.port"); return 0; fi
        sleep 0.02
    done
    echo "bg-mock $1 did not start" >&2
    cat "$work/$1.log" >&2
    return 1
}

git_c() { git -c user.name=bg-gate-test -c user.email=test@example.invalid "$@"; }

make_project() { # dir group/project: a git repository laid out like a user's project
    local dir=$1
    mkdir -p "$dir"
    if [ ! -d "$dir/.git" ]; then git -C "$dir" init -q; fi
    git -C "$dir" symbolic-ref HEAD refs/heads/main
    git -C "$dir" remote add origin "git@gitlab.example.com:$2.git"
    mkdir -p "$dir/templates" "$dir/gitlab"
    cp "$tpl" "$dir/templates/bg-gate.yml"
    cp "$plain" "$dir/gitlab/bg-gate.gitlab-ci.yml"
    [ -d "$dir/evals" ] || cp -r "$root/evals" "$dir/evals"
    commit_project "$dir" "project"
}

commit_project() { # dir message: commit and publish as origin/main, the default branch
    git -C "$1" add -A
    git_c -C "$1" commit -qm "$2"
    git -C "$1" update-ref refs/remotes/origin/main HEAD
    git -C "$1" symbolic-ref refs/remotes/origin/HEAD refs/remotes/origin/main
}

# the example with the component pinned to the repository's own commit (so gitlab-ci-local
# reads templates/bg-gate.yml from it) and the plain template included locally
use_example() { # dir example-file
    "$py" "$ciy" localize "$2" "$1/.gitlab-ci.yml" "$(git -C "$1" rev-parse HEAD)"
}

# gitlab-ci-local, bounded, isolated from the user's ~/.gitlab-ci-local, shell executor,
# each job in its own copy of the repository, artifacts under .gitlab-ci-local/artifacts/
gcl_cmd=(timeout 180 gitlab-ci-local --no-color --home "$work/gcl-home" --force-shell-executor
         --shell-isolation --no-artifacts-to-source)
export GCL_IGNORE_PREDEFINED_VARS=CI_PIPELINE_SOURCE,CI_COMMIT_BRANCH,GITLAB_CI
gcl() { # dir log gitlab-ci-local-args...
    local dir=$1 log=$2
    shift 2
    (cd "$dir" && PATH="$tools:$PATH" "${gcl_cmd[@]}" "$@") >"$log" 2>&1
}
gcl_out() { # dir stdout-file stderr-file gitlab-ci-local-args...
    local dir=$1 out=$2 err=$3
    shift 3
    (cd "$dir" && PATH="$tools:$PATH" "${gcl_cmd[@]}" "$@") >"$out" 2>>"$err"
}
# a merge request pipeline: no CI_COMMIT_BRANCH, GITLAB_CI=true so bg-gate prints sections
mr=(--variable CI_PIPELINE_SOURCE=merge_request_event --unset-variable CI_COMMIT_BRANCH
    --variable GITLAB_CI=true)

jobs_of() { # dir out gitlab-ci-local-args...: the jobs that would run, one line each
    local dir=$1 out=$2
    shift 2
    gcl_out "$dir" "$out.json" "$out.err" --list-json "$@" &&
        gcl_out "$dir" "$out.yml" "$out.err" --preview "$@" &&
        "$py" "$ciy" jobs "$out.json" "$out.yml" >"$out" 2>>"$out.err"
}

expect_jobs() { # description dir expected-lines gitlab-ci-local-args...
    local desc=$1 dir=$2 want=$3 out
    shift 3
    out="$work/jobs.$passed.$failed"
    if jobs_of "$dir" "$out" "$@" && [ "$(cat "$out")" = "$want" ]; then
        ok "$desc"
    else
        { echo "wanted:"; echo "$want"; echo "got:"; cat "$out" 2>/dev/null; cat "$out.err"; } >"$out.why"
        not_ok "$desc" "$out.why"
    fi
}

artifact() { echo "$1/.gitlab-ci-local/artifacts/$2/bg-gate-reports/$3"; }

# ---------------------------------------------------------------------------------------
# static checks: the templates and the inputs the examples use

if "$py" "$ciy" sync "$tpl" "$plain" 2>"$work/sync.err"; then
    ok "component: spec:inputs matches the inputs its jobs use; scripts equal the plain template's"
else
    not_ok "component: spec:inputs matches the inputs its jobs use; scripts equal the plain template's" "$work/sync.err"
fi
sed 's/--no-progress/--no-progres/' "$plain" >"$work/drifted.yml"
if ! "$py" "$ciy" sync "$tpl" "$work/drifted.yml" 2>"$work/drift.err" &&
    grep -q '.bg-gate-eval.script differs' "$work/drift.err"; then
    ok "sync check: a script edited in only one template is reported"
else
    not_ok "sync check: a script edited in only one template is reported" "$work/drift.err"
fi
if "$py" "$ciy" inputs "$tpl" "$plain" "$examples/.gitlab-ci.yml" "$examples/plain.gitlab-ci.yml" 2>"$work/inputs.err"; then
    ok "examples: every input and BG_GATE_* variable is declared by the templates"
else
    not_ok "examples: every input and BG_GATE_* variable is declared by the templates" "$work/inputs.err"
fi
for case in "misspelled-input:unknown input 'enviroment' (did you mean 'environment'?)" \
            "wrong-type-input:input 'deploy_job' must be a boolean, got string" \
            "misspelled-variable:unknown variable BG_GATE_ENDPIONT (did you mean 'BG_GATE_ENDPOINT'?)"; do
    name=${case%%:*} msg=${case#*:}
    if ! "$py" "$ciy" inputs "$tpl" "$plain" "$fixtures/$name.gitlab-ci.yml" 2>"$work/$name.err" &&
        grep -qF "$msg" "$work/$name.err"; then
        ok "input check: $name is reported: $msg"
    else
        not_ok "input check: $name is reported: $msg" "$work/$name.err"
    fi
done

# ---------------------------------------------------------------------------------------
# which jobs the examples create (gitlab-ci-local's JSON schema validation included)

comp="$work/component"          # project acme/bg-gate: the component's own project
make_project "$comp" acme/bg-gate
use_example "$comp" "$examples/.gitlab-ci.yml"
flat="$work/plain"
make_project "$flat" acme/llm-app
use_example "$flat" "$examples/plain.gitlab-ci.yml"

for v in comp flat; do
    dir=${!v}
    [ "$v" = comp ] && label="include:component" || label="plain include"
    expect_jobs "$label: a merge request runs only bg-gate-eval" "$dir" \
        "bg-gate-eval on_success test - -" "${mr[@]}"
    expect_jobs "$label: the default branch deploys, rolls back by hand, reports status; one deploy per environment" "$dir" \
        "bg-gate-deploy on_success deploy production bg-gate-production
bg-gate-rollback manual deploy production bg-gate-production
bg-gate-status always deploy - -"
done
expect_jobs "include:component: deploy_job: false leaves the deploy out" "$comp" \
    "bg-gate-rollback manual deploy production bg-gate-production
bg-gate-status always deploy - -" --input deploy_job=false
expect_jobs "plain include: BG_GATE_DEPLOY_JOB=false leaves the deploy out" "$flat" \
    "bg-gate-rollback manual deploy production bg-gate-production
bg-gate-status always deploy - -" --variable BG_GATE_DEPLOY_JOB=false

# include:local with inputs, twice: a second environment under its own job prefix
loc="$work/local"
make_project "$loc" acme/llm-app
cat >"$loc/.gitlab-ci.yml" <<'EOF'
include:
  - local: templates/bg-gate.yml
    inputs:
      deploy_job: true
  - local: templates/bg-gate.yml
    inputs:
      job_prefix: bg-gate-staging
      environment: staging
      eval_job: false
      deploy_job: true
      rollback_job: true
EOF
if "$py" "$ciy" inputs "$tpl" "$plain" "$loc/.gitlab-ci.yml" 2>"$work/loc-inputs.err"; then
    ok "include:local: the inputs pass the input check"
else
    not_ok "include:local: the inputs pass the input check" "$work/loc-inputs.err"
fi
expect_jobs "include:local with inputs: two environments, each with its own jobs and resource group" "$loc" \
    "bg-gate-deploy on_success deploy production bg-gate-production
bg-gate-staging-deploy on_success deploy staging bg-gate-staging
bg-gate-staging-rollback manual deploy staging bg-gate-staging"

# ---------------------------------------------------------------------------------------
# the merge-request eval, for real, against bg-mock

start_mock good tests/mock/models/good.json
good=$mock_port
start_mock bad tests/mock/models/bad.json
bad=$mock_port

eval_run() { # label dir model port args...
    local label=$1 dir=$2 model=$3 port=$4 log
    shift 4
    log="$work/eval-$(basename "$dir")-$model.log"
    rm -rf "$dir/.gitlab-ci-local/artifacts"
    local rc=0
    gcl "$dir" "$log" "${mr[@]}" "$@" bg-gate-eval || rc=$?
    local junit metrics
    junit=$(artifact "$dir" bg-gate-eval junit.xml)
    metrics=$(artifact "$dir" bg-gate-eval metrics.txt)
    if [ "$model" = good ]; then
        if [ $rc -eq 0 ] && grep -q 'PASS  bg-gate-eval' "$log"; then
            ok "$label: the eval job passes against the good model"
        else
            not_ok "$label: the eval job passes against the good model (gitlab-ci-local exit $rc)" "$log"
        fi
        if grep -q '^bg-gate-eval bg_gate_setup_started' "$log" &&
            grep -v 'bg_gate_setup_started' "$log" | grep -q '^bg-gate-eval [a-z_]*_started$'; then
            ok "$label: the job log has the template's and bg-gate's own collapsible sections"
        else
            not_ok "$label: the job log has the template's and bg-gate's own collapsible sections" "$log"
        fi
    else
        if [ $rc -ne 0 ] && grep -Eq '^bg-gate-eval finished in .* FAIL 1 *$' "$log" &&
            grep -q 'bg-gate: exit 1: the gate said no' "$log"; then
            ok "$label: the eval job fails with bg-gate's exit 1 against the bad model"
        else
            not_ok "$label: the eval job fails with bg-gate's exit 1 against the bad model (gitlab-ci-local exit $rc)" "$log"
        fi
    fi
    if [ -s "$junit" ] && [ -s "$metrics" ] && grep -q '<testsuites' "$junit" &&
        { [ "$model" = good ] || grep -q '<failure' "$junit"; }; then
        ok "$label: junit.xml and metrics.txt collected as artifacts ($model model)"
    else
        not_ok "$label: junit.xml and metrics.txt collected as artifacts ($model model)" "$log"
    fi
}

for model in good bad; do
    [ "$model" = good ] && port=$good || port=$bad
    eval_run "include:component" "$comp" "$model" "$port" \
        --input "endpoint=http://127.0.0.1:$port/v1" --input "bg_gate_bin=$gate" --input suite=evals
    eval_run "plain include" "$flat" "$model" "$port" \
        --variable "BG_GATE_ENDPOINT=http://127.0.0.1:$port/v1" --variable "BG_GATE_BIN=$gate" \
        --variable BG_GATE_SUITE=evals
done

# a wrong BG_GATE_BIN is an input error (exit 2), not a build or a pass
log="$work/eval-nobin.log"
rc=0
gcl "$flat" "$log" "${mr[@]}" --variable "BG_GATE_BIN=$work/no-such-bg-gate" bg-gate-eval || rc=$?
if [ $rc -ne 0 ] && grep -Eq '^bg-gate-eval finished in .* FAIL 2 *$' "$log"; then
    ok "plain include: a BG_GATE_BIN that is not executable fails the job with exit 2"
else
    not_ok "plain include: a BG_GATE_BIN that is not executable fails the job with exit 2 (gitlab-ci-local exit $rc)" "$log"
fi

# no binary given: the job builds bg-gate from source (scripts/install-deps.sh build + make),
# here from a copy of this working tree so no build directory of the tree is touched
if command -v bg-gate >/dev/null 2>&1; then
    echo "# SKIPPED the build-from-source job: bg-gate is on PATH ($(command -v bg-gate)), the job would use it"
else
    src="$work/bg-gate-src"
    mkdir -p "$src"
    (cd "$root" && tar -c --exclude='./build*' --exclude=./.tools --exclude=./.git \
        --exclude='./tests/fuzz/corpus-*' .) | tar -x -C "$src"
    log="$work/eval-build.log"
    rc=0
    gcl "$flat" "$log" "${mr[@]}" --variable "BG_GATE_SOURCE_DIR=$src" \
        --variable "BG_GATE_ENDPOINT=http://127.0.0.1:$good/v1" --variable BG_GATE_SUITE=evals bg-gate-eval || rc=$?
    if [ $rc -eq 0 ] && [ -x "$src/build-ci/bg-gate" ] && grep -q 'PASS  bg-gate-eval' "$log"; then
        ok "plain include: without a binary the job builds bg-gate from BG_GATE_SOURCE_DIR and the eval passes"
    else
        not_ok "plain include: without a binary the job builds bg-gate from BG_GATE_SOURCE_DIR and the eval passes (gitlab-ci-local exit $rc)" "$log"
    fi
fi

# ---------------------------------------------------------------------------------------
# deploy, status, rollback of the component example, for real, through nginx

if [ -x /usr/sbin/nginx ]; then
    out="$work/bluegreen"
    mkdir -p "$out"
    export BG_MOCK_BIN=$mock
    # shellcheck source=scripts/lib-bluegreen.sh
    . "$root/scripts/lib-bluegreen.sh"
    if start_bluegreen >"$work/bluegreen.log" 2>&1; then
        make_project "$repo" acme/bg-gate
        write_config acme-support-v1
        commit_project "$repo" v1
        use_example "$repo" "$examples/.gitlab-ci.yml"
        job() { # name expected-exit log gitlab-ci-local-args...
            local name=$1 want=$2 log=$3 rc=0
            shift 3
            rm -rf "$repo/.gitlab-ci-local/artifacts"
            gcl "$repo" "$log" --input "bg_gate_bin=$gate" "$@" "$name" || rc=$?
            if [ "$want" -eq 0 ]; then
                [ $rc -eq 0 ] && grep -q "PASS  $name" "$log"
            else
                [ $rc -ne 0 ] && grep -Eq "^$name finished in .* FAIL $want *\$" "$log"
            fi
        }
        live() { (cd "$repo" && "$gate" status --json) | "$py" -c 'import json,sys; print(json.load(sys.stdin)["router"]["live"])'; }
        junit_has() { [ -s "$2" ] && grep -q "$1" "$2"; }
        deploy_junit=$(artifact "$repo" bg-gate-deploy junit.xml)
        if job bg-gate-deploy 0 "$work/deploy-v1.log" && [ "$(live)" = green ] &&
            junit_has 'name="lifecycle"' "$deploy_junit"; then
            ok "deploy job: promotes v1 to green; junit.xml with the lifecycle is an artifact"
        else
            not_ok "deploy job: promotes v1 to green; junit.xml with the lifecycle is an artifact (live: $(live))" "$work/deploy-v1.log"
        fi
        write_config acme-support-v2
        commit_project "$repo" v2
        use_example "$repo" "$examples/.gitlab-ci.yml"
        if job bg-gate-deploy 0 "$work/deploy-v2.log" && [ "$(live)" = blue ]; then
            ok "deploy job: promotes v2 to blue"
        else
            not_ok "deploy job: promotes v2 to blue (live: $(live))" "$work/deploy-v2.log"
        fi
        if job bg-gate-status 0 "$work/status.log" &&
            "$py" -c 'import json,sys; sys.exit(json.load(open(sys.argv[1]))["router"]["live"] != "blue")' \
                "$(artifact "$repo" bg-gate-status status.json)" 2>>"$work/status.log"; then
            ok "status job: passes; status.json (live: blue) is an artifact"
        else
            not_ok "status job: passes; status.json (live: blue) is an artifact" "$work/status.log"
        fi
        if job bg-gate-rollback 0 "$work/rollback.log" --manual bg-gate-rollback && [ "$(live)" = green ]; then
            ok "rollback job (manual): flips traffic back to v1 on green"
        else
            not_ok "rollback job (manual): flips traffic back to v1 on green (live: $(live))" "$work/rollback.log"
        fi
        write_config acme-support-bad
        commit_project "$repo" bad
        use_example "$repo" "$examples/.gitlab-ci.yml"
        if job bg-gate-deploy 1 "$work/deploy-bad.log" && [ "$(live)" = green ] &&
            junit_has '<failure' "$deploy_junit" && grep -q 'bg-gate: exit 1: the gate said no' "$work/deploy-bad.log"; then
            ok "deploy job: a release that fails the gate fails the job with exit 1, traffic stays, the JUnit evidence is uploaded"
        else
            not_ok "deploy job: a release that fails the gate fails the job with exit 1, traffic stays, the JUnit evidence is uploaded (live: $(live))" "$work/deploy-bad.log"
        fi
    else
        not_ok "blue-green setup (nginx, pools) started" "$work/bluegreen.log"
    fi
else
    echo "# SKIPPED the deploy/status/rollback jobs: /usr/sbin/nginx is missing (scripts/install-deps.sh test installs it)"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
