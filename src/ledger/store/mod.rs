//! Persistence of the ledger (feature `store`): an append-only evidence journal in SQLite,
//! replayed into an in-memory [`Ledger`], shared by several processes on one state directory.
//!
//! The journal is one table, `journal(seq, at, subject, event, line, crc)`: `seq` counts rows
//! from 1 without gaps, `line` is the event's canonical JSON line ([`Event::write_line`]),
//! `at`, `subject` and `event` repeat its fields for queries, and `crc` is a CRC-32 of all of
//! them (and `seq`), so a damaged row is found and named when it is read. A one-row table
//! `head(seq)` holds the last seq committed, so a journal that lost its last rows is found
//! too.
//!
//! Several processes may hold the same directory open at once. The database runs in WAL mode:
//! readers never wait, writers are serialised by SQLite's own lock and wait for it up to a
//! busy timeout (a minute by default). A write ([`Store::append`]) takes the write lock
//! first, then reads the rows other processes appended since this one last looked, applies
//! them, applies and inserts the new events and commits; so a request's outcome (a
//! self-delisting accepted or refused) is decided on every event any process wrote before
//! it, and what [`Store::append`] returns is on disk. [`Store::refresh`] is the same catch-up
//! for readers (a long-running server calls it before it answers, or every second).
//!
//! With [`Durability::Full`] (the default) every commit is flushed to the disk before
//! [`Store::append`] returns: an acknowledged event survives a crash of the process and of
//! the machine. [`Durability::Normal`] survives a crash of the process (a `SIGKILL`), and
//! may lose the last commits on a power failure.
//!
//! # Examples
//!
//! ```
//! use rblkit::ledger::store::Store;
//! use rblkit::ledger::{Event, Outcome};
//!
//! let dir = std::env::temp_dir().join(format!("rblkit-doc-store-{}", std::process::id()));
//! # let _ = std::fs::remove_dir_all(&dir);
//! let mut store = Store::open(&dir, Default::default())?;
//! let e = Event::parse_line(
//!     r#"{"at":"2026-11-20T10:00:00Z","subject":"192.0.2.1","event":"trap_hit","trap":"t1"}"#, 1)?;
//! assert_eq!(store.append(&[e])?, [Outcome::Recorded]);
//! drop(store);
//!
//! // another process (or a later run) sees it
//! let again = Store::open(&dir, Default::default())?;
//! assert_eq!(again.last_seq(), 1);
//! let now = "2026-11-20T11:00:00Z".parse()?;
//! assert_eq!(again.ledger().reputation(&"192.0.2.1".parse()?, now).unwrap().traps, 1);
//! # drop(again);
//! # std::fs::remove_dir_all(&dir).unwrap();
//! # Ok::<(), rblkit::Error>(())
//! ```

mod counters;
mod error;

pub use counters::StoreCounters;
pub use error::StoreError;

use crate::ledger::{Event, Ledger, LedgerConfig, Outcome};
use crate::time::Timestamp;
use rusqlite::{params, Connection, ErrorCode, TransactionBehavior};
use std::borrow::Cow;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The SQLite application id of a ledger file (`rblk`).
pub const APPLICATION_ID: i32 = 0x7262_6c6b;

/// The journal format this version reads and writes (SQLite's `user_version`).
pub const FORMAT: i32 = 1;

/// The database file's name inside the state directory.
pub const FILE_NAME: &str = "ledger.sqlite3";

/// When a commit is flushed to the disk (SQLite's `synchronous` setting in WAL mode).
///
/// # Examples
///
/// ```
/// use rblkit::ledger::store::{Durability, StoreOptions};
/// assert_eq!(StoreOptions::default().durability(), Durability::Full);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Durability {
    /// Every commit is flushed (`fsync`) before it is acknowledged: nothing acknowledged is
    /// lost, whatever crashes.
    Full,
    /// Commits reach the operating system before they are acknowledged and are flushed at
    /// checkpoints: nothing acknowledged is lost when the process dies; a power failure may
    /// lose the latest commits (never corrupt the journal).
    Normal,
}

/// How a [`Store`] is opened: durability and how long a writer waits for the lock.
///
/// # Examples
///
/// ```
/// use rblkit::ledger::store::{Durability, StoreOptions};
/// use std::time::Duration;
/// let o = StoreOptions::default()
///     .with_durability(Durability::Normal)
///     .with_busy_timeout(Duration::from_secs(5));
/// assert_eq!(o.busy_timeout(), Duration::from_secs(5));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoreOptions {
    durability: Durability,
    busy_timeout: Duration,
    checkpoints: Checkpoints,
}

/// Who moves committed pages from the write-ahead log into the database file.
///
/// # Examples
///
/// ```
/// use rblkit::ledger::store::{Checkpoints, StoreOptions};
/// assert_eq!(StoreOptions::default().checkpoints(), Checkpoints::OnCommit);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Checkpoints {
    /// The commit that fills the log past 1,000 pages does it (SQLite's default); that
    /// commit takes longer.
    OnCommit,
    /// Never a commit of this store: a [`Checkpointer`] on its own connection does it,
    /// so a server's commits keep an even latency.
    Background,
}

impl Default for StoreOptions {
    /// [`Durability::Full`], one minute's wait for the lock.
    fn default() -> Self {
        StoreOptions {
            durability: Durability::Full,
            busy_timeout: Duration::from_secs(60),
            checkpoints: Checkpoints::OnCommit,
        }
    }
}

impl StoreOptions {
    /// Sets the durability.
    pub fn with_durability(mut self, d: Durability) -> StoreOptions {
        self.durability = d;
        self
    }

    /// Sets how long a write waits while another process holds the lock.
    pub fn with_busy_timeout(mut self, t: Duration) -> StoreOptions {
        self.busy_timeout = t;
        self
    }

    /// Sets who checkpoints.
    pub fn with_checkpoints(mut self, c: Checkpoints) -> StoreOptions {
        self.checkpoints = c;
        self
    }

    /// Who checkpoints.
    pub fn checkpoints(&self) -> Checkpoints {
        self.checkpoints
    }

    /// The durability.
    pub fn durability(&self) -> Durability {
        self.durability
    }

    /// How long a write waits for the lock.
    pub fn busy_timeout(&self) -> Duration {
        self.busy_timeout
    }
}

/// How an event is applied to the ledger: [`Ledger::apply`], or a policy's own step around
/// it. The same function applies the replayed rows and the new events, so every process
/// that opens a store with it comes to the same state.
pub type Apply = Box<dyn FnMut(&mut Ledger, &Event) -> Outcome + Send>;

/// Checkpoints a store's write-ahead log from its own connection (for a store opened with
/// [`Checkpoints::Background`]): [`Checkpointer::checkpoint`] copies what is committed into
/// the database file without waiting for, or holding up, readers and writers.
///
/// # Examples
///
/// ```
/// use rblkit::ledger::store::{Checkpoints, Store, StoreOptions};
/// use rblkit::ledger::{Event, Evidence};
/// let dir = std::env::temp_dir().join(format!("rblkit-doc-ckpt-{}", std::process::id()));
/// # let _ = std::fs::remove_dir_all(&dir);
/// let opts = StoreOptions::default().with_checkpoints(Checkpoints::Background);
/// let mut store = Store::open_with(&dir, Default::default(), opts, Box::new(|l, e| l.apply(e)))?;
/// store.append(&[Event::new("2026-11-20T10:00:00Z".parse()?, "192.0.2.7".parse()?, Evidence::SelfDelist)])?;
/// let c = store.checkpointer()?;
/// c.checkpoint()?;
/// # drop((c, store));
/// # std::fs::remove_dir_all(&dir).unwrap();
/// # Ok::<(), rblkit::Error>(())
/// ```
pub struct Checkpointer {
    conn: Connection,
    path: PathBuf,
}

impl std::fmt::Debug for Checkpointer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Checkpointer")
            .field("path", &self.path)
            .finish()
    }
}

impl Checkpointer {
    /// Copies the committed pages that no reader still needs into the database file
    /// (a passive checkpoint); returns the pages of the log and how many were copied.
    ///
    /// # Errors
    ///
    /// [`StoreError::Sqlite`] when SQLite fails.
    pub fn checkpoint(&self) -> Result<(u64, u64), StoreError> {
        self.conn
            .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
                Ok((r.get::<_, i64>(1)?, r.get::<_, i64>(2)?))
            })
            .map(|(a, b)| (a.max(0) as u64, b.max(0) as u64))
            .map_err(|e| StoreError::sqlite(&self.path, "checkpoint", 0, &e))
    }
}

/// What a full check found: every row read back intact.
///
/// # Examples
///
/// ```
/// use rblkit::ledger::store::Store;
/// let dir = std::env::temp_dir().join(format!("rblkit-doc-check-{}", std::process::id()));
/// # let _ = std::fs::remove_dir_all(&dir);
/// let store = Store::open(&dir, Default::default())?;
/// assert_eq!(store.check()?.rows, 0);
/// # drop(store);
/// # std::fs::remove_dir_all(&dir).unwrap();
/// # Ok::<(), rblkit::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Check {
    /// Rows in the journal.
    pub rows: u64,
}

/// The replayed state: the ledger and how far into the journal it is.
struct State {
    ledger: Ledger,
    apply: Apply,
    seq: u64,
    newest: Option<Timestamp>,
}

/// A ledger persisted in a state directory. See the [module docs](self).
pub struct Store {
    conn: Connection,
    path: PathBuf,
    config: LedgerConfig,
    state: State,
    /// The in-memory ledger may hold events of a write that failed: rebuild before use.
    stale: bool,
    line: String,
    /// Check-and-adds of the counters, for their sweeps.
    charges: std::cell::Cell<u64>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("path", &self.path)
            .field("seq", &self.state.seq)
            .field("subjects", &self.state.ledger.len())
            .finish()
    }
}

fn checksum(seq: u64, at: i64, subject: &str, event: &str, line: &str) -> u32 {
    let mut h = crc32fast::Hasher::new();
    h.update(&seq.to_le_bytes());
    h.update(&at.to_le_bytes());
    h.update(subject.as_bytes());
    h.update(&[0]);
    h.update(event.as_bytes());
    h.update(&[0]);
    h.update(line.as_bytes());
    h.finalize()
}

/// Runs `f` again while SQLite answers "busy" (which some statements return at once instead
/// of waiting), up to `timeout`.
fn patiently<T>(
    timeout: Duration,
    mut f: impl FnMut() -> rusqlite::Result<T>,
) -> rusqlite::Result<T> {
    let start = Instant::now();
    loop {
        match f() {
            Err(e)
                if matches!(
                    e.sqlite_error_code(),
                    Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked)
                ) && start.elapsed() < timeout =>
            {
                std::thread::sleep(Duration::from_millis(5));
            }
            r => return r,
        }
    }
}

const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS journal (
    seq INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    subject TEXT NOT NULL,
    event TEXT NOT NULL,
    line TEXT NOT NULL,
    crc INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS head (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    seq INTEGER NOT NULL
);
INSERT OR IGNORE INTO head (id, seq) VALUES (1, 0)";

const SELECT_AFTER: &str =
    "SELECT seq, at, subject, event, line, crc FROM journal WHERE seq > ?1 ORDER BY seq";

/// One row, borrowed from SQLite, checked against its checksum.
struct Row<'a> {
    seq: u64,
    at: i64,
    event: &'a str,
    line: &'a str,
}

fn read_row<'a>(row: &'a rusqlite::Row<'_>) -> rusqlite::Result<Result<Row<'a>, StoreError>> {
    let seq = row.get::<_, i64>(0)?;
    let at = row.get::<_, i64>(1)?;
    let text = |i: usize| -> rusqlite::Result<&'a str> {
        row.get_ref(i)?.as_str().map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e))
        })
    };
    let (subject, event, line) = (text(2)?, text(3)?, text(4)?);
    let stored = row.get::<_, i64>(5)?;
    let seq = u64::try_from(seq).unwrap_or(0);
    let computed = checksum(seq, at, subject, event, line);
    if u32::try_from(stored).ok() != Some(computed) {
        return Ok(Err(StoreError::Checksum {
            seq,
            stored: stored as u32,
            computed,
        }));
    }
    Ok(Ok(Row {
        seq,
        at,
        event,
        line,
    }))
}

/// Reads the rows after `state.seq` and applies them; returns how many.
fn catch_up(conn: &Connection, path: &Path, state: &mut State) -> Result<usize, StoreError> {
    let sql_err =
        |seq: u64, e: &rusqlite::Error| StoreError::sqlite(path, "read the journal", seq, e);
    // the head first: rows committed after it only make the journal longer
    let head = conn
        .prepare_cached("SELECT seq FROM head WHERE id = 1")
        .and_then(|mut h| h.query_row([], |r| r.get::<_, i64>(0)))
        .map_err(|e| sql_err(state.seq, &e))?;
    let head = u64::try_from(head).unwrap_or(0);
    let mut stmt = conn
        .prepare_cached(SELECT_AFTER)
        .map_err(|e| sql_err(state.seq, &e))?;
    let mut rows = stmt
        .query([i64::try_from(state.seq).unwrap_or(i64::MAX)])
        .map_err(|e| sql_err(state.seq, &e))?;
    let mut n = 0;
    loop {
        let row = match rows.next() {
            Ok(Some(r)) => r,
            Ok(None) if state.seq < head => {
                return Err(StoreError::Truncated {
                    last: state.seq,
                    head,
                })
            }
            Ok(None) => return Ok(n),
            Err(e) => return Err(sql_err(state.seq, &e)),
        };
        let r = read_row(row).map_err(|e| sql_err(state.seq, &e))??;
        if r.seq != state.seq + 1 {
            return Err(StoreError::Gap {
                expected: state.seq + 1,
                found: r.seq,
            });
        }
        let e = Event::parse_line(r.line, r.seq).map_err(|e| StoreError::bad_line(r.seq, &e))?;
        if e.at.unix_seconds() != r.at || e.evidence.name() != r.event {
            return Err(StoreError::BadRow {
                seq: r.seq,
                problem: "its columns disagree with its evidence line".into(),
            });
        }
        (state.apply)(&mut state.ledger, &e);
        state.seq = r.seq;
        state.newest = Some(state.newest.map_or(e.at, |t| t.max(e.at)));
        n += 1;
    }
}

impl Store {
    /// Opens (creating when missing) the ledger in `dir` with the default options and
    /// [`Ledger::apply`], and replays its journal.
    ///
    /// # Errors
    ///
    /// See [`Store::open_with`].
    pub fn open(dir: &Path, config: LedgerConfig) -> Result<Store, StoreError> {
        Store::open_with(
            dir,
            config,
            StoreOptions::default(),
            Box::new(|l, e| l.apply(e)),
        )
    }

    /// Opens (creating when missing) the ledger in `dir`, applying events with `apply`, and
    /// replays its journal.
    ///
    /// # Errors
    ///
    /// [`StoreError::Io`] when the directory cannot be created; [`StoreError::NotAStore`] or
    /// [`StoreError::Version`] for a database that is not a ledger of this format;
    /// [`StoreError::Checksum`], [`StoreError::Gap`], [`StoreError::BadRow`] or
    /// [`StoreError::Corrupt`] for a damaged journal; [`StoreError::Sqlite`] otherwise.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::ledger::store::{Store, StoreOptions, Durability};
    /// let dir = std::env::temp_dir().join(format!("rblkit-doc-open-{}", std::process::id()));
    /// # let _ = std::fs::remove_dir_all(&dir);
    /// let opts = StoreOptions::default().with_durability(Durability::Normal);
    /// let store = Store::open_with(&dir, Default::default(), opts, Box::new(|l, e| l.apply(e)))?;
    /// assert!(store.ledger().is_empty());
    /// # drop(store);
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn open_with(
        dir: &Path,
        config: LedgerConfig,
        options: StoreOptions,
        apply: Apply,
    ) -> Result<Store, StoreError> {
        std::fs::create_dir_all(dir).map_err(|e| StoreError::io(dir, &e))?;
        let path = dir.join(FILE_NAME);
        let mut conn =
            Connection::open(&path).map_err(|e| StoreError::sqlite(&path, "open", 0, &e))?;
        init(&mut conn, &path, options)?;
        let mut store = Store {
            conn,
            path,
            state: State {
                ledger: Ledger::new(config.clone()),
                apply,
                seq: 0,
                newest: None,
            },
            config,
            stale: false,
            line: String::with_capacity(256),
            charges: std::cell::Cell::new(0),
        };
        store.refresh()?;
        Ok(store)
    }

    /// A [`Checkpointer`] on a connection of its own, for another thread.
    ///
    /// # Errors
    ///
    /// [`StoreError::Sqlite`] when the database cannot be opened again.
    pub fn checkpointer(&self) -> Result<Checkpointer, StoreError> {
        let conn = Connection::open(&self.path)
            .map_err(|e| StoreError::sqlite(&self.path, "open", 0, &e))?;
        conn.busy_timeout(Duration::from_secs(5))
            .map_err(|e| StoreError::sqlite(&self.path, "set the busy timeout", 0, &e))?;
        Ok(Checkpointer {
            conn,
            path: self.path.clone(),
        })
    }

    /// The ledger, as of the last row read.
    pub fn ledger(&self) -> &Ledger {
        &self.state.ledger
    }

    /// The state directory's counters ([`StoreCounters`]), shared by every process on it;
    /// each check-and-add that counts is a write transaction of its own.
    pub fn counters(&self) -> StoreCounters<'_> {
        StoreCounters::new(&self.conn, &self.path, false, &self.charges)
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The seq of the last row applied (0: none).
    pub fn last_seq(&self) -> u64 {
        self.state.seq
    }

    /// The time of the newest evidence applied (`None`: no evidence yet).
    pub fn newest(&self) -> Option<Timestamp> {
        self.state.newest
    }

    /// Reads and applies the rows other processes appended since the last read; returns how
    /// many. Never waits for a writer.
    ///
    /// # Errors
    ///
    /// A damaged row, named by its seq (the rows before it stay applied).
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::ledger::store::Store;
    /// use rblkit::ledger::{Event, Evidence};
    /// let dir = std::env::temp_dir().join(format!("rblkit-doc-refresh-{}", std::process::id()));
    /// # let _ = std::fs::remove_dir_all(&dir);
    /// let mut reader = Store::open(&dir, Default::default())?;
    /// let mut writer = Store::open(&dir, Default::default())?;
    /// writer.append(&[Event::new("2026-11-20T10:00:00Z".parse()?, "192.0.2.7".parse()?,
    ///     Evidence::TrapHit { trap: "t".into() })])?;
    /// assert_eq!(reader.refresh()?, 1);
    /// assert_eq!(reader.ledger().len(), 1);
    /// # drop((reader, writer));
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn refresh(&mut self) -> Result<usize, StoreError> {
        if self.stale {
            self.rebuild();
            self.stale = false;
        }
        catch_up(&self.conn, &self.path, &mut self.state)
    }

    fn rebuild(&mut self) {
        self.state.ledger = Ledger::new(self.config.clone());
        self.state.seq = 0;
        self.state.newest = None;
    }

    /// Appends events durably, in one transaction, and returns what applying each did.
    ///
    /// Under the write lock it first applies what other processes appended, so each outcome
    /// is decided on the whole journal before the event. When it returns, the events are
    /// committed (and, with [`Durability::Full`], on the disk).
    ///
    /// # Errors
    ///
    /// [`StoreError::Sqlite`] when the lock could not be had within the busy timeout or the
    /// write failed (then nothing of `events` is in the journal, and the ledger is rebuilt
    /// from it on the next call); a damaged row met while catching up.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::ledger::store::Store;
    /// use rblkit::ledger::{Event, Evidence, Outcome, Refusal};
    /// let dir = std::env::temp_dir().join(format!("rblkit-doc-append-{}", std::process::id()));
    /// # let _ = std::fs::remove_dir_all(&dir);
    /// let mut store = Store::open(&dir, Default::default())?;
    /// let t = "2026-11-20T10:00:00Z".parse()?;
    /// let s: rblkit::Subject = "192.0.2.7".parse()?;
    /// let out = store.append(&[
    ///     Event::new(t, s.clone(), Evidence::ManualList { note: "seen".into(), reason: None }),
    ///     Event::new(t, s.clone(), Evidence::SelfDelist),
    ///     Event::new(t, "192.0.2.8".parse()?, Evidence::SelfDelist),
    /// ])?;
    /// assert!(matches!(out[1], Outcome::Accepted { until: Some(_) }));
    /// assert_eq!(out[2], Outcome::Refused(Refusal::NotListed));
    /// assert_eq!(store.last_seq(), 3);
    /// # drop(store);
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn append(&mut self, events: &[Event]) -> Result<Vec<Outcome>, StoreError> {
        let mut it = events.iter();
        self.transact(|_, _| it.next().map(Cow::Borrowed))
    }

    /// Appends the events `next` gives, in one transaction, deciding each on the ledger as
    /// it stands after the ones before it; returns what applying each did.
    ///
    /// `next` is called under the write lock, after the rows other processes appended were
    /// applied, with the ledger including every event it gave before; it returns `None` when
    /// there are no more. This is the group commit of a server: many requests share one
    /// transaction (and one flush), each decided on everything before it. When it returns
    /// `Ok`, every event given is committed; on an error none is.
    ///
    /// # Errors
    ///
    /// As [`Store::append`].
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::ledger::store::Store;
    /// use rblkit::ledger::{Counter, Event, Evidence};
    /// let dir = std::env::temp_dir().join(format!("rblkit-doc-each-{}", std::process::id()));
    /// # let _ = std::fs::remove_dir_all(&dir);
    /// let mut store = Store::open(&dir, Default::default())?;
    /// let t: rblkit::Timestamp = "2026-11-20T10:00:00Z".parse()?;
    /// let s: rblkit::Subject = "a@relay.example.com".parse()?;
    /// // three messages, each decided on the count of the ones before it
    /// let mut seen = Vec::new();
    /// let mut left = 3;
    /// store.append_each(|ledger| {
    ///     seen.push(ledger.count(&s, Counter::Messages, t));
    ///     (left > 0).then(|| {
    ///         left -= 1;
    ///         Event::new(t, s.clone(), Evidence::Message { recipient: "r@example.net".into(), sasl_username: None, fingerprint: None, sender: None, refused: false })
    ///     })
    /// })?;
    /// assert_eq!(seen, [0, 1, 2, 3]);
    /// # drop(store);
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn append_each(
        &mut self,
        mut next: impl FnMut(&Ledger) -> Option<Event>,
    ) -> Result<Vec<Outcome>, StoreError> {
        self.transact(|l, _| next(l).map(Cow::Owned))
    }

    /// [`Store::append_each`] with the state directory's counters inside the same
    /// transaction: what `next` counts (a check-and-add on [`StoreCounters`]) is committed
    /// with the events, or, when the transaction fails, not at all; and since the write lock
    /// is held, the counts are exact across processes.
    ///
    /// # Errors
    ///
    /// As [`Store::append`]; an error of the counters that `next` saw and dropped still
    /// fails the transaction at its commit only when SQLite says so.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::ledger::store::Store;
    /// use rblkit::ledger::{Charge, Charged, CounterStore, Event, Evidence};
    /// let dir = std::env::temp_dir().join(format!("rblkit-doc-counted-{}", std::process::id()));
    /// # let _ = std::fs::remove_dir_all(&dir);
    /// let mut store = Store::open(&dir, Default::default())?;
    /// let t: rblkit::Timestamp = "2026-11-20T10:00:00Z".parse()?;
    /// let s: rblkit::Subject = "a@shop.example.com".parse()?;
    /// let limits = [("sender_domain:shop.example.com", 2)];
    /// let mut out = Vec::new();
    /// let mut asked = 0;
    /// // five messages: each recorded only when the domain's limit has room
    /// store.append_each_counted(|_, counters| loop {
    ///     if asked == 5 {
    ///         return None;
    ///     }
    ///     asked += 1;
    ///     counters.charge(t, &[Charge { once: None, limits: &limits, n: 1 }], &mut out).ok()?;
    ///     if matches!(out[0], Charged::Within { .. }) {
    ///         return Some(Event::new(t, s.clone(), Evidence::Message { recipient: "r@example.net".into(), sasl_username: None, fingerprint: None, sender: None, refused: false }));
    ///     }
    /// })?;
    /// assert_eq!(store.last_seq(), 2);
    /// assert_eq!(store.counters().named_count("sender_domain:shop.example.com", t)?, 2);
    /// # drop(store);
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn append_each_counted(
        &mut self,
        mut next: impl FnMut(&Ledger, &mut StoreCounters<'_>) -> Option<Event>,
    ) -> Result<Vec<Outcome>, StoreError> {
        self.transact(|l, c| next(l, c).map(Cow::Owned))
    }

    fn transact<'e>(
        &mut self,
        mut next: impl FnMut(&Ledger, &mut StoreCounters<'_>) -> Option<Cow<'e, Event>>,
    ) -> Result<Vec<Outcome>, StoreError> {
        if self.stale {
            self.rebuild();
            self.stale = false;
        }
        let mut outcomes = Vec::new();
        let path = &self.path;
        let state = &mut self.state;
        let line = &mut self.line;
        let charges = &self.charges;
        let mut applied = false;
        let result = (|| {
            let tx = self
                .conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(|e| StoreError::sqlite(path, "begin a write", state.seq, &e))?;
            catch_up(&tx, path, state)?;
            let write_err = |seq: u64, e: &rusqlite::Error| {
                StoreError::sqlite(path, "append to the journal", seq, e)
            };
            {
                let mut insert = tx
                    .prepare_cached(
                        "INSERT INTO journal (seq, at, subject, event, line, crc) \
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    )
                    .map_err(|e| write_err(state.seq, &e))?;
                let mut subject = String::with_capacity(64);
                let mut counters = StoreCounters::new(&tx, path, true, charges);
                while let Some(e) = next(&state.ledger, &mut counters) {
                    applied = true;
                    outcomes.push((state.apply)(&mut state.ledger, &e));
                    line.clear();
                    e.write_line(line);
                    subject.clear();
                    {
                        use std::fmt::Write as _;
                        let _ = write!(subject, "{}", e.subject);
                    }
                    let seq = state.seq + 1;
                    let at = e.at.unix_seconds();
                    let name = e.evidence.name();
                    let crc = checksum(seq, at, &subject, name, line);
                    insert
                        .execute(params![
                            seq as i64,
                            at,
                            subject,
                            name,
                            line.as_str(),
                            i64::from(crc)
                        ])
                        .map_err(|err| write_err(state.seq, &err))?;
                    state.seq = seq;
                    state.newest = Some(state.newest.map_or(e.at, |t| t.max(e.at)));
                }
                if applied {
                    tx.prepare_cached("UPDATE head SET seq = ?1 WHERE id = 1")
                        .and_then(|mut h| h.execute([state.seq as i64]))
                        .map_err(|e| write_err(state.seq, &e))?;
                }
            }
            tx.commit().map_err(|e| write_err(state.seq, &e))
        })();
        match result {
            Ok(()) => Ok(outcomes),
            Err(e) => {
                self.stale = applied;
                Err(e)
            }
        }
    }

    /// Writes the journal's evidence lines (from `since` on, by their `at`; all when `None`)
    /// to `out`, one a line, in journal order; returns how many. Each row's checksum is
    /// checked. The lines read back with [`Event::parse_line`] to the same events, so a
    /// fresh store that ingests them comes to the same state.
    ///
    /// # Errors
    ///
    /// A damaged row; [`StoreError::Io`] (path `<output>`) when `out` fails.
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::ledger::store::Store;
    /// use rblkit::ledger::{Event, Evidence};
    /// let dir = std::env::temp_dir().join(format!("rblkit-doc-export-{}", std::process::id()));
    /// # let _ = std::fs::remove_dir_all(&dir);
    /// let mut store = Store::open(&dir, Default::default())?;
    /// let e = Event::new("2026-11-20T10:00:00Z".parse()?, "192.0.2.7".parse()?, Evidence::SelfDelist);
    /// store.append(&[e.clone()])?;
    /// let mut out = Vec::new();
    /// assert_eq!(store.export(None, &mut out)?, 1);
    /// assert_eq!(String::from_utf8(out).unwrap(), format!("{e}\n"));
    /// # drop(store);
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn export(&self, since: Option<Timestamp>, out: &mut dyn Write) -> Result<u64, StoreError> {
        let sql_err = |seq: u64, e: &rusqlite::Error| {
            StoreError::sqlite(&self.path, "read the journal", seq, e)
        };
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT seq, at, subject, event, line, crc FROM journal WHERE at >= ?1 ORDER BY seq",
            )
            .map_err(|e| sql_err(0, &e))?;
        let from = since.map_or(i64::MIN, Timestamp::unix_seconds);
        let mut rows = stmt.query([from]).map_err(|e| sql_err(0, &e))?;
        let mut last = 0;
        let mut n = 0;
        let out_err = |e: std::io::Error| StoreError::io(Path::new("<output>"), &e);
        loop {
            let row = match rows.next() {
                Ok(Some(r)) => r,
                Ok(None) => break,
                Err(e) => return Err(sql_err(last, &e)),
            };
            let r = read_row(row).map_err(|e| sql_err(last, &e))??;
            out.write_all(r.line.as_bytes()).map_err(out_err)?;
            out.write_all(b"\n").map_err(out_err)?;
            last = r.seq;
            n += 1;
        }
        out.flush().map_err(out_err)?;
        Ok(n)
    }

    /// Checks the whole database: SQLite's integrity check, then every row's checksum,
    /// sequence and evidence line.
    ///
    /// # Errors
    ///
    /// [`StoreError::Corrupt`] with SQLite's first finding; the first damaged row.
    pub fn check(&self) -> Result<Check, StoreError> {
        let sql_err = |seq: u64, e: &rusqlite::Error| {
            StoreError::sqlite(&self.path, "check the database", seq, e)
        };
        let findings: Vec<String> = {
            let mut stmt = self
                .conn
                .prepare("PRAGMA integrity_check")
                .map_err(|e| sql_err(0, &e))?;
            let rows = stmt
                .query_map([], |r| r.get::<_, String>(0))
                .map_err(|e| sql_err(0, &e))?;
            rows.collect::<Result<_, _>>().map_err(|e| sql_err(0, &e))?
        };
        if findings != ["ok"] {
            return Err(StoreError::Corrupt {
                path: self.path.display().to_string().into(),
                after_seq: 0,
                message: findings.join("; ").into(),
            });
        }
        let mut state = State {
            ledger: Ledger::new(self.config.clone()),
            apply: Box::new(|_, _| Outcome::Recorded),
            seq: 0,
            newest: None,
        };
        catch_up(&self.conn, &self.path, &mut state)?;
        Ok(Check { rows: state.seq })
    }
}

/// WAL mode, durability, the schema (created once, by whichever process comes first).
fn init(conn: &mut Connection, path: &Path, options: StoreOptions) -> Result<(), StoreError> {
    let timeout = options.busy_timeout;
    let err = |op: &'static str| move |e: rusqlite::Error| StoreError::sqlite(path, op, 0, &e);
    conn.busy_timeout(timeout)
        .map_err(err("set the busy timeout"))?;
    let mode: String = patiently(timeout, || {
        conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))
    })
    .map_err(err("switch to WAL mode"))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::Sqlite {
            path: path.display().to_string().into(),
            operation: "switch to WAL mode",
            code: 0,
            message: format!("the journal mode stayed {mode:?}").into(),
        });
    }
    let sync = match options.durability {
        Durability::Full => "FULL",
        Durability::Normal => "NORMAL",
    };
    conn.pragma_update(None, "synchronous", sync)
        .map_err(err("set the durability"))?;
    if options.checkpoints == Checkpoints::Background {
        conn.pragma_update(None, "wal_autocheckpoint", 0)
            .map_err(err("turn off checkpoints on commit"))?;
    }
    let app_id = |c: &Connection| c.query_row("PRAGMA application_id", [], |r| r.get::<_, i32>(0));
    let mut id = patiently(timeout, || app_id(conn)).map_err(err("read the header"))?;
    if id == 0 {
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(err("begin creating the journal"))?;
        id = app_id(&tx).map_err(err("read the header"))?;
        if id == 0 {
            let tables: i64 = tx
                .query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))
                .map_err(err("read the schema"))?;
            if tables > 0 {
                return Err(StoreError::NotAStore {
                    path: path.display().to_string().into(),
                    found: 0,
                });
            }
            tx.execute_batch(&format!(
                "{SCHEMA}; PRAGMA application_id = {APPLICATION_ID}; PRAGMA user_version = {FORMAT};"
            ))
            .map_err(err("create the journal"))?;
            id = APPLICATION_ID;
        }
        tx.commit().map_err(err("create the journal"))?;
    }
    if id != APPLICATION_ID {
        return Err(StoreError::NotAStore {
            path: path.display().to_string().into(),
            found: id,
        });
    }
    let version: i32 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(err("read the header"))?;
    if version != FORMAT {
        return Err(StoreError::Version {
            path: path.display().to_string().into(),
            found: version,
            supported: FORMAT,
        });
    }
    // the counter tables, in state directories made before they were
    let have: i64 = patiently(timeout, || {
        conn.query_row(
            "SELECT count(*) FROM sqlite_master WHERE name = 'totals'",
            [],
            |r| r.get(0),
        )
    })
    .map_err(err("read the schema"))?;
    if have == 0 {
        patiently(timeout, || conn.execute_batch(counters::SCHEMA))
            .map_err(err("create the counter tables"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::Evidence;

    fn dir(tag: &str) -> PathBuf {
        let d =
            std::env::temp_dir().join(format!("rblkit-unit-store-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    fn three(d: &Path) -> Store {
        let mut s = Store::open(d, LedgerConfig::default()).unwrap();
        let t: Timestamp = "2026-11-20T10:00:00Z".parse().unwrap();
        let events: Vec<Event> = (0..3)
            .map(|i| {
                Event::new(
                    t + Duration::from_secs(i),
                    "192.0.2.1".parse().unwrap(),
                    Evidence::TrapHit {
                        trap: format!("t{i}").into(),
                    },
                )
            })
            .collect();
        s.append(&events).unwrap();
        s
    }

    #[test]
    fn a_missing_row_is_a_gap() {
        let d = dir("gap");
        let s = three(&d);
        s.conn
            .execute("DELETE FROM journal WHERE seq = 2", [])
            .unwrap();
        drop(s);
        let e = Store::open(&d, LedgerConfig::default()).unwrap_err();
        assert_eq!(
            e,
            StoreError::Gap {
                expected: 2,
                found: 3
            }
        );
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn a_lost_tail_is_found_by_the_head() {
        let d = dir("tail");
        let s = three(&d);
        s.conn
            .execute("DELETE FROM journal WHERE seq = 3", [])
            .unwrap();
        drop(s);
        let e = Store::open(&d, LedgerConfig::default()).unwrap_err();
        assert_eq!(e, StoreError::Truncated { last: 2, head: 3 });
        assert_eq!(
            e.to_string(),
            "journal ends at seq 2, but rows up to seq 3 were committed"
        );
        std::fs::remove_dir_all(&d).unwrap();
    }

    /// Rewrites row 2 with a matching checksum, so that only the content checks find it.
    fn rewrite(s: &Store, at: i64, line: &str) {
        let crc = checksum(2, at, "192.0.2.1", "trap_hit", line);
        s.conn
            .execute(
                "UPDATE journal SET at = ?1, line = ?2, crc = ?3 WHERE seq = 2",
                params![at, line, i64::from(crc)],
            )
            .unwrap();
    }

    #[test]
    fn a_row_that_disagrees_with_itself_is_named() {
        let d = dir("columns");
        let s = three(&d);
        let line: String = s
            .conn
            .query_row("SELECT line FROM journal WHERE seq = 2", [], |r| r.get(0))
            .unwrap();
        rewrite(&s, 7, &line);
        drop(s);
        let e = Store::open(&d, LedgerConfig::default()).unwrap_err();
        assert!(matches!(e, StoreError::BadRow { seq: 2, .. }), "{e:?}");
        std::fs::remove_dir_all(&d).unwrap();

        let d = dir("line");
        let s = three(&d);
        rewrite(&s, 0, "{\"at\":\"1970-01-01T00:00:00Z\"}");
        drop(s);
        let e = Store::open(&d, LedgerConfig::default()).unwrap_err();
        assert!(
            e.to_string().starts_with(
                "journal row seq 2: evidence does not read back: line 2: missing field \"subject\""
            ),
            "{e}"
        );
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn a_foreign_database_is_refused() {
        let d = dir("foreign");
        std::fs::create_dir_all(&d).unwrap();
        let c = Connection::open(d.join(FILE_NAME)).unwrap();
        c.execute_batch("CREATE TABLE t (x); PRAGMA application_id = 7;")
            .unwrap();
        drop(c);
        let e = Store::open(&d, LedgerConfig::default()).unwrap_err();
        assert!(matches!(e, StoreError::NotAStore { found: 7, .. }), "{e:?}");
        let c = Connection::open(d.join(FILE_NAME)).unwrap();
        c.execute_batch(&format!(
            "PRAGMA application_id = {APPLICATION_ID}; PRAGMA user_version = 9;"
        ))
        .unwrap();
        drop(c);
        let e = Store::open(&d, LedgerConfig::default()).unwrap_err();
        assert!(
            matches!(
                e,
                StoreError::Version {
                    found: 9,
                    supported: 1,
                    ..
                }
            ),
            "{e:?}"
        );
        std::fs::remove_dir_all(&d).unwrap();
    }
}
