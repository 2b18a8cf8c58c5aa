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
    /// A connection setting has a value this crate does not read.
    #[error("invalid MySQL connection setting: {0}")]
    Setting(String),
    /// The TLS handshake failed: the server's certificate was refused (an
    /// unknown issuer, a host name it does not carry) or the server does
    /// not speak TLS. Never retried.
    #[error("TLS handshake with the MySQL server failed: {reason}")]
    TlsHandshake {
        /// What rustls or the client said.
        reason: String,
    },
    /// The server refused the login over a plain connection. A server that
    /// requires secure transport answers a plain login this way, so the
    /// message says TLS may be what is missing.
    #[error(
        "the MySQL server refused the login ({0}); the connection was not encrypted: if the server requires TLS, set ssl-mode=REQUIRED or stronger"
    )]
    RefusedPlain(#[source] mysql::Error),
    /// Only puts and settles run in the caller's transaction.
    #[error("only puts and settles run in the caller's transaction")]
    NotInTransaction,
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
    /// The table's schema is newer than this version of persist-queue
    /// reads: a newer version migrated it. Upgrade this process; its
    /// statements would not match the table any more.
    #[error(
        "table {table} has schema version {found}, newer than this version of persist-queue reads ({}): upgrade it",
        crate::SCHEMA_VERSION
    )]
    SchemaTooNew {
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
