//! Record stores on database servers: which adapter a URL names, how its
//! errors read, and how a waiting `get` learns of puts made elsewhere.

use std::time::Duration;

use persist_queue_core::Durability;
use persist_queue_core::records::Order;

use crate::error::{Error, Misconfiguration, Result};
use crate::records::store::{MapStore, RecordStore};
use crate::wait::PollPolicy;

/// Which kind of database server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ServerKind {
    /// PostgreSQL ≥ 13 (feature `postgres`).
    Postgres,
    /// MySQL 8 or MariaDB ≥ 10.6 (feature `mysql`).
    MySql,
}

/// Where a database server is: a URL (`postgresql://user:password@host:5432/db`,
/// `mysql://user:password@host:3306/db`), or persist-queue's parameters
/// (`MySQLQueue(host, user, passwd, db_name, port=...)`). `&str` and
/// `String` convert into a URL. Its `Debug` never shows the password.
#[derive(Clone)]
pub enum ServerAddress {
    /// A connection URL.
    Url(String),
    /// persist-queue's parameters.
    Params {
        /// The server's kind.
        kind: ServerKind,
        /// Host name or address.
        host: String,
        /// User name.
        user: String,
        /// Password.
        password: String,
        /// Database name.
        db_name: String,
        /// TCP port.
        port: u16,
    },
}

impl ServerAddress {
    /// persist-queue's `MySQLQueue` parameters.
    pub fn mysql(host: &str, user: &str, password: &str, db_name: &str, port: u16) -> ServerAddress {
        Self::params(ServerKind::MySql, host, user, password, db_name, port)
    }

    /// The same parameters for PostgreSQL.
    pub fn postgres(host: &str, user: &str, password: &str, db_name: &str, port: u16) -> ServerAddress {
        Self::params(ServerKind::Postgres, host, user, password, db_name, port)
    }

    fn params(kind: ServerKind, host: &str, user: &str, password: &str, db_name: &str, port: u16) -> Self {
        ServerAddress::Params {
            kind,
            host: host.into(),
            user: user.into(),
            password: password.into(),
            db_name: db_name.into(),
            port,
        }
    }

    /// The server's kind (from the URL's scheme).
    pub fn kind(&self) -> Result<ServerKind> {
        match self {
            ServerAddress::Params { kind, .. } => Ok(*kind),
            ServerAddress::Url(url) => match url.split_once("://").map(|(scheme, _)| scheme) {
                Some("postgres" | "postgresql") => Ok(ServerKind::Postgres),
                Some("mysql" | "mariadb") => Ok(ServerKind::MySql),
                _ => Err(Misconfiguration::UrlScheme(url.split("://").next().unwrap_or("").into()).into()),
            },
        }
    }
}

impl std::fmt::Debug for ServerAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            // A URL may carry a password: show only its scheme and host part.
            ServerAddress::Url(url) => {
                let shown = match url.split_once("://") {
                    Some((scheme, rest)) => format!("{scheme}://…@{}", rest.rsplit('@').next().unwrap_or("")),
                    None => "…".into(),
                };
                f.debug_tuple("Url").field(&shown).finish()
            }
            ServerAddress::Params { kind, host, user, db_name, port, .. } => f
                .debug_struct("Params")
                .field("kind", kind)
                .field("host", host)
                .field("user", user)
                .field("db_name", db_name)
                .field("port", port)
                .finish_non_exhaustive(),
        }
    }
}

impl From<&str> for ServerAddress {
    fn from(url: &str) -> Self {
        ServerAddress::Url(url.to_string())
    }
}

impl From<String> for ServerAddress {
    fn from(url: String) -> Self {
        ServerAddress::Url(url)
    }
}

impl From<&String> for ServerAddress {
    fn from(url: &String) -> Self {
        ServerAddress::Url(url.clone())
    }
}

/// How a queue talks to its database server, beyond the address: TLS,
/// timeouts, the names the server shows, the schema. Each setting left
/// unset keeps the URL's (its query parameters: `sslmode`, `sslrootcert`,
/// `connect_timeout`, `application_name`, `statement_timeout`, `schema`,
/// `retry_for`; MySQL `ssl-mode`, `ssl-ca`, `pool_max`, …) or the store's
/// default: TLS `require` for a host other than this machine and off for
/// loopback; no connect or statement timeout; operations the server
/// rolled back retried for 30 s, then [`crate::Error::Unavailable`];
/// connections named `persist-queue <table>` (PostgreSQL
/// `application_name`; MySQL: connection attribute `program_name`, and
/// statements carry `/* persist-queue */`); tables in the user's schema.
///
/// Connections: a PostgreSQL handle holds its own (one; two for a synced
/// queue, whose claims skip the WAL flush; one more for `LISTEN` while a
/// `get` waits); a MySQL handle takes one from a pool of at most
/// [`Self::pool_size`] (default 10).
#[derive(Clone, Debug, Default)]
#[must_use]
pub struct ServerOptions {
    tls: Option<persist_queue_core::records::server::TlsMode>,
    ca_file: Option<std::path::PathBuf>,
    client_cert: Option<(std::path::PathBuf, std::path::PathBuf)>,
    pool_size: Option<usize>,
    connect_timeout: Option<Duration>,
    statement_timeout: Option<Duration>,
    retry_for: Option<Duration>,
    application_name: Option<String>,
    schema: Option<String>,
}

impl ServerOptions {
    /// How connections are protected.
    pub fn tls(mut self, mode: persist_queue_core::records::server::TlsMode) -> Self {
        self.tls = Some(mode);
        self
    }

    /// Trust the roots in this PEM file and check the server's chain
    /// (at least `verify-ca`).
    pub fn ca_file(mut self, path: impl Into<std::path::PathBuf>) -> Self {
        self.ca_file = Some(path.into());
        self
    }

    /// A client certificate chain and its key (PEM files).
    pub fn client_cert(
        mut self,
        cert: impl Into<std::path::PathBuf>,
        key: impl Into<std::path::PathBuf>,
    ) -> Self {
        self.client_cert = Some((cert.into(), key.into()));
        self
    }

    /// At most this many connections in a MySQL handle's pool (PostgreSQL
    /// handles hold their own; see the type's docs).
    pub fn pool_size(mut self, size: usize) -> Self {
        self.pool_size = Some(size);
        self
    }

    /// How long to wait for a connection to open.
    pub fn connect_timeout(mut self, limit: Duration) -> Self {
        self.connect_timeout = Some(limit);
        self
    }

    /// The longest a statement may run before the server stops it.
    pub fn statement_timeout(mut self, limit: Duration) -> Self {
        self.statement_timeout = Some(limit);
        self
    }

    /// How long an operation the server rolled back (or could not be
    /// reached for) is retried before [`crate::Error::Unavailable`].
    pub fn retry_for(mut self, limit: Duration) -> Self {
        self.retry_for = Some(limit);
        self
    }

    /// The name the server shows for the connections.
    pub fn application_name(mut self, name: impl Into<String>) -> Self {
        self.application_name = Some(name.into());
        self
    }

    /// The PostgreSQL schema the queue's table lives in (created if
    /// missing); a name by the queue name rule. MySQL has no schemas
    /// within a database: refused there.
    pub fn schema(mut self, name: impl Into<String>) -> Self {
        self.schema = Some(name.into());
        self
    }
}

/// Called when items may have become ready.
pub(crate) type Waker = Box<dyn Fn() + Send + 'static>;

/// Starts a listener that calls the waker; the guard stops it when dropped.
pub(crate) type Listen = Box<dyn FnOnce(Waker) -> Result<Box<dyn Send + Sync>> + Send>;

#[cfg(feature = "postgres")]
fn pg_connect(at: &ServerAddress, o: &ServerOptions) -> Result<persist_queue_postgres::Connect> {
    use persist_queue_postgres::Connect;
    let mut c = match at {
        ServerAddress::Url(url) => Connect::url(url)?,
        ServerAddress::Params { host, user, password, db_name, port, .. } => {
            Connect::params(host, user, password, db_name, *port)
        }
    };
    if let Some(path) = &o.ca_file {
        c = c.ca_file(path)?;
    }
    if let Some((cert, key)) = &o.client_cert {
        c = c.client_cert(cert, key)?;
    }
    if let Some(mode) = o.tls {
        c = c.tls(mode)?;
    }
    if let Some(limit) = o.connect_timeout {
        c = c.connect_timeout(limit);
    }
    if let Some(limit) = o.statement_timeout {
        c = c.statement_timeout(limit);
    }
    if let Some(limit) = o.retry_for {
        c = c.retry_for(limit);
    }
    if let Some(name) = &o.application_name {
        c = c.application_name(name);
    }
    if let Some(schema) = &o.schema {
        c = c.schema(schema)?;
    }
    Ok(c)
}

#[cfg(feature = "mysql")]
fn mysql_connect(at: &ServerAddress, o: &ServerOptions) -> Result<persist_queue_mysql::Connect> {
    use persist_queue_mysql::Connect;
    if let Some(schema) = &o.schema {
        return Err(Misconfiguration::Setting(format!(
            "schema {schema:?}: MySQL has no schemas within a database"
        ))
        .into());
    }
    let mut c = match at {
        ServerAddress::Url(url) => Connect::url(url)?,
        ServerAddress::Params { host, user, password, db_name, port, .. } => {
            Connect::params(host, user, password, db_name, *port)?
        }
    };
    if let Some(path) = &o.ca_file {
        c = c.ca_file(path)?;
    }
    if let Some((cert, key)) = &o.client_cert {
        c = c.client_cert(cert, key)?;
    }
    if let Some(mode) = o.tls {
        c = c.tls(mode)?;
    }
    if let Some(size) = o.pool_size {
        c = c.pool_size(size)?;
    }
    if let Some(limit) = o.connect_timeout {
        c = c.connect_timeout(limit)?;
    }
    if let Some(limit) = o.statement_timeout {
        c = c.statement_timeout(limit);
    }
    if let Some(limit) = o.retry_for {
        c = c.retry_for(limit);
    }
    if let Some(name) = &o.application_name {
        c = c.application_name(name)?;
    }
    Ok(c)
}

/// What a build without the server's feature says.
#[allow(dead_code)]
fn not_built(kind: ServerKind) -> Error {
    let feature = match kind {
        ServerKind::Postgres => "postgres",
        ServerKind::MySql => "mysql",
    };
    Misconfiguration::NotBuilt(feature).into()
}

/// Opens the queue table `table` on the server `at`, first renaming to it
/// the table `legacy` an older version may have created under the name
/// as given (with capitals).
pub(crate) fn open_table(
    at: &ServerAddress,
    options: &ServerOptions,
    table: &str,
    legacy: &str,
    durability: Durability,
    order: Order,
) -> Result<(RecordStore, PollPolicy, Option<Listen>)> {
    let kind = at.kind()?;
    let _ = (table, legacy, durability, order, options);
    match kind {
        #[cfg(feature = "postgres")]
        ServerKind::Postgres => {
            use persist_queue_postgres::{Listener, PgTable};
            let connect = pg_connect(at, options)?;
            persist_queue_postgres::adopt_table(&connect, legacy, table)?;
            let t = PgTable::open(&connect, table, durability, order)?;
            let table = table.to_string();
            let listen: Listen = Box::new(move |wake| {
                let l = Listener::spawn(&connect, &table, wake)?;
                Ok(Box::new(l) as Box<dyn Send + Sync>)
            });
            // The listener wakes waiters; polling only covers its reconnects.
            Ok((
                RecordStore::Postgres(Box::new(t)),
                PollPolicy::fixed(Duration::from_millis(250)),
                Some(listen),
            ))
        }
        #[cfg(feature = "mysql")]
        ServerKind::MySql => {
            use persist_queue_mysql::MySqlTable;
            let connect = mysql_connect(at, options)?;
            persist_queue_mysql::adopt_table(&connect, legacy, table)?;
            let t = MySqlTable::open(&connect, table, durability, order)?;
            Ok((
                RecordStore::MySql(Box::new(t)),
                PollPolicy::doubling(Duration::from_millis(2), Duration::from_millis(50)),
                None,
            ))
        }
        #[allow(unreachable_patterns)]
        other => Err(not_built(other)),
    }
}

/// Opens the map table `table` on the server `at` (after renaming an old
/// capitalised `legacy` one to it, as [`open_table`]).
pub(crate) fn open_map(
    at: &ServerAddress,
    options: &ServerOptions,
    table: &str,
    legacy: &str,
    durability: Durability,
) -> Result<MapStore> {
    let kind = at.kind()?;
    let _ = (table, legacy, durability, options);
    match kind {
        #[cfg(feature = "postgres")]
        ServerKind::Postgres => {
            use persist_queue_postgres::PgMap;
            let connect = pg_connect(at, options)?;
            persist_queue_postgres::adopt_table(&connect, legacy, table)?;
            Ok(MapStore::Postgres(Box::new(PgMap::open(&connect, table, durability)?)))
        }
        #[cfg(feature = "mysql")]
        ServerKind::MySql => {
            use persist_queue_mysql::MySqlMap;
            let connect = mysql_connect(at, options)?;
            persist_queue_mysql::adopt_table(&connect, legacy, table)?;
            Ok(MapStore::MySql(Box::new(MySqlMap::open(&connect, table)?)))
        }
        #[allow(unreachable_patterns)]
        other => Err(not_built(other)),
    }
}

/// The names of the tables in the database the server address `at` names.
pub(crate) fn table_names(at: &ServerAddress) -> Result<Vec<String>> {
    match at.kind()? {
        #[cfg(feature = "postgres")]
        ServerKind::Postgres => {
            Ok(persist_queue_postgres::table_names(&pg_connect(at, &ServerOptions::default())?)?)
        }
        #[cfg(feature = "mysql")]
        ServerKind::MySql => {
            Ok(persist_queue_mysql::table_names(&mysql_connect(at, &ServerOptions::default())?)?)
        }
        #[allow(unreachable_patterns)]
        other => Err(not_built(other)),
    }
}
