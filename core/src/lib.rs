//! # persist-queue-core
//!
//! The rules of persist-queue, written once: the on-storage record format
//! and its checksums, the chunked log with its head and read cursors, read
//! checkpoints, and recovery after a crash. Every backend (filesystem,
//! SQLite, IndexedDB, localStorage, WASI, MySQL, PostgreSQL) runs these
//! rules; none re-implements them.
//!
//! What this crate is **not**: it does no I/O, reads no clock, spawns no
//! thread and takes no lock. It is `#![no_std]` + `alloc` and talks to a
//! small [`Storage`] trait; the `persist-queue` crate adds threads, blocking,
//! async and serializers on top.
//!
//! ```
//! use persist_queue_core::{ChunkQueue, Config, MemoryStorage};
//!
//! let mut q = ChunkQueue::open(MemoryStorage::new(), Config::default()).unwrap();
//! q.put(b"first").unwrap();
//! q.put(b"second").unwrap();
//! assert_eq!(q.get().unwrap().as_deref(), Some(&b"first"[..]));
//! q.task_done().unwrap(); // saves the read cursor
//!
//! // "Restart": reopen the same bytes. The confirmed item is gone.
//! let mut q = ChunkQueue::open(q.into_storage(), Config::default()).unwrap();
//! assert_eq!(q.len(), 1);
//! assert_eq!(q.get().unwrap().as_deref(), Some(&b"second"[..]));
//! ```
//!
//! Two families of queue live here. The chunked FIFO ([`ChunkQueue`]) runs
//! on byte stores through [`Storage`]. The record queues ([`records`]: ack,
//! priority, unique, FIFO/FILO with per-item state) run on record stores
//! through [`records::Table`], which executes the atomic [`records::Plan`]s
//! the rules produce.
//!
//! Damage is never dropped silently: one rule (`format/damage.rs`) tells a write
//! a crash cut short (cut, it was never acknowledged) from durable bytes
//! damaged later (a [`Corruption`] naming the blob and offset, or skipped
//! and counted with `skip_corrupted`, the bytes left as they are). Format v2
//! frames carry their index and a header checksum for it; v1 files open.
//! [`audit`] walks every chunk and checksum of a storage, changing nothing,
//! and lists every problem ([`Finding`]: blob, offset, length, kind).
//!
//! Names of queues and maps follow one rule on every backend
//! ([`records::valid_name`], [`records::store_name`]). A record store at
//! its quota that still deletes ([`records::Table::only_deletes`])
//! drains through held claims ([`records::RecordQueue::claim_held`]).
//!
//! Group commit is one protocol for every host ([`group_commit`]: tickets,
//! one leader, each caller its own answer); hosts add only their locks.
//!
//! The ABI of a queue a native host lends to a WebAssembly plugin (import
//! names, signatures, codes) is written once, in [`plugin_abi`], for the
//! host and the guest.
//!
//! Features: `testing` adds [`FaultyStorage`] (power cuts, torn writes,
//! failed flushes) and [`records::FullTable`] (a table at its quota); it is
//! exempt from semver. The byte-level format is in `FORMAT.md` beside this
//! crate.

#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

extern crate alloc;

mod durability;
mod error;
mod fifo;
mod format;
pub mod group_commit;
mod memory;
pub mod plugin_abi;
pub mod records;
mod storage;
#[cfg(feature = "testing")]
mod testing;

pub use crate::durability::Durability;
pub use crate::error::{ConfigError, Corruption, CorruptionKind, OpenError, ReadError, WriteError};
pub use crate::fifo::config::{Config, MAX_ITEM_SIZE_LIMIT};
pub use crate::fifo::cursor::Position;
pub use crate::fifo::queue::{ChunkQueue, Stats, SyncTicket};
pub use crate::format::audit::{Audit, Finding, FindingKind, audit};
pub use crate::format::chunk::{
    CHUNK_HEADER_LEN, CHUNK_MAGIC, CHUNK_VERSION, CHUNK_VERSION_MIN, HeaderProblem,
};
pub use crate::format::frame::{FRAME_HEADER_LEN, FRAME_V2_HEADER_LEN};
pub use crate::format::meta::{META_COMPACT_AT, META_MAGIC, META_VERSION, MetaProblem};
pub use crate::memory::{MemoryStorage, MissingBlob};
pub use crate::storage::{Blob, Flush, Locked, NoFlush, Storage};
#[cfg(feature = "testing")]
pub use crate::testing::{Fault, FaultPlan, FaultyFlush, FaultyStorage};
