#!/bin/sh
# Differential check of the extractor: every hit (kind, URL or address, host, registrable
# domain, IP, span, part, flags) that the version at BASE finds, against the working tree,
# on the bench corpus (dense and sparse, 1 MB and 10 MB), the MIME fixtures, the sample
# message and every row of the case table. Prints the hit counts; exits 1 on any difference.
#
#   scripts/extract-diff.sh [BASE]       (default main)
set -eu
base=${1:-main}
here=$(cd "$(dirname "$0")/.." && pwd)
dir=$(mktemp -d /tmp/rblkit-extract-diff.XXXXXX)
trap 'rm -rf "$dir"' EXIT
# The base's sources with today's dump program (examples/extract_cost.rs), built in a
# target directory of their own: cargo gives both trees the same artifact names, so one
# shared directory would mix them up. It starts as a copy of ours (the dependencies).
mkdir "$dir/base"
git -C "$here" archive "$base" | tar -x -C "$dir/base"
mkdir -p "$dir/base/benches/common"
cp "$here/examples/extract_cost.rs" "$dir/base/examples/"
cp "$here/benches/common/corpus.rs" "$dir/base/benches/common/"
find "$dir/base" -type f -exec touch {} +
base_target="$here/target/extract-diff-base"
if [ ! -d "$base_target/release" ] && [ -d "$here/target/release" ]; then
    mkdir -p "$base_target"
    cp -a "$here/target/release" "$base_target/"
fi
(cd "$dir/base" && CARGO_TARGET_DIR="$base_target" cargo build --release --example extract_cost --quiet)
cp "$base_target/release/examples/extract_cost" "$dir/old"
(cd "$here" && cargo build --release --example extract_cost --quiet)
new="$here/target/release/examples/extract_cost"
status=0
compare() {
    name=$1
    shift
    (cd "$here" && "$dir/old" dump "$@") >"$dir/old.txt"
    (cd "$here" && "$new" dump "$@") >"$dir/new.txt"
    if cmp -s "$dir/old.txt" "$dir/new.txt"; then
        printf '%-10s %8d hits, identical\n' "$name" "$(wc -l <"$dir/old.txt")"
    else
        printf '%-10s %8d hits before, %d now, DIFFERENT:\n' "$name" \
            "$(wc -l <"$dir/old.txt")" "$(wc -l <"$dir/new.txt")"
        diff "$dir/old.txt" "$dir/new.txt" | head -20
        status=1
    fi
}
for kind in dense sparse; do
    for mb in 1 10; do
        compare "$kind-${mb}MB" "$kind" "$mb"
    done
done
compare fixtures tests/data/extract/*.eml data/sample/spam.eml
compare cases tests/data/extract/cases.tsv
exit $status
