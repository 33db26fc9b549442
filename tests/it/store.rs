//! `ledger::store` (feature `store`): the journal survives reopening, damage is found and
//! named, and several writers on one directory see each other's events.

use super::zone_tools::TempDir;
use rblkit::ledger::store::{Store, StoreError};
use rblkit::ledger::{Event, Evidence, Lifecycle, Outcome, Refusal};
use rblkit::{Subject, Timestamp};
use std::time::Duration;

fn t0() -> Timestamp {
    "2026-11-20T10:00:00Z".parse().unwrap()
}

fn ip(i: u32) -> Subject {
    Subject::Ip(std::net::Ipv4Addr::from(0x0a00_0000 + i).into())
}

/// A spam report whose reporter names it uniquely (`marker-NNNNNN`).
fn marked(i: u32) -> Event {
    Event::new(
        t0() + Duration::from_secs(u64::from(i)),
        ip(i % 50),
        Evidence::SpamReport {
            reporter: format!("marker-{i:06}").into(),
            fingerprint: None,
            weight: None,
        },
    )
}

fn exported(store: &Store) -> Vec<String> {
    let mut out = Vec::new();
    store.export(None, &mut out).unwrap();
    String::from_utf8(out)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn reopening_replays_the_same_state() {
    let dir = TempDir::new("store-reopen");
    let events: Vec<Event> = (0..500).map(marked).collect();
    let mut s = Store::open(&dir.0, Default::default()).unwrap();
    for chunk in events.chunks(70) {
        s.append(chunk).unwrap();
    }
    let now = t0() + Duration::from_secs(3600);
    let before: Vec<_> = (0..50)
        .map(|i| s.ledger().reputation(&ip(i), now))
        .collect();
    assert_eq!(s.last_seq(), 500);
    drop(s);
    let s = Store::open(&dir.0, Default::default()).unwrap();
    assert_eq!(s.last_seq(), 500);
    assert_eq!(s.newest(), Some(t0() + Duration::from_secs(499)));
    let after: Vec<_> = (0..50)
        .map(|i| s.ledger().reputation(&ip(i), now))
        .collect();
    assert_eq!(before, after);
    assert_eq!(s.check().unwrap().rows, 500);
    let lines = exported(&s);
    let want: Vec<String> = events.iter().map(ToString::to_string).collect();
    assert_eq!(lines, want);
}

#[test]
fn a_request_is_decided_on_every_writers_events() {
    let dir = TempDir::new("store-decide");
    let mut a = Store::open(&dir.0, Default::default()).unwrap();
    let mut b = Store::open(&dir.0, Default::default()).unwrap();
    let x = ip(1);
    a.append(&[Event::new(
        t0(),
        x.clone(),
        Evidence::ManualList {
            note: "seen".into(),
            reason: None,
        },
    )])
    .unwrap();
    // b has not looked since a wrote: its append catches up under the lock first
    let out = b
        .append(&[Event::new(t0(), x.clone(), Evidence::SelfDelist)])
        .unwrap();
    assert!(matches!(out[0], Outcome::Accepted { until: Some(_) }));
    let dispute = || {
        Event::new(
            t0(),
            x.clone(),
            Evidence::Dispute {
                reason: rblkit::ledger::DisputeReason::TechnicalError,
                reporter: None,
                contact: None,
                text: None,
            },
        )
    };
    assert_eq!(
        b.append(&[dispute()]).unwrap(),
        [Outcome::Accepted { until: None }]
    );
    assert_eq!(
        a.append(&[dispute()]).unwrap(),
        [Outcome::Refused(Refusal::DisputeOpen)]
    );
    // a reader sees what was committed on its next refresh
    let mut r = Store::open(&dir.0, Default::default()).unwrap();
    assert_eq!(r.last_seq(), 4);
    assert!(matches!(
        r.ledger().lifecycle(&x, t0()),
        Lifecycle::UnderReview { .. }
    ));
    b.append(&[marked(7)]).unwrap();
    assert_eq!(r.refresh().unwrap(), 1);
    assert_eq!(r.last_seq(), 5);
    assert_eq!(r.refresh().unwrap(), 0);
}

#[test]
fn writers_in_threads_all_succeed_and_nothing_is_lost() {
    let dir = TempDir::new("store-threads");
    let n_threads = 4u32;
    let per = 300u32;
    std::thread::scope(|scope| {
        for t in 0..n_threads {
            let dir = &dir.0;
            scope.spawn(move || {
                let mut s = Store::open(dir, Default::default()).unwrap();
                let mine: Vec<Event> = (0..per).map(|i| marked(t * per + i)).collect();
                for chunk in mine.chunks(17) {
                    s.append(chunk).unwrap();
                }
            });
        }
    });
    let s = Store::open(&dir.0, Default::default()).unwrap();
    let mut lines = exported(&s);
    assert_eq!(lines.len() as u32, n_threads * per);
    lines.sort();
    lines.dedup();
    assert_eq!(lines.len() as u32, n_threads * per, "duplicates");
    assert_eq!(s.check().unwrap().rows, u64::from(n_threads * per));
}

/// Writes `n` marked events, closes the store (the WAL is checkpointed into the database
/// file and removed) and returns the file's bytes.
fn closed_store(dir: &TempDir, n: u32) -> (std::path::PathBuf, Vec<u8>) {
    let mut s = Store::open(&dir.0, Default::default()).unwrap();
    let events: Vec<Event> = (0..n).map(marked).collect();
    for chunk in events.chunks(100) {
        s.append(chunk).unwrap();
    }
    let path = s.path().to_path_buf();
    drop(s);
    let wal = path.with_extension("sqlite3-wal");
    assert!(
        std::fs::metadata(&wal).map_or(true, |m| m.len() == 0),
        "the WAL was not checkpointed on close"
    );
    let bytes = std::fs::read(&path).unwrap();
    (path, bytes)
}

fn find(hay: &[u8], needle: &[u8]) -> usize {
    hay.windows(needle.len())
        .position(|w| w == needle)
        .expect("marker in the file")
}

#[test]
fn a_changed_byte_in_a_row_is_named_by_its_seq() {
    let dir = TempDir::new("store-flip");
    let (path, mut bytes) = closed_store(&dir, 400);
    // the JSON line of the event with marker 123 is row 124; change one letter of it
    let at = find(&bytes, b"marker-000123\"}");
    bytes[at] = b'n';
    std::fs::write(&path, &bytes).unwrap();
    let e = Store::open(&dir.0, Default::default()).unwrap_err();
    assert!(matches!(e, StoreError::Checksum { seq: 124, .. }), "{e:?}");
    assert!(e.to_string().contains("seq 124"), "{e}");
}

#[test]
fn a_changed_time_column_is_named_by_its_seq() {
    let dir = TempDir::new("store-flip-at");
    let (path, mut bytes) = closed_store(&dir, 50);
    // SQLite stores the `at` column as a 4-byte big-endian integer in the row's record; the
    // value of row 31 (marker 30) occurs once in the file
    let at = t0().unix_seconds() + 30;
    let needle = (at as u32).to_be_bytes();
    assert_eq!(bytes.windows(4).filter(|w| *w == needle).count(), 1);
    let pos = find(&bytes, &needle);
    bytes[pos + 3] ^= 0x01;
    std::fs::write(&path, &bytes).unwrap();
    let e = Store::open(&dir.0, Default::default()).unwrap_err();
    assert!(matches!(e, StoreError::Checksum { seq: 31, .. }), "{e:?}");
}

#[test]
fn a_torn_database_file_is_reported() {
    let dir = TempDir::new("store-torn");
    let (path, bytes) = closed_store(&dir, 3000);
    assert!(bytes.len() > 16 * 4096, "{} bytes", bytes.len());
    // cut it in the middle of a page
    std::fs::write(&path, &bytes[..bytes.len() / 2 + 100]).unwrap();
    match Store::open(&dir.0, Default::default()) {
        Err(e) => {
            eprintln!("torn file: {e}");
            assert!(
                matches!(
                    e,
                    StoreError::Corrupt { .. }
                        | StoreError::Checksum { .. }
                        | StoreError::Gap { .. }
                ),
                "{e:?}"
            );
        }
        Ok(s) => panic!("a torn file opened with {} rows", s.last_seq()),
    }
}

#[test]
fn a_damaged_page_is_reported_with_the_last_good_row() {
    let dir = TempDir::new("store-page");
    let (path, mut bytes) = closed_store(&dir, 3000);
    // overwrite the b-tree header of a leaf page in the middle of the journal
    let page = 4096;
    let mid = (bytes.len() / page / 2) * page;
    for b in &mut bytes[mid..mid + 12] {
        *b = 0xee;
    }
    std::fs::write(&path, &bytes).unwrap();
    let e = match Store::open(&dir.0, Default::default()) {
        Err(e) => e,
        Ok(s) => match s.check() {
            Err(e) => e,
            Ok(c) => panic!("damage not found: {} rows", c.rows),
        },
    };
    eprintln!("damaged page: {e}");
    match &e {
        StoreError::Corrupt { after_seq, .. } => {
            assert!(*after_seq < 3000, "{e}");
            assert!(e.to_string().contains("after journal row seq"), "{e}");
        }
        StoreError::Checksum { .. } | StoreError::Gap { .. } => {}
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_file_that_is_no_ledger_is_refused() {
    let dir = TempDir::new("store-foreign");
    std::fs::write(
        dir.0.join("ledger.sqlite3"),
        b"this is no database, just text\n",
    )
    .unwrap();
    let e = Store::open(&dir.0, Default::default()).unwrap_err();
    assert!(matches!(e, StoreError::Corrupt { .. }), "{e:?}");
    let file = TempDir::new("store-notdir");
    let p = file.0.join("plain");
    std::fs::write(&p, b"x").unwrap();
    let e = Store::open(&p, Default::default()).unwrap_err();
    assert!(matches!(e, StoreError::Io { .. }), "{e:?}");
}
