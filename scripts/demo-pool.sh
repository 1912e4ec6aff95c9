#!/bin/sh
# demo-pool.sh — the demo's pool driver: (re)starts bg-mock for one pool the way
# `docker compose up -d vllm-green` or `systemctl restart vllm@green` would restart a
# model server. bg-gate runs it as an argv (never through a shell string) with the
# release in BG_* environment variables.
#   demo-pool.sh deploy|stop POOL_DIR PORT
# Served models named *bad* answer from the bad table, others from the good one.
set -u
action=$1 dir=$2 port=$3
root=$(cd "$(dirname "$0")/.." && pwd)
pidfile="$dir/mock.pid"
# Running = exists and is not a zombie: the old server's parent (this script's earlier run)
# is gone, so nobody may reap it soon, and `kill -0` succeeds on a zombie.
running() {
    state=$(sed -n 's/^[0-9]* (.*) \(.\) .*/\1/p' "/proc/$1/stat" 2>/dev/null)
    [ -n "$state" ] && [ "$state" != Z ]
}
if [ -f "$pidfile" ]; then
    old=$(cat "$pidfile")
    kill "$old" 2>/dev/null
    # up to 5 s: the new server needs the port the old one listens on
    for _ in $(seq 250); do running "$old" || break; sleep 0.02; done
    rm -f "$pidfile"
fi
[ "$action" = stop ] && exit 0
echo "starting the model server for release ${BG_RELEASE_ID:-?} (${BG_SERVED_MODEL:-?}) on port $port"
case "$BG_SERVED_MODEL" in
    *bad*) table="$root/tests/mock/models/bad.json" ;;
    *) table="$root/tests/mock/models/good.json" ;;
esac
mkdir -p "$dir"
"$BG_MOCK_BIN" --port "$port" --model "$BG_SERVED_MODEL" --answers "$table" \
    --cold-start-ms 800 --latency-ms 10 --jitter-ms 10 --token-ms 2 \
    --pid-file "$pidfile" </dev/null >/dev/null 2>"$dir/mock.log" &
for _ in $(seq 250); do [ -s "$pidfile" ] && exit 0; sleep 0.02; done
echo "bg-mock did not start:"; cat "$dir/mock.log"; exit 5
