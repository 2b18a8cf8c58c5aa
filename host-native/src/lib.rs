//! # persist-queue
//!
//! Persistent, crash-safe queues for Rust: the queue to reach for when an
//! item must survive `kill -9` or a power cut. A re-implementation of
//! Python's [persist-queue](https://pypi.org/project/persist-queue/) that
//! keeps its API names, fixes its bugs, and is much faster.
//!
//! * [`Queue`]: a FIFO queue in a directory (persist-queue's `Queue`):
//!   checksummed records, torn writes cut back on open, corruption reported
//!   as [`Error::Corrupted`] (or skipped and counted).
//! * Thread-safe `Clone` handles; blocking calls wait on condition
//!   variables; [`AsyncQueue`], [`AsyncRecords`] and [`AsyncPDict`] give
//!   an async twin of every blocking method, on any executor.
//! * One typed [`Error`]: [`Error::Unavailable`] and
//!   [`Error::CommitUnknown`] for database servers, [`Error::Corrupted`]
//!   (one shape on every store), [`Error::InvalidConfig`] with a
//!   [`Misconfiguration`]; each store's own error kept in [`StoreError`].
//! * Named [`Durability`]: `Buffered` survives a process crash, `Synced`
//!   survives power loss and shares each disk flush between concurrent
//!   writers (group commit).
//! * Serializers: [`Postcard`] (default), [`Json`], [`MessagePack`],
//!   [`Cbor`] and [`Raw`] bytes.
//! * Record queues ([`AckQueue`], [`PriorityQueue`], [`UniqueQueue`],
//!   [`FifoQueue`], [`FiloQueue`]) and [`PDict`]: per-item state on SQLite,
//!   plain files, a database server or in memory, shared by processes.
//!   Names are one rule everywhere (1 to 64 of `A-Z a-z 0-9 _`,
//!   case-insensitive); unique queues compare items by a canonical form
//!   with map keys sorted, whatever the codec; damage a plain-files queue
//!   skipped with `skip_corrupted(true)` is counted
//!   ([`Records::skipped_ranges`]).
//!
//! A [`Queue`] directory is opened by one process at a time (the directory
//! is locked); the record queues are the multi-process ones.
//!
//! ```
//! use persist_queue::{Durability, Queue};
//!
//! let dir = tempfile::tempdir()?;
//! let q: Queue<String> = Queue::builder(dir.path()).durability(Durability::Synced).open()?;
//! q.put(&"hello".to_string())?; // on disk when this returns
//! let item = q.get()?;
//! q.task_done()?; // confirmed: never delivered again
//! assert_eq!(item, "hello");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The rules (format, recovery) live in [`persist_queue_core`]; the files in
//! [`persist_queue_fs`]. The on-disk format is documented byte by byte in
//! `core/FORMAT.md`.

#[cfg(feature = "async")]
mod async_queue;
mod backend;
mod builder;
mod codec;
mod commit;
mod error;
#[cfg(feature = "async")]
mod offload;
#[cfg(feature = "wasmtime")]
pub mod plugin;
mod queue;
mod records;
mod sync;
mod wait;

#[cfg(feature = "async")]
pub use crate::async_queue::AsyncQueue;
pub use crate::backend::{Backend, DefaultStorage, InMemory};
pub use crate::builder::QueueBuilder;
#[cfg(feature = "cbor")]
pub use crate::codec::Cbor;
#[cfg(feature = "json")]
pub use crate::codec::Json;
#[cfg(feature = "msgpack")]
pub use crate::codec::MessagePack;
pub use crate::codec::{Codec, Postcard, Raw};
pub use crate::error::{Error, Misconfiguration, Result, StoreError};
pub use crate::queue::Queue;
#[doc(hidden)]
pub use crate::records::{AckKind, FifoKind, FiloKind, PriorityKind, UniqueKind};
pub use crate::records::{
    AckQueue, Delivery, Entry, FifoQueue, FiloQueue, ItemId, PDict, PDictBuilder, PDictIter, PriorityQueue,
    QueueType, RecordBuilder, Records, ServerAddress, ServerKind, UniqueQueue,
};
#[cfg(feature = "async")]
pub use crate::records::{AsyncPDict, AsyncRecords};
pub use persist_queue_core::records::Status;
pub use persist_queue_core::{ConfigError, Corruption, CorruptionKind, Durability, Stats};
pub use persist_queue_fs::FsStorage;

pub use persist_queue_core;
pub use persist_queue_fs;

/// The README's examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
