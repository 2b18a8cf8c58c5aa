//! Where the server is: a URL or persist-queue's parameters, and the table
//! names this server accepts.

use std::time::Duration;

use mysql::{Opts, OptsBuilder, Pool};

use crate::error::MySqlError;

/// How to reach the server (a connection pool: connections are checked on
/// checkout and replaced when broken), and how long to keep retrying an
/// operation the server rolled back.
#[derive(Clone, Debug)]
pub struct Connect {
    pub(crate) pool: Pool,
    pub(crate) retry_for: Duration,
}

impl Connect {
    /// From a URL: `mysql://user:password@host:3306/dbname`.
    pub fn url(url: &str) -> Result<Connect, MySqlError> {
        let opts = Opts::from_url(url).map_err(|e| MySqlError::Config(e.to_string()))?;
        Self::from_opts(OptsBuilder::from_opts(opts))
    }

    /// From persist-queue's parameters (`host`, `user`, `passwd`, `db_name`,
    /// `port`).
    pub fn params(
        host: &str,
        user: &str,
        password: &str,
        db_name: &str,
        port: u16,
    ) -> Result<Connect, MySqlError> {
        Self::from_opts(
            OptsBuilder::new()
                .ip_or_hostname(Some(host))
                .user(Some(user))
                .pass(Some(password))
                .db_name(Some(db_name))
                .tcp_port(port),
        )
    }

    fn from_opts(opts: OptsBuilder) -> Result<Connect, MySqlError> {
        // Connections are made on demand (a pool of 0..=10), so an absent
        // server is an error of the first operation, retried like any other.
        let opts = opts.pool_opts(
            mysql::PoolOpts::default().with_constraints(mysql::PoolConstraints::new(0, 10).expect("0 <= 10")),
        );
        let pool = Pool::new(opts).map_err(MySqlError::Db)?;
        Ok(Connect { pool, retry_for: Duration::from_secs(30) })
    }

    /// How long an operation the server rolled back is retried before
    /// [`MySqlError::Unavailable`] (default 30 s; zero: never retried).
    pub fn retry_for(mut self, limit: Duration) -> Connect {
        self.retry_for = limit;
        self
    }
}

/// A validated table name (a store name: `A-Z`, `a-z`, `0-9`, `_`, at
/// most 128 bytes), cut to MySQL's 64 bytes the core's way
/// ([`persist_queue_core::records::fit_identifier`]).
pub(crate) fn table_ident(name: &str) -> Result<String, MySqlError> {
    if !persist_queue_core::records::valid_store_name(name) {
        return Err(MySqlError::InvalidName(name.to_string()));
    }
    Ok(persist_queue_core::records::fit_identifier(name, 64))
}
