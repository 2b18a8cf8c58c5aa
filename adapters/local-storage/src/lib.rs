//! persist-queue's record store in `localStorage`: every queue kind of the
//! core, synchronously, for a page that wants a small queue without
//! IndexedDB's promises.
//!
//! What it is: a core [`Storage`](persist_queue_core::Storage)
//! ([`LocalStorage`]) under the core's [`LogTable`], the same checksummed
//! log as the filesystem's record queues, one key per chunk. Each plan is
//! one `setItem`, so a plan is stored whole or not at all.
//!
//! What it guarantees, and what it does not:
//! * **Not power-loss or kill safe at return.** Chromium writes
//!   localStorage to disk lazily: writes made up to about 4 s before the
//!   browser process was killed were lost (measured). A clean close keeps
//!   them. So only [`Durability::Buffered`] is offered, and asking for
//!   [`Durability::Synced`] is [`LsError::NotDurable`], never a silent
//!   downgrade. Use IndexedDB (`persist-queue-indexeddb`) for that.
//! * **One handle at a time.** Each tab keeps its own cached copy of
//!   localStorage, updated late from other tabs, and the table keeps an
//!   index in memory; the host must make sure one handle owns a queue (the
//!   npm package holds a Web Lock per queue).
//! * **Small.** The origin's quota is about 5 Mi UTF-16 code units (keys
//!   included); a write over it is [`LsError::QuotaExceeded`], and nothing
//!   stored before is lost: the log goes on after the refused plan. A full
//!   queue still drains: a plan that only deletes may take the reserve key
//!   set aside at open, and the log drops chunks no record needs any more
//!   (`Storage::release_reserve`, `LogTable`).
//!
//! Bytes are stored one per UTF-16 code unit, as U+0100 + byte, so every
//! value is a plain, printable string whatever the payload.
//!
//! Only for `wasm32`; on other targets this crate is empty.
//!
//! ```no_run
//! # #[cfg(target_arch = "wasm32")]
//! # fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use persist_queue_core::records::{Kind, Put, RecordQueue, complete};
//! use persist_queue_local_storage::{Durability, open_table};
//!
//! // localStorage answers at once: `complete` runs each operation.
//! let mut q = complete(RecordQueue::open(open_table("drafts", Durability::Buffered)?, Kind::FIFO, true))?;
//! complete(q.put(Put { payload: b"draft 1", priority: 0, canonical: None }, 0))?;
//! assert_eq!(complete(q.get(true))?.map(|r| r.payload), Some(b"draft 1".to_vec()));
//! # Ok(()) }
//! ```

#![cfg(target_arch = "wasm32")]

mod error;
mod map;
mod storage;

pub use error::LsError;
pub use map::{LsMap, map_key_prefix};
pub use persist_queue_core::Durability;
use persist_queue_core::records::{LogConfig, LogError, LogTable};
pub use storage::{LocalStorage, key_prefix};

/// Sizes for localStorage: 64 KiB chunks (each plan rewrites its chunk's
/// value), compaction from 256 KiB of log, well inside the 5 Mi quota.
pub const LIMITS: LogConfig =
    LogConfig { chunk_bytes: 64 << 10, compact_min: 256 << 10, skip_corrupted: false };

/// Opens the queue `name`'s table in localStorage. `Synced` is refused
/// ([`LsError::NotDurable`]); `name` must be valid
/// ([`persist_queue_core::records::valid_name`]).
pub fn open_table(name: &str, durability: Durability) -> Result<LogTable<LocalStorage>, LogError<LsError>> {
    if durability.is_synced() {
        return Err(LogError::Storage(LsError::NotDurable));
    }
    let storage = LocalStorage::open(name).map_err(LogError::Storage)?;
    LogTable::open_with(storage, durability, LIMITS)
}

/// Deletes every key of the queue `name`.
pub fn delete(name: &str) -> Result<(), LsError> {
    LocalStorage::open(name)?.delete_all()
}
