#!/usr/bin/env bash
# make demo — the whole story on one machine, on 127.0.0.1 only:
#   1. bg-mock as a "good" and a "bad" model; `bg-gate eval` on evals/ against each.
#   2. Blue-green with the real nginx: two bg-mock pools restarted by a pool script (as
#      `docker compose up -d vllm-green` would be), releases committed to a git repository:
#      deploy a first release, a better one (promoted, traffic verified), a bad one
#      (stopped by the gate, live untouched), roll back, print `status`.
# It stops everything it started (by PID). Usage: demo.sh BG_GATE_BIN BG_MOCK_BIN
set -u
gate=$1 mock=$2
export BG_MOCK_BIN=$mock
root=$(cd "$(dirname "$0")/.." && pwd)
out=${DEMO_OUT:-$root/demo-out}
rm -rf "$out" && mkdir -p "$out"
pids=()
nginx_conf="$out/nginx/nginx.conf"
cleanup() {
    [ -f "$out/nginx/nginx.pid" ] && kill "$(cat "$out/nginx/nginx.pid")" 2>/dev/null
    for f in "$out"/pools/*/mock.pid; do [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null; done
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
}
trap cleanup EXIT INT TERM
say() { printf '\n\033[1m== %s ==\033[0m\n' "$*"; }
[ -n "${NO_COLOR:-}" ] && say() { printf '\n== %s ==\n' "$*"; }

# ---------------------------------------------------------------- part 1: eval
start_mock() { # name table → sets url_<name>
    local name=$1 table=$2
    "$mock" --port 0 --port-file "$out/$name.port" --answers "$table" \
        --latency-ms 15 --jitter-ms 10 --token-ms 2 2>"$out/$name.log" &
    pids+=($!)
    for _ in $(seq 100); do [ -s "$out/$name.port" ] && break; sleep 0.05; done
    [ -s "$out/$name.port" ] || { echo "bg-mock $name did not start:"; cat "$out/$name.log"; exit 3; }
    printf -v "url_$name" 'http://127.0.0.1:%s/v1' "$(cat "$out/$name.port")"
}
start_mock good "$root/tests/mock/models/good.json"
start_mock bad "$root/tests/mock/models/bad.json"
verdicts=()
for name in good bad; do
    url_var="url_$name"
    say "bg-gate eval against the $name model (${!url_var})"
    "$gate" eval --endpoint "${!url_var}" --suite "$root/evals" --concurrency 8 \
        --threshold pass_rate=1 --threshold p95_ms=2000 --reports "$out/eval-$name" --no-progress
    verdicts+=("eval, $name model: exit $?")
done

# ---------------------------------------------------------------- part 2: blue-green
free_port() { # a port nothing listens on
    local p
    while :; do
        p=$((20000 + RANDOM % 20000))
        (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
    done
}
blue=$(free_port); green=$(free_port); router=$(free_port)
while [ "$green" = "$blue" ]; do green=$(free_port); done
repo="$out/repo"; state="$out/state"; ups="$out/nginx/upstreams.conf"
mkdir -p "$repo" "$out/nginx" "$out/pools"

# nginx with the documented snippet (docs/nginx-reload.conf), everything under demo-out/
cat >"$nginx_conf" <<EOF
worker_processes 1;
pid $out/nginx/nginx.pid;
error_log $out/nginx/error.log;
events { worker_connections 256; }
http {
    access_log off;
    client_body_temp_path $out/nginx/t1; proxy_temp_path $out/nginx/t2;
    fastcgi_temp_path $out/nginx/t3; uwsgi_temp_path $out/nginx/t4; scgi_temp_path $out/nginx/t5;
    include $ups;
    server {
        listen 127.0.0.1:$router;
        location / {
            proxy_pass http://bg_gate_llm;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_buffering off;
            add_header X-BG-Upstream \$upstream_addr always;
        }
    }
}
EOF
# the first version of the upstream file bg-gate will own: blue is live
cat >"$ups" <<EOF
# bg-gate: blue=100 green=0 (managed by bg-gate; do not edit)
upstream bg_gate_llm {
    server 127.0.0.1:$blue weight=100; # blue
    server 127.0.0.1:$green down; # green
    keepalive 32;
}
EOF
pool_sh="$root/scripts/demo-pool.sh"
nginx_argv() { printf '["/usr/sbin/nginx", %s"-c", "%s", "-p", "%s/nginx/"]' "$1" "$nginx_conf" "$out"; }
write_config() { # served_name
    cat >"$repo/bg-gate.json" <<EOF
{
  "environment": "demo",
  "release": {
    "model": {"name": "acme/support-8b", "revision": "$1", "served_name": "$1"},
    "templates": {"system": "prompts/system.txt"},
    "suites": ["evals/golden.jsonl", "evals/smoke.jsonl"]
  },
  "pools": {
    "blue":  {"endpoints": ["http://127.0.0.1:$blue/v1"],
              "deploy": {"driver": "command", "argv": ["$pool_sh", "deploy", "$out/pools/blue", "$blue"]},
              "stop": {"argv": ["$pool_sh", "stop", "$out/pools/blue", "$blue"]}},
    "green": {"endpoints": ["http://127.0.0.1:$green/v1"],
              "deploy": {"driver": "command", "argv": ["$pool_sh", "deploy", "$out/pools/green", "$green"]},
              "stop": {"argv": ["$pool_sh", "stop", "$out/pools/green", "$green"]}}
  },
  "health": {"timeout_s": 30, "interval_ms": 100},
  "router": {"driver": "nginx", "upstream_file": "$ups",
             "test_argv": $(nginx_argv '"-t", "-q", '), "reload_argv": $(nginx_argv '"-s", "reload", '),
             "endpoint": "http://127.0.0.1:$router/v1", "upstream_header": "X-BG-Upstream"},
  "gate": {"concurrency": 8, "thresholds": {"pass_rate": 1.0, "p95_ms": 2000}},
  "promotion": {"verify_requests": 5, "drain_timeout_s": 10, "keep_warm_s": 86400},
  "state": {"dir": "$state"}
}
EOF
}
git_commit() { git -C "$repo" add -A >/dev/null && git -C "$repo" -c user.name=demo -c user.email=demo@example.invalid commit -qm "$1"; }

git -C "$repo" init -q
cp -r "$root/evals" "$repo/evals"
mkdir -p "$repo/prompts" && echo "You are Acme's support assistant." >"$repo/prompts/system.txt"

say "starting blue (the model in production before bg-gate) and nginx on 127.0.0.1:$router"
BG_SERVED_MODEL=acme-support-v0 BG_RELEASE_ID=initial "$pool_sh" deploy "$out/pools/blue" "$blue"
/usr/sbin/nginx -c "$nginx_conf" -p "$out/nginx/" || { echo "nginx did not start"; exit 3; }
ask() { curl -s -D - -o "$out/answer.json" -H 'Content-Type: application/json' \
        -d '{"model":"any","messages":[{"role":"user","content":"What is the capital of France?"}]}' \
        "http://127.0.0.1:$router/v1/chat/completions" | tr -d '\r' | sed -n 's/^X-BG-Upstream: /    answered by upstream /p'
        sed -n 's/.*"model":"\([^"]*\)".*/    model: \1/p' "$out/answer.json"; }
sleep 1; ask

step() { # title tag served commit-message
    write_config "$3"; git_commit "$4"
    say "$1"
    (cd "$repo" && "$gate" resolve --against HEAD~1 2>/dev/null | sed -n '/^against/,$p')
    (cd "$repo" && "$gate" deploy --reports "$out/deploy-$2")
    local rc=$?
    verdicts+=("deploy $2 ($3): exit $rc")
    ask
}
write_config acme-support-v1; git_commit "release v1"
say "deploy release v1 (first deploy: to the idle pool, green)"
(cd "$repo" && "$gate" deploy --reports "$out/deploy-v1"); verdicts+=("deploy v1: exit $?"); ask
step "deploy release v2 (a better model: promoted to blue, traffic verified)" v2 acme-support-v2 "release v2"
step "deploy a bad release (the gate stops it; live traffic untouched)" bad acme-support-bad "bad release"
say "roll back to the warm previous pool"
(cd "$repo" && "$gate" rollback); verdicts+=("rollback: exit $?"); ask
say "bg-gate status"
(cd "$repo" && "$gate" status)

say "demo summary"
printf '  %s\n' "${verdicts[@]}"
echo "  reports: $out/eval-*/ and $out/deploy-*/ (junit.xml, report.json, summary.md, metrics.txt)"
expected=("eval, good model: exit 0" "eval, bad model: exit 1" "deploy v1: exit 0"
          "deploy v2 (acme-support-v2): exit 0" "deploy bad (acme-support-bad): exit 1" "rollback: exit 0")
[ "${verdicts[*]}" = "${expected[*]}" ] || { echo "demo: unexpected outcome"; exit 1; }
