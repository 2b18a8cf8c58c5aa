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
//! same item. Table names come only from validated names
//! (`[A-Za-z0-9_]{1,128}`: a kind prefix and a 64-byte queue name);
//! every value is a bound parameter.
//!
//! ```
//! use persist_queue_core::Durability;
//! use persist_queue_core::records::{Kind, Put, RecordQueue, Verdict, complete};
//! use persist_queue_sqlite::SqliteTable;
//!
//! // The table answers at once: `complete` runs each of the core's
//! // operations to its end.
//! let dir = tempfile::tempdir().unwrap();
//! let table = SqliteTable::open(dir.path().join("data.db"), "ack_queue_default", Durability::Synced).unwrap();
//! let mut q = complete(RecordQueue::open(table, Kind::ACK, true)).unwrap();
//! complete(q.put(Put { payload: b"job", priority: 0, canonical: None }, 0)).unwrap();
//! let job = complete(q.get(false)).unwrap().unwrap();
//! complete(q.settle(job.id, Verdict::Ack)).unwrap();
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
pub use crate::table::{SCHEMA_VERSION, SqliteTable};
