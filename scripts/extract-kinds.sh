#!/bin/sh
# What one token of each kind costs the extractor beyond the prose around it: instructions of
# the scan alone (callgrind) over 2,000 lines of prose with one such token each
# (`extract_cost kind`), less those of the same lines without it, divided by 2,000.
#
#   scripts/extract-kinds.sh [KIND…]     (default: every kind; Debian package valgrind)
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
command -v valgrind >/dev/null 2>&1 || { echo "missing valgrind (Debian package valgrind)" >&2; exit 69; }
(cd "$here" && cargo build --release --example extract_cost --quiet)
bin="$here/target/release/examples/extract_cost"
dir=$(mktemp -d /tmp/rblkit-extract-kinds.XXXXXX)
trap 'rm -rf "$dir"' EXIT
count() {
    valgrind --tool=callgrind --callgrind-out-file="$dir/out" --collect-atstart=no \
        --toggle-collect='*run_rblkit*' "$bin" kind "$1" >"$dir/stdout" 2>"$dir/log"
    callgrind_annotate "$dir/out" 2>/dev/null | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1; exit }'
}
base=$(count prose)
printf '%-8s %12s %16s\n' kind instructions "per token"
printf '%-8s %12d %16s\n' prose "$base" -
for k in ${*:-url track www email host version file ip price eg}; do
    n=$(count "$k")
    awk -v k="$k" -v n="$n" -v b="$base" 'BEGIN { printf "%-8s %12d %16.0f\n", k, n, (n - b) / 2000 }'
done
