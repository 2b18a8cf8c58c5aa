//! Record stores on database servers: which adapter a URL names, how its
//! errors read, and how a waiting `get` learns of puts made elsewhere.

#[cfg(any(feature = "postgres", feature = "mysql"))]
use std::time::Duration;

use persist_queue_core::Durability;
use persist_queue_core::records::Order;

use crate::error::{Error, Result};
use crate::records::builder::{Poll, server_kind};
use crate::records::store::AnyTable;

/// Called when items may have become ready.
pub(crate) type Waker = Box<dyn Fn() + Send + 'static>;

/// Starts a listener that calls the waker; the guard stops it when dropped.
pub(crate) type Listen = Box<dyn FnOnce(Waker) -> Result<Box<dyn Send + Sync>>>;

/// Bad names and bad URLs are configuration errors; the rest store errors.
#[cfg(feature = "postgres")]
fn pg_error(e: persist_queue_postgres::PgError) -> Error {
    use persist_queue_postgres::PgError;
    match e {
        PgError::Config(_) | PgError::InvalidName(_) => Error::InvalidConfig(e.to_string()),
        other => crate::error::storage(other),
    }
}

/// Bad names, bad URLs and a synced queue on a server that does not flush
/// are configuration errors; the rest store errors.
#[cfg(feature = "mysql")]
fn mysql_error(e: persist_queue_mysql::MySqlError) -> Error {
    use persist_queue_mysql::MySqlError;
    match e {
        MySqlError::Config(_) | MySqlError::InvalidName(_) | MySqlError::NotDurable { .. } => {
            Error::InvalidConfig(e.to_string())
        }
        other => crate::error::storage(other),
    }
}

/// Opens the queue table `table` on the server `url`.
pub(crate) fn open_table(
    url: &str,
    table: &str,
    durability: Durability,
    order: Order,
) -> Result<(AnyTable, Poll, Option<Listen>)> {
    let kind = server_kind(url)?;
    let _ = (table, durability, order);
    match kind {
        #[cfg(feature = "postgres")]
        "postgres" => {
            use persist_queue_postgres::{Connect, Listener, PgTable};
            let connect = Connect::url(url).map_err(pg_error)?;
            let t = PgTable::open(&connect, table, durability, order).map_err(pg_error)?;
            let table = table.to_string();
            let listen: Listen = Box::new(move |wake| {
                let l = Listener::spawn(&connect, &table, wake).map_err(crate::error::storage)?;
                Ok(Box::new(l) as Box<dyn Send + Sync>)
            });
            // The listener wakes waiters; polling only covers its reconnects.
            Ok((
                AnyTable(Box::new(t)),
                (Duration::from_millis(250), Duration::from_millis(250)),
                Some(listen),
            ))
        }
        #[cfg(feature = "mysql")]
        "mysql" => {
            use persist_queue_mysql::{Connect, MySqlTable};
            let connect = Connect::url(url).map_err(mysql_error)?;
            let t = MySqlTable::open(&connect, table, durability, order).map_err(mysql_error)?;
            Ok((AnyTable(Box::new(t)), (Duration::from_millis(2), Duration::from_millis(50)), None))
        }
        other => Err(Error::InvalidConfig(format!("built without the `{other}` feature"))),
    }
}

/// Opens the map table `table` on the server `url`.
pub(crate) fn open_map(
    url: &str,
    table: &str,
    durability: Durability,
) -> Result<Box<dyn crate::records::pdict::DynMap>> {
    let kind = server_kind(url)?;
    let _ = (table, durability);
    match kind {
        #[cfg(feature = "postgres")]
        "postgres" => {
            use persist_queue_postgres::{Connect, PgMap};
            Ok(Box::new(
                PgMap::open(&Connect::url(url).map_err(pg_error)?, table, durability).map_err(pg_error)?,
            ))
        }
        #[cfg(feature = "mysql")]
        "mysql" => {
            use persist_queue_mysql::{Connect, MySqlMap};
            Ok(Box::new(
                MySqlMap::open(&Connect::url(url).map_err(mysql_error)?, table).map_err(mysql_error)?,
            ))
        }
        other => Err(Error::InvalidConfig(format!("built without the `{other}` feature"))),
    }
}
