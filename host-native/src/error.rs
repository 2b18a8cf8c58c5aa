//! The one error type of the native API: an umbrella over typed families,
//! each store's error kept in its own type (matchable, with `source()`).
//!
//! Every conversion into [`Error`] lives in this file and matches the core's
//! error enums exhaustively: a new core variant fails to compile here
//! instead of becoming text.

use std::io;
use std::sync::Arc;

use persist_queue_core::records::{LogError, NAME_MAX, RecordError};
use persist_queue_core::{Corruption, OpenError, ReadError, WriteError};

/// Everything a queue operation can fail with.
///
/// Server stores split their failures by what the caller can do:
/// [`Error::Unavailable`] (nothing changed: retry later) and
/// [`Error::CommitUnknown`] (the connection died during `COMMIT`: the
/// operation may or may not have taken effect) are variants of their own,
/// so they can be matched, not parsed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No item arrived (non-blocking get, or the timeout passed).
    #[error("queue is empty")]
    Empty,
    /// No space freed up (non-blocking put on a full queue, or the timeout
    /// passed).
    #[error("queue is full")]
    Full,
    /// The queue was closed by [`crate::Queue::close`].
    #[error("queue is closed")]
    Closed,
    /// Stored data is damaged (one shape for every store: which blob, at
    /// which offset, what is wrong): repair (or open with `skip_corrupted`),
    /// don't retry.
    #[error("queue is corrupted: {0}")]
    Corrupted(Corruption),
    /// The filesystem failed; the message names the file.
    #[error("I/O error: {0}")]
    Io(#[from] io::Error),
    /// The database server could not be reached, or kept rolling the
    /// operation back, for the whole retry window. Nothing was changed:
    /// retrying later is safe.
    #[error(transparent)]
    Unavailable(StoreError),
    /// The connection was lost while `COMMIT` was in flight: the operation
    /// may or may not have taken effect. Never retried automatically (a
    /// retried put could be stored twice).
    #[error(transparent)]
    CommitUnknown(StoreError),
    /// A store failed in another way (a refused statement, a full disk, a
    /// damaged SQLite file, a storage of your own).
    #[error(transparent)]
    Storage(StoreError),
    /// An item could not be encoded, or stored bytes do not decode as the
    /// requested type (the item stays in the queue).
    #[error("{codec} serializer: {message}")]
    Serialization {
        /// The serializer's name.
        codec: &'static str,
        /// What it said.
        message: String,
    },
    /// Settings rejected at open (nothing was changed).
    #[error("invalid configuration: {0}")]
    InvalidConfig(#[source] Misconfiguration),
    /// The queue was written with another serializer.
    #[error("queue was written with the `{stored}` serializer but opened with `{requested}`")]
    CodecMismatch {
        /// Serializer recorded in the queue.
        stored: String,
        /// Serializer asked for.
        requested: String,
    },
    /// An encoded item is larger than `max_item_size`.
    #[error("item of {len} bytes exceeds max_item_size ({max} bytes)")]
    TooLarge {
        /// Encoded size.
        len: usize,
        /// The limit.
        max: u32,
    },
    /// A write or flush failed earlier: the on-disk state is unknown, so the
    /// handle refuses further work. Reopen the queue to recover.
    #[error("an earlier write or flush failed; reopen the queue to recover")]
    Poisoned,
    /// `task_done` was called more times than items were put.
    #[error("task_done() called too many times")]
    TaskDoneTooMany,
    /// No item has this id (never put, or purged).
    #[error("no item has id {0}")]
    UnknownId(u64),
    /// The item is not in flight, so it cannot be acked, nacked or failed.
    #[error("item {id} is not in flight (its status is {status:?})")]
    NotInFlight {
        /// The item.
        id: u64,
        /// Its status.
        status: persist_queue_core::records::Status,
    },
    /// The delivery's lease is no longer its holder's: it ended and the
    /// item was taken back or delivered to another consumer, or the item
    /// was settled. Nothing changed (fencing: a slow consumer cannot
    /// settle another's delivery).
    #[error("delivery {token} of item {id} no longer holds its lease (it ended, or the item was settled)")]
    LeaseLost {
        /// The item.
        id: u64,
        /// The delivery's lease token (its delivery number).
        token: u32,
    },
    /// An equal item is already in a unique queue.
    #[error("an equal item is already in the queue")]
    Duplicate,
    /// The queue's table was created or migrated by a newer version of
    /// persist-queue (its schema version is above the one this version
    /// reads): upgrade this process; the table is left untouched.
    #[error(
        "the queue's table {table:?} has schema version {found}, newer than this version reads ({supported})"
    )]
    SchemaTooNew {
        /// The table (empty where the store names no table).
        table: String,
        /// The version found.
        found: i64,
        /// The newest version this version reads.
        supported: i64,
    },
    /// The store answered with something the contract does not allow: a
    /// bug in the store, reported rather than trusted.
    #[error("the store broke its contract: {0}")]
    Protocol(&'static str),
}

/// Result alias.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A store's own error, in its own type. Shared (`Arc`) so that every
/// caller of a batch that failed gets the same typed error.
#[derive(Clone, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The SQLite store (feature `sqlite`).
    #[cfg(feature = "sqlite")]
    #[error(transparent)]
    Sqlite(Arc<persist_queue_sqlite::SqliteError>),
    /// The PostgreSQL store (feature `postgres`).
    #[cfg(feature = "postgres")]
    #[error(transparent)]
    Postgres(Arc<persist_queue_postgres::PgError>),
    /// The MySQL / MariaDB store (feature `mysql`).
    #[cfg(feature = "mysql")]
    #[error(transparent)]
    MySql(Arc<persist_queue_mysql::MySqlError>),
    /// A byte storage of your own ([`crate::QueueStorage`]) or of the test kit.
    #[error(transparent)]
    Custom(Arc<dyn std::error::Error + Send + Sync>),
}

impl StoreError {
    /// Wraps the error of a storage of your own: implement
    /// `From<YourError> for persist_queue::Error` with
    /// `Error::Storage(StoreError::custom(e))` to use it with a
    /// [`crate::Queue`].
    pub fn custom(e: impl std::error::Error + Send + Sync + 'static) -> StoreError {
        StoreError::Custom(Arc::new(e))
    }
}

/// Why settings were rejected at open.
#[derive(Clone, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Misconfiguration {
    /// A chunk-queue setting (`chunk_size`, `max_item_size`).
    #[error(transparent)]
    Queue(#[from] persist_queue_core::ConfigError),
    /// A queue or map name outside the one rule of every store.
    #[error("invalid {what} name {name:?}: use 1 to {NAME_MAX} of A-Z, a-z, 0-9 and _")]
    Name {
        /// `queue` or `map`.
        what: &'static str,
        /// The name as given.
        name: String,
    },
    /// Two stored queues differ only in case (names are case-insensitive);
    /// they are never merged or picked between.
    #[error(
        "queue names are case-insensitive, and two queues differ only in case: {first} and {second}; move one aside"
    )]
    CaseConflict {
        /// One of them.
        first: String,
        /// The other.
        second: String,
    },
    /// The path is not a directory (the message names it).
    #[error("{0}")]
    NotADirectory(String),
    /// The server URL's scheme names no store.
    #[error("unsupported server URL scheme {0:?}: use postgresql://… or mysql://…")]
    UrlScheme(String),
    /// The store this needs was left out of the build.
    #[error("built without the `{0}` feature")]
    NotBuilt(&'static str),
    /// The store refused the settings (a bad URL, a server that does not
    /// flush every commit for a synced queue, tables that differ in case).
    #[error(transparent)]
    Store(StoreError),
    /// A transaction of the caller's own was given to a queue on another
    /// store (its own database's transaction is needed).
    #[error("a {transaction} transaction cannot hold this queue's items: it is not on the queue's database")]
    Transaction {
        /// The transaction's store.
        transaction: &'static str,
    },
    /// A server setting this store cannot take.
    #[error("server setting: {0}")]
    Setting(String),
    /// A plugin could not be compiled or instantiated.
    #[error("plugin: {0}")]
    Plugin(String),
}

impl Error {
    /// The same error for another caller of a failed group commit: every
    /// caller gets the variant the leader got (store errors are shared;
    /// an I/O error keeps its kind and OS code).
    pub(crate) fn for_another_caller(&self) -> Error {
        match self {
            Error::Empty => Error::Empty,
            Error::Full => Error::Full,
            Error::Closed => Error::Closed,
            Error::Corrupted(c) => Error::Corrupted(*c),
            Error::Io(e) => Error::Io(match e.raw_os_error() {
                Some(code) => io::Error::from_raw_os_error(code),
                None => io::Error::new(e.kind(), e.to_string()),
            }),
            Error::Unavailable(s) => Error::Unavailable(s.clone()),
            Error::CommitUnknown(s) => Error::CommitUnknown(s.clone()),
            Error::Storage(s) => Error::Storage(s.clone()),
            Error::Serialization { codec, message } => {
                Error::Serialization { codec, message: message.clone() }
            }
            Error::InvalidConfig(m) => Error::InvalidConfig(m.clone()),
            Error::CodecMismatch { stored, requested } => {
                Error::CodecMismatch { stored: stored.clone(), requested: requested.clone() }
            }
            Error::TooLarge { len, max } => Error::TooLarge { len: *len, max: *max },
            Error::Poisoned => Error::Poisoned,
            Error::TaskDoneTooMany => Error::TaskDoneTooMany,
            Error::UnknownId(id) => Error::UnknownId(*id),
            Error::NotInFlight { id, status } => Error::NotInFlight { id: *id, status: *status },
            Error::LeaseLost { id, token } => Error::LeaseLost { id: *id, token: *token },
            Error::Duplicate => Error::Duplicate,
            Error::SchemaTooNew { table, found, supported } => {
                Error::SchemaTooNew { table: table.clone(), found: *found, supported: *supported }
            }
            Error::Protocol(p) => Error::Protocol(p),
        }
    }
}

impl From<Misconfiguration> for Error {
    fn from(m: Misconfiguration) -> Error {
        Error::InvalidConfig(m)
    }
}

impl From<persist_queue_core::MissingBlob> for Error {
    fn from(e: persist_queue_core::MissingBlob) -> Error {
        Error::Storage(StoreError::custom(e))
    }
}

#[cfg(feature = "testing")]
impl From<persist_queue_core::Fault> for Error {
    fn from(e: persist_queue_core::Fault) -> Error {
        Error::Storage(StoreError::custom(e))
    }
}

impl From<std::convert::Infallible> for Error {
    fn from(e: std::convert::Infallible) -> Error {
        match e {}
    }
}

/// The plain-files record store: I/O stays I/O, damage is [`Error::Corrupted`].
impl From<LogError<io::Error>> for Error {
    fn from(e: LogError<io::Error>) -> Error {
        match e {
            LogError::Storage(io) => Error::Io(io),
            LogError::Corrupted(c) => Error::Corrupted(c),
            LogError::Poisoned => Error::Poisoned,
        }
    }
}

/// The SQLite store: a bad name is a configuration error.
#[cfg(feature = "sqlite")]
impl From<persist_queue_sqlite::SqliteError> for Error {
    fn from(e: persist_queue_sqlite::SqliteError) -> Error {
        match e {
            persist_queue_sqlite::SqliteError::Schema { found } => Error::SchemaTooNew {
                table: String::new(),
                found,
                supported: persist_queue_sqlite::SCHEMA_VERSION,
            },
            persist_queue_sqlite::SqliteError::Name(_) => {
                Error::InvalidConfig(Misconfiguration::Store(StoreError::Sqlite(Arc::new(e))))
            }
            other => Error::Storage(StoreError::Sqlite(Arc::new(other))),
        }
    }
}

/// PostgreSQL: bad names and URLs are configuration errors; unavailability
/// and an unknown commit outcome have variants of their own.
#[cfg(feature = "postgres")]
impl From<persist_queue_postgres::PgError> for Error {
    fn from(e: persist_queue_postgres::PgError) -> Error {
        use persist_queue_postgres::PgError;
        if let PgError::SchemaTooNew { table, found } = e {
            let supported = i64::from(persist_queue_postgres::SCHEMA_VERSION);
            return Error::SchemaTooNew { table, found: i64::from(found), supported };
        }
        let config = matches!(
            e,
            PgError::Config(_)
                | PgError::Setting(_)
                | PgError::Tls(_)
                | PgError::TlsHandshake { .. }
                | PgError::InvalidName(_)
                | PgError::CaseConflict { .. }
        );
        let unavailable = matches!(e, PgError::Unavailable { .. });
        let unknown = matches!(e, PgError::CommitUnknown(_));
        classify(StoreError::Postgres(Arc::new(e)), config, unavailable, unknown)
    }
}

/// MySQL: bad names and URLs, and a synced queue on a server that does not
/// flush every commit, are configuration errors; unavailability and an
/// unknown commit outcome have variants of their own.
#[cfg(feature = "mysql")]
impl From<persist_queue_mysql::MySqlError> for Error {
    fn from(e: persist_queue_mysql::MySqlError) -> Error {
        use persist_queue_mysql::MySqlError;
        if let MySqlError::SchemaTooNew { table, found } = e {
            let supported = i64::from(persist_queue_mysql::SCHEMA_VERSION);
            return Error::SchemaTooNew { table, found: i64::from(found), supported };
        }
        let config = matches!(
            e,
            MySqlError::Config(_)
                | MySqlError::Setting(_)
                | MySqlError::TlsHandshake { .. }
                | MySqlError::InvalidName(_)
                | MySqlError::CaseConflict { .. }
                | MySqlError::NotDurable { .. }
        );
        let unavailable = matches!(e, MySqlError::Unavailable { .. });
        let unknown = matches!(e, MySqlError::CommitUnknown(_));
        classify(StoreError::MySql(Arc::new(e)), config, unavailable, unknown)
    }
}

/// A server store's error as the variant that says what the caller can do.
#[cfg(any(feature = "postgres", feature = "mysql"))]
fn classify(s: StoreError, config: bool, unavailable: bool, unknown: bool) -> Error {
    if config {
        Error::InvalidConfig(Misconfiguration::Store(s))
    } else if unavailable {
        Error::Unavailable(s)
    } else if unknown {
        Error::CommitUnknown(s)
    } else {
        Error::Storage(s)
    }
}

impl<E: Into<Error>> From<WriteError<E>> for Error {
    fn from(e: WriteError<E>) -> Error {
        match e {
            WriteError::Storage(e) => e.into(),
            WriteError::Poisoned => Error::Poisoned,
            WriteError::TooLarge { len, max } => Error::TooLarge { len, max },
            WriteError::TaskDoneTooMany => Error::TaskDoneTooMany,
        }
    }
}

impl<E: Into<Error>> From<ReadError<E>> for Error {
    fn from(e: ReadError<E>) -> Error {
        match e {
            ReadError::Storage(e) => e.into(),
            ReadError::Corrupted(c) => Error::Corrupted(c),
            ReadError::Poisoned => Error::Poisoned,
            ReadError::Write(w) => w.into(),
        }
    }
}

impl<E: Into<Error>> From<OpenError<E>> for Error {
    fn from(e: OpenError<E>) -> Error {
        match e {
            OpenError::Storage(e) => e.into(),
            OpenError::Corrupted(c) => Error::Corrupted(c),
            OpenError::InvalidConfig(c) => Error::InvalidConfig(Misconfiguration::Queue(c)),
            OpenError::CodecMismatch { stored, requested } => Error::CodecMismatch { stored, requested },
        }
    }
}

impl<E: Into<Error>> From<RecordError<E>> for Error {
    fn from(e: RecordError<E>) -> Error {
        match e {
            RecordError::Store(e) => e.into(),
            RecordError::UnknownId(id) => Error::UnknownId(id),
            RecordError::NotInFlight { id, status } => Error::NotInFlight { id, status },
            RecordError::LeaseLost { id, token } => Error::LeaseLost { id, token },
            RecordError::Duplicate => Error::Duplicate,
            RecordError::Protocol(what) => Error::Protocol(what),
        }
    }
}
