//! persist-queue's record store over IndexedDB: every queue kind of the
//! core (FIFO, FILO, priority, unique, ack) in a browser page, a dedicated
//! worker or a service worker, and the persistent map (`PDict`).
//!
//! What it is: an [`persist_queue_core::records::Table`] ([`IdbTable`])
//! and a map store ([`IdbMap`]), each one IndexedDB database per queue or
//! map. Each plan of the core is **one** IndexedDB transaction, so each
//! queue operation is atomic, and isolated from every other tab and worker
//! of the origin. [`Durability::Synced`] asks for `durability: "strict"`
//! (Chromium then flushes once per transaction: survives power loss);
//! [`Durability::Buffered`] for `"relaxed"` (the data is with the OS
//! before the transaction completes: survives the browser being killed).
//!
//! What it is not: a JavaScript API (that is `persist-queue-wasm`), or a
//! cross-tab coordinator. Which tab holds which in-flight record is
//! recorded ([`IdbTable::with_session`]); deciding that a holder is gone
//! (Web Locks) and waking waiters (BroadcastChannel) is the host's job.
//!
//! At the origin's quota Chromium commits only transactions that delete:
//! deleting claims retry without moving the meta bounds, and
//! [`IdbTable`] says so through `Table::only_deletes`, so the core
//! drains a full queue by deleting (acks delete; an ack queue's claims
//! are held by the handle, `RecordQueue::claim_held`).
//!
//! Why web-sys and not the `idb` crate: `idb` 0.6 cannot pass the
//! transaction `durability` option, which is this store's durability
//! contract; the handful of promise helpers live in `js/idb.js`.
//!
//! Only for `wasm32`; on other targets this crate is empty.
//!
//! ```no_run
//! # #[cfg(target_arch = "wasm32")]
//! # async fn demo() -> Result<(), persist_queue_core::records::RecordError<persist_queue_indexeddb::IdbError>> {
//! use persist_queue_core::Durability;
//! use persist_queue_core::records::{Kind, Put, RecordQueue, Verdict};
//! use persist_queue_indexeddb::IdbTable;
//!
//! let table = IdbTable::open("uploads", Durability::Synced, Kind::ACK.order).await.map_err(persist_queue_core::records::RecordError::Store)?;
//! let mut q = RecordQueue::open(table, Kind::ACK, true).await?;
//! q.put(Put { payload: b"job", priority: 0, canonical: None }, 0).await?;
//! if let Some(job) = q.get(false).await? {
//!     q.settle(job.id, Verdict::Ack).await?;
//! }
//! # Ok(()) }
//! ```

#![cfg(target_arch = "wasm32")]

mod error;
mod js;
mod map;
mod row;
mod table;

pub use error::IdbError;
pub use map::{IdbMap, map_database_name};
pub use table::{IdbTable, database_name};

/// Re-exported for the example and for callers naming durability.
pub use persist_queue_core::Durability;
