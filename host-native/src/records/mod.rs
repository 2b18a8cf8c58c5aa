//! The record queues (persist-queue's SQLite queues): one row per item,
//! per-item state, several processes on one database.

#[cfg(feature = "async")]
mod async_pdict;
#[cfg(feature = "async")]
mod async_records;
mod builder;
mod canonical;
mod catalog;
mod delivery;
mod handle;
#[cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]
mod in_transaction;
mod keep_alive;
mod kinds;
mod pdict;
mod server;
mod shared;
mod store;

#[cfg(feature = "async")]
pub use async_pdict::AsyncPDict;
#[cfg(feature = "async")]
pub use async_records::AsyncRecords;
pub use builder::{AnyQueue, QueueType, RecordBuilder};
#[cfg(feature = "sqlite")]
pub use catalog::queues_in_sqlite;
pub use catalog::{QueueKind, StoredQueue, queues_in_dir, queues_on_server};
pub use delivery::{Delivery, Entry, ItemId, PutOptions, QueueStats};
pub use handle::Records;
#[cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]
pub use in_transaction::CallerTransaction;
pub use keep_alive::KeepAlive;
pub use kinds::{
    AckKind, AckQueue, FifoKind, FifoQueue, FiloKind, FiloQueue, PriorityKind, PriorityQueue, UniqueKind,
    UniqueQueue,
};
pub use pdict::{Iter as PDictIter, PDict, PDictBuilder};
pub use server::{ServerAddress, ServerKind, ServerOptions};
pub use shared::DEFAULT_LEASE;
