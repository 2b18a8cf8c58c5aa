//! What can go wrong talking to MySQL / MariaDB, typed by what the caller
//! can do about it.

use std::time::Duration;

/// A MySQL store operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MySqlError {
    /// The connection URL could not be parsed.
    #[error("invalid MySQL connection URL: {0}")]
    Config(String),
    /// The table name is not `[A-Za-z0-9_]`, 1 to 128 bytes (longer than
    /// MySQL's 64 it is cut with a digest).
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
    /// Synced durability was asked of a server that does not flush every
    /// commit (`innodb_flush_log_at_trx_commit` is server-wide; a session
    /// cannot change it).
    #[error(
        "the server does not flush every commit (innodb_flush_log_at_trx_commit = {setting}); synced durability needs 1"
    )]
    NotDurable {
        /// The server's setting.
        setting: String,
    },
    /// The server could not be reached, or kept rolling the operation back,
    /// for the whole retry window. Nothing was changed.
    #[error("MySQL unavailable for {waited:?}: {source}")]
    Unavailable {
        /// How long the operation was retried.
        waited: Duration,
        /// The last failure.
        source: mysql::Error,
    },
    /// The connection was lost while `COMMIT` was in flight: the operation
    /// may or may not have taken effect. Never retried automatically.
    #[error("connection lost during COMMIT; the outcome is unknown: {0}")]
    CommitUnknown(#[source] mysql::Error),
    /// The server refused the operation.
    #[error("MySQL: {0}")]
    Db(#[from] mysql::Error),
}
