#!/bin/sh
# Throughput of `rblkit serve` against rbldnsd, side by side, on the same data and the
# same query file: a 100k-entry ip4set and a 10k-entry dnset in one zone, queried with
# dnsperf (Debian packages: rbldnsd, dnsperf, dnsutils) on loopback.
#
#   scripts/dnsperf.sh [SECONDS [ROUNDS]]     (default 10 s per run, 3 rounds)
#
# Prints, for rbldnsd, rblkit with one thread and rblkit with two, the median over the
# rounds (the servers take turns, so a busy machine slows them alike) of: queries per
# second, queries per second of CPU time the server used (what one core does, whatever
# else runs), resident memory after loading, and load time (start until the first
# answer); with the ratios to rbldnsd. Builds rblkit in release mode first (RBLKIT=path
# skips that). LIMITS=1 adds rblkit with one thread, response-rate limiting and a query
# quota on, set so that no client is over them (what limiting costs when nobody is
# limited; compare its q/CPU-s with rblkit --threads 1). QLOG=N adds rblkit with one thread
# and --query-log-sample N --log-format json (what the sampled query log costs). NOBATCH=1
# adds rblkit with one thread and --no-udp-batch (one system call per datagram each way).
set -eu

secs=${1:-10}
rounds=${2:-3}
here=$(cd "$(dirname "$0")/.." && pwd)
for t in rbldnsd dnsperf dig; do
    command -v "$t" >/dev/null 2>&1 || [ -x "/usr/sbin/$t" ] || {
        echo "missing $t (Debian packages rbldnsd, dnsperf, dnsutils)" >&2
        exit 69
    }
done
rbldnsd=$(command -v rbldnsd || echo /usr/sbin/rbldnsd)
if [ -z "${RBLKIT:-}" ]; then
    (cd "$here" && cargo build --release --features cli --quiet)
    RBLKIT="$here/target/release/rblkit"
fi

dir=$(mktemp -d /tmp/rblkit-dnsperf.XXXXXX)
chmod 755 "$dir"
# KEEP=1 keeps the data and the server logs
trap 'kill $pid 2>/dev/null || true; [ -n "${KEEP:-}" ] && echo "kept $dir" >&2 || rm -rf "$dir"' EXIT
pid=

# data: 100k ip4set entries (addresses, /24s, ranges, exclusions) and 10k dnset names,
# and 200k queries: listed, unlisted and excluded addresses, listed and unlisted names
awk -v dir="$dir" 'BEGIN {
    srand(7);
    ip = dir "/ip4set.txt"; dn = dir "/dnset.txt"; q = dir "/queries.txt";
    print "$SOA 1h ns.bl.test. hostmaster.bl.test. 0 1h 15m 1w 5m" > ip;
    print "$NS 1d ns.bl.test." > ip;
    print ":127.0.0.2:Listed, see https://bl.test/lookup?ip=$" > ip;
    for (i = 0; i < 100000; i++) {
        a = 10 + int(rand() * 100); b = int(rand() * 256); c = int(rand() * 256); d = int(rand() * 256);
        r = rand();
        if (r < 0.80) { print a "." b "." c "." d > ip }
        else if (r < 0.90) { print a "." b "." c ".0/24 :127.0.0.3:net $" > ip }
        else if (r < 0.95) { print a "." b "." c "." d "-" a "." b "." c "." (d < 200 ? d + 50 : 255) > ip }
        else { print "!" a "." b "." c "." d > ip }
        addr[i] = d "." c "." b "." a;
    }
    for (i = 0; i < 10000; i++) {
        n[i] = sprintf("host%d.example%d.com", i, int(rand() * 1000));
        print (rand() < 0.3 ? "*." : "") n[i] " :127.0.1.2:domain $ listed" > dn;
    }
    for (i = 0; i < 200000; i++) {
        r = rand();
        if (r < 0.45) { print addr[int(rand() * 100000)] ".bl.test " (rand() < 0.7 ? "A" : "TXT") > q }
        else if (r < 0.75) { print int(rand()*256) "." int(rand()*256) "." int(rand()*256) "." (10 + int(rand()*100)) ".bl.test A" > q }
        else if (r < 0.90) { print "www." n[int(rand() * 10000)] ".bl.test A" > q }
        else { print n[int(rand() * 10000)] ".bl.test TXT" > q }
    }
}'
chmod 644 "$dir"/*.txt
specs="bl.test:ip4set:$dir/ip4set.txt bl.test:dnset:$dir/dnset.txt"
port=$((20000 + $$ % 20000))

now_ms() { date +%s%3N; }

# start NAME CMD...: runs the server, waits for its first answer; sets pid and load_ms
start() {
    t0=$(now_ms)
    log="$dir/$(basename "$1")-$#-$(now_ms).log"
    "$@" >"$log" 2>&1 &
    pid=$!
    while ! dig +tries=1 +time=1 -p "$port" @127.0.0.1 1.0.0.127.bl.test A >/dev/null 2>&1; do
        kill -0 $pid 2>/dev/null || { cat "$log" >&2; exit 1; }
        sleep 0.02
    done
    load_ms=$(( $(now_ms) - t0 ))
}

# stop: ends the running server and waits for it to exit
stop() {
    kill $pid
    wait $pid 2>/dev/null || true
    pid=
}

cpu_ticks() { awk '{print $14 + $15}' /proc/$pid/stat; }

# measure: dnsperf against the running server; prints "qps qps_per_cpu_second rss_kib load_ms"
measure() {
    rss=$(awk '/VmRSS/ {print $2}' /proc/$pid/status)
    c0=$(cpu_ticks)
    out=$(dnsperf -s 127.0.0.1 -p "$port" -d "$dir/queries.txt" -l "$secs" -c 4 -q 200 2>&1)
    c1=$(cpu_ticks)
    echo "$out" | awk -v cpu=$((c1 - c0)) -v hz="$(getconf CLK_TCK)" -v rss="$rss" -v l="$load_ms" '
        /Queries completed/ {n = $3}
        /Queries per second/ {q = $4}
        END {printf "%s %.0f %s %s\n", q, (cpu > 0 ? n / (cpu / hz) : 0), rss, l}'
}

user=nobody
id rbldns >/dev/null 2>&1 && user=rbldns
: >"$dir/results"
i=0
while [ $i -lt "$rounds" ]; do
    start "$rbldnsd" -n -u "$user" -b "127.0.0.1/$port" $specs
    r=$(measure)
    stop
    echo "rbldnsd $r" >>"$dir/results"
    start "$RBLKIT" serve --threads 1 --listen "127.0.0.1:$port" $specs
    r=$(measure)
    stop
    echo "one $r" >>"$dir/results"
    start "$RBLKIT" serve --threads 2 --listen "127.0.0.1:$port" $specs
    r=$(measure)
    stop
    echo "two $r" >>"$dir/results"
    if [ -n "${LIMITS:-}" ]; then
        start "$RBLKIT" serve --threads 1 --listen "127.0.0.1:$port" \
            --rrl-rate 1000000 --rrl-window 1 --quota 1000000000000 $specs
        r=$(measure)
        stop
        echo "lim $r" >>"$dir/results"
    fi
    if [ -n "${NOBATCH:-}" ]; then
        start "$RBLKIT" serve --threads 1 --listen "127.0.0.1:$port" --no-udp-batch $specs
        r=$(measure)
        stop
        echo "nob $r" >>"$dir/results"
    fi
    if [ -n "${QLOG:-}" ]; then
        start "$RBLKIT" serve --threads 1 --listen "127.0.0.1:$port" \
            --query-log-sample "$QLOG" --log-format json $specs
        r=$(measure)
        stop
        echo "qlog $r" >>"$dir/results"
    fi
    i=$((i + 1))
done

# medians per server and column
med() { grep "^$1 " "$dir/results" | awk -v c="$2" '{print $c}' | sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
row() { echo "$(med "$1" 2) $(med "$1" 3) $(med "$1" 4) $(med "$1" 5)"; }
rows="$(row rbldnsd) $(row one) $(row two)"
names="rbldnsd|rblkit --threads 1|rblkit --threads 2"
if [ -n "${LIMITS:-}" ]; then rows="$rows $(row lim)"; names="$names|rblkit 1, rrl + quota"; fi
if [ -n "${NOBATCH:-}" ]; then rows="$rows $(row nob)"; names="$names|rblkit 1, no batch"; fi
if [ -n "${QLOG:-}" ]; then rows="$rows $(row qlog)"; names="$names|rblkit 1, qlog 1/$QLOG"; fi
echo "$rows" | awk -v secs="$secs" -v rounds="$rounds" -v names="$names" '{
    printf "dnsperf, %d rounds of %d s, 100k ip4set + 10k dnset, 200k queries, loopback; medians\n", rounds, secs;
    printf "%-20s %9s %7s %10s %7s %10s %7s %9s\n", "server", "QPS", "ratio", "q/CPU-s", "ratio", "RSS KiB", "ratio", "load ms";
    split(names, name, "|");
    for (i = 0; i < NF / 4; i++) {
        q = $(1 + 4 * i); c = $(2 + 4 * i); r = $(3 + 4 * i); l = $(4 + 4 * i);
        printf "%-20s %9.0f %6.2fx %10.0f %6.2fx %10d %6.2fx %9d\n", name[i + 1], q, q / $1, c, c / $2, r, r / $3, l;
    }
}'
