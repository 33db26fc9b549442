//! rbldnsd dataset parsing without external programs: every kind of bad line gives its
//! precise warning with file:line (and the good lines still load), strict mode fails on it,
//! CRLF files, multi-file datasets, and where rblkit knowingly differs from rbldnsd.

use rblkit::codes::ReturnCode;
use rblkit::list::Entry;
use rblkit::zone::{DatasetKind, DatasetParser, LineError, Problem, Strictness, Zone, ZoneError};

fn load(kind: DatasetKind, text: &[u8]) -> rblkit::zone::Dataset {
    let mut p = DatasetParser::new(kind);
    p.parse_file("f.txt", text).unwrap();
    p.finish()
}

/// Loads `good line, bad line, good line`; checks the one warning and that both good lines
/// are listed; then checks strict mode fails with the same error.
fn bad_line(
    kind: DatasetKind,
    good: [&str; 2],
    bad: &[u8],
    check: impl Fn(&Problem) -> bool,
    probe: impl Fn(&rblkit::List, &str) -> bool,
) -> LineError {
    let mut text = Vec::new();
    text.extend_from_slice(good[0].as_bytes());
    text.push(b'\n');
    text.extend_from_slice(bad);
    text.push(b'\n');
    text.extend_from_slice(good[1].as_bytes());
    text.push(b'\n');
    let ds = load(kind, &text);
    assert_eq!(
        ds.warnings().len(),
        1,
        "{:?}: {:?}",
        String::from_utf8_lossy(bad),
        ds.warnings()
    );
    let w = ds.warnings()[0].clone();
    assert_eq!((w.file(), w.line()), ("f.txt", 2), "{w}");
    assert!(
        check(w.problem()),
        "{:?} gave {w}",
        String::from_utf8_lossy(bad)
    );
    assert!(w.to_string().starts_with("f.txt:2:"), "{w}");
    for g in good {
        assert!(probe(ds.list(), g), "good line {g:?} not loaded");
    }
    assert_eq!(ds.entries(), 2);
    let mut p = DatasetParser::new(kind);
    p.strictness(Strictness::Strict);
    match p.parse_file("f.txt", &text) {
        Err(ZoneError::Line(e)) => assert_eq!(e, w),
        other => panic!("strict mode: {other:?}"),
    }
    w
}

fn v4_listed(l: &rblkit::List, line: &str) -> bool {
    let a = line.split([' ', '/', '-']).next().unwrap();
    l.lookup_ipv4(a.parse().unwrap()).is_some()
}

fn v6_listed(l: &rblkit::List, line: &str) -> bool {
    let a = line.split([' ', '/']).next().unwrap();
    // rbldnsd's short form: four words are a /64
    let a = a
        .parse()
        .unwrap_or_else(|_| format!("{a}::").parse().unwrap());
    l.lookup_ipv6(a).is_some()
}

fn name_listed(l: &rblkit::List, line: &str) -> bool {
    l.lookup_domain(line.split(' ').next().unwrap()).is_some()
}

const G4: [&str; 2] = ["192.0.2.1", "198.51.100.0/24 :3:ok"];

#[test]
fn ip4_bad_addresses() {
    use DatasetKind::*;
    for kind in [Ip4Set, Ip4Trie] {
        let w = bad_line(
            kind,
            G4,
            b"192.0.2.300",
            |p| matches!(p, Problem::OctetTooLarge { text } if &**text == "192.0.2.300"),
            v4_listed,
        );
        assert_eq!(w.column(), 1);
        bad_line(
            kind,
            G4,
            b"192.0.2.0/33",
            |p| matches!(p, Problem::PrefixTooLong { max: 32, .. }),
            v4_listed,
        );
        bad_line(
            kind,
            G4,
            b"192.0.2.x",
            |p| matches!(p, Problem::BadAddress { .. }),
            v4_listed,
        );
        bad_line(
            kind,
            G4,
            b"192.0.2.9junk",
            |p| matches!(p, Problem::BadAddress { text } if &**text == "192.0.2.9junk"),
            v4_listed,
        );
        bad_line(
            kind,
            G4,
            b"192",
            |p| matches!(p, Problem::BareNumber { .. }),
            v4_listed,
        );
        let w = bad_line(
            kind,
            G4,
            b"  192.0.2.7/24",
            |p| matches!(p, Problem::HostBitsSet { .. }),
            v4_listed,
        );
        assert_eq!(w.column(), 3);
        bad_line(
            kind,
            G4,
            b"192.0.2.9 :0:zero",
            |p| matches!(p, Problem::BadReturnCode { text } if &**text == "0"),
            v4_listed,
        );
        bad_line(
            kind,
            G4,
            b"192.0.2.9 :127.0.0.2 junk",
            |p| matches!(p, Problem::BadValue { text } if &**text == "junk"),
            v4_listed,
        );
    }
    bad_line(
        Ip4Set,
        G4,
        b"192.0.2.9-192.0.2.1",
        |p| matches!(p, Problem::ReversedRange { .. }),
        v4_listed,
    );
    bad_line(
        Ip4Set,
        G4,
        b"192.0-192.0.2.1",
        |p| matches!(p, Problem::BadAddress { .. }),
        v4_listed,
    );
    // ip4trie takes no ranges
    bad_line(
        Ip4Trie,
        G4,
        b"192.0.2.1-5",
        |p| matches!(p, Problem::BadAddress { .. }),
        v4_listed,
    );
    // ip4tset takes single addresses only, no exclusions
    let gt = ["192.0.2.1", "198.51.100.7"];
    bad_line(
        Ip4TSet,
        gt,
        b"192.0.2.0/24",
        |p| {
            matches!(
                p,
                Problem::WrongEntry {
                    dataset: "ip4tset",
                    ..
                }
            )
        },
        v4_listed,
    );
    bad_line(
        Ip4TSet,
        gt,
        b"!192.0.2.5",
        |p| matches!(p, Problem::BadAddress { .. }),
        v4_listed,
    );
}

#[test]
fn ip6_bad_addresses() {
    use DatasetKind::*;
    let g = ["2001:db8::1", "2001:db8:1::/48 :3:ok"];
    bad_line(
        Ip6Trie,
        g,
        b"2001:db8::/129",
        |p| matches!(p, Problem::PrefixTooLong { max: 128, .. }),
        v6_listed,
    );
    bad_line(
        Ip6Trie,
        g,
        b"2001:db8:12345::",
        |p| matches!(p, Problem::BadAddress { .. }),
        v6_listed,
    );
    bad_line(
        Ip6Trie,
        g,
        b"2001:db8::g",
        |p| matches!(p, Problem::BadAddress { .. }),
        v6_listed,
    );
    bad_line(
        Ip6Trie,
        g,
        b"2001",
        |p| matches!(p, Problem::BareNumber { .. }),
        v6_listed,
    );
    bad_line(
        Ip6Trie,
        g,
        b"2001:db8::1/32",
        |p| matches!(p, Problem::HostBitsSet { .. }),
        v6_listed,
    );
    bad_line(
        Ip6Trie,
        g,
        b"2001:db8::1 :2:dup",
        |p| matches!(p, Problem::Duplicate { net } if &**net == "2001:db8::1/128"),
        v6_listed,
    );
    let g = ["2001:db8:0:1", "2001:db8:0:2"];
    bad_line(
        Ip6TSet,
        g,
        b"2001:db8::/48",
        |p| {
            matches!(
                p,
                Problem::WrongEntry {
                    dataset: "ip6tset",
                    ..
                }
            )
        },
        v6_listed,
    );
    bad_line(
        Ip6TSet,
        g,
        b"!2001:db8:0:1",
        |p| {
            matches!(
                p,
                Problem::WrongEntry {
                    dataset: "ip6tset",
                    ..
                }
            )
        },
        v6_listed,
    );
}

#[test]
fn dnset_bad_names() {
    let g = ["spam.example", "x.bad.example :3:ok"];
    let long = format!("{}.example", "a".repeat(64));
    bad_line(
        DatasetKind::DnSet,
        g,
        long.as_bytes(),
        |p| matches!(p, Problem::BadDomain { .. }),
        name_listed,
    );
    let overlong = vec!["abcdefghi"; 30].join(".");
    bad_line(
        DatasetKind::DnSet,
        g,
        overlong.as_bytes(),
        |p| matches!(p, Problem::BadDomain { .. }),
        name_listed,
    );
    bad_line(
        DatasetKind::DnSet,
        g,
        b"bad..example",
        |p| matches!(p, Problem::BadDomain { .. }),
        name_listed,
    );
    bad_line(
        DatasetKind::DnSet,
        g,
        b"*.",
        |p| matches!(p, Problem::BadDomain { .. }),
        name_listed,
    );
    bad_line(
        DatasetKind::DnSet,
        g,
        b".",
        |p| matches!(p, Problem::BadDomain { .. }),
        name_listed,
    );
    // rbldnsd would list the odd name `glued.example:2:x`; rblkit refuses it
    bad_line(
        DatasetKind::DnSet,
        g,
        b"glued.example:2:x",
        |p| matches!(p, Problem::BadDomain { .. }),
        name_listed,
    );
}

#[test]
fn directives_bytes_and_txt() {
    use DatasetKind::*;
    bad_line(
        Ip4Set,
        G4,
        b"$BOGUS 1",
        |p| matches!(p, Problem::BadDirective { text } if &**text == "$BOGUS 1"),
        v4_listed,
    );
    bad_line(
        Ip4Set,
        G4,
        b"$SOA 1h ns.example.",
        |p| matches!(p, Problem::BadDirective { .. }),
        v4_listed,
    );
    bad_line(
        Ip4Set,
        G4,
        b"$TTL 5x",
        |p| matches!(p, Problem::BadDirective { .. }),
        v4_listed,
    );
    bad_line(
        Ip4Set,
        G4,
        b"$1",
        |p| matches!(p, Problem::BadDirective { .. }),
        v4_listed,
    );
    bad_line(
        Ip4Set,
        G4,
        b"#$ not a directive",
        |p| matches!(p, Problem::BadDirective { .. }),
        v4_listed,
    );
    bad_line(
        Ip4Set,
        G4,
        b"$DATASET ip4set x",
        |p| matches!(p, Problem::NotCombined),
        v4_listed,
    );
    let w = bad_line(
        Ip4Set,
        G4,
        b"192.0.2.9 a\0b",
        |p| matches!(p, Problem::NulByte),
        v4_listed,
    );
    assert_eq!(w.column(), 12);
    bad_line(
        Ip4Set,
        G4,
        b"192.0.2.9 caf\xe9",
        |p| matches!(p, Problem::InvalidUtf8 { offset: 13 }),
        v4_listed,
    );
    bad_line(
        DatasetKind::DnSet,
        ["a.example", "b.example"],
        b"\xff.example",
        |p| matches!(p, Problem::InvalidUtf8 { offset: 0 }),
        name_listed,
    );
    // an overlong TXT is cut to 255 bytes and the entry kept, with a warning
    let text = format!("192.0.2.9 :3:{}\n", "x".repeat(300));
    let ds = load(Ip4Set, text.as_bytes());
    assert!(matches!(
        ds.warnings()[0].problem(),
        Problem::TxtTooLong { len: 300 }
    ));
    let hit = ds.list().lookup_ipv4("192.0.2.9".parse().unwrap()).unwrap();
    assert_eq!(hit.txt()[0].len(), 255);
    // TXT is not quoted in rbldnsd files: quotes and backslashes are kept as they are
    let ds = load(Ip4Set, b"192.0.2.9 :3:\"unbalanced \\ quote\n");
    assert!(ds.warnings().is_empty());
    let hit = ds.list().lookup_ipv4("192.0.2.9".parse().unwrap()).unwrap();
    assert_eq!(hit.render_txt(0, "x").unwrap(), "\"unbalanced \\ quote");
    // $MAXRANGE4: larger ranges are refused; it only shrinks
    let ds = load(
        Ip4Set,
        b"$MAXRANGE4 /24\n10.0.0.0/16\n10.1.0.0/24\n$MAXRANGE4 512\n",
    );
    let p: Vec<_> = ds
        .warnings()
        .iter()
        .map(|w| (w.line(), w.problem().clone()))
        .collect();
    assert_eq!(
        p,
        [
            (
                2,
                Problem::RangeTooLarge {
                    size: 65536,
                    max: 256
                }
            ),
            (4, Problem::MaxRangeIncrease { from: 256, to: 512 })
        ]
    );
}

#[test]
fn crlf_lone_cr_comments_and_several_files() {
    let mut p = DatasetParser::new(DatasetKind::Ip4Set);
    p.parse_file("a.txt", b"# comment\r\n:3:first file $\r\n192.0.2.1\r\n\r\n; other comment\r\n192.0.2.2 ; trailing\r\n").unwrap();
    p.parse_file("b.txt", b"192.0.2.3\n192.0.2.300\n").unwrap();
    let ds = p.finish();
    assert_eq!(ds.files().len(), 2);
    let l = ds.list();
    let one = l.lookup_ipv4("192.0.2.1".parse().unwrap()).unwrap();
    assert_eq!(one.codes(), &[ReturnCode::new_assert(127, 0, 0, 3)]);
    assert_eq!(
        one.render_txt(0, "192.0.2.1").unwrap(),
        "first file 192.0.2.1"
    );
    assert!(l.lookup_ipv4("192.0.2.2".parse().unwrap()).is_some());
    // the default line ends with its file
    assert_eq!(
        l.lookup_ipv4("192.0.2.3".parse().unwrap()).unwrap().codes(),
        &[ReturnCode::LISTED]
    );
    assert_eq!(
        (ds.warnings()[0].file(), ds.warnings()[0].line()),
        ("b.txt", 2)
    );
    // a lone CR ends a line too (as in rbldnsd 1.0); Debian's 0.998-era binary keeps CRs
    let ds = load(DatasetKind::Ip4TSet, b"192.0.2.1\r192.0.2.2\n");
    assert_eq!(ds.list().ipv4_addresses().count(), 2);
}

#[test]
fn exclusions_precedence_and_merging() {
    let ds = load(
        DatasetKind::Ip4Set,
        b"10.0.0.0/8\n!10.1.0.0/16\n10.1.2.0/24 :4\n!10.1.2.3\n10.1.2.9 :5\n10.1.2.9 :6:also\n!10.2.0.0/20\n10.2.0.0/20 :7\n",
    );
    let l = ds.list();
    let q = |a: &str| {
        l.lookup_ipv4(a.parse().unwrap())
            .map(|x| x.codes().iter().map(|c| c.last_octet()).collect::<Vec<_>>())
    };
    assert_eq!(q("10.9.9.9"), Some(vec![2]));
    assert_eq!(q("10.1.9.9"), None);
    assert_eq!(q("10.1.2.4"), Some(vec![4]));
    assert_eq!(q("10.1.2.3"), None);
    assert_eq!(q("10.1.2.9"), Some(vec![5, 6]));
    // the /20 is sixteen /24s: its exclusion at the same level wins over its listing
    assert_eq!(q("10.2.15.1"), None);
    assert_eq!(q("10.2.16.1"), Some(vec![2]));
    // ip4trie: the first of two equal prefixes stays
    let ds = load(DatasetKind::Ip4Trie, b"10.0.0.0/20 :3\n10.0.0.0/20 :4\n");
    assert_eq!(ds.warnings().len(), 1);
    assert_eq!(
        ds.list()
            .lookup_ipv4("10.0.1.1".parse().unwrap())
            .unwrap()
            .codes()[0]
            .last_octet(),
        3
    );
    // dnset
    let ds = load(
        DatasetKind::DnSet,
        b".example.com :3\n!www.example.com\n*.www.example.com :4:w $\n",
    );
    let l = ds.list();
    assert!(l.lookup_domain("example.com").is_some());
    assert!(l.lookup_domain("www.example.com").is_none());
    let m = l.lookup_domain_match("a.www.example.com").unwrap();
    assert_eq!(
        m.listing.render_txt(0, m.name).unwrap(),
        "w www.example.com"
    );
    assert!(matches!(l.domains().next().unwrap().1, Entry::Listed(_)));
}

#[test]
fn zone_queries_decode_names_as_rbldnsd() {
    let ds = load(DatasetKind::Ip4Set, b"$TTL 60\n192.0.2.1 :3:ip $\n");
    let ds6 = load(DatasetKind::Ip6Trie, b"2001:db8::/32 :4:ip6 $\n");
    let z = Zone::new("bl.example".parse().unwrap(), vec![ds.into(), ds6.into()]);
    let a = z.query("1.2.0.192.BL.example.").unwrap();
    assert_eq!(
        (a.txt.as_slice(), a.ttl),
        (&["ip 192.0.2.1".to_owned()][..], Some(60))
    );
    assert!(z.query("001.002.000.192.bl.example").is_some());
    assert!(z.query("1.2.0.192.0.bl.example").is_none());
    assert!(z.query("1.2.0.bl.example").is_none());
    assert!(z.query("1.2.0.192.other.example").is_none());
    let n = z.query_name(&"2001:db8::5".parse().unwrap()).unwrap();
    assert_eq!(z.query(&n).unwrap().txt, ["ip6 2001:db8::5"]);
}

#[test]
fn write_rbldnsd_refuses_what_the_type_cannot_say() {
    use rblkit::zone::Dataset;
    use rblkit::{List, Listing};
    let mut b = List::builder();
    b.insert(
        &"192.0.2.0/24".parse().unwrap(),
        Listing::new(ReturnCode::LISTED).with_code(ReturnCode::new_assert(127, 0, 0, 4)),
    );
    let list = b.build();
    let e = Dataset::from_list(DatasetKind::Ip4Trie, list.clone()).write_rbldnsd(&mut Vec::new());
    assert!(matches!(
        e,
        Err(ZoneError::NotExpressible {
            format: "ip4trie",
            ..
        })
    ));
    assert!(Dataset::from_list(DatasetKind::Ip4TSet, list.clone())
        .write_rbldnsd(&mut Vec::new())
        .is_err());
    // ip4set says it with two lines
    let mut out = Vec::new();
    Dataset::from_list(DatasetKind::Ip4Set, list.clone())
        .write_rbldnsd(&mut out)
        .unwrap();
    let back = load(DatasetKind::Ip4Set, &out);
    assert_eq!(
        back.list()
            .lookup_ipv4("192.0.2.9".parse().unwrap())
            .unwrap()
            .codes()
            .len(),
        2
    );
    // a template rbldnsd would read as a variable
    let mut b = List::builder();
    b.insert(
        &"192.0.2.1".parse().unwrap(),
        Listing::new(ReturnCode::LISTED).with_txt("$1"),
    );
    assert!(Dataset::from_list(DatasetKind::Ip4Set, b.build())
        .write_rbldnsd(&mut Vec::new())
        .is_err());
    // leading `=`, leading space and `$$` survive
    let mut b = List::builder();
    b.precedence(rblkit::list::Precedence::MostSpecific);
    b.insert(
        &"192.0.2.1".parse().unwrap(),
        Listing::new(ReturnCode::LISTED).with_txt("=eq $$5 for $"),
    );
    b.insert(
        &"192.0.2.2".parse().unwrap(),
        Listing::new(ReturnCode::LISTED).with_txt(" space"),
    );
    let ds = Dataset::from_list(DatasetKind::Ip4Set, b.build());
    let mut out = Vec::new();
    ds.write_rbldnsd(&mut out).unwrap();
    assert_eq!(load(DatasetKind::Ip4Set, &out).list(), ds.list());
}

/// Where rblkit knowingly reads a dnset differently from rbldnsd, which takes any bytes as
/// a name: names that are not host names are warned about and skipped.
#[test]
fn dnset_names_rbldnsd_takes_and_rblkit_refuses() {
    // a reversed address (dnset used as an IP list): the last label is all digits, which
    // `Domain` refuses (see the report: the list's name table would need to take them)
    let ds = load(DatasetKind::DnSet, b"4.3.2.1\n*.example.com\n");
    assert_eq!(ds.warnings().len(), 1);
    assert_eq!(ds.warnings()[0].line(), 1);
    assert!(ds.list().lookup_domain("a.example.com").is_some());
}
