//! Record stores on database servers: which adapter a URL names, how its
//! errors read, and how a waiting `get` learns of puts made elsewhere.

#[cfg(any(feature = "postgres", feature = "mysql"))]
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

/// Called when items may have become ready.
pub(crate) type Waker = Box<dyn Fn() + Send + 'static>;

/// Starts a listener that calls the waker; the guard stops it when dropped.
pub(crate) type Listen = Box<dyn FnOnce(Waker) -> Result<Box<dyn Send + Sync>> + Send>;

#[cfg(feature = "postgres")]
fn pg_connect(at: &ServerAddress) -> Result<persist_queue_postgres::Connect> {
    use persist_queue_postgres::Connect;
    match at {
        ServerAddress::Url(url) => Connect::url(url).map_err(Error::from),
        ServerAddress::Params { host, user, password, db_name, port, .. } => {
            Ok(Connect::params(host, user, password, db_name, *port))
        }
    }
}

#[cfg(feature = "mysql")]
fn mysql_connect(at: &ServerAddress) -> Result<persist_queue_mysql::Connect> {
    use persist_queue_mysql::Connect;
    match at {
        ServerAddress::Url(url) => Connect::url(url),
        ServerAddress::Params { host, user, password, db_name, port, .. } => {
            Connect::params(host, user, password, db_name, *port)
        }
    }
    .map_err(Error::from)
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
    table: &str,
    legacy: &str,
    durability: Durability,
    order: Order,
) -> Result<(RecordStore, PollPolicy, Option<Listen>)> {
    let kind = at.kind()?;
    let _ = (table, legacy, durability, order);
    match kind {
        #[cfg(feature = "postgres")]
        ServerKind::Postgres => {
            use persist_queue_postgres::{Listener, PgTable};
            let connect = pg_connect(at)?;
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
            let connect = mysql_connect(at)?;
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
    table: &str,
    legacy: &str,
    durability: Durability,
) -> Result<MapStore> {
    let kind = at.kind()?;
    let _ = (table, legacy, durability);
    match kind {
        #[cfg(feature = "postgres")]
        ServerKind::Postgres => {
            use persist_queue_postgres::PgMap;
            let connect = pg_connect(at)?;
            persist_queue_postgres::adopt_table(&connect, legacy, table)?;
            Ok(MapStore::Postgres(Box::new(PgMap::open(&connect, table, durability)?)))
        }
        #[cfg(feature = "mysql")]
        ServerKind::MySql => {
            use persist_queue_mysql::MySqlMap;
            let connect = mysql_connect(at)?;
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
        ServerKind::Postgres => Ok(persist_queue_postgres::table_names(&pg_connect(at)?)?),
        #[cfg(feature = "mysql")]
        ServerKind::MySql => Ok(persist_queue_mysql::table_names(&mysql_connect(at)?)?),
        #[allow(unreachable_patterns)]
        other => Err(not_built(other)),
    }
}
