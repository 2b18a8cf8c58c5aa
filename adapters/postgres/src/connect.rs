//! Where the server is: a URL or persist-queue's parameters, and the table
//! names this server accepts.

use std::time::Duration;

use postgres::Config;

use crate::error::PgError;

/// PostgreSQL truncates identifiers to 63 bytes; a longer name would
/// silently collide with another.
pub(crate) const MAX_IDENT: usize = 63;

/// How to reach the server, and how long to keep retrying an operation
/// the server rolled back (connection lost, server restarting).
#[derive(Clone, Debug)]
pub struct Connect {
    pub(crate) config: Config,
    pub(crate) retry_for: Duration,
}

impl Connect {
    /// From a URL: `postgresql://user:password@host:5432/dbname` (or the
    /// key-value form `host=… user=… dbname=…`).
    pub fn url(url: &str) -> Result<Connect, PgError> {
        let config = url.parse::<Config>().map_err(PgError::Config)?;
        Ok(Connect { config, retry_for: Duration::from_secs(30) })
    }

    /// From persist-queue's parameters (`host`, `user`, `passwd`, `db_name`,
    /// `port`).
    pub fn params(host: &str, user: &str, password: &str, db_name: &str, port: u16) -> Connect {
        let mut config = Config::new();
        config.host(host).user(user).password(password).dbname(db_name).port(port);
        Connect { config, retry_for: Duration::from_secs(30) }
    }

    /// How long an operation the server rolled back is retried before
    /// [`PgError::Unavailable`] (default 30 s; zero: never retried).
    pub fn retry_for(mut self, limit: Duration) -> Connect {
        self.retry_for = limit;
        self
    }
}

/// A validated table name (a store name: `A-Z`, `a-z`, `0-9`, `_`, at
/// most 128 bytes), cut to PostgreSQL's 63 bytes the core's way
/// ([`persist_queue_core::records::fit_identifier`]): never silently
/// truncated into another queue's table.
pub(crate) fn table_ident(name: &str) -> Result<String, PgError> {
    if !persist_queue_core::records::valid_store_name(name) {
        return Err(PgError::InvalidName(name.to_string()));
    }
    Ok(persist_queue_core::records::fit_identifier(name, MAX_IDENT))
}
