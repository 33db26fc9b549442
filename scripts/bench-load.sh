#!/bin/sh
# Load a 1M-line ip4set and a 1M-line dnset with `rblkit zone check` and with rbldnsd, in
# the same run, and print seconds and peak RSS side by side with ratios.
#
#   scripts/bench-load.sh [LINES]        (default 1000000)
#
# Needs: a release build of rblkit with the `cli` feature and of the `zone_load` example
# (built here if missing; RBLKIT=PATH and ZONE_LOAD=PATH run other builds, for instance
# a reference build beside the current one),
# rbldnsd (Debian package rbldnsd), dig (dnsutils), GNU time (/usr/bin/time, package time)
# or /proc for the peak RSS. rbldnsd's time is from exec to its first answer on loopback;
# rblkit's is the whole `zone check` process (read, parse, compile, print counts). The
# "library" column is the peak RSS of `examples/zone_load.rs`, which loads the dataset
# with the library alone (`Dataset::load`), and its compiled list's own bytes.
set -eu
LINES=${1:-1000000}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
RBLKIT=${RBLKIT:-$ROOT/target/release/rblkit}
ZONE_LOAD=${ZONE_LOAD:-$ROOT/target/release/examples/zone_load}
[ -x "$RBLKIT" ] || (cd "$ROOT" && cargo build --release --features cli --bin rblkit)
[ -x "$ZONE_LOAD" ] || (cd "$ROOT" && cargo build --release --example zone_load)
RBLDNSD=$(command -v rbldnsd || echo /usr/sbin/rbldnsd)
[ -x "$RBLDNSD" ] || { echo "rbldnsd not found (apt-get install rbldnsd)" >&2; exit 1; }
command -v dig >/dev/null || { echo "dig not found (apt-get install dnsutils)" >&2; exit 1; }

# BENCH_DIR=DIR keeps the generated files there (for profiling the same data)
if [ -n "${BENCH_DIR:-}" ]; then
  DIR=$BENCH_DIR; mkdir -p "$DIR"
  trap 'kill $RPID 2>/dev/null || true; rm -f "$DIR/time.out" "$DIR/rbldnsd.log"' EXIT INT TERM
else
  DIR=$(mktemp -d /tmp/rblkit-bench.XXXXXX)
  trap 'kill $RPID 2>/dev/null || true; rm -rf "$DIR"' EXIT INT TERM
fi
chmod 755 "$DIR"
RPID=

# ip4set: mostly single addresses (as real lists are), some /24s, ranges, short forms,
# exclusions and per-entry values
awk -v n="$LINES" 'BEGIN {
  srand(42);
  print "$SOA 1h ns.example.net. hostmaster.example.net. 0 1h 15m 1w 5m";
  print ":127.0.0.2:Listed, see https://bl.example/lookup?ip=$";
  for (i = 0; i < n; i++) {
    a = int(rand() * 223) + 1; b = int(rand() * 256); c = int(rand() * 256); d = int(rand() * 256);
    r = rand();
    if (r < 0.90) printf "%d.%d.%d.%d\n", a, b, c, d;
    else if (r < 0.95) printf "%d.%d.%d\n", a, b, c;
    else if (r < 0.97) printf "%d.%d.%d.0/24 :127.0.0.4:network $\n", a, b, c;
    else if (r < 0.98) printf "%d.%d.%d.%d-%d\n", a, b, c, int(d / 2), int(d / 2) + 20;
    else if (r < 0.99) printf "!%d.%d.%d.%d\n", a, b, c, d;
    else printf "%d.%d.%d.%d :127.0.0.3:trap hit $\n", a, b, c, d;
  }
}' > "$DIR/ip4set.txt"
awk -v n="$LINES" 'BEGIN {
  srand(7);
  split("com net org info example test biz co.uk de ru", tld, " ");
  print "$SOA 1h ns.example.net. hostmaster.example.net. 0 1h 15m 1w 5m";
  print ":127.0.1.2:domain $ listed";
  for (i = 0; i < n; i++) {
    name = sprintf("d%x%x.%s", i, int(rand() * 65536), tld[int(rand() * 10) + 1]);
    r = rand();
    if (r < 0.85) print name;
    else if (r < 0.93) print "*." name;
    else if (r < 0.98) print "." name " :127.0.1.3:wild $";
    else print "!" name;
  }
}' > "$DIR/dnset.txt"
chmod 644 "$DIR"/*.txt
# a name each file lists, to wait for rbldnsd's first answer
Q4=$(awk 'NR > 2 && /^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$/ { split($0, o, "."); print o[4] "." o[3] "." o[2] "." o[1]; exit }' "$DIR/ip4set.txt")
QD=$(awk 'NR > 2 && /^d/ { print; exit }' "$DIR/dnset.txt")

now() { date +%s.%N; }
peak_kb() { awk '/^VmHWM/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }

rblkit_load() { # spec -> "seconds kb"
  if [ -x /usr/bin/time ]; then
    /usr/bin/time -f "%e %M" -o "$DIR/time.out" "$RBLKIT" zone check "$1" > /dev/null 2>&1 || true
    cat "$DIR/time.out"
  else
    t0=$(now); "$RBLKIT" zone check "$1" > /dev/null 2>&1 & p=$!
    kb=0; while kill -0 $p 2>/dev/null; do k=$(peak_kb $p); [ "${k:-0}" -gt "$kb" ] && kb=$k; sleep 0.02; done
    echo "$(echo "$(now) - $t0" | bc) $kb"
  fi
}

rbldnsd_load() { # zone spec qname -> "seconds kb"
  port=$(awk 'BEGIN { srand(); print 20000 + int(rand() * 20000) }')
  user=; [ "$(id -u)" = 0 ] && user="-u rbldns"
  t0=$(now)
  $RBLDNSD -n $user -b 127.0.0.1/$port "$2" > "$DIR/rbldnsd.log" 2>&1 & RPID=$!
  while ! dig +short +tries=1 +time=1 @127.0.0.1 -p $port "$3.$1" A 2>/dev/null | grep -q 127; do
    kill -0 $RPID 2>/dev/null || { cat "$DIR/rbldnsd.log" >&2; exit 1; }
    sleep 0.01
  done
  t1=$(now)
  kb=$(peak_kb $RPID)
  kill $RPID; wait $RPID 2>/dev/null || true; RPID=
  echo "$(echo "$t1 - $t0" | bc) $kb"
}

library_load() { # spec -> "peak_kb list_mb"
  "$ZONE_LOAD" "$1" | sed -n 's/.* list \([0-9.]*\) MB, peak RSS \([0-9.]*\) MB.*/\2 \1/p'
}

printf '%-8s %10s %10s %7s   %10s %10s %7s   %11s %8s\n' dataset "rblkit s" "rbldnsd s" ratio "rblkit MB" "rbldnsd MB" ratio "library MB" "list MB"
for t in ip4set dnset; do
  spec="bench.example:$t:$DIR/$t.txt"
  if [ $t = ip4set ]; then q=$Q4; else q=$QD; fi
  set -- $(rblkit_load "$spec"); rs=$1; rk=$2
  set -- $(rbldnsd_load bench.example "$spec" "$q"); ds=$1; dk=$2
  set -- $(library_load "$spec"); lm=$1; ll=$2
  awk -v t=$t -v rs="$rs" -v ds="$ds" -v rk="$rk" -v dk="$dk" -v lm="$lm" -v ll="$ll" 'BEGIN {
    printf "%-8s %10.2f %10.2f %6.2fx   %10.1f %10.1f %6.2fx   %11.1f %8.1f\n", t, rs, ds, (rs > 0 ? ds / rs : 0), rk / 1024, dk / 1024, (dk > 0 ? rk / dk : 0), lm, ll
  }'
done
echo "(time ratio: rbldnsd / rblkit, higher is better for rblkit; memory ratio: rblkit / rbldnsd, lower is better)"

