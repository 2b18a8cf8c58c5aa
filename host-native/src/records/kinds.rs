//! The record queue types, named by what they do; each persist-queue
//! class is findable under its own name.

use std::path::Path;
use std::time::Duration;

use persist_queue_core::records::Kind;
use serde::Serialize;

use crate::codec::{Codec, Postcard};
use crate::error::Result;
use crate::records::builder::{QueueType, RecordBuilder};
use crate::records::delivery::{Delivery, Entry, ItemId, PutOptions, QueueStats};
use crate::records::handle::Records;

/// Methods a typed queue hands to its [`Records`], written as their
/// signatures: explicit delegation (no `Deref`), one list.
macro_rules! delegate {
    ($($(#[$doc:meta])* fn $name:ident(&self $(, $arg:ident : $ty:ty)*) -> $ret:ty;)*) => {
        $(
            $(#[$doc])*
            pub fn $name(&self $(, $arg: $ty)*) -> $ret {
                self.0.$name($($arg),*)
            }
        )*
    };
}

macro_rules! record_queue_type {
    ($(#[$doc:meta])* $name:ident, $marker:ident, $kind:expr) => {
        $(#[$doc])*
        pub struct $name<T, C = Postcard>(Records<T, C>);

        #[doc(hidden)]
        #[derive(Debug)]
        pub struct $marker;

        impl QueueType for $marker {
            type Q<T, C> = $name<T, C>;
            const KIND: Kind = $kind;
            fn wrap<T, C>(records: Records<T, C>) -> $name<T, C> {
                $name(records)
            }
        }

        impl<T, C: Clone> Clone for $name<T, C> {
            fn clone(&self) -> Self {
                $name(self.0.clone())
            }
        }

        impl<T, C> std::fmt::Debug for $name<T, C> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_tuple(stringify!($name)).field(&self.0).finish()
            }
        }

        impl<T, C: Codec<T>> $name<T, C> {
            /// The handle every record queue type shares (for code generic
            /// over the queue types).
            pub fn records(&self) -> &Records<T, C> {
                &self.0
            }

            /// An async handle on the same queue.
            #[cfg(feature = "async")]
            pub fn to_async(&self) -> crate::AsyncRecords<T, C> {
                self.0.to_async()
            }

            /// Puts `item` in the caller's own transaction; see [`Records::put_in`].
            #[cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]
            pub fn put_in<'t, 'c: 't>(&self, tx: impl Into<crate::CallerTransaction<'t, 'c>>, item: &T) -> Result<u64>
            where
                T: Serialize,
            {
                self.0.put_in(tx, item)
            }

            /// Puts `item` with a delay and a priority in the caller's own transaction; see [`Records::put_in`].
            #[cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]
            pub fn put_in_with<'t, 'c: 't>(
                &self,
                tx: impl Into<crate::CallerTransaction<'t, 'c>>,
                item: &T,
                options: PutOptions,
            ) -> Result<u64>
            where
                T: Serialize,
            {
                self.0.put_in_with(tx, item, options)
            }

            /// Puts many items in the caller's own transaction; see [`Records::put_many_in`].
            #[cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]
            pub fn put_many_in<'t, 'c: 't>(
                &self,
                tx: impl Into<crate::CallerTransaction<'t, 'c>>,
                items: &[T],
            ) -> Result<Vec<Option<u64>>>
            where
                T: Serialize,
            {
                self.0.put_many_in(tx, items)
            }

            /// Acks a delivery in the caller's own transaction; see [`Records::ack_in`].
            #[cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]
            pub fn ack_in<'t, 'c: 't>(
                &self,
                tx: impl Into<crate::CallerTransaction<'t, 'c>>,
                delivery: &Delivery<T>,
            ) -> Result<()> {
                self.0.ack_in(tx, delivery)
            }

            delegate! {
                /// Damaged ranges skipped at open; see [`Records::skipped_ranges`].
                fn skipped_ranges(&self) -> u64;
                /// The kind of queue (order, uniqueness, whether done items are kept).
                fn kind(&self) -> Kind;
                /// Takes the next item in the queue's order, waiting for one.
                fn get(&self) -> Result<Delivery<T>>;
                /// Takes the next item, or fails with [`Error::Empty`](crate::Error::Empty) after `timeout`.
                fn get_timeout(&self, timeout: Duration) -> Result<Delivery<T>>;
                /// Takes the next item or fails with [`Error::Empty`](crate::Error::Empty) at once.
                #[doc(alias = "get_nowait")]
                fn try_get(&self) -> Result<Delivery<T>>;
                /// Takes up to `n` items at once (one transaction), without waiting.
                fn get_many(&self, n: u32) -> Result<Vec<Delivery<T>>>;
                /// Takes the item `id` if it is ready; see [`Records::get_id`].
                fn get_id(&self, id: u64) -> Result<Option<Delivery<T>>>;
                /// Takes the next ready item after `after`; see [`Records::next_in_order`].
                fn next_in_order(&self, after: impl ItemId) -> Result<Option<Delivery<T>>>;
                /// Marks an in-flight item done.
                fn ack(&self, item: impl ItemId) -> Result<()>;
                /// Gives an in-flight item back: ready again, at its place in the order.
                fn nack(&self, item: impl ItemId) -> Result<()>;
                /// Marks an in-flight item failed for good: never delivered again.
                fn ack_failed(&self, item: impl ItemId) -> Result<()>;
                /// Acks many in-flight items in one transaction; see [`Records::ack_many`].
                fn ack_many(&self, ids: &[u64]) -> Result<Vec<Result<()>>>;
                /// Confirms every item handed out since the last call; see [`Records::task_done`].
                fn task_done(&self) -> Result<()>;
                /// Every stored item in the queue's order (persist-queue's `queue()`).
                fn queue(&self) -> Result<Vec<Entry<T>>>;
                /// Items ready to be taken (persist-queue's `qsize()`).
                #[doc(alias = "qsize")]
                fn len(&self) -> Result<u64>;
                /// Whether no item is ready.
                fn is_empty(&self) -> Result<bool>;
                /// Items ready (persist-queue's `ready_count`).
                fn ready_count(&self) -> Result<u64>;
                /// Items in flight.
                fn unack_count(&self) -> Result<u64>;
                /// Acked items kept.
                fn acked_count(&self) -> Result<u64>;
                /// Failed items kept.
                fn ack_failed_count(&self) -> Result<u64>;
                /// Items ready or in flight.
                fn active_size(&self) -> Result<u64>;
                /// Makes every in-flight item ready again; returns how many.
                fn resume_unack_tasks(&self) -> Result<u64>;
                /// Deletes acked items; see [`Records::clear_acked_data`].
                fn clear_acked_data(&self, max_delete: u64, keep_latest: u64, clear_ack_failed: bool) -> Result<u64>;
                /// Gives unused disk space back (VACUUM), without reopening.
                fn shrink_disk_usage(&self) -> Result<()>;
                /// Gives a delivery back, due again after `delay`; see [`Records::nack_after`].
                fn nack_after(&self, delivery: &Delivery<T>, delay: Duration) -> Result<()>;
                /// Extends a delivery's lease (a heartbeat); see [`Records::extend`].
                fn extend(&self, delivery: &Delivery<T>, by: Duration) -> Result<()>;
                /// Keeps extending a delivery's lease while the work goes on; see [`Records::keep_alive`].
                fn keep_alive(&self, delivery: &Delivery<T>) -> crate::KeepAlive;
                /// The dead letters; see [`Records::dead_letters`].
                fn dead_letters(&self) -> Result<Vec<Entry<T>>>;
                /// Puts dead letters back; see [`Records::requeue_dead`].
                fn requeue_dead(&self, ids: &[u64]) -> Result<u64>;
                /// Puts every dead letter back; see [`Records::requeue_all_dead`].
                fn requeue_all_dead(&self) -> Result<u64>;
                /// Deletes every item of a status (dead letters, delayed); see [`Records::purge_status`].
                fn purge_status(&self, status: crate::Status) -> Result<u64>;
                /// Counts by state, oldest ready age, expired leases; see [`Records::stats`].
                fn stats(&self) -> Result<QueueStats>;
            }
        }

        impl<T: Serialize, C: Codec<T>> $name<T, C> {
            delegate! {
                /// Puts many items in one transaction (one commit, one flush).
                fn put_many(&self, items: &[T]) -> Result<Vec<Option<u64>>>;
                /// Replaces a live item (ready or in flight).
                fn update(&self, item: impl ItemId, value: &T) -> Result<()>;
                /// Puts one item with a priority and a delay; see [`Records::put_with`].
                fn put_with(&self, item: &T, options: PutOptions) -> Result<u64>;
                /// Puts many items with a priority and a delay in one transaction; see [`Records::put_many_with`].
                fn put_many_with(&self, items: &[T], options: PutOptions) -> Result<Vec<Option<u64>>>;
            }
        }

        impl $name<(), Postcard> {
            /// A builder for this queue in the SQLite database
            /// `dir/data.db`.
            pub fn builder(dir: impl AsRef<Path>) -> RecordBuilder<$marker> {
                RecordBuilder::sqlite(dir)
            }

            /// A builder for this queue as plain files in directory `dir`
            /// (no SQLite; several processes may share it).
            pub fn files(dir: impl AsRef<Path>) -> RecordBuilder<$marker> {
                RecordBuilder::files(dir)
            }

            /// A builder for this queue on a database server
            /// (`postgresql://…` or `mysql://…`); see
            /// [`RecordBuilder::server`].
            pub fn server(at: impl Into<crate::ServerAddress>) -> RecordBuilder<$marker> {
                RecordBuilder::server(at)
            }

            /// A builder for this queue in memory.
            pub fn in_memory() -> RecordBuilder<$marker> {
                RecordBuilder::in_memory()
            }
        }

        impl<T> $name<T, Postcard>
        where
            Postcard: Codec<T>,
        {
            /// Opens (or creates) the queue `default` in `dir/data.db`,
            /// synced, with postcard.
            pub fn open(dir: impl AsRef<Path>) -> Result<Self> {
                RecordBuilder::<$marker>::sqlite(dir).open()
            }
        }
    };
}

record_queue_type!(
    /// A queue with per-item acknowledgement: `get` hands out a
    /// [`crate::Delivery`] that stays in flight until `ack`, `nack` (ready
    /// again, same place) or `ack_failed` (never again). Acked items are
    /// kept until `clear_acked_data`. `.filo()` and `.unique()` on the
    /// builder give persist-queue's FILO and unique ack queues.
    #[doc(alias = "SQLiteAckQueue")]
    #[doc(alias = "FIFOSQLiteAckQueue")]
    #[doc(alias = "FILOSQLiteAckQueue")]
    #[doc(alias = "UniqueAckQ")]
    AckQueue,
    AckKind,
    Kind::ACK
);

record_queue_type!(
    /// A queue served lowest priority value first, ties by put order.
    PriorityQueue,
    PriorityKind,
    Kind::PRIORITY
);

record_queue_type!(
    /// A FIFO queue that refuses an item equal to one already waiting
    /// (maps compare by content, whatever their key order).
    #[doc(alias = "UniqueQ")]
    UniqueQueue,
    UniqueKind,
    Kind::UNIQUE
);

record_queue_type!(
    /// A FIFO queue of records (persist-queue's `SQLiteQueue`): with
    /// `auto_commit` (default) an item is deleted as it is taken; without,
    /// `task_done` deletes the items taken.
    #[doc(alias = "SQLiteQueue")]
    #[doc(alias = "FIFOSQLiteQueue")]
    FifoQueue,
    FifoKind,
    Kind::FIFO
);

record_queue_type!(
    /// A FILO (stack) queue of records (persist-queue's `FILOSQLiteQueue`).
    #[doc(alias = "FILOSQLiteQueue")]
    FiloQueue,
    FiloKind,
    Kind::FILO
);

impl<T: Serialize, C: Codec<T>> AckQueue<T, C> {
    /// Puts an item; returns its id.
    pub fn put(&self, item: &T) -> Result<u64> {
        self.0.put_one(item, 0)
    }
}

impl<T: Serialize, C: Codec<T>> FifoQueue<T, C> {
    /// Puts an item; returns its id.
    pub fn put(&self, item: &T) -> Result<u64> {
        self.0.put_one(item, 0)
    }
}

impl<T: Serialize, C: Codec<T>> FiloQueue<T, C> {
    /// Puts an item; returns its id.
    pub fn put(&self, item: &T) -> Result<u64> {
        self.0.put_one(item, 0)
    }
}

impl<T: Serialize, C: Codec<T>> PriorityQueue<T, C> {
    /// Puts an item with a priority (lower is served first); returns its
    /// id.
    pub fn put(&self, item: &T, priority: i64) -> Result<u64> {
        self.0.put_one(item, priority)
    }

    /// Puts many `(item, priority)` pairs in one transaction (one flush);
    /// their ids, in order.
    pub fn put_many_with_priority(&self, items: &[(T, i64)]) -> Result<Vec<u64>> {
        Ok(self.0.put_many_prioritized(items)?.into_iter().flatten().collect())
    }
}

impl<T: Serialize, C: Codec<T>> UniqueQueue<T, C> {
    /// Puts an item unless an equal one is waiting: its id, or `None` for
    /// a duplicate.
    pub fn put(&self, item: &T) -> Result<Option<u64>> {
        Ok(self.0.put_items(&[(item, 0)])?.into_iter().next().flatten())
    }
}
