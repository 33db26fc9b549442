//! Interop: real rbldnsd (Debian package `rbldnsd`) and `rblkit::zone` load the same
//! generated datasets of every type; thousands of queries must get the same answers from
//! both: the A codes as a set, the TXT strings exactly, NXDOMAIN where rbldnsd says so; and
//! both must warn about the same bad lines.

use super::zone_tools::{tool, DnsClient, Rbldnsd, TempDir};
use rblkit::zone::{Dataset, DatasetParser, DatasetSpec, LoadOptions, Strictness, Zone};
use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

/// A small deterministic generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn pick<'a, T>(&mut self, v: &'a [T]) -> &'a T {
        &v[self.below(v.len() as u64) as usize]
    }
    fn chance(&mut self, pct: u64) -> bool {
        self.below(100) < pct
    }
}

/// A value suffix for an entry line: nothing, `:A:TXT`, `:A`, `:A:`, or TXT only.
fn value(r: &mut Rng, i: usize) -> String {
    match r.below(8) {
        0 => format!(" :127.0.0.{}:entry {i} at $ ($1)", 3 + r.below(5)),
        1 => format!(" :{}", 3 + r.below(5)),
        2 => format!(" :{}:", 3 + r.below(5)),
        3 => format!(" text {i} for $, $$5 \"quoted\" \\ $2 $9"),
        4 => format!(":127.0.0.{}:tight {i}", 3 + r.below(5)),
        _ => String::new(),
    }
}

fn v4(a: u32) -> Ipv4Addr {
    Ipv4Addr::from(a)
}

/// Addresses worth asking about around `[a, b]`.
fn around(r: &mut Rng, a: u32, b: u32, out: &mut BTreeSet<u32>) {
    out.insert(a);
    out.insert(b);
    out.insert(a.wrapping_sub(1));
    out.insert(b.wrapping_add(1));
    if b > a {
        out.insert(a + (r.below(u64::from(b - a)) as u32));
    }
}

fn ip4set_files(r: &mut Rng, probes: &mut BTreeSet<u32>) -> (String, String) {
    let mut f = String::new();
    let mut g = String::new();
    f.push_str(
        "# ip4set generated\n$SOA 1h ns1.ip4set.test. hostmaster.ip4set.test. 0 2h 30m 1w 5m\n",
    );
    f.push_str("$NS 1d ns1.example.net. -ns2.ip4set.test. ns3.example.net.\n$TTL 10m\n");
    f.push_str("$1 https://bl.example/lookup\n$2 see also\n$1 ignored second value\n");
    f.push_str(":127.0.0.2:Listed: $1?ip=$\n");
    let base = 0x0a00_0000u32; // 10.0.0.0/8
    for i in 0..900usize {
        let a = base | (r.below(1 << 20) as u32) << 4;
        if r.chance(4) {
            f.push_str(&format!(":127.0.0.{}:default now {i} $\n", 2 + r.below(6)));
        }
        let (text, lo, hi) = match r.below(11) {
            0 => (format!("{}", v4(a)), a, a),
            1 => {
                let n = a & 0xffff_ff00;
                let o = n.to_be_bytes();
                (format!("{}.{}.{}", o[0], o[1], o[2]), n, n | 255)
            }
            2 => {
                let n = a & 0xffff_0000;
                let o = n.to_be_bytes();
                (format!("{}.{}", o[0], o[1]), n, n | 0xffff)
            }
            3 => {
                let len = *r.pick(&[12u32, 16, 20, 22, 24, 25, 28, 30, 31, 32]);
                let m = if len == 32 {
                    u32::MAX
                } else {
                    !(u32::MAX >> len)
                };
                let n = a & m;
                (format!("{}/{len}", v4(n)), n, n | !m)
            }
            4 => {
                let end = a + r.below(700) as u32;
                (format!("{}-{}", v4(a), v4(end)), a, end)
            }
            5 => {
                let n = a & 0xffff_ff00;
                let x = r.below(200) as u32;
                let y = x + r.below(55) as u32;
                (format!("{}-{y}", v4(n | x)), n | x, n | y)
            }
            6 => {
                // exclusion of an address or a /24 inside something
                let n = if r.chance(50) { a } else { a & 0xffff_ff00 };
                let t = if n == a {
                    format!("!{}", v4(a))
                } else {
                    format!("! {}/24", v4(n))
                };
                (t, n, if n == a { a } else { n | 255 })
            }
            7 => (format!("{}   # comment", v4(a)), a, a),
            8 => (
                format!("{}\t; other comment", v4(a & 0xffff_ff00)).replace(".0\t", "/24\t"),
                a & 0xffff_ff00,
                (a & 0xffff_ff00) | 255,
            ),
            9 => {
                let n = a & 0xfff0_0000;
                let o = n.to_be_bytes();
                (
                    format!("{}.{}-{}", o[0], o[1], o[1] as u32 + r.below(3) as u32),
                    n,
                    n | 0x000f_ffff,
                )
            }
            _ => (format!("{}", v4(a)), a, a),
        };
        around(r, lo, hi, probes);
        let line = if text.starts_with('!') || text.contains('#') || text.contains(';') {
            text
        } else {
            format!("{text}{}", value(r, i))
        };
        if r.chance(50) {
            f.push_str(&line);
            f.push('\n');
        } else {
            g.push_str(&line);
            g.push('\n');
        }
        if r.chance(3) {
            // the same entry again with another value: both answer
            let l2 = format!(
                "{} :127.0.0.9:again $",
                line.split([' ', '\t', ':'])
                    .next()
                    .unwrap()
                    .trim_start_matches('!')
            );
            if !l2.starts_with(' ') && !line.starts_with('!') {
                g.push_str(&l2);
                g.push('\n');
            }
        }
    }
    // wide things and exclusions inside them
    f.push_str(
        "10.0.0.0/8 :127.0.0.10:whole ten $\n!10.1.0.0/16\n10.1.2.0/24 :127.0.0.11\n!10.1.2.3\n",
    );
    f.push_str("10.200/16 wide $ $$\n!10.200.5\n10.200.5.5 :127.0.0.12:inside an excluded /24\n");
    for a in [
        0x0a01_0000u32,
        0x0a01_0203,
        0x0a01_0204,
        0x0ac8_0505,
        0x0ac8_0506,
        0x0ac8_0600,
        0x0a00_0001,
    ] {
        around(r, a, a, probes);
    }
    // bad lines: rbldnsd warns and skips, so must rblkit
    g.push_str(
        "10.9.9.256\n10.9.9.0/33\n10.9.9.9-10.9.9.1\n10.9.9.1/24\n10\n10.9.9.9 :0:zero code\n",
    );
    g.push_str("10.9.9.8 :127.0.0.2 extra\n10.9.9.7x\n$BOGUS directive\n#$ weird\n");
    g.push_str(&format!("10.9.9.6 :3:{}\n", "L".repeat(300)));
    for a in [
        0x0a09_0906u32,
        0x0a09_0907,
        0x0a09_0908,
        0x0a09_0909,
        0x0a09_0901,
    ] {
        probes.insert(a);
    }
    (f, g)
}

fn ip4tset_file(r: &mut Rng, probes: &mut BTreeSet<u32>) -> String {
    // LF only: Debian's rbldnsd keeps a CR as part of the line (see the unit tests for CRLF)
    let mut f = String::from(":127.0.0.5:trivial $ listed\n:127.0.0.6:second default ignored\n");
    for _ in 0..600 {
        let a = 0xc0a8_0000u32 | r.below(1 << 12) as u32;
        probes.insert(a);
        probes.insert(a + 1);
        f.push_str(&format!("{}\n", v4(a)));
    }
    f.push_str("192.168.200.1 trailing text is ignored\n192.168.200/24\n!192.168.200.2\n");
    probes.insert(0xc0a8_c801);
    f
}

fn ip4trie_file(r: &mut Rng, probes: &mut BTreeSet<u32>) -> String {
    let mut f =
        String::from("$= base: $= for $ (see $0)\n$0 https://trie.example/\n:127.0.0.2:default\n");
    for i in 0..700usize {
        let a = 0xac10_0000u32 | (r.below(1 << 16) as u32) << 4; // 172.16.0.0/12
        let len = *r.pick(&[12u32, 14, 16, 19, 21, 24, 26, 27, 29, 31, 32]);
        let m = if len == 32 {
            u32::MAX
        } else {
            !(u32::MAX >> len)
        };
        let n = a & m;
        around(r, n, n | !m, probes);
        let key = if len == 32 {
            format!("{}", v4(n))
        } else {
            format!("{}/{len}", v4(n))
        };
        match r.below(7) {
            0 => f.push_str(&format!("!{key}\n")),
            1 => f.push_str(&format!("{key} =no base {i} $\n")),
            _ => f.push_str(&format!("{key}{}\n", value(r, i))),
        }
    }
    // duplicates: the first one stays
    f.push_str("172.31.0.0/16 :127.0.0.3:first\n172.31.0.0/16 :127.0.0.4:second\n!172.31.0.0/16\n");
    probes.insert(0xac1f_0001);
    f
}

fn v6(a: u128) -> String {
    Ipv6Addr::from(a).to_string()
}

fn ip6trie_file(r: &mut Rng, probes: &mut BTreeSet<u128>) -> String {
    let mut f = String::from("# ip6trie\n:127.0.1.2: Listed, see http://example.com/lookup?$\n");
    f.push_str(
        "2001:db8:c000/36\n2001:db8:def7:4242 :127.0.1.3: This one smells funny\n::1 # localhost\n",
    );
    probes.insert(1);
    probes.insert(0x2001_0db8_c000u128 << 80);
    probes.insert((0x2001_0db8_def7_4242u128 << 64) | 5);
    for i in 0..600usize {
        let a = (0x2001_0db8u128 << 96) | (u128::from(r.next()) << 32) >> (r.below(40) as u32);
        let len = *r.pick(&[32u32, 40, 48, 52, 56, 60, 64, 72, 96, 112, 127, 128]);
        let m = if len == 128 {
            u128::MAX
        } else {
            !(u128::MAX >> len)
        };
        let n = a & m;
        probes.insert(n);
        probes.insert(n | !m);
        probes.insert(n.wrapping_sub(1));
        probes.insert((n | !m).wrapping_add(1));
        let key = if len == 128 && r.chance(50) {
            v6(n)
        } else {
            format!("{}/{len}", v6(n))
        };
        match r.below(6) {
            0 => f.push_str(&format!("!{key}\n")),
            _ => f.push_str(&format!("{key}{}\n", value(r, i))),
        }
    }
    f.push_str(
        "2001:db8::/33 :127.0.1.9\n2001:db8:0:1:2:3:4:5/64\n2001:db8::1::2\n2001:db8:12345::/48\n",
    );
    f
}

fn ip6tset_file(r: &mut Rng, probes: &mut BTreeSet<u128>) -> String {
    let mut f = String::from(":127.0.0.7:tset6 $\n");
    let mut nets = Vec::new();
    for _ in 0..400 {
        let n = (0x2a00_1450u128 << 96) | (u128::from(r.below(1 << 20)) << 64);
        nets.push(n);
        let w: [u16; 4] = std::array::from_fn(|i| (n >> (112 - 16 * i)) as u16);
        f.push_str(&format!("{:x}:{:x}:{:x}:{:x}\n", w[0], w[1], w[2], w[3]));
        probes.insert(n);
        probes.insert(n | 0xffff_ffff_ffff_ffff);
        probes.insert(n.wrapping_sub(1));
    }
    for _ in 0..80 {
        let n = *r.pick(&nets) | u128::from(r.below(4));
        f.push_str(&format!("!{}\n", v6(n)));
        probes.insert(n);
    }
    f.push_str("2a00:1450::/48\n2a00:1450:1:2:3\n");
    f
}

fn dnset_file(r: &mut Rng, probes: &mut BTreeSet<String>) -> String {
    let labels = ["a", "b", "mail", "www", "x-1", "spam"];
    let bases = ["example.com", "bad.example", "test.org", "co.uk"];
    let mut f = String::from("$1 https://dbl.example/\n:127.0.1.2:domain $ listed, $1$\n");
    for i in 0..700usize {
        let depth = r.below(3) as usize;
        let mut name = r.pick(&bases).to_string();
        for _ in 0..depth {
            name = format!("{}.{name}", r.pick(&labels));
        }
        probes.insert(name.clone());
        probes.insert(format!("{}.{name}", r.pick(&labels)));
        probes.insert(format!("q{}.{}.{name}", r.below(9), r.pick(&labels)));
        if let Some((_, p)) = name.split_once('.') {
            probes.insert(p.to_owned());
        }
        let shown = if r.chance(20) {
            name.to_uppercase()
        } else {
            name.clone()
        };
        let shown = if r.chance(10) {
            format!("{shown}.")
        } else {
            shown
        };
        let entry = match r.below(10) {
            0 => format!("!{shown}"),
            1 => format!("!*.{shown}"),
            2 => format!("! .{shown}"),
            3 | 4 => format!("*.{shown}"),
            5 | 6 => format!(".{shown}"),
            _ => shown,
        };
        if entry.starts_with('!') {
            f.push_str(&format!("{entry}\n"));
        } else {
            // a value glued to a name is part of the name for rbldnsd, which then lists a
            // name no query can match; rblkit refuses such names (unit tests)
            let v = value(r, i);
            let v = if v.starts_with(':') {
                format!(" {v}")
            } else {
                v
            };
            f.push_str(&format!("{entry}{v}\n"));
        }
    }
    // rbldnsd takes `bad..name` silently (no query can match it); rblkit warns (unit tests)
    f.push_str("*.\n.\n");
    f
}

fn ip4_qname(a: u32, zone: &str, r: &mut Rng) -> String {
    let o = a.to_be_bytes();
    if r.chance(5) {
        // leading zeros: rbldnsd reads 1-3 digit labels
        format!("{:03}.{}.{}.{}.{zone}", o[3], o[2], o[1], o[0])
    } else {
        format!("{}.{}.{}.{}.{zone}", o[3], o[2], o[1], o[0])
    }
}

fn ip6_qname(a: u128, zone: &str) -> String {
    let mut s = String::new();
    for i in 0..32 {
        let _ = write!(s, "{:x}.", (a >> (4 * i)) & 15);
    }
    s.push_str(zone);
    s
}

fn mixed_case(s: &str, r: &mut Rng) -> String {
    s.chars()
        .map(|c| {
            if r.chance(30) {
                c.to_ascii_uppercase()
            } else {
                c
            }
        })
        .collect()
}

/// A combined dataset as in rbldnsd's manual: a common section, nested datasets for
/// subzones and for the zone itself (`@`), global and local `$n`, one nested dataset without
/// subzones (a warning) and one bad line inside a nested dataset.
const COMBINED: &str = "# common section
$NS 1w ns1.example.net. ns2.example.net.
$SOA 1w ns1.example.net. admin.example.net. 0 2h 2h 1w 1h
$1 https://combined.example/
$DATASET ip4set:proxy proxies @
:2:Open proxy, see $1proxy/$
127.0.0.2
127.0.0.10
10.10.0.0/16
!10.10.5.5
10.10.300.1
$DATASET ip4set:relay relays @ # a comment
:3:Open relay, see $1relay/$
127.0.0.2
127.0.2.10
$DATASET ip4trie:multihop multihop
$TTL 5m
$2 local var
:4:Multihop $2 $
127.0.0.2
127.0.9.0/28
$DATASET dnset names dn
.spam.example :5:name $ $1
!ok.spam.example
$DATASET ip6trie six
2001:db8::/32 :6:v6 $
$DATASET ip4set
1.2.3.4
";

/// The generated datasets written to `dir`: the zone specs and the query names to ask
/// (with their zone).
pub(crate) fn fixture(dir: &TempDir) -> (Vec<String>, Vec<(String, &'static str)>) {
    let mut r = Rng(0x5eed_1234_abcd_9876);
    let mut p4 = BTreeSet::new();
    let mut p4t = BTreeSet::new();
    let mut p4trie = BTreeSet::new();
    let mut p6 = BTreeSet::new();
    let mut p6t = BTreeSet::new();
    let mut pd = BTreeSet::new();
    let (f1, f2) = ip4set_files(&mut r, &mut p4);
    let a1 = dir.write("ip4set-1.txt", f1.as_bytes());
    let a2 = dir.write("ip4set-2.txt", f2.as_bytes());
    let t1 = dir.write("ip4tset.txt", ip4tset_file(&mut r, &mut p4t).as_bytes());
    let tr = dir.write("ip4trie.txt", ip4trie_file(&mut r, &mut p4trie).as_bytes());
    let s6 = dir.write("ip6trie.txt", ip6trie_file(&mut r, &mut p6).as_bytes());
    let t6 = dir.write("ip6tset.txt", ip6tset_file(&mut r, &mut p6t).as_bytes());
    let dn = dir.write("dnset.txt", dnset_file(&mut r, &mut pd).as_bytes());
    let cb = dir.write("combined.txt", COMBINED.as_bytes());
    let specs = vec![
        format!("ip4set.test:ip4set:{a1},{a2}"),
        format!("ip4tset.test:ip4tset:{t1}"),
        format!("ip4trie.test:ip4trie:{tr}"),
        format!("ip6trie.test:ip6trie:{s6}"),
        format!("ip6tset.test:ip6tset:{t6}"),
        format!("dnset.test:dnset:{dn}"),
        // one zone from several datasets: the answers add up
        format!("multi.test:ip4set:{a1}"),
        format!("multi.test:ip4trie:{tr}"),
        format!("multi.test:dnset:{dn}"),
        format!("combined.test:combined:{cb}"),
    ];
    let mut names: Vec<(String, &'static str)> = Vec::new();
    for &a in &p4 {
        names.push((ip4_qname(a, "ip4set.test", &mut r), "ip4set.test"));
        names.push((ip4_qname(a, "multi.test", &mut r), "multi.test"));
    }
    for &a in &p4t {
        names.push((ip4_qname(a, "ip4tset.test", &mut r), "ip4tset.test"));
    }
    for &a in &p4trie {
        names.push((ip4_qname(a, "ip4trie.test", &mut r), "ip4trie.test"));
        names.push((ip4_qname(a, "multi.test", &mut r), "multi.test"));
    }
    for &a in &p6 {
        names.push((ip6_qname(a, "ip6trie.test"), "ip6trie.test"));
    }
    for &a in &p6t {
        names.push((ip6_qname(a, "ip6tset.test"), "ip6tset.test"));
    }
    for n in &pd {
        names.push((
            format!("{}.dnset.test", mixed_case(n, &mut r)),
            "dnset.test",
        ));
        names.push((format!("{n}.multi.test"), "multi.test"));
    }
    for sub in ["", "proxies.", "relays.", "multihop.", "nowhere.", "a.b."] {
        for ip in [
            "127.0.0.2",
            "127.0.0.10",
            "127.0.2.10",
            "127.0.9.5",
            "127.0.9.16",
            "10.10.5.5",
            "10.10.5.6",
            "10.11.0.1",
            "1.2.3.4",
        ] {
            let a: Ipv4Addr = ip.parse().unwrap();
            names.push((
                ip4_qname(u32::from(a), &format!("{sub}combined.test"), &mut r),
                "combined.test",
            ));
        }
    }
    for n in [
        "www.spam.example.dn",
        "spam.example.dn",
        "ok.spam.example.dn",
        "x.ok.spam.example.dn",
        "Spam.Example.DN",
        "proxies",
        "dn",
        "six",
        "relays.x",
        "www.spam.example",
    ] {
        names.push((format!("{n}.combined.test"), "combined.test"));
    }
    for a in [0x2001_0db8u128 << 96 | 5, 0x2001_0db9u128 << 96] {
        names.push((ip6_qname(a, "six.combined.test"), "combined.test"));
    }
    // IPv6 forms of IPv4 addresses: rbldnsd asks its IPv4 datasets for ::ffff:a.b.c.d and
    // for 6to4 2002:a.b.c.d::/48 names
    for &a in p4.iter().take(150) {
        let mapped = (0xffffu128 << 32) | u128::from(a);
        let six_to_four = (0x2002u128 << 112) | (u128::from(a) << 80) | 7;
        for z in ["ip4set.test", "multi.test"] {
            names.push((ip6_qname(mapped, z), z));
            names.push((ip6_qname(six_to_four, z), z));
        }
    }
    for (junk, z) in [
        ("1.2.3.ip4set.test", "ip4set.test"),
        ("256.1.1.10.ip4set.test", "ip4set.test"),
        ("a.1.1.10.ip4set.test", "ip4set.test"),
        ("1.1.1.1.10.ip4set.test", "ip4set.test"),
        ("ip4set.test.ip4set.test", "ip4set.test"),
        ("com.dnset.test", "dnset.test"),
        ("1.ip6trie.test", "ip6trie.test"),
    ] {
        names.push((junk.to_owned(), z));
    }
    (specs, names)
}

/// Asks rbldnsd every name (A and TXT) and compares with what the zones answer; returns the
/// counts (total, listed, NXDOMAIN) and the differences.
pub(crate) fn compare(
    port: u16,
    zones: &[Zone],
    names: &[(String, &str)],
) -> (usize, usize, usize, Vec<String>) {
    let zone = |n: &str| zones.iter().find(|z| z.name().as_str() == n).unwrap();
    let client = DnsClient::new(port);
    let (mut listed, mut nx, mut total) = (0, 0, 0);
    let mut failures = Vec::new();
    for (name, zname) in names {
        let ours = zone(zname).query(name);
        for qtype in [1u16, 16] {
            total += 1;
            let Some(theirs) = client.query(name, qtype) else {
                failures.push(format!("{name} type {qtype}: no reply from rbldnsd"));
                continue;
            };
            match &ours {
                None => {
                    if theirs.rcode != 3 {
                        failures.push(format!(
                            "{name} type {qtype}: rblkit NXDOMAIN, rbldnsd {theirs:?}"
                        ));
                    }
                    nx += 1;
                }
                Some(a) => {
                    listed += 1;
                    if theirs.rcode != 0 {
                        failures.push(format!(
                            "{name} type {qtype}: rblkit {a:?}, rbldnsd rcode {}",
                            theirs.rcode
                        ));
                        continue;
                    }
                    if qtype == 1 {
                        let mine: BTreeSet<Ipv4Addr> = a.codes.iter().map(|c| c.addr()).collect();
                        let got: BTreeSet<Ipv4Addr> = theirs.a.iter().copied().collect();
                        if mine != got {
                            failures.push(format!("{name} A: rblkit {mine:?}, rbldnsd {got:?}"));
                        }
                    } else {
                        let mine: BTreeSet<Vec<u8>> =
                            a.txt.iter().map(|t| t.as_bytes().to_vec()).collect();
                        let got: BTreeSet<Vec<u8>> = theirs.txt.iter().cloned().collect();
                        if mine != got {
                            let show = |s: &BTreeSet<Vec<u8>>| {
                                s.iter()
                                    .map(|t| String::from_utf8_lossy(t).into_owned())
                                    .collect::<Vec<_>>()
                            };
                            failures.push(format!(
                                "{name} TXT: rblkit {:?}, rbldnsd {:?}",
                                show(&mine),
                                show(&got)
                            ));
                        }
                    }
                }
            }
        }
    }
    (total, listed, nx, failures)
}

fn distinct(zones: &[Zone]) -> Vec<&Arc<Dataset>> {
    let mut v: Vec<&Arc<Dataset>> = Vec::new();
    for z in zones {
        for d in z.datasets() {
            if !v.iter().any(|x| Arc::ptr_eq(x, d)) {
                v.push(d);
            }
        }
    }
    v
}

#[test]
fn rbldnsd_and_rblkit_answer_alike() {
    let Some(bin) = tool("rbldnsd", &["/usr/sbin/rbldnsd"], "rbldnsd") else {
        return;
    };
    let dir = TempDir::new("interop");
    let (specs, names) = fixture(&dir);
    let server = Rbldnsd::start(&bin, &dir, &specs);
    let parsed: Vec<DatasetSpec> = specs.iter().map(|s| s.parse().unwrap()).collect();
    let zones = Zone::load_all(&parsed, LoadOptions::default()).unwrap();

    // the same bad lines are reported, by file and line, in the same number (rbldnsd prints
    // the first five of a dataset); none of these files has a CR
    let theirs = server.warnings();
    let distinct = distinct(&zones);
    assert_eq!(distinct.len(), theirs.len(), "datasets loaded");
    let mut warned = 0;
    for (d, (shown, count)) in distinct.iter().zip(&theirs) {
        let ours: Vec<(String, u32)> = d
            .warnings()
            .iter()
            .take(5)
            .map(|w| (w.file().to_owned(), w.line()))
            .collect();
        assert_eq!(&ours, shown, "first warnings of {:?}", d.files());
        assert_eq!(
            d.warnings().len(),
            *count,
            "warnings of {:?}: {:?}",
            d.files(),
            d.warnings()
        );
        warned += count;
    }
    assert!(warned > 20);

    let (total, listed, nx, failures) = compare(server.port, &zones, &names);
    eprintln!(
        "{total} queries: {listed} listed, {nx} NXDOMAIN, {} differences",
        failures.len()
    );
    assert!(
        listed > 2000 && nx > 1000,
        "the data should give both answers often"
    );
    assert!(
        failures.is_empty(),
        "{} of {total} answers differ:\n{}",
        failures.len(),
        failures
            .iter()
            .take(40)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// Every dataset written back with `write_rbldnsd` reads back to an equal `List`, and real
/// rbldnsd serving the written files answers as the original zones do.
#[test]
fn written_datasets_read_back_equal_and_rbldnsd_agrees() {
    let dir = TempDir::new("export");
    let (specs, names) = fixture(&dir);
    let parsed: Vec<DatasetSpec> = specs.iter().map(|s| s.parse().unwrap()).collect();
    let zones = Zone::load_all(&parsed, LoadOptions::default()).unwrap();
    let mut out_specs = Vec::new();
    let mut written: Vec<(*const Dataset, String)> = Vec::new();
    for (i, d) in distinct(&zones).into_iter().enumerate() {
        if d.kind() == rblkit::zone::DatasetKind::Combined {
            written.push((Arc::as_ptr(d), d.files()[0].to_string()));
            continue;
        }
        let mut buf = Vec::new();
        d.write_rbldnsd(&mut buf).unwrap();
        let mut p = DatasetParser::new(d.kind());
        p.strictness(Strictness::Strict);
        p.parse_file("written", &buf).unwrap();
        let back = p.finish();
        if back.list() != d.list() {
            let a: Vec<String> = d
                .list()
                .ipv4_addresses()
                .map(|x| format!("{x:?}"))
                .chain(d.list().ipv4_ranges().map(|x| format!("{x:?}")))
                .collect();
            let b: Vec<String> = back
                .list()
                .ipv4_addresses()
                .map(|x| format!("{x:?}"))
                .chain(back.list().ipv4_ranges().map(|x| format!("{x:?}")))
                .collect();
            let k = a.iter().zip(&b).position(|(x, y)| x != y);
            panic!(
                "{:?} read back differs: {} vs {} entries, first difference {:?}",
                d.files(),
                a.len(),
                b.len(),
                k.map(|k| (&a[k], &b[k]))
            );
        }
        assert_eq!(
            (back.soa(), back.ns(), back.ttl()),
            (d.soa(), d.ns(), d.ttl())
        );
        let path = dir.write(&format!("written-{i}.{}", d.kind()), &buf);
        written.push((Arc::as_ptr(d), path));
    }
    for z in &zones {
        for d in z.datasets() {
            let path = &written
                .iter()
                .find(|(p, _)| *p == Arc::as_ptr(d))
                .unwrap()
                .1;
            out_specs.push(format!("{}:{}:{path}", z.name(), d.kind()));
        }
    }
    let Some(bin) = tool("rbldnsd", &["/usr/sbin/rbldnsd"], "rbldnsd") else {
        return;
    };
    let server = Rbldnsd::start(&bin, &dir, &out_specs);
    // (the combined dataset is served from its own file, with its two known warnings)
    assert!(
        server
            .warnings()
            .iter()
            .all(|(w, n)| (w.is_empty() && *n == 0)
                || w.iter().all(|(f, _)| f.ends_with("combined.txt"))),
        "{:?}",
        server.warnings()
    );
    let (total, _, _, failures) = compare(server.port, &zones, &names);
    assert!(
        failures.is_empty(),
        "{} of {total} answers differ:\n{}",
        failures.len(),
        failures
            .iter()
            .take(40)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}
