//! The state directory's counters: named counters checked against limits (the policy
//! server's classes of limits) and subjects' counters, in tables of the ledger's database,
//! so that every process on the state directory shares them and a restart keeps them.
//!
//! Tables: `counts(key, at, n)`, one row per key and second with the events counted in
//! it; `charged(once, at, within)`, the answer of each message charged once, by its key;
//! `refused(key, until)`, until when a refusal of a key is not the first of its window;
//! `totals(key, total, since)`, the sum of a key's rows after `since`, moved forward as
//! the window moves (subtracting the rows that left it), so that a count reads the rows
//! of the seconds that left the window since the last count, not the whole hour.
//! A check-and-add is one transaction that takes the write lock first (`BEGIN
//! IMMEDIATE`), or runs inside the journal's write transaction
//! ([`Store::append_each_counted`](super::Store::append_each_counted)): writers of all
//! processes are serialised by SQLite's lock, so a limit holds exactly across them.

use super::StoreError;
use crate::ledger::counter::{Charge, Charged, Counter, CounterKey, CounterStore, Limit};
use crate::ledger::SubjectId;
use crate::subject::Subject;
use crate::time::Timestamp;
use rusqlite::{params, Connection, OptionalExtension, Transaction, TransactionBehavior};
use std::path::Path;
use std::time::Duration;

/// The counter tables, created when missing (older state directories have none).
pub(super) const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS counts (
    key TEXT NOT NULL,
    at INTEGER NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (key, at)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS charged (
    once BLOB PRIMARY KEY,
    at INTEGER NOT NULL,
    within INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS refused (
    key TEXT PRIMARY KEY,
    until INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS totals (
    key TEXT PRIMARY KEY,
    total INTEGER NOT NULL,
    since INTEGER NOT NULL
) WITHOUT ROWID";

const COUNT: &str =
    "SELECT COALESCE(SUM(n), 0) FROM counts WHERE key = ?1 AND at > ?2 AND at <= ?3";
const ADD: &str = "INSERT INTO counts (key, at, n) VALUES (?1, ?2, ?3) \
    ON CONFLICT (key, at) DO UPDATE SET n = n + excluded.n";
const AFTER: &str = "SELECT COALESCE(SUM(n), 0) FROM counts WHERE key = ?1 AND at > ?2";
const ADD_TOTAL: &str = "INSERT INTO totals (key, total, since) VALUES (?1, ?3, ?4) \
    ON CONFLICT (key) DO UPDATE SET total = total + excluded.total WHERE ?2 > since";

/// How many charges between two sweeps of the rows no window counts any more.
const SWEEP_EVERY: u64 = 4096;

/// The counters of a state directory, on a [`Store`](super::Store)'s connection: from
/// [`Store::counters`](super::Store::counters) (each check-and-add its own transaction) or
/// inside [`Store::append_each_counted`](super::Store::append_each_counted) (part of the
/// journal's transaction: committed with the events, or not at all).
///
/// Named counters have one window ([`StoreCounters::window`] of [`Counter::Messages`], an
/// hour unless set); a subject's counter is the named counter `COUNTER:SUBJECT`
/// (`Messages:a@shop.example.com`).
///
/// # Examples
///
/// ```
/// use rblkit::ledger::store::Store;
/// use rblkit::ledger::{Charge, Charged, CounterStore};
/// let dir = std::env::temp_dir().join(format!("rblkit-doc-counters-{}", std::process::id()));
/// # let _ = std::fs::remove_dir_all(&dir);
/// let store = Store::open(&dir, Default::default())?;
/// let t: rblkit::Timestamp = "2026-11-20T10:00:00Z".parse()?;
/// let limits = [("sender_domain:shop.example.com", 1)];
/// let mut out = Vec::new();
/// store.counters().charge(t, &[Charge { once: Some(b"m1"), limits: &limits, n: 1 }], &mut out)?;
/// assert!(matches!(out[0], Charged::Within { .. }));
/// drop(store);
/// // another process, or a restart: the count is in the state directory
/// let again = Store::open(&dir, Default::default())?;
/// let mut c = again.counters();
/// assert_eq!(c.named_count("sender_domain:shop.example.com", t)?, 1);
/// c.charge(t, &[Charge { once: Some(b"m1"), limits: &limits, n: 1 }], &mut out)?;
/// assert_eq!(out[0], Charged::Seen { within: true });
/// c.charge(t, &[Charge { once: Some(b"m2"), limits: &limits, n: 1 }], &mut out)?;
/// assert_eq!(out[0], Charged::Over { tight: 0, first: true });
/// # drop(c);
/// # drop(again);
/// # std::fs::remove_dir_all(&dir).unwrap();
/// # Ok::<(), rblkit::Error>(())
/// ```
#[derive(Debug)]
pub struct StoreCounters<'c> {
    conn: &'c Connection,
    path: &'c Path,
    /// Inside the journal's write transaction: no transaction of its own.
    in_tx: bool,
    window: i64,
    charges: &'c std::cell::Cell<u64>,
}

impl<'c> StoreCounters<'c> {
    pub(super) fn new(
        conn: &'c Connection,
        path: &'c Path,
        in_tx: bool,
        charges: &'c std::cell::Cell<u64>,
    ) -> StoreCounters<'c> {
        StoreCounters {
            conn,
            path,
            in_tx,
            window: 3600,
            charges,
        }
    }

    /// The same counters with this window (whole seconds, at least one).
    pub fn with_window(mut self, window: Duration) -> StoreCounters<'c> {
        self.window = i64::try_from(window.as_secs()).unwrap_or(i64::MAX).max(1);
        self
    }

    fn err(&self, op: &'static str) -> impl Fn(rusqlite::Error) -> StoreError + '_ {
        move |e| StoreError::sqlite(self.path, op, 0, &e)
    }

    /// Runs `f` in a write transaction of its own, or in the journal's.
    fn write<T>(
        &self,
        op: &'static str,
        f: impl FnOnce(&Connection) -> rusqlite::Result<T>,
    ) -> Result<T, StoreError> {
        if self.in_tx {
            return f(self.conn).map_err(self.err(op));
        }
        let tx = Transaction::new_unchecked(self.conn, TransactionBehavior::Immediate)
            .map_err(self.err("begin a write"))?;
        let v = f(&tx).map_err(self.err(op))?;
        tx.commit().map_err(self.err(op))?;
        Ok(v)
    }

    /// The sum of a key's rows in `(from, to]`.
    fn sum(c: &Connection, key: &str, from: i64, to: i64) -> rusqlite::Result<i64> {
        c.prepare_cached(COUNT)?
            .query_row(params![key, from, to], |r| r.get(0))
    }

    /// A key's count in `(t - window, t]`, from its total; `update`: in a write, the
    /// total is moved forward to the window.
    fn count_in(&self, c: &Connection, key: &str, t: i64, update: bool) -> rusqlite::Result<u64> {
        let lo = t.saturating_sub(self.window);
        let row: Option<(i64, i64)> = c
            .prepare_cached("SELECT total, since FROM totals WHERE key = ?1")?
            .query_row([key], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        let total = match row {
            // no total, or a window before the total's start: the rows themselves
            None => return Ok(u64::try_from(Self::sum(c, key, lo, t)?).unwrap_or(0)),
            Some((_, since)) if lo < since => {
                return Ok(u64::try_from(Self::sum(c, key, lo, t)?).unwrap_or(0))
            }
            Some((total, since)) if lo > since => {
                let total = total - Self::sum(c, key, since, lo)?;
                if update {
                    c.prepare_cached("UPDATE totals SET total = ?2, since = ?3 WHERE key = ?1")?
                        .execute(params![key, total, lo])?;
                }
                total
            }
            Some((total, _)) => total,
        };
        // events after `t` (another process's clock a second ahead) are not in this window
        let later: i64 = c
            .prepare_cached(AFTER)?
            .query_row(params![key, t], |r| r.get(0))?;
        Ok(u64::try_from(total - later).unwrap_or(0))
    }

    /// Adds `n` events at `t` to a key's rows and total.
    fn add_in(&self, c: &Connection, key: &str, t: i64, n: u32) -> rusqlite::Result<()> {
        c.prepare_cached(ADD)?.execute(params![key, t, n])?;
        c.prepare_cached(ADD_TOTAL)?
            .execute(params![key, t, n, t.saturating_sub(self.window)])?;
        Ok(())
    }

    fn charge_one<L: Limit>(
        &self,
        c: &Connection,
        t: i64,
        ch: &Charge<'_, L>,
    ) -> rusqlite::Result<Charged> {
        if let Some(once) = ch.once {
            let prev: Option<bool> = c
                .prepare_cached("SELECT within FROM charged WHERE once = ?1 AND at > ?2")?
                .query_row(params![once, t.saturating_sub(self.window)], |r| r.get(0))
                .optional()?;
            if let Some(within) = prev {
                return Ok(Charged::Seen { within });
            }
        }
        let (within, tight) = crate::ledger::counter::room(ch.limits, ch.n, |key| {
            self.count_in(c, key, t, ch.n > 0)
        })?;
        let answer = if within {
            if ch.n > 0 {
                for l in ch.limits {
                    self.add_in(c, l.key(), t, ch.n)?;
                }
            }
            Charged::Within {
                receipt: u64::from(ch.n),
            }
        } else {
            let first = match ch.limits.get(tight) {
                Some(l) if ch.n > 0 => {
                    c.prepare_cached(
                        "INSERT INTO refused (key, until) VALUES (?1, ?2) \
                         ON CONFLICT (key) DO UPDATE SET until = excluded.until WHERE until <= ?3",
                    )?
                    .execute(params![
                        l.key(),
                        t.saturating_add(self.window),
                        t
                    ])? == 1
                }
                _ => false,
            };
            Charged::Over { tight, first }
        };
        if ch.n > 0 {
            if let Some(once) = ch.once {
                c.prepare_cached(
                    "INSERT OR REPLACE INTO charged (once, at, within) VALUES (?1, ?2, ?3)",
                )?
                .execute(params![once, t, within])?;
            }
            let n = self.charges.get().wrapping_add(1);
            self.charges.set(n);
            if n.is_multiple_of(SWEEP_EVERY) {
                let old = t.saturating_sub(self.window);
                // the totals of keys not counted since: their rows that stay, first
                c.prepare_cached(
                    "UPDATE totals SET since = ?1, total = (SELECT COALESCE(SUM(n), 0) \
                     FROM counts WHERE counts.key = totals.key AND counts.at > ?1) \
                     WHERE since < ?1",
                )?
                .execute([old])?;
                c.prepare_cached("DELETE FROM counts WHERE at <= ?1")?
                    .execute([old])?;
                c.prepare_cached("DELETE FROM totals WHERE total <= 0")?
                    .execute([])?;
                c.prepare_cached("DELETE FROM charged WHERE at <= ?1")?
                    .execute([old])?;
                c.prepare_cached("DELETE FROM refused WHERE until <= ?1")?
                    .execute([t])?;
            }
        }
        Ok(answer)
    }

    /// Answers `charges` with reads alone when none of them has to count: each only checks
    /// (`n` = 0) or is a message charged before (by `once`). Returns whether it did (else
    /// `out` is to be cleared and a write transaction is needed).
    fn answer_reading<L: Limit>(
        &self,
        t: i64,
        charges: &[Charge<'_, L>],
        out: &mut Vec<Charged>,
    ) -> Result<bool, StoreError> {
        let read = |e| StoreError::sqlite(self.path, "check", 0, &e);
        for ch in charges {
            if ch.n == 0 {
                out.push(self.charge_one(self.conn, t, ch).map_err(read)?);
                continue;
            }
            let Some(once) = ch.once else {
                return Ok(false);
            };
            let prev: Option<bool> = self
                .conn
                .prepare_cached("SELECT within FROM charged WHERE once = ?1 AND at > ?2")
                .and_then(|mut q| {
                    q.query_row(params![once, t.saturating_sub(self.window)], |r| r.get(0))
                        .optional()
                })
                .map_err(read)?;
            match prev {
                Some(within) => out.push(Charged::Seen { within }),
                None => return Ok(false),
            }
        }
        Ok(true)
    }

    fn subject_key(key: &CounterKey<'_>) -> String {
        format!("{:?}:{}", key.counter, key.subject)
    }
}

impl CounterStore for StoreCounters<'_> {
    type Error = StoreError;

    fn window(&self, _counter: Counter) -> Duration {
        Duration::from_secs(self.window.unsigned_abs())
    }

    fn add(&mut self, key: CounterKey<'_>, at: Timestamp, n: u32) -> Result<u64, StoreError> {
        let k = StoreCounters::subject_key(&key);
        let t = at.unix_seconds();
        self.write("count", |c| {
            self.add_in(c, &k, t, n)?;
            self.count_in(c, &k, t, true)
        })
    }

    fn count(&self, key: CounterKey<'_>, now: Timestamp) -> Result<u64, StoreError> {
        self.named_count(&StoreCounters::subject_key(&key), now)
    }

    fn charge<L: Limit>(
        &mut self,
        at: Timestamp,
        charges: &[Charge<'_, L>],
        out: &mut Vec<Charged>,
    ) -> Result<(), StoreError> {
        out.clear();
        let t = at.unix_seconds();
        if !self.in_tx && self.answer_reading(t, charges, out)? {
            return Ok(());
        }
        out.clear();
        let r = self.write("check and count", |c| {
            let mut v = Vec::with_capacity(charges.len());
            for ch in charges {
                v.push(self.charge_one(c, t, ch)?);
            }
            Ok(v)
        })?;
        out.extend(r);
        Ok(())
    }

    fn undo<L: Limit>(
        &mut self,
        at: Timestamp,
        charge: &Charge<'_, L>,
        receipt: u64,
    ) -> Result<(), StoreError> {
        let t = at.unix_seconds();
        let n = i64::try_from(receipt).unwrap_or(i64::MAX);
        self.write("take back a count", |c| {
            let mut u = c.prepare_cached(
                "UPDATE counts SET n = MAX(n - ?3, 0) WHERE key = ?1 AND at = ?2",
            )?;
            let mut total = c.prepare_cached(
                "UPDATE totals SET total = MAX(total - ?3, 0) WHERE key = ?1 AND ?2 > since",
            )?;
            for l in charge.limits {
                u.execute(params![l.key(), t, n])?;
                total.execute(params![l.key(), t, n])?;
            }
            if let Some(once) = charge.once {
                c.prepare_cached("UPDATE charged SET within = 0 WHERE once = ?1")?
                    .execute([once])?;
            }
            Ok(())
        })
    }

    fn named_count(&self, key: &str, now: Timestamp) -> Result<u64, StoreError> {
        self.count_in(self.conn, key, now.unix_seconds(), false)
            .map_err(self.err("read a count"))
    }

    fn forget(&mut self, _id: SubjectId, subject: &Subject) -> Result<(), StoreError> {
        let keys: Vec<String> = Counter::ALL
            .iter()
            .map(|&counter| {
                StoreCounters::subject_key(&CounterKey {
                    subject,
                    id: SubjectId(0),
                    counter,
                })
            })
            .collect();
        self.write("forget counts", |c| {
            let mut d = c.prepare_cached("DELETE FROM counts WHERE key = ?1")?;
            let mut dt = c.prepare_cached("DELETE FROM totals WHERE key = ?1")?;
            for k in &keys {
                d.execute([k])?;
                dt.execute([k])?;
            }
            Ok(())
        })
    }

    fn heap_bytes(&self) -> usize {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::super::Store;
    use super::*;

    /// The counts from the moving totals equal the sum of the events in the window, as
    /// time moves (a second back now and then), with undos and sweeps.
    #[test]
    fn totals_match_a_naive_sum_of_the_window() {
        let dir = std::env::temp_dir().join(format!("rblkit-unit-totals-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let store = Store::open(&dir, Default::default()).unwrap();
        let t0: Timestamp = "2026-11-20T10:00:00Z".parse().unwrap();
        let keys = ["a", "b", "c"];
        let mut events: Vec<(usize, i64, u64)> = Vec::new();
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut out = Vec::new();
        let mut s = 0i64;
        for i in 0..9000u64 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            s += i64::from(x.is_multiple_of(3));
            let at = s - i64::from(x.is_multiple_of(11)); // sometimes a second back
            let k = usize::try_from(x % 3).unwrap();
            let t = t0 + Duration::from_secs(u64::try_from(at.max(0)).unwrap());
            let limits = [(keys[k], u64::MAX), ("all", u64::MAX)];
            let ch = Charge {
                once: None,
                limits: &limits,
                n: 1,
            };
            let mut c = store.counters().with_window(Duration::from_secs(10));
            c.charge(t, &[ch], &mut out).unwrap();
            let Charged::Within { receipt } = out[0] else {
                panic!("{:?}", out[0])
            };
            let at = t.unix_seconds();
            if i.is_multiple_of(7) {
                c.undo(t, &ch, receipt).unwrap();
            } else {
                events.push((k, at, 1));
                events.push((3, at, 1));
            }
            if i.is_multiple_of(97) {
                let now = t0.unix_seconds() + s;
                for (j, key) in keys.iter().chain(&["all"]).enumerate() {
                    let naive: u64 = events
                        .iter()
                        .filter(|e| e.0 == j && e.1 > now - 10 && e.1 <= now)
                        .map(|e| e.2)
                        .sum();
                    let got = c
                        .named_count(key, t0 + Duration::from_secs(u64::try_from(s).unwrap()))
                        .unwrap();
                    assert_eq!(got, naive, "key {key} at step {i}");
                }
            }
        }
        drop(store);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
