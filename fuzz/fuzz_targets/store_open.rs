#![no_main]
//! A ledger database file damaged at arbitrary bytes (and possibly cut short) opens or is
//! refused with an error, never a panic; when it opens, every row it replayed passed its
//! checksum, and an export gives exactly those rows.

use libfuzzer_sys::fuzz_target;
use rblkit::ledger::store::{Store, FILE_NAME};
use rblkit::ledger::{Event, Evidence};
use rblkit::Timestamp;
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

/// A sound ledger file of 300 events, made once.
fn pristine() -> &'static [u8] {
    static FILE: OnceLock<Vec<u8>> = OnceLock::new();
    FILE.get_or_init(|| {
        let dir = work("seed");
        let mut s = Store::open(&dir, Default::default()).unwrap();
        let t0: Timestamp = "2026-11-20T10:00:00Z".parse().unwrap();
        let events: Vec<Event> = (0..300u32)
            .map(|i| {
                let subject = format!("192.0.2.{}", i % 200).parse().unwrap();
                let evidence = match i % 3 {
                    0 => Evidence::TrapHit {
                        trap: format!("trap{i}").into(),
                    },
                    1 => Evidence::SpamReport {
                        reporter: format!("r{}", i % 7).into(),
                        fingerprint: None,
                        weight: Some(f64::from(i % 5)),
                    },
                    _ => Evidence::SelfDelist,
                };
                Event::new(
                    t0 + Duration::from_secs(u64::from(i) * 37),
                    subject,
                    evidence,
                )
            })
            .collect();
        for c in events.chunks(50) {
            s.append(c).unwrap();
        }
        drop(s);
        std::fs::read(dir.join(FILE_NAME)).unwrap()
    })
}

fn work(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("rblkit-fuzz-store-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fuzz_target!(|data: &[u8]| {
    let mut file = pristine().to_vec();
    // the input: an optional cut (2 bytes), then patches of (offset: 3 bytes, value: 1 byte)
    let (cut, patches) = match data.split_first_chunk::<2>() {
        Some((c, rest)) => (u16::from_le_bytes(*c), rest),
        None => (0, data),
    };
    for p in patches.chunks_exact(4) {
        let at =
            (usize::from(p[0]) | usize::from(p[1]) << 8 | usize::from(p[2]) << 16) % file.len();
        file[at] = p[3];
    }
    if cut & 0x8000 != 0 {
        let keep = usize::from(cut & 0x7fff) * file.len() / 0x8000;
        file.truncate(keep);
    }
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    let dir = DIR.get_or_init(|| work("run"));
    let path = dir.join(FILE_NAME);
    let _ = std::fs::remove_file(path.with_extension("sqlite3-wal"));
    let _ = std::fs::remove_file(path.with_extension("sqlite3-shm"));
    std::fs::write(&path, &file).unwrap();
    if let Ok(store) = Store::open(dir, Default::default()) {
        let mut out = Vec::new();
        let n = store
            .export(None, &mut out)
            .expect("the rows that replayed export");
        assert_eq!(n, store.last_seq());
        let text = String::from_utf8(out).expect("the rows' text is UTF-8");
        for (i, line) in text.lines().enumerate() {
            Event::parse_line(line, i as u64 + 1).expect("a replayed row reads back");
        }
    }
});
