//! The record queue types, named by what they do; each persist-queue
//! class is findable under its own name.

use std::ops::Deref;
use std::path::Path;

use persist_queue_core::records::Kind;
use serde::Serialize;

use crate::codec::{Codec, Postcard};
use crate::error::Result;
use crate::records::builder::{QueueType, RecordBuilder};
use crate::records::handle::Records;

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

        impl<T, C> Deref for $name<T, C> {
            type Target = Records<T, C>;
            fn deref(&self) -> &Records<T, C> {
                &self.0
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
        self.put_one(item, 0)
    }
}

impl<T: Serialize, C: Codec<T>> FifoQueue<T, C> {
    /// Puts an item; returns its id.
    pub fn put(&self, item: &T) -> Result<u64> {
        self.put_one(item, 0)
    }
}

impl<T: Serialize, C: Codec<T>> FiloQueue<T, C> {
    /// Puts an item; returns its id.
    pub fn put(&self, item: &T) -> Result<u64> {
        self.put_one(item, 0)
    }
}

impl<T: Serialize, C: Codec<T>> PriorityQueue<T, C> {
    /// Puts an item with a priority (lower is served first); returns its
    /// id.
    pub fn put(&self, item: &T, priority: i64) -> Result<u64> {
        self.put_one(item, priority)
    }

    /// Puts many `(item, priority)` pairs in one transaction (one flush);
    /// their ids, in order.
    pub fn put_many_with_priority(&self, items: &[(T, i64)]) -> Result<Vec<u64>> {
        let refs: Vec<(&T, i64)> = items.iter().map(|(item, p)| (item, *p)).collect();
        Ok(self.put_items(&refs)?.into_iter().flatten().collect())
    }
}

impl<T: Serialize, C: Codec<T>> UniqueQueue<T, C> {
    /// Puts an item unless an equal one is waiting: its id, or `None` for
    /// a duplicate.
    pub fn put(&self, item: &T) -> Result<Option<u64>> {
        Ok(self.put_items(&[(item, 0)])?.into_iter().next().flatten())
    }
}
