//! What can go wrong with an SQLite store: one type for opening and for
//! every plan, like the server stores' `PgError` and `MySqlError`.

/// An SQLite store operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SqliteError {
    /// The table name is not a valid identifier.
    #[error(transparent)]
    Name(#[from] crate::name::InvalidName),
    /// The table was created by a newer schema version.
    #[error("table has schema version {found}; this version reads {}", crate::SCHEMA_VERSION)]
    Schema {
        /// The version found.
        found: i64,
    },
    /// Only puts and settles run in the caller's transaction.
    #[error("only puts and settles run in the caller's transaction")]
    NotInTransaction,
    /// SQLite failed (a locked or full disk, a damaged database file ...).
    #[error("SQLite: {0}")]
    Db(#[from] rusqlite::Error),
}
