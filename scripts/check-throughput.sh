#!/bin/sh
# Checker throughput, side by side with dnsperf: the same `rblkit serve` on loopback, the
# same query names (every address of 10.0.0.0/18, one in four listed), the same number of
# queries outstanding, in one run. dnsperf only sends and counts; `rblkit monitor` also
# decodes each answer, fetches the TXT of each listing, diffs with its state and writes it.
# Prints queries per second of both and their ratio (best of ROUNDS runs each, taking
# turns). BEFORE=path/to/another/rblkit adds that build's monitor to the same run.
#
#   scripts/check-throughput.sh [ROUNDS]      (default 3)
#
# Needs dnsperf (Debian package `dnsperf`); builds rblkit in release mode first
# (RBLKIT=path skips that).
set -eu
rounds=${1:-3}
here=$(cd "$(dirname "$0")/.." && pwd)
OUTSTANDING=${OUTSTANDING:-64}
command -v dnsperf >/dev/null || { echo "dnsperf missing (Debian package dnsperf)" >&2; exit 69; }
if [ -z "${RBLKIT:-}" ]; then
    (cd "$here" && cargo build --release --features cli --quiet)
    RBLKIT="$here/target/release/rblkit"
fi

dir=$(mktemp -d)
chmod 755 "$dir"
pid=
trap 'kill $pid 2>/dev/null; rm -rf "$dir"' EXIT INT TERM

# 16382 host addresses of 10.0.0.0/18; every fourth listed
awk 'BEGIN { print ":127.0.0.2:listed $"; for (i = 1; i < 16383; i += 4) printf "10.0.%d.%d\n", int(i / 256), i % 256 }' >"$dir/bl"
awk 'BEGIN { for (i = 1; i < 16383; i++) printf "%d.%d.0.10.bl.test A\n", i % 256, int(i / 256) }' >"$dir/queries"
chmod 644 "$dir/bl" "$dir/queries"

port=$(python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$RBLKIT" serve --threads 1 --listen "127.0.0.1:$port" "bl.test:ip4set:$dir/bl" >"$dir/serve.log" 2>&1 &
pid=$!
sleep 1

cat >"$dir/monitor.toml" <<TOML
subjects = ["10.0.0.0/18"]
lists = ["bl.test"]
resolver = "127.0.0.1:$port"
concurrency = $OUTSTANDING
max_addresses = 16384
TOML

# monitor BINARY: queries per second of one run (16382 A queries, 4096 TXT queries)
monitor() {
    rm -rf "$dir/state"
    t0=$(date +%s%N)
    "$1" monitor --config "$dir/monitor.toml" --state "$dir/state" --json >"$dir/report.json" || true
    t1=$(date +%s%N)
    awk -v ns=$((t1 - t0)) 'BEGIN { printf "%.0f", (16382 + 4096) / (ns / 1e9) }'
}
max() { [ "$1" -gt "$2" ] && echo "$1" || echo "$2"; }

dp=0 now=0 before=0
i=0
while [ $i -lt "$rounds" ]; do
    q=$(dnsperf -s 127.0.0.1 -p "$port" -d "$dir/queries" -n 1 -q "$OUTSTANDING" 2>&1 | awk '/Queries per second/ { printf "%.0f", $4 }')
    dp=$(max "$q" "$dp")
    now=$(max "$(monitor "$RBLKIT")" "$now")
    if [ -n "${BEFORE:-}" ]; then
        before=$(max "$(monitor "$BEFORE")" "$before")
    fi
    i=$((i + 1))
done
errors=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["errors"]))' "$dir/report.json")

echo "rblkit serve --threads 1 on loopback; $OUTSTANDING queries outstanding; best of $rounds runs"
echo "answers with errors in the last monitor run: $errors"
printf '%-24s %8s q/s\n' "dnsperf" "$dp"
printf '%-24s %8s q/s  %.2fx dnsperf\n' "rblkit monitor" "$now" "$(awk -v a="$now" -v b="$dp" 'BEGIN { print a / b }')"
if [ -n "${BEFORE:-}" ]; then
    printf '%-24s %8s q/s  %.2fx dnsperf\n' "rblkit monitor (BEFORE)" "$before" "$(awk -v a="$before" -v b="$dp" 'BEGIN { print a / b }')"
fi
