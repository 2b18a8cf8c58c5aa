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
    /// A connection setting has a value this crate does not read.
    #[error("invalid PostgreSQL connection setting: {0}")]
    Setting(String),
    /// A TLS file (CA, client certificate or key) is missing or not PEM,
    /// or the TLS configuration was refused.
    #[error("TLS setup: {0}")]
    Tls(String),
    /// The TLS handshake failed: the server's certificate was refused (an
    /// unknown issuer, a host name it does not carry) or the server does
    /// not speak TLS. Never retried.
    #[error("TLS handshake with the PostgreSQL server failed: {reason}")]
    TlsHandshake {
        /// What rustls said.
        reason: String,
    },
    /// The plan cannot run in the caller's transaction (only puts and
    /// settles of distinct deliveries do).
    #[error("not in the caller's transaction: {0}")]
    NotInTransaction(&'static str),
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
    #[error("PostgreSQL: {}", server_said(.0))]
    Db(#[from] postgres::Error),
}

/// The server's own words when it answered (`postgres::Error` alone reads
/// "db error"): severity, SQLSTATE, message and hint.
fn server_said(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => {
            let hint = db.hint().map(|h| format!(" (hint: {h})")).unwrap_or_default();
            format!("{} {}: {}{hint}", db.severity(), db.code().code(), db.message())
        }
        None => e.to_string(),
    }
}
