#!/usr/bin/env bash
# shellcheck disable=SC2154 # $out and $root are set by the script that sources this one
# lib-bluegreen.sh — sourced by scripts/demo.sh and tests/bench/bench-deploy.sh: a complete
# blue-green setup on 127.0.0.1 under $out — a git repository whose bg-gate.json pins the
# release, two bg-mock pools restarted by scripts/demo-pool.sh, and nginx with the documented
# snippet. Needs: $out, $root, $BG_MOCK_BIN; ROUTER_MODE=hitless selects the nginx driver's
# hitless mode (Lua, no reload per flip) instead of reload. Defines write_config SERVED,
# git_commit MSG, start_bluegreen (blue live with an initial model, nginx up), stop_bluegreen.
# A port nothing listens on, below the kernel's ephemeral range: a pool restarted on its port
# must not find it taken as the source port of some outgoing connection (nginx's keep-alive
# to the other pool, a health check), which makes the restart fail at random.
free_port() {
    local p low
    read -r low _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || low=32768
    while :; do
        p=$((15000 + RANDOM % (low - 15000)))
        (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
    done
}
# The repository below is our own: a CI job's commit variables name a commit of another
# repository, and would become the default revision of every deploy here.
unset GITHUB_SHA CI_COMMIT_SHA
blue=$(free_port); green=$(free_port); router=$(free_port)
while [ "$green" = "$blue" ]; do green=$(free_port); done
while [ "$router" = "$blue" ] || [ "$router" = "$green" ]; do router=$(free_port); done
repo="$out/repo"; state="$out/state"; ups="$out/nginx/upstreams.conf"
nginx_conf="$out/nginx/nginx.conf"
mkdir -p "$repo" "$out/nginx" "$out/pools"

# nginx with the documented snippet (docs/nginx-reload.conf, or docs/nginx-hitless.conf with
# ROUTER_MODE=hitless), everything under $out
weights="$out/nginx/weights.json"
if [ "${ROUTER_MODE:-reload}" = hitless ]; then
    modules="load_module /usr/lib/nginx/modules/ndk_http_module.so;
load_module /usr/lib/nginx/modules/ngx_http_lua_module.so;"
    http_extra="lua_package_path \"$root/docs/?.lua;;\";"
    pass="set_by_lua_block \$bg_pool { return require(\"bg-gate-weights\").pool(\"$weights\", \"blue\") }
            proxy_pass http://\$bg_pool;"
else
    modules="" http_extra="" pass="proxy_pass http://bg_gate_llm;"
fi
cat >"$nginx_conf" <<EOF
$modules
worker_processes 1;
pid $out/nginx/nginx.pid;
error_log $out/nginx/error.log;
events { worker_connections 256; }
http {
    access_log off;
    client_body_temp_path $out/nginx/t1; proxy_temp_path $out/nginx/t2;
    fastcgi_temp_path $out/nginx/t3; uwsgi_temp_path $out/nginx/t4; scgi_temp_path $out/nginx/t5;
    $http_extra
    include $ups;
    server {
        listen 127.0.0.1:$router;
        location / {
            $pass
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_buffering off;
            add_header X-BG-Upstream \$upstream_addr always;
        }
    }
}
EOF
# the first version of the file(s) bg-gate will own: blue is live
if [ "${ROUTER_MODE:-reload}" = hitless ]; then
    cat >"$ups" <<EOF
# bg-gate: hitless upstreams (managed by bg-gate; do not edit)
upstream bg_gate_blue {
    server 127.0.0.1:$blue; # blue
    keepalive 32;
}
upstream bg_gate_green {
    server 127.0.0.1:$green; # green
    keepalive 32;
}
EOF
    echo '{"blue": 100, "green": 0}' >"$weights"
    router_mode="\"mode\": \"hitless\", \"weights_file\": \"$weights\", "
else
    cat >"$ups" <<EOF
# bg-gate: blue=100 green=0 (managed by bg-gate; do not edit)
upstream bg_gate_llm {
    server 127.0.0.1:$blue weight=100; # blue
    server 127.0.0.1:$green down; # green
    keepalive 32;
}
EOF
    router_mode=""
fi
pool_sh="$root/scripts/demo-pool.sh"
nginx_argv() { printf '["/usr/sbin/nginx", %s"-c", "%s", "-p", "%s/nginx/"]' "$1" "$nginx_conf" "$out"; }
write_config() { # served_name [revision]; $PROMOTION_EXTRA adds promotion members
    cat >"$repo/bg-gate.json" <<EOF
{
  "environment": "demo",
  "release": {
    "model": {"name": "acme/support-8b", "revision": "${2:-$1}", "served_name": "$1"},
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
  "router": {"driver": "nginx", $router_mode"upstream_file": "$ups",
             "test_argv": $(nginx_argv '"-t", "-q", '), "reload_argv": $(nginx_argv '"-s", "reload", '),
             "endpoint": "http://127.0.0.1:$router/v1", "upstream_header": "X-BG-Upstream"},
  "gate": {"concurrency": 8, "thresholds": {"pass_rate": 1.0, "p95_ms": 2000}},
  "promotion": {"verify_requests": 5, "drain_timeout_s": 10, "keep_warm_s": 86400${PROMOTION_EXTRA:+, $PROMOTION_EXTRA}},
  "state": {"dir": "$state"}
}
EOF
}
git_commit() { git -C "$repo" add -A >/dev/null && git -C "$repo" -c user.name=demo -c user.email=demo@example.invalid commit -qm "$1"; }

git -C "$repo" init -q
cp -r "$root/evals" "$repo/evals"
mkdir -p "$repo/prompts" && echo "You are Acme's support assistant." >"$repo/prompts/system.txt"


start_bluegreen() {
    BG_SERVED_MODEL=acme-support-v0 BG_RELEASE_ID=initial "$pool_sh" deploy "$out/pools/blue" "$blue" || return 3
    /usr/sbin/nginx -c "$nginx_conf" -p "$out/nginx/" || { echo "nginx did not start"; return 3; }
}

stop_bluegreen() {
    local pid
    pid=$(cat "$out/nginx/nginx.pid" 2>/dev/null) && kill "$pid" 2>/dev/null
    for f in "$out"/pools/*/mock.pid; do pid=$(cat "$f" 2>/dev/null) && kill "$pid" 2>/dev/null; done
    return 0
}
