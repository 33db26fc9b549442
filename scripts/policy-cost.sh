#!/bin/sh
# The policy server's CPU cost per request, counted by callgrind (repeatable on a busy
# machine), beside the always-DUNNO server in the same run: each server runs alone under
# valgrind (`examples/policy_load.rs --serve`), the load (`--connect`) sends SMALL and then
# LARGE requests, and the difference of the two totals over the difference of the counts is
# the cost of one request, start-up and shutdown left out. Counts the server's process only
# (all its threads, user space: the system calls' kernel time is not counted).
#
#   scripts/policy-cost.sh [SMALL LARGE]   (default 5000 25000; Debian package valgrind)
#   DURABILITY=full|normal (default normal)  CONNS=N (default 16)
set -eu
small=${1:-5000}
large=${2:-25000}
durability=${DURABILITY:-normal}
conns=${CONNS:-16}
here=$(cd "$(dirname "$0")/.." && pwd)
command -v valgrind >/dev/null 2>&1 || { echo "missing valgrind (Debian package valgrind)" >&2; exit 69; }
(cd "$here" && cargo build --release --example policy_load --features smtp --quiet)
bin="$here/target/release/examples/policy_load"
dir=$(mktemp -d /tmp/rblkit-policy-cost.XXXXXX)
trap 'rm -rf "$dir"' EXIT
port=$(( 20000 + $$ % 20000 ))

# instructions of one server run ($1: ours|dunno) answering $2 requests
count() {
    port=$((port + 1))
    mkfifo "$dir/in"
    valgrind --tool=callgrind --callgrind-out-file="$dir/$1.$2.out" \
        "$bin" --serve "$1" --listen "127.0.0.1:$port" --durability "$durability" \
        <"$dir/in" >"$dir/$1.$2.log" 2>&1 &
    pid=$!
    exec 3>"$dir/in"
    i=0
    until grep -q "^serving" "$dir/$1.$2.log" 2>/dev/null; do
        i=$((i + 1))
        [ "$i" -lt 600 ] || { cat "$dir/$1.$2.log" >&2; exit 70; }
        sleep 0.1
    done
    "$bin" --connect "127.0.0.1:$port" --requests "$2" --conns "$conns" >/dev/null
    exec 3>&-
    wait "$pid"
    rm -f "$dir/in"
    callgrind_annotate "$dir/$1.$2.out" 2>/dev/null | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1; exit }'
}
os=$(count ours "$small")
ol=$(count ours "$large")
ds=$(count dunno "$small")
dl=$(count dunno "$large")
awk -v s="$small" -v l="$large" -v os="$os" -v ol="$ol" -v ds="$ds" -v dl="$dl" -v d="$durability" -v c="$conns" 'BEGIN {
    o = (ol - os) / (l - s); r = (dl - ds) / (l - s);
    printf "instructions per request (%d - %d requests over %d connections, durability %s)\n", l, s, c, d;
    printf "  rblkit policy     %8.0f\n", o;
    printf "  always-DUNNO      %8.0f\n", r;
    printf "  ratio             %8.2f\n", o / r;
}'
