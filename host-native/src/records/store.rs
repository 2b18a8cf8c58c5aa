//! The record stores a record queue can be opened on: a closed enum, so
//! queue types do not carry the store in their type and each store's error
//! becomes an [`Error`] in one typed step (no boxing, no downcasting).

use std::sync::{Arc, Mutex};

use persist_queue_core::records::{
    LogTable, MapOutcome, MapPlan, MapTable, MemoryMap, MemoryTable, Outcome, Plan, Table, complete,
};
use persist_queue_fs::FsStorage;

use crate::error::Error;

/// Every record store, behind its feature.
pub(crate) enum RecordStore {
    /// In memory, shared by the handles of one queue.
    Memory(SharedTable),
    /// The core's record log in plain files.
    Files(Box<LogTable<FsStorage>>),
    /// One table in an SQLite database file.
    #[cfg(feature = "sqlite")]
    Sqlite(Box<persist_queue_sqlite::SqliteTable>),
    /// A PostgreSQL table.
    #[cfg(feature = "postgres")]
    Postgres(Box<persist_queue_postgres::PgTable>),
    /// A MySQL / MariaDB table.
    #[cfg(feature = "mysql")]
    MySql(Box<persist_queue_mysql::MySqlTable>),
}

impl Table for RecordStore {
    type Error = Error;

    /// Every store here is synchronous: the future is ready when first
    /// polled (the handles run it with [`persist_queue_core::records::complete`]).
    async fn execute(&mut self, plan: &Plan) -> Result<Outcome, Error> {
        match self {
            RecordStore::Memory(t) => Ok(t.execute(plan).await?),
            RecordStore::Files(t) => Ok(t.execute(plan).await?),
            #[cfg(feature = "sqlite")]
            RecordStore::Sqlite(t) => Ok(t.execute(plan).await?),
            #[cfg(feature = "postgres")]
            RecordStore::Postgres(t) => Ok(t.execute(plan).await?),
            #[cfg(feature = "mysql")]
            RecordStore::MySql(t) => Ok(t.execute(plan).await?),
        }
    }

    fn skipped_ranges(&self) -> u64 {
        match self {
            RecordStore::Files(t) => t.skipped_ranges(),
            _ => 0,
        }
    }
}

/// An in-memory table shared by every handle of one queue (tests, caches).
#[derive(Clone, Debug, Default)]
pub(crate) struct SharedTable(pub(crate) Arc<Mutex<MemoryTable>>);

impl Table for SharedTable {
    type Error = std::convert::Infallible;
    fn execute(&mut self, plan: &Plan) -> impl Future<Output = Result<Outcome, Self::Error>> {
        // The lock is not held across an await: the memory table answers
        // at once.
        let mut table = self.0.lock().unwrap_or_else(|e| e.into_inner());
        std::future::ready(complete(table.execute(plan)))
    }
}

/// Every map store ([`crate::PDict`]), behind its feature.
pub(crate) enum MapStore {
    /// In memory.
    Memory(MemoryMap),
    /// One table in an SQLite database file.
    #[cfg(feature = "sqlite")]
    Sqlite(Box<persist_queue_sqlite::SqliteMap>),
    /// A PostgreSQL table.
    #[cfg(feature = "postgres")]
    Postgres(Box<persist_queue_postgres::PgMap>),
    /// A MySQL / MariaDB table.
    #[cfg(feature = "mysql")]
    MySql(Box<persist_queue_mysql::MySqlMap>),
}

impl MapTable for MapStore {
    type Error = Error;

    async fn execute_map(&mut self, plan: &MapPlan) -> Result<MapOutcome, Error> {
        match self {
            MapStore::Memory(m) => Ok(m.execute_map(plan).await?),
            #[cfg(feature = "sqlite")]
            MapStore::Sqlite(m) => Ok(m.execute_map(plan).await?),
            #[cfg(feature = "postgres")]
            MapStore::Postgres(m) => Ok(m.execute_map(plan).await?),
            #[cfg(feature = "mysql")]
            MapStore::MySql(m) => Ok(m.execute_map(plan).await?),
        }
    }
}
