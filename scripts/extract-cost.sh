#!/bin/sh
# The cost of URL extraction beside linkify on the same bytes (the bench corpus of
# benches/common/corpus.rs): instructions per MB counted by callgrind over the scan alone
# (repeatable on a busy machine), and peak resident memory of the whole program.
#
#   scripts/extract-cost.sh [MiB…]       (default 1 10; Debian package valgrind)
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
command -v valgrind >/dev/null 2>&1 || { echo "missing valgrind (Debian package valgrind)" >&2; exit 69; }
(cd "$here" && cargo build --release --example extract_cost --quiet)
bin="$here/target/release/examples/extract_cost"
dir=$(mktemp -d /tmp/rblkit-extract-cost.XXXXXX)
trap 'rm -rf "$dir"' EXIT
count() {
    valgrind --tool=callgrind --callgrind-out-file="$dir/out" --collect-atstart=no \
        --toggle-collect="*run_$1*" "$bin" "$1" "$2" "$3" >"$dir/stdout" 2>"$dir/log"
    callgrind_annotate "$dir/out" 2>/dev/null | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1; exit }'
}
rss() {
    /usr/bin/time -f %M "$bin" "$1" "$2" "$3" 2>&1 >/dev/null | tail -1
}
printf '%-12s %17s %17s %15s %14s %14s %14s\n' corpus "rblkit instr/MiB" "linkify instr/MiB" \
    "linkify/rblkit" "rblkit RSS KB" "linkify RSS KB" "corpus only KB"
for mb in ${*:-1 10}; do
    for kind in dense sparse; do
        r=$(count rblkit "$kind" "$mb")
        l=$(count linkify "$kind" "$mb")
        awk -v k="$kind ${mb} MiB" -v r="$r" -v l="$l" -v mb="$mb" \
            -v rr="$(rss rblkit "$kind" "$mb")" -v lr="$(rss linkify "$kind" "$mb")" \
            -v nr="$(rss none "$kind" "$mb")" \
            'BEGIN { printf "%-12s %17.0f %17.0f %14.2fx %14d %14d %14d\n", k, r / mb, l / mb, l / r, rr, lr, nr }'
    done
done
