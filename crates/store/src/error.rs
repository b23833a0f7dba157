//! The store's error type.

use std::path::{Path, PathBuf};

/// Everything that can go wrong in the store. Every variant names the file (or folder)
/// involved, so a message printed on its own tells the operator where to look.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The state folder could not be created or is not usable.
    #[error("cannot create state folder {}: {source}", path.display())]
    CreateDir {
        /// The folder.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },

    /// The file exists but is not an SQLite database (random bytes, another format, or a
    /// header damaged beyond recognition).
    #[error(
        "{} is not a gapwatch database (not SQLite, or its header is damaged); \
         move it away or choose another --state folder",
        path.display()
    )]
    NotADatabase {
        /// The file.
        path: PathBuf,
        /// What SQLite said.
        source: rusqlite::Error,
    },

    /// SQLite found damaged pages while doing `op`.
    #[error("{} is corrupt ({op}): {source}", path.display())]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// The operation that hit the damage.
        op: &'static str,
        /// What SQLite said.
        source: rusqlite::Error,
    },

    /// An SQLite database that belongs to some other program.
    #[error(
        "{} is an SQLite database of another application (application_id {application_id}, \
         {tables} tables); refusing to use it as gapwatch's store",
        path.display()
    )]
    ForeignDatabase {
        /// The file.
        path: PathBuf,
        /// The file's `PRAGMA application_id`.
        application_id: i32,
        /// How many schema objects it holds.
        tables: i64,
    },

    /// The database was written by a newer gapwatch with a schema this build does not know.
    #[error(
        "{} has schema version {found}, newer than the {supported} this gapwatch supports; \
         use a newer gapwatch or another --state folder",
        path.display()
    )]
    NewerSchema {
        /// The file.
        path: PathBuf,
        /// `PRAGMA user_version` in the file.
        found: i64,
        /// The highest version this build migrates to.
        supported: u32,
    },

    /// A read-only open found a database the writer has not migrated to this build's
    /// schema yet.
    #[error(
        "{} has schema version {found}, not the {wanted} this gapwatch reads; \
         start the sensor on it once to migrate it",
        path.display()
    )]
    NotMigrated {
        /// The file.
        path: PathBuf,
        /// `PRAGMA user_version` in the file.
        found: u32,
        /// The version this build reads.
        wanted: u32,
    },

    /// A migration failed; the database is left at `from`.
    #[error("migrating {} from schema version {from} to {to} failed: {source}", path.display())]
    Migration {
        /// The file.
        path: PathBuf,
        /// Version before the failed step.
        from: u32,
        /// Version the failed step would have reached.
        to: u32,
        /// What SQLite said.
        source: rusqlite::Error,
    },

    /// SQLite would not switch the file to WAL mode (e.g. a file system without shared
    /// memory support); without WAL the durability promise does not hold.
    #[error("{}: cannot enable WAL mode (journal_mode stayed {mode:?})", path.display())]
    WalUnavailable {
        /// The file.
        path: PathBuf,
        /// The journal mode SQLite reported.
        mode: String,
    },

    /// `finish_run` or a batch named a run that is not in the database.
    #[error("{}: {op}: no run with id {run}", path.display())]
    NoSuchRun {
        /// The file.
        path: PathBuf,
        /// The operation.
        op: &'static str,
        /// The run id asked for.
        run: i64,
    },

    /// A stored value could not be turned back into a record (hand-edited or damaged row).
    #[error("{}: table {table}, row {row}: bad {column}: {reason}", path.display())]
    Decode {
        /// The file.
        path: PathBuf,
        /// The table.
        table: &'static str,
        /// The row's key.
        row: String,
        /// The column.
        column: &'static str,
        /// Why it was rejected.
        reason: String,
    },

    /// Any other SQLite failure while doing `op`.
    #[error("{}: {op}: {source}", path.display())]
    Sqlite {
        /// The file.
        path: PathBuf,
        /// The operation, e.g. "write batch".
        op: &'static str,
        /// What SQLite said.
        source: rusqlite::Error,
    },
}

impl StoreError {
    /// Wraps an SQLite error, singling out "not a database" and "corrupt" so callers and
    /// operators get a specific message for a damaged file.
    pub(crate) fn sqlite(path: &Path, op: &'static str, source: rusqlite::Error) -> Self {
        let path = path.to_path_buf();
        match source.sqlite_error_code() {
            Some(rusqlite::ErrorCode::NotADatabase) => Self::NotADatabase { path, source },
            Some(rusqlite::ErrorCode::DatabaseCorrupt) => Self::Corrupt { path, op, source },
            _ => Self::Sqlite { path, op, source },
        }
    }

    /// True when the error means the file itself is damaged or not a database.
    pub fn is_damaged_file(&self) -> bool {
        matches!(
            self,
            Self::NotADatabase { .. } | Self::Corrupt { .. } | Self::Decode { .. }
        )
    }
}

/// A closure for `map_err` that wraps an SQLite error for `op` on `path`.
pub(crate) fn sql<'a>(
    path: &'a Path,
    op: &'static str,
) -> impl FnOnce(rusqlite::Error) -> StoreError + 'a {
    move |e| StoreError::sqlite(path, op, e)
}
