#!/bin/sh
# The CPU cost of response-rate limiting (and of the query quota) when no client is over
# its rate: instructions per query on the answer path, counted by callgrind (repeatable on
# a busy machine), with limiting beside the same queries without it, in the same run.
#
#   scripts/rrl-cost.sh [QUERIES]        (default 200000; Debian package valgrind)
set -eu
n=${1:-200000}
here=$(cd "$(dirname "$0")/.." && pwd)
command -v valgrind >/dev/null 2>&1 || { echo "missing valgrind (Debian package valgrind)" >&2; exit 69; }
(cd "$here" && cargo build --release --example answer_cost --features dns --quiet)
bin="$here/target/release/examples/answer_cost"
dir=$(mktemp -d /tmp/rblkit-rrl-cost.XXXXXX)
trap 'rm -rf "$dir"' EXIT
count() {
    valgrind --tool=callgrind --callgrind-out-file="$dir/$1.out" \
        --toggle-collect='*answer_cost*run_*' "$bin" "$1" "$n" >/dev/null 2>"$dir/$1.log"
    callgrind_annotate "$dir/$1.out" 2>/dev/null | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1; exit }'
}
plain=$(count plain)
rrl=$(count rrl)
quota=$(count rrl+quota)
awk -v n="$n" -v p="$plain" -v r="$rrl" -v q="$quota" 'BEGIN {
    printf "instructions per query (%d queries, 4096 client networks, none over its rate)\n", n;
    printf "  no limits            %8.0f\n", p / n;
    printf "  rate limiting        %8.0f   x%.3f\n", r / n, r / p;
    printf "  rate limit + quota   %8.0f   x%.3f\n", q / n, q / p;
}'
