#!/bin/sh
# The cost of URL extraction beside linkify on the same bytes (the bench corpus of
# benches/common/corpus.rs): instructions per MB counted by callgrind over the scan alone
# (repeatable on a busy machine), and peak resident memory of the whole program.
#
#   scripts/extract-cost.sh [MiB…]         (default 1 10; Debian package valgrind)
#   scripts/extract-cost.sh kinds [KIND…]  what one token of each kind costs beyond the prose
#                                          around it: 2,000 prose lines with one such token
#                                          each (`extract_cost kind`), less the same lines
#                                          without it, divided by 2,000
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
command -v valgrind >/dev/null 2>&1 || { echo "missing valgrind (Debian package valgrind)" >&2; exit 69; }
(cd "$here" && cargo build --release --example extract_cost --quiet)
bin="$here/target/release/examples/extract_cost"
dir=$(mktemp -d /tmp/rblkit-extract-cost.XXXXXX)
trap 'rm -rf "$dir"' EXIT
# count WHO ARGS…: the instructions inside run_WHO of `extract_cost ARGS…`
count() {
    who=$1
    shift
    valgrind --tool=callgrind --callgrind-out-file="$dir/out" --collect-atstart=no \
        --toggle-collect="*run_$who*" "$bin" "$@" >"$dir/stdout" 2>"$dir/log"
    callgrind_annotate "$dir/out" 2>/dev/null | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1; exit }'
}
rss() {
    /usr/bin/time -f %M "$bin" "$1" "$2" "$3" 2>&1 >/dev/null | tail -1
}
if [ "${1:-}" = kinds ]; then
    shift
    base=$(count rblkit kind prose)
    printf '%-8s %12s %16s\n' kind instructions "per token"
    printf '%-8s %12d %16s\n' prose "$base" -
    for k in ${*:-url track www email host version file ip price eg}; do
        n=$(count rblkit kind "$k")
        awk -v k="$k" -v n="$n" -v b="$base" 'BEGIN { printf "%-8s %12d %16.0f\n", k, n, (n - b) / 2000 }'
    done
    exit 0
fi
printf '%-12s %17s %17s %15s %14s %14s %14s\n' corpus "rblkit instr/MiB" "linkify instr/MiB" \
    "linkify/rblkit" "rblkit RSS KB" "linkify RSS KB" "corpus only KB"
for mb in ${*:-1 10}; do
    for kind in dense sparse; do
        r=$(count rblkit rblkit "$kind" "$mb")
        l=$(count linkify linkify "$kind" "$mb")
        awk -v k="$kind ${mb} MiB" -v r="$r" -v l="$l" -v mb="$mb" \
            -v rr="$(rss rblkit "$kind" "$mb")" -v lr="$(rss linkify "$kind" "$mb")" \
            -v nr="$(rss none "$kind" "$mb")" \
            'BEGIN { printf "%-12s %17.0f %17.0f %14.2fx %14d %14d %14d\n", k, r / mb, l / mb, l / r, rr, lr, nr }'
    done
done
