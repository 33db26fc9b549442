use crate::ledger::LedgerError;
use std::path::Path;

/// Errors of the [`store`](super): the state directory cannot be used, or the journal in it
/// is damaged.
///
/// Damage names where it is: the row (`seq`) whose checksum or content is wrong, or the last
/// good row before the place SQLite found corrupt.
///
/// # Examples
///
/// ```
/// use rblkit::ledger::store::StoreError;
/// let e = StoreError::Checksum { seq: 42, stored: 1, computed: 2 };
/// assert_eq!(e.to_string(), "journal row seq 42: checksum mismatch (stored 00000001, computed 00000002)");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// A file or directory could not be created, read or written.
    #[error("{path}: {message}")]
    Io {
        /// The path.
        path: Box<str>,
        /// What the operating system said.
        kind: std::io::ErrorKind,
        /// Its message.
        message: Box<str>,
    },
    /// SQLite refused an operation (a full disk, a read-only file, a lock held past the
    /// busy timeout …).
    #[error("{path}: {operation}: {message} (SQLite code {code})")]
    Sqlite {
        /// The database file.
        path: Box<str>,
        /// What was being done.
        operation: &'static str,
        /// SQLite's extended result code.
        code: i32,
        /// SQLite's message.
        message: Box<str>,
    },
    /// SQLite found the database file damaged.
    #[error("{path}: database is corrupt after journal row seq {after_seq}: {message}")]
    Corrupt {
        /// The database file.
        path: Box<str>,
        /// The last row read intact (0: none).
        after_seq: u64,
        /// SQLite's message.
        message: Box<str>,
    },
    /// A row's checksum does not match its content.
    #[error(
        "journal row seq {seq}: checksum mismatch (stored {stored:08x}, computed {computed:08x})"
    )]
    Checksum {
        /// The row.
        seq: u64,
        /// The checksum in the row.
        stored: u32,
        /// The checksum of its content.
        computed: u32,
    },
    /// Rows are missing: the journal jumps from one seq to a later one.
    #[error("journal rows missing: seq {expected} expected, seq {found} found")]
    Gap {
        /// The seq that should come next.
        expected: u64,
        /// The seq that came.
        found: u64,
    },
    /// The journal ends before the last row its head says was committed: its tail is lost.
    #[error("journal ends at seq {last}, but rows up to seq {head} were committed")]
    Truncated {
        /// The last row found.
        last: u64,
        /// The last row committed.
        head: u64,
    },
    /// A row's checksum matches but its evidence line does not read back, or its columns
    /// disagree with the line.
    #[error("journal row seq {seq}: {problem}")]
    BadRow {
        /// The row.
        seq: u64,
        /// What is wrong.
        problem: Box<str>,
    },
    /// The file is an SQLite database, but not an rblkit ledger.
    #[error("{path}: not an rblkit ledger (application id {found:#x})")]
    NotAStore {
        /// The database file.
        path: Box<str>,
        /// Its application id.
        found: i32,
    },
    /// The ledger was written by a later rblkit with a format this one does not read.
    #[error("{path}: ledger format {found}, this rblkit reads format {supported}")]
    Version {
        /// The database file.
        path: Box<str>,
        /// Its format.
        found: i32,
        /// The format this version reads and writes.
        supported: i32,
    },
}

impl StoreError {
    pub(super) fn io(path: &Path, e: &std::io::Error) -> StoreError {
        StoreError::Io {
            path: path.display().to_string().into(),
            kind: e.kind(),
            message: e.to_string().into(),
        }
    }

    pub(super) fn sqlite(
        path: &Path,
        operation: &'static str,
        after_seq: u64,
        e: &rusqlite::Error,
    ) -> StoreError {
        let path: Box<str> = path.display().to_string().into();
        let (code, message) = match e {
            rusqlite::Error::SqliteFailure(f, msg) => (
                f.extended_code,
                msg.clone().unwrap_or_else(|| f.to_string()),
            ),
            other => (0, other.to_string()),
        };
        let corrupt = matches!(
            e.sqlite_error_code(),
            Some(rusqlite::ErrorCode::DatabaseCorrupt | rusqlite::ErrorCode::NotADatabase)
        );
        if corrupt {
            StoreError::Corrupt {
                path,
                after_seq,
                message: message.into(),
            }
        } else {
            StoreError::Sqlite {
                path,
                operation,
                code,
                message: message.into(),
            }
        }
    }

    pub(super) fn bad_line(seq: u64, e: &LedgerError) -> StoreError {
        StoreError::BadRow {
            seq,
            problem: format!("evidence does not read back: {e}").into(),
        }
    }
}
