//! What can go wrong talking to PostgreSQL, typed by what the caller can do
//! about it.

use std::time::Duration;

/// A PostgreSQL store operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PgError {
    /// The connection string could not be parsed.
    #[error("invalid PostgreSQL connection string: {0}")]
    Config(#[source] postgres::Error),
    /// The table name is not `[A-Za-z0-9_]`, 1 to 128 bytes (longer than
    /// PostgreSQL's 63 it is cut with a digest, never truncated into
    /// another table's).
    #[error("invalid table name {0:?}: use 1 to 128 of A-Z, a-z, 0-9 and _")]
    InvalidName(String),
    /// Two tables exist whose names differ only in case (an older version
    /// made names case-sensitive): never merged or picked between.
    #[error(
        "tables {legacy} and {name} differ only in case; queue names are case-insensitive: move one aside"
    )]
    CaseConflict {
        /// The table an older version created.
        legacy: String,
        /// The table the name means now.
        name: String,
    },
    /// The table was created by a newer schema version.
    #[error("table {table} has schema version {found}; this version reads {}", crate::SCHEMA_VERSION)]
    Schema {
        /// The table.
        table: String,
        /// The version found.
        found: i32,
    },
    /// The server could not be reached, or kept rolling the operation back,
    /// for the whole retry window. Nothing was changed.
    #[error("PostgreSQL unavailable for {waited:?}: {source}")]
    Unavailable {
        /// How long the operation was retried.
        waited: Duration,
        /// The last failure.
        source: postgres::Error,
    },
    /// The connection was lost while `COMMIT` was in flight: the operation
    /// may or may not have taken effect. Never retried automatically (a
    /// retried put could be stored twice); a put may be repeated by the
    /// caller if duplicates are acceptable, and a claimed item comes back
    /// with `auto_resume` at the next open.
    #[error("connection lost during COMMIT; the outcome is unknown: {0}")]
    CommitUnknown(#[source] postgres::Error),
    /// The listener thread could not be started.
    #[error("could not start the listener thread: {0}")]
    Spawn(#[source] std::io::Error),
    /// The server refused the operation (a bug, a permission, a full disk).
    #[error("PostgreSQL: {0}")]
    Db(#[from] postgres::Error),
}
