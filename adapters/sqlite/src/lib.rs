//! # persist-queue-sqlite
//!
//! The SQLite record store of persist-queue: one table per queue, holding
//! one row per item (`id`, `payload`, `priority`, `status`, `timestamp`,
//! `deliveries`, `unique_key`), with indexes on `(status, id)` and
//! `(status, priority, id)` so that taking the next item is O(log n) in
//! every order, and a unique index on `unique_key` (set only while an item
//! of a unique queue is live).
//!
//! Every plan of the core's record contract runs as one `BEGIN IMMEDIATE`
//! transaction, so several processes sharing a database file never take the
//! same item. The file is switched to WAL on open; connections opening a
//! new file at the same moment wait for each other there (SQLite refuses
//! that switch at once rather than running its busy handler), so
//! concurrent openers never fail with "database is locked". Table names
//! come only from validated names
//! (`[A-Za-z0-9_]{1,128}`: a kind prefix and a 64-byte queue name);
//! every value is a bound parameter.
//!
//! ```
//! use persist_queue_core::Durability;
//! use persist_queue_core::records::{Kind, Lease, Put, RecordQueue, Verdict, complete};
//! use persist_queue_sqlite::SqliteTable;
//!
//! // The table answers at once: `complete` runs each of the core's
//! // operations to its end.
//! let dir = tempfile::tempdir().unwrap();
//! let table = SqliteTable::open(dir.path().join("data.db"), "ack_queue_default", Durability::Synced).unwrap();
//! // A claim leases its item for 30 s (the host's clock; servers use their own).
//! let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as u64;
//! let lease = Lease { now, ms: 30_000 };
//! let mut q = complete(RecordQueue::open(table, Kind::ACK, false, lease)).unwrap();
//! complete(q.put(Put::new(b"job"), lease.now)).unwrap();
//! let job = complete(q.get(false, lease)).unwrap().unwrap();
//! complete(q.settle_leased(&[(job.id, job.deliveries)], Verdict::Ack, lease.now, 0)).unwrap();
//! ```

mod catalog;
mod connection;
mod error;
mod map;
mod name;
mod table;

pub use crate::catalog::table_names;
pub use crate::error::SqliteError;
pub use crate::map::SqliteMap;
pub use crate::name::{Ident, InvalidName};
pub use crate::table::{SCHEMA_VERSION, SqliteTable, SqliteTableRef, execute_in};
/// The client crate whose [`rusqlite::Transaction`] [`execute_in`] takes.
pub use rusqlite;
