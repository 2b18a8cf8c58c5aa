//! Where the server is and how to talk to it: a URL or persist-queue's
//! parameters, TLS, timeouts, the name the server shows, the schema; and
//! the table names this server accepts.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use persist_queue_core::records::server::{TlsMode, take_params};
use postgres::config::{Host, SslMode};
use postgres::{Client, Config, NoTls};
use rustls::ClientConfig;

use crate::error::PgError;
use crate::tls::{TlsFiles, client_config};

/// PostgreSQL truncates identifiers to 63 bytes; a longer name would
/// silently collide with another.
pub(crate) const MAX_IDENT: usize = 63;

/// The URL parameters persist-queue reads itself (the client library
/// reads the others: `connect_timeout` in seconds, `application_name`,
/// `options`, …).
const OWN_PARAMS: [&str; 7] =
    ["sslmode", "sslrootcert", "sslcert", "sslkey", "statement_timeout", "schema", "retry_for"];

/// How to reach the server and how to talk to it. Defaults: TLS
/// `disable` for a loopback host or a socket and `require` for any other
/// host ([`TlsMode::default_for`]); no connect or statement timeout; the
/// server shows each connection as `persist-queue <table>`; tables in the
/// user's current schema; an operation the server rolled back retried for
/// 30 s.
#[derive(Clone, Debug)]
pub struct Connect {
    pub(crate) config: Config,
    pub(crate) retry_for: Duration,
    mode: TlsMode,
    files: TlsFiles,
    tls: Option<Arc<ClientConfig>>,
    statement_timeout: Option<Duration>,
    /// The schema the tables live in (a validated identifier).
    pub(crate) schema: Option<String>,
}

fn setting(what: &str, value: &str) -> PgError {
    PgError::Setting(format!("{what} = {value:?}"))
}

impl Connect {
    /// From a URL: `postgresql://user:password@host:5432/dbname` (or the
    /// key-value form `host=… user=… dbname=…`). Besides the client
    /// library's parameters it reads `sslmode` (`disable`, `prefer`,
    /// `require`, `verify-ca`, `verify-full`), `sslrootcert` (a PEM file
    /// of trusted roots; with `require` it means `verify-ca`, as in
    /// libpq), `sslcert` and `sslkey` (a client certificate),
    /// `statement_timeout` (ms), `schema` and `retry_for` (seconds).
    pub fn url(url: &str) -> Result<Connect, PgError> {
        let (rest, own) = take_params(url, &OWN_PARAMS);
        let config = rest.parse::<Config>().map_err(PgError::Config)?;
        let mut connect = Connect::from_config(config);
        let (mut mode, mut cert, mut key) = (None, None, None);
        for (k, v) in own {
            match k.to_ascii_lowercase().as_str() {
                "sslmode" => mode = Some(TlsMode::parse(&v).ok_or_else(|| setting("sslmode", &v))?),
                "sslrootcert" => connect.files.ca = Some(PathBuf::from(v)),
                "sslcert" => cert = Some(PathBuf::from(v)),
                "sslkey" => key = Some(PathBuf::from(v)),
                "statement_timeout" => {
                    let ms = v.parse::<u64>().map_err(|_| setting("statement_timeout", &v))?;
                    connect.statement_timeout = (ms > 0).then(|| Duration::from_millis(ms));
                }
                "schema" => connect = connect.schema(&v)?,
                _ => {
                    let s = v.parse::<f64>().ok().filter(|s| s.is_finite() && *s >= 0.0);
                    connect.retry_for = Duration::from_secs_f64(s.ok_or_else(|| setting("retry_for", &v))?);
                }
            }
        }
        connect.files.client = match (cert, key) {
            (Some(c), Some(k)) => Some((c, k)),
            (None, None) => None,
            _ => return Err(setting("sslcert/sslkey", "only one of the two")),
        };
        let mode = match mode {
            Some(TlsMode::Require) if connect.files.ca.is_some() => TlsMode::VerifyCa,
            Some(m) => m,
            None => connect.mode,
        };
        connect.tls(mode)
    }

    /// From persist-queue's parameters (`host`, `user`, `passwd`, `db_name`,
    /// `port`).
    pub fn params(host: &str, user: &str, password: &str, db_name: &str, port: u16) -> Connect {
        let mut config = Config::new();
        config.host(host).user(user).password(password).dbname(db_name).port(port);
        Connect::from_config(config)
    }

    fn from_config(config: Config) -> Connect {
        let mode = match config.get_hosts().first() {
            Some(Host::Tcp(host)) => TlsMode::default_for(host),
            _ => TlsMode::Disable,
        };
        let mut c = Connect {
            config,
            retry_for: Duration::from_secs(30),
            mode,
            files: TlsFiles::default(),
            tls: None,
            statement_timeout: None,
            schema: None,
        };
        // The default mode reads no file: it cannot fail.
        c.tls = client_config(mode, &c.files).unwrap_or(None);
        c
    }

    /// Protects connections by `mode`, reading the CA and client
    /// certificate files set so far. Errors: a file missing or not PEM.
    pub fn tls(mut self, mode: TlsMode) -> Result<Connect, PgError> {
        self.tls = client_config(mode, &self.files)?;
        self.mode = mode;
        Ok(self)
    }

    /// Trusts the roots in the PEM file `path` instead of the bundled
    /// Mozilla set, and checks the server's chain against them (at least
    /// [`TlsMode::VerifyCa`]).
    pub fn ca_file(mut self, path: impl Into<PathBuf>) -> Result<Connect, PgError> {
        self.files.ca = Some(path.into());
        let mode = if self.mode == TlsMode::VerifyFull { TlsMode::VerifyFull } else { TlsMode::VerifyCa };
        self.tls(mode)
    }

    /// Presents the client certificate chain `cert` with its private key
    /// `key` (PEM files) to servers that ask for one.
    pub fn client_cert(
        mut self,
        cert: impl Into<PathBuf>,
        key: impl Into<PathBuf>,
    ) -> Result<Connect, PgError> {
        self.files.client = Some((cert.into(), key.into()));
        let mode = self.mode;
        self.tls(mode)
    }

    /// The TLS mode connections use.
    pub fn tls_mode(&self) -> TlsMode {
        self.mode
    }

    /// How long to wait for a connection to open (default: the system's TCP
    /// timeout). A timed-out attempt is retried within the retry window.
    pub fn connect_timeout(mut self, limit: Duration) -> Connect {
        self.config.connect_timeout(limit);
        self
    }

    /// The longest a statement may run before the server cancels it
    /// (`statement_timeout`; default none). A cancelled statement is an
    /// error, never retried.
    pub fn statement_timeout(mut self, limit: Duration) -> Connect {
        self.statement_timeout = (!limit.is_zero()).then_some(limit);
        self
    }

    /// The name the server shows for these connections
    /// (`pg_stat_activity.application_name`; default `persist-queue
    /// <table>`).
    pub fn application_name(mut self, name: &str) -> Connect {
        self.config.application_name(name);
        self
    }

    /// Keeps the queue tables (and their `pq_schema` versions) in the
    /// schema `name`, created if missing (`search_path` of every
    /// connection). A name follows the table name rule.
    pub fn schema(mut self, name: &str) -> Result<Connect, PgError> {
        self.schema = Some(table_ident(name)?);
        Ok(self)
    }

    /// How long an operation the server rolled back is retried before
    /// [`PgError::Unavailable`] (default 30 s; zero: never retried).
    pub fn retry_for(mut self, limit: Duration) -> Connect {
        self.retry_for = limit;
        self
    }

    /// A client of the caller's own with these settings (TLS, timeouts,
    /// schema, the name the server shows if one was set): for instance for
    /// the transactions a queue's `put_in` joins. Not retried.
    pub fn client(&self) -> Result<Client, PgError> {
        self.open_client("", "").map_err(|e| match crate::tls::handshake_failure(&e) {
            Some(reason) => PgError::TlsHandshake { reason },
            None => PgError::Db(e),
        })
    }

    /// The statement that creates the schema set by [`Connect::schema`]
    /// (empty when none is): run under the schema lock before a table is
    /// created.
    pub(crate) fn create_schema(&self) -> String {
        self.schema.as_ref().map(|s| format!("CREATE SCHEMA IF NOT EXISTS \"{s}\"")).unwrap_or_default()
    }

    /// Opens a connection for the table `table` (the name the server
    /// shows, unless one was set), and runs the settings every connection
    /// carries (statement timeout, schema) before `setup`.
    pub(crate) fn open_client(&self, table: &str, setup: &str) -> Result<Client, postgres::Error> {
        let mut config = self.config.clone();
        if config.get_application_name().is_none() && !table.is_empty() {
            config.application_name(&format!("persist-queue {table}"));
        }
        let mut client = match &self.tls {
            None => config.ssl_mode(SslMode::Disable).connect(NoTls)?,
            Some(tls) => {
                let ssl = if self.mode == TlsMode::Prefer { SslMode::Prefer } else { SslMode::Require };
                config
                    .ssl_mode(ssl)
                    .connect(tokio_postgres_rustls::MakeRustlsConnect::new((**tls).clone()))?
            }
        };
        let mut settings = String::new();
        if let Some(limit) = self.statement_timeout {
            settings.push_str(&format!("SET statement_timeout = {};", limit.as_millis().max(1)));
        }
        if let Some(schema) = &self.schema {
            // A validated identifier (the table name rule), quoted; created
            // by the first table opened in it (under the schema lock).
            settings.push_str(&format!("SET search_path = \"{schema}\";"));
        }
        settings.push_str(setup);
        if !settings.is_empty() {
            client.batch_execute(&settings)?;
        }
        Ok(client)
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
