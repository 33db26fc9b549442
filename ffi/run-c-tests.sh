#!/usr/bin/env bash
# Builds the rblkit C API (ffi/), then compiles the C tests and the C example with the system
# C compiler (-Wall -Wextra -Werror) and runs them:
#   1. linked with the static library;
#   2. linked with the static library under AddressSanitizer + UndefinedBehaviorSanitizer
#      (leak detection on: zero leaks and errors);
#   3. linked with the shared library found through the generated pkg-config file, under
#      valgrind --leak-check=full --error-exitcode=1.
# Needs: cc (gcc or clang) with libasan/libubsan, pkg-config, valgrind. A missing tool fails
# the run when CI=true and is skipped with a message otherwise.
#
# Usage: ffi/run-c-tests.sh            (RBLKIT_FFI_PROFILE=debug for a faster debug build)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
profile=${RBLKIT_FFI_PROFILE:-release}
lib="$root/target/$profile"
out="$root/target/ffi-c"
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

missing() {
    if [[ "${CI:-}" == "true" ]]; then
        echo "run-c-tests: $1 is missing (CI=true: failing)" >&2
        exit 1
    fi
    echo "run-c-tests: skipping $2: $1 is missing" >&2
}

command -v cc >/dev/null || { echo "run-c-tests: no C compiler (cc)" >&2; exit 1; }

if [[ "$profile" == "release" ]]; then
    cargo build -p rblkit-ffi --release
else
    cargo build -p rblkit-ffi
fi

cflags=(-std=c11 -Wall -Wextra -Werror -pedantic -g -I"$root/include")
libs=(-lpthread -ldl -lm)

echo "== static library"
cc "${cflags[@]}" ffi/tests/test_rblkit.c "$lib/librblkit_ffi.a" "${libs[@]}" -o "$out/test_rblkit"
"$out/test_rblkit" data/sample "$tmp"
cc "${cflags[@]}" ffi/examples/lookup.c "$lib/librblkit_ffi.a" "${libs[@]}" -o "$out/lookup"
"$out/lookup" data/sample >"$out/lookup.out"
grep -q '198.51.100.23 .* listed 127.0.0.2 "Listed: see https://bl.example/lookup?q=198.51.100.23"' "$out/lookup.out"
grep -q 'url   203.0.113.77 .* listed 127.0.0.3 "Spamtrap hits from 203.0.113.77"' "$out/lookup.out"

echo "== AddressSanitizer + UndefinedBehaviorSanitizer (static library)"
if echo 'int main(void){return 0;}' | cc -fsanitize=address,undefined -x c - -o "$tmp/probe" 2>/dev/null; then
    san=(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
    cc "${cflags[@]}" "${san[@]}" ffi/tests/test_rblkit.c "$lib/librblkit_ffi.a" "${libs[@]}" -o "$out/test_rblkit_asan"
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=1 \
        UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        "$out/test_rblkit_asan" data/sample "$tmp"
    cc "${cflags[@]}" "${san[@]}" ffi/examples/lookup.c "$lib/librblkit_ffi.a" "${libs[@]}" -o "$out/lookup_asan"
    ASAN_OPTIONS=detect_leaks=1 "$out/lookup_asan" data/sample >/dev/null
else
    missing "libasan/libubsan (cc -fsanitize=address,undefined)" "the sanitizer run"
fi

echo "== shared library through pkg-config, under valgrind"
if command -v pkg-config >/dev/null; then
    version=$(sed -n 's/^version = "\(.*\)"/\1/p' ffi/Cargo.toml | head -1)
    sed -e "s|@PREFIX@|$root|" -e "s|@LIBDIR@|$lib|" -e "s|@INCLUDEDIR@|$root/include|" \
        -e "s|@VERSION@|$version|" ffi/rblkit.pc.in >"$out/rblkit.pc"
    export PKG_CONFIG_PATH="$out"
    # shellcheck disable=SC2046
    cc "${cflags[@]}" ffi/tests/test_rblkit.c $(pkg-config --cflags --libs rblkit) -o "$out/test_rblkit_shared"
    # shellcheck disable=SC2046
    cc "${cflags[@]}" ffi/examples/lookup.c $(pkg-config --static --cflags --libs rblkit) -o "$out/lookup_pc"
    if command -v valgrind >/dev/null; then
        LD_LIBRARY_PATH="$lib" valgrind -q --leak-check=full --show-leak-kinds=definite,indirect \
            --errors-for-leak-kinds=definite,indirect --error-exitcode=1 \
            "$out/test_rblkit_shared" data/sample "$tmp"
    else
        missing valgrind "the valgrind run"
        LD_LIBRARY_PATH="$lib" "$out/test_rblkit_shared" data/sample "$tmp"
    fi
else
    missing pkg-config "the pkg-config and valgrind runs"
fi
echo "run-c-tests: all C tests passed"
