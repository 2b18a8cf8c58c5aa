//! Where the server is and how to talk to it: a URL or persist-queue's
//! parameters, TLS, the pool, timeouts, the name the server shows; and the
//! table names this server accepts.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use mysql::{ClientIdentity, Opts, OptsBuilder, Pool, PoolConstraints, PoolOpts, SslOpts};
use persist_queue_core::records::server::{TlsMode, take_params};

use crate::error::MySqlError;

/// The URL parameters persist-queue reads itself (the client library
/// reads the others: `pool_max`, `tcp_connect_timeout_ms`, …).
const OWN_PARAMS: [&str; 6] = ["ssl-mode", "ssl-ca", "ssl-cert", "ssl-key", "statement_timeout", "retry_for"];

/// How to reach the server: a connection pool (connections are made on
/// demand, checked on checkout and replaced when broken; every queue
/// opened from one `Connect` or its clones shares it), TLS, timeouts, and
/// how long to keep retrying an operation the server rolled back.
/// Defaults: TLS `DISABLED` for a loopback host and `REQUIRED` for any
/// other ([`TlsMode::default_for`]); at most 10 connections; no connect
/// or statement timeout; connection attribute `program_name =
/// persist-queue`; retry window 30 s.
#[derive(Clone, Debug)]
pub struct Connect {
    pub(crate) pool: Pool,
    pub(crate) retry_for: Duration,
    /// Set on each connection the session takes (`max_statement_time` on
    /// MariaDB, `max_execution_time` on MySQL).
    pub(crate) statement_timeout: Option<Duration>,
    opts: OptsBuilder,
    mode: TlsMode,
    ca: Option<PathBuf>,
    client: Option<(PathBuf, PathBuf)>,
    pool_size: usize,
    application_name: String,
    /// Batched puts use MariaDB's `INSERT … RETURNING` (off: MySQL 8's
    /// one-row-per-statement path, on any server).
    pub(crate) returning: bool,
}

fn setting(what: &str, value: &str) -> MySqlError {
    MySqlError::Setting(format!("{what} = {value:?}"))
}

impl Connect {
    /// From a URL: `mysql://user:password@host:3306/dbname`. Besides the
    /// client library's parameters it reads `ssl-mode` (`DISABLED`,
    /// `REQUIRED`, `VERIFY_CA`, `VERIFY_IDENTITY`, or the PostgreSQL
    /// spellings), `ssl-ca` (a PEM file of trusted roots; with `REQUIRED`
    /// it means `VERIFY_CA`), `ssl-cert` and `ssl-key` (a client
    /// certificate), `statement_timeout` (ms) and `retry_for` (seconds).
    pub fn url(url: &str) -> Result<Connect, MySqlError> {
        let (rest, own) = take_params(url, &OWN_PARAMS);
        let opts = Opts::from_url(&rest).map_err(|e| MySqlError::Config(e.to_string()))?;
        let pool_max = rest.contains("pool_max=").then(|| opts.get_pool_opts().constraints().max());
        let mut connect = Self::from_opts(OptsBuilder::from_opts(opts))?;
        connect.pool_size = pool_max.unwrap_or(connect.pool_size);
        let (mut mode, mut cert, mut key) = (None, None, None);
        for (k, v) in own {
            match k.to_ascii_lowercase().replace('_', "-").as_str() {
                "ssl-mode" => mode = Some(TlsMode::parse(&v).ok_or_else(|| setting("ssl-mode", &v))?),
                "ssl-ca" => connect.ca = Some(PathBuf::from(v)),
                "ssl-cert" => cert = Some(PathBuf::from(v)),
                "ssl-key" => key = Some(PathBuf::from(v)),
                "statement-timeout" => {
                    let ms = v.parse::<u64>().map_err(|_| setting("statement_timeout", &v))?;
                    connect.statement_timeout = (ms > 0).then(|| Duration::from_millis(ms));
                }
                _ => {
                    let s = v.parse::<f64>().ok().filter(|s| s.is_finite() && *s >= 0.0);
                    connect.retry_for = Duration::from_secs_f64(s.ok_or_else(|| setting("retry_for", &v))?);
                }
            }
        }
        connect.client = match (cert, key) {
            (Some(c), Some(k)) => Some((c, k)),
            (None, None) => None,
            _ => return Err(setting("ssl-cert/ssl-key", "only one of the two")),
        };
        let mode = match mode {
            Some(TlsMode::Require) if connect.ca.is_some() => TlsMode::VerifyCa,
            Some(m) => m,
            None => connect.mode,
        };
        connect.tls(mode)
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
        let host = Opts::from(opts.clone()).get_ip_or_hostname().into_owned();
        Connect {
            // Replaced by `rebuilt`; a pool of 0..=1 connects to nothing.
            pool: Pool::new(OptsBuilder::new().pool_opts(
                PoolOpts::default().with_constraints(PoolConstraints::new(0, 1).expect("0 <= 1")),
            ))
            .map_err(MySqlError::Db)?,
            retry_for: Duration::from_secs(30),
            statement_timeout: None,
            opts,
            mode: TlsMode::default_for(&host),
            ca: None,
            client: None,
            pool_size: 10,
            application_name: "persist-queue".into(),
            returning: true,
        }
        .rebuilt()
    }

    /// The pool for the settings as they are now. Connections are made on
    /// demand (a pool of 0..=size), so an absent server is an error of the
    /// first operation, retried like any other.
    fn rebuilt(mut self) -> Result<Connect, MySqlError> {
        let ssl = match self.mode {
            TlsMode::Disable => None,
            TlsMode::Prefer => {
                return Err(setting(
                    "ssl-mode",
                    "PREFERRED (this client cannot fall back to plain: use REQUIRED)",
                ));
            }
            TlsMode::Require => Some(SslOpts::default().with_danger_accept_invalid_certs(true)),
            TlsMode::VerifyCa => Some(SslOpts::default().with_danger_skip_domain_validation(true)),
            TlsMode::VerifyFull => Some(SslOpts::default()),
        };
        let ssl = ssl.map(|s| {
            s.with_root_cert_path(self.ca.clone())
                .with_client_identity(self.client.clone().map(|(c, k)| ClientIdentity::new(c, k)))
        });
        let constraints = PoolConstraints::new(0, self.pool_size.max(1))
            .ok_or_else(|| setting("pool size", &self.pool_size.to_string()))?;
        let opts = self
            .opts
            .clone()
            // TLS runs over TCP: never switch to the local socket.
            .prefer_socket(ssl.is_none() && Opts::from(self.opts.clone()).get_prefer_socket())
            .ssl_opts(ssl)
            .connect_attrs(Some(HashMap::from([("program_name", self.application_name.clone())])))
            .pool_opts(PoolOpts::default().with_constraints(constraints));
        self.pool = Pool::new(opts).map_err(MySqlError::Db)?;
        Ok(self)
    }

    /// Protects connections by `mode` ([`TlsMode::Prefer`] is refused: this
    /// client cannot fall back to plain).
    pub fn tls(mut self, mode: TlsMode) -> Result<Connect, MySqlError> {
        self.mode = mode;
        self.rebuilt()
    }

    /// Trusts the roots in the PEM file `path` (as well as the bundled
    /// Mozilla set) and checks the server's chain (at least
    /// [`TlsMode::VerifyCa`]).
    pub fn ca_file(mut self, path: impl Into<PathBuf>) -> Result<Connect, MySqlError> {
        self.ca = Some(path.into());
        if self.mode != TlsMode::VerifyFull {
            self.mode = TlsMode::VerifyCa;
        }
        self.rebuilt()
    }

    /// Presents the client certificate chain `cert` with its private key
    /// `key` (PEM files) to servers that ask for one.
    pub fn client_cert(
        mut self,
        cert: impl Into<PathBuf>,
        key: impl Into<PathBuf>,
    ) -> Result<Connect, MySqlError> {
        self.client = Some((cert.into(), key.into()));
        self.rebuilt()
    }

    /// A connection of the caller's own from this `Connect`'s pool, with
    /// its TLS and timeouts: for instance for the transactions a queue's
    /// `put_in` joins. Not retried.
    pub fn conn(&self) -> Result<mysql::PooledConn, MySqlError> {
        self.pool.get_conn().map_err(MySqlError::Db)
    }

    /// The TLS mode connections use.
    pub fn tls_mode(&self) -> TlsMode {
        self.mode
    }

    /// At most `size` connections open at once (default 10; at least 1).
    /// Queues opened from this `Connect` (and its clones) share them.
    pub fn pool_size(mut self, size: usize) -> Result<Connect, MySqlError> {
        self.pool_size = size.max(1);
        self.rebuilt()
    }

    /// How long to wait for a TCP connection to open (default: the
    /// system's). A timed-out attempt is retried within the retry window.
    pub fn connect_timeout(mut self, limit: Duration) -> Result<Connect, MySqlError> {
        self.opts = self.opts.tcp_connect_timeout(Some(limit));
        self.rebuilt()
    }

    /// The longest a statement may run before the server stops it (default
    /// none): MariaDB's `max_statement_time` (every statement), MySQL's
    /// `max_execution_time` (reads only: MySQL has no limit for writes).
    pub fn statement_timeout(mut self, limit: Duration) -> Connect {
        self.statement_timeout = (!limit.is_zero()).then_some(limit);
        self
    }

    /// The connection attribute `program_name` the server records
    /// (`performance_schema.session_connect_attrs`; default
    /// `persist-queue`). Statements name their table followed by the
    /// comment `/* persist-queue */` in the process list.
    pub fn application_name(mut self, name: &str) -> Result<Connect, MySqlError> {
        self.application_name = name.to_string();
        self.rebuilt()
    }

    /// Puts as on MySQL 8, which has no `INSERT … RETURNING`: one row per
    /// statement, its id the connection's last insert id, even on MariaDB.
    /// MariaDB-only test machines use it to run MySQL 8's statements.
    pub fn without_returning(mut self) -> Connect {
        self.returning = false;
        self
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

/// The table's name in statements: quoted, and followed by a comment that
/// tells a DBA reading the process list whose statement it is.
pub(crate) fn table_sql(ident: &str) -> String {
    format!("`{ident}` /* persist-queue */")
}
