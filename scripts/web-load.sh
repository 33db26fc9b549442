#!/bin/sh
# Lookups per second through `rblkit web`'s JSON API (GET /api/v1/lookup?q=…, subjects
# drawn from 10 000 listed and 10 000 unknown addresses) with concurrent clients, beside
# the trivial handler of the same server (GET /healthz: same listener, router, middleware
# and headers, no ledger) in the same run; prints both and the ratio.
#
#   scripts/web-load.sh [SECONDS] [CONNECTIONS]     (default 5 s, 64 connections)
#
# Needs: wrk (Debian package wrk); builds rblkit in release mode first (RBLKIT=path to use
# another build). wrk runs on the same machine, so it takes part of the cores.
set -eu
SECS=${1:-5}
CONNS=${2:-64}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
if [ -z "${RBLKIT:-}" ]; then
    (cd "$ROOT" && cargo build --release --features cli --quiet)
    RBLKIT="$ROOT/target/release/rblkit"
fi
command -v wrk >/dev/null || { echo "wrk not found (apt-get install wrk)" >&2; exit 1; }

DIR=$(mktemp -d /tmp/rblkit-web-load.XXXXXX)
PID=
trap '[ -n "$PID" ] && kill "$PID" 2>/dev/null; rm -rf "$DIR"' EXIT INT TERM

AT=$(date -u -d '-10 minutes' +%Y-%m-%dT%H:%M:%SZ)
awk -v at="$AT" 'BEGIN { for (i = 0; i < 10000; i++)
    printf "{\"at\":\"%s\",\"subject\":\"10.%d.%d.1\",\"event\":\"manual_list\",\"note\":\"load\"}\n", at, int(i / 256), i % 256 }' \
    | "$RBLKIT" ledger ingest --state "$DIR/state" --profile spam-center >/dev/null
cat >"$DIR/web.toml" <<TOML
[limits]
lookups_per_minute = 4000000000
posts_per_minute = 4000000000
TOML
"$RBLKIT" web --listen 127.0.0.1:0 --state "$DIR/state" --profile spam-center \
    --config "$DIR/web.toml" 2>"$DIR/log" &
PID=$!
PORT=
for _ in $(seq 100); do
    PORT=$(sed -n 's|.*http://127.0.0.1:\([0-9]*\)/.*|\1|p' "$DIR/log")
    [ -n "$PORT" ] && break
    sleep 0.1
done
[ -n "$PORT" ] || { cat "$DIR/log" >&2; exit 1; }

cat >"$DIR/lookup.lua" <<'LUA'
local n = 0
request = function()
  n = n + 1
  local i = (n * 7919) % 20000
  local ip
  local f = math.floor
  if i < 10000 then ip = string.format("10.%d.%d.1", f(i / 256), i % 256)
  else ip = string.format("198.18.%d.%d", f((i - 10000) / 256), (i - 10000) % 256) end
  return wrk.format("GET", "/api/v1/lookup?q=" .. ip)
end
LUA
run() { wrk -t2 -c"$CONNS" -d"${SECS}s" "$@" >"$DIR/wrk.out"
    grep -q 'Non-2xx' "$DIR/wrk.out" && { cat "$DIR/wrk.out" >&2; exit 1; }
    sed -n 's/^Requests\/sec: *//p' "$DIR/wrk.out"; }
# warm up, then measure each twice, interleaved
wrk -t2 -c"$CONNS" -d1s "http://127.0.0.1:$PORT/healthz" >/dev/null
curl -sf "http://127.0.0.1:$PORT/api/v1/lookup?q=10.0.1.1" | grep -q '"listed":true' \
    || { echo "the lookup does not answer listed" >&2; exit 1; }
H1=$(run "http://127.0.0.1:$PORT/healthz")
L1=$(run -s "$DIR/lookup.lua" "http://127.0.0.1:$PORT/")
H2=$(run "http://127.0.0.1:$PORT/healthz")
L2=$(run -s "$DIR/lookup.lua" "http://127.0.0.1:$PORT/")
awk -v h1="$H1" -v h2="$H2" -v l1="$L1" -v l2="$L2" -v c="$CONNS" -v ncpu="$(nproc)" 'BEGIN {
  h = (h1 + h2) / 2; l = (l1 + l2) / 2;
  printf "connections %d, %d cores\n", c, ncpu;
  printf "%-38s %10.0f req/s\n", "GET /healthz (trivial handler)", h;
  printf "%-38s %10.0f req/s\n", "GET /api/v1/lookup (ledger status)", l;
  printf "lookups / trivial = %.2f\n", l / h }'
