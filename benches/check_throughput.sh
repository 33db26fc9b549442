#!/bin/sh
# Checker throughput, side by side with dnsperf: the same rbldnsd on loopback, the same
# query names (every address of 10.0.0.0/18, one in four listed), the same number of
# queries outstanding. dnsperf only sends and counts; `rblkit monitor` also decodes each
# answer, fetches the TXT of each listing, diffs with its state and writes it. Prints
# queries per second of both and their ratio.
#
#   cargo build --release --features cli && sh benches/check_throughput.sh
#
# Needs rbldnsd and dnsperf (Debian packages `rbldnsd`, `dnsperf`).
set -eu
RBLKIT=${RBLKIT:-target/release/rblkit}
OUTSTANDING=${OUTSTANDING:-64}
[ -x "$RBLKIT" ] || { echo "build first: cargo build --release --features cli" >&2; exit 1; }
command -v rbldnsd >/dev/null || { echo "rbldnsd missing (Debian package rbldnsd)" >&2; exit 1; }
command -v dnsperf >/dev/null || { echo "dnsperf missing (Debian package dnsperf)" >&2; exit 1; }

dir=$(mktemp -d)
chmod 755 "$dir"
trap 'kill $pid 2>/dev/null; rm -rf "$dir"' EXIT INT TERM

# 16382 host addresses of 10.0.0.0/18; every fourth listed
awk 'BEGIN { print ":127.0.0.2:listed $"; for (i = 1; i < 16383; i += 4) printf "10.0.%d.%d\n", int(i / 256), i % 256 }' >"$dir/bl"
awk 'BEGIN { for (i = 1; i < 16383; i++) printf "%d.%d.0.10.bl.test A\n", i % 256, int(i / 256) }' >"$dir/queries"
chmod 644 "$dir/bl" "$dir/queries"

port=$(python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
user=""
[ "$(id -u)" = 0 ] && user="-u nobody"
# shellcheck disable=SC2086
rbldnsd -n $user -b "127.0.0.1/$port" "bl.test:ip4set:$dir/bl" >"$dir/rbldnsd.log" 2>&1 &
pid=$!
sleep 1

dp=$(dnsperf -s 127.0.0.1 -p "$port" -d "$dir/queries" -n 3 -q "$OUTSTANDING" 2>&1 | awk '/Queries per second/ { print $4 }')

cat >"$dir/monitor.toml" <<TOML
subjects = ["10.0.0.0/18"]
lists = ["bl.test"]
resolver = "127.0.0.1:$port"
concurrency = $OUTSTANDING
max_addresses = 16384
TOML
best=0
for run in 1 2 3; do
    t0=$(date +%s%N)
    "$RBLKIT" monitor --config "$dir/monitor.toml" --state "$dir/state" --json >"$dir/report.json" || true
    t1=$(date +%s%N)
    # 16382 A queries and 4096 TXT queries (one per listing)
    q=$(awk -v ns=$((t1 - t0)) 'BEGIN { printf "%.0f", (16382 + 4096) / (ns / 1e9) }')
    [ "$q" -gt "$best" ] && best=$q
done
errors=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["errors"]))' "$dir/report.json")

echo "queries outstanding: $OUTSTANDING; answers with errors in the last rblkit run: $errors"
echo "dnsperf        qps: $dp"
echo "rblkit monitor qps: $best (best of 3 runs)"
awk -v a="$best" -v b="$dp" 'BEGIN { printf "ratio rblkit/dnsperf: %.2f\n", a / b }'
