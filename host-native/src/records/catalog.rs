//! Which record queues a place holds: the queue kinds by the names of
//! their stores (persist-queue's table prefixes), and the listing of a
//! directory, an SQLite file or a database server.

use std::path::Path;

use persist_queue_core::records::{Kind, Order, valid_name};

use crate::error::Result;
use crate::records::server::ServerAddress;

/// A record queue kind, as a store's name says it (`ack_queue_jobs` is the
/// ack queue `jobs`): persist-queue's per-class table prefixes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum QueueKind {
    /// [`crate::FifoQueue`] (`queue_`; persist-queue's `SQLiteQueue`).
    Fifo,
    /// [`crate::FiloQueue`] (`filo_queue_`).
    Filo,
    /// [`crate::PriorityQueue`] (`priority_queue_`).
    Priority,
    /// [`crate::UniqueQueue`] (`unique_queue_`).
    Unique,
    /// [`crate::AckQueue`] (`ack_queue_`).
    Ack,
    /// `AckQueue` with `.filo()` (`ack_filo_queue_`).
    AckFilo,
    /// `AckQueue` with `.unique()` (`ack_unique_queue_`).
    AckUnique,
}

impl QueueKind {
    /// Every kind.
    pub const ALL: [QueueKind; 7] = [
        QueueKind::Fifo,
        QueueKind::Filo,
        QueueKind::Priority,
        QueueKind::Unique,
        QueueKind::Ack,
        QueueKind::AckFilo,
        QueueKind::AckUnique,
    ];

    /// The kind a queue of the core's [`Kind`] is stored as.
    pub fn of(kind: Kind) -> QueueKind {
        match (kind.keep_done, kind.unique, kind.order) {
            (true, true, _) => QueueKind::AckUnique,
            (true, false, Order::Filo) => QueueKind::AckFilo,
            (true, false, _) => QueueKind::Ack,
            (false, true, _) => QueueKind::Unique,
            (false, false, Order::Priority) => QueueKind::Priority,
            (false, false, Order::Filo) => QueueKind::Filo,
            (false, false, Order::Fifo) => QueueKind::Fifo,
        }
    }

    /// The core's rules for this kind.
    pub fn kind(self) -> Kind {
        match self {
            QueueKind::Fifo => Kind::FIFO,
            QueueKind::Filo => Kind::FILO,
            QueueKind::Priority => Kind::PRIORITY,
            QueueKind::Unique => Kind::UNIQUE,
            QueueKind::Ack => Kind::ACK,
            QueueKind::AckFilo => Kind::ACK_FILO,
            QueueKind::AckUnique => Kind::ACK_UNIQUE,
        }
    }

    /// The prefix of its stores' names (persist-queue's table prefix).
    pub fn prefix(self) -> &'static str {
        match self {
            QueueKind::Fifo => "queue",
            QueueKind::Filo => "filo_queue",
            QueueKind::Priority => "priority_queue",
            QueueKind::Unique => "unique_queue",
            QueueKind::Ack => "ack_queue",
            QueueKind::AckFilo => "ack_filo_queue",
            QueueKind::AckUnique => "ack_unique_queue",
        }
    }

    /// A short name for tools (`fifo`, `ack-filo`, ...).
    pub fn label(self) -> &'static str {
        match self {
            QueueKind::Fifo => "fifo",
            QueueKind::Filo => "filo",
            QueueKind::Priority => "priority",
            QueueKind::Unique => "unique",
            QueueKind::Ack => "ack",
            QueueKind::AckFilo => "ack-filo",
            QueueKind::AckUnique => "ack-unique",
        }
    }

    /// The kind of that [`label`](Self::label).
    pub fn from_label(label: &str) -> Option<QueueKind> {
        QueueKind::ALL.into_iter().find(|k| k.label() == label)
    }

    /// The queue a store name names (`ack_queue_jobs`: the ack queue
    /// `jobs`), or `None` for a name no queue kind gives.
    pub fn from_store_name(store: &str) -> Option<(QueueKind, String)> {
        // Longest prefix first: `ack_queue_` must not read as `queue_`-less.
        let mut kinds = QueueKind::ALL;
        kinds.sort_by_key(|k| std::cmp::Reverse(k.prefix().len()));
        kinds.into_iter().find_map(|k| {
            let name = store.strip_prefix(k.prefix())?.strip_prefix('_')?;
            valid_name(name).then(|| (k, name.to_string()))
        })
    }
}

impl std::fmt::Display for QueueKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.label())
    }
}

/// A record queue found in a place: its kind and name, as
/// `RecordBuilder::kind(kind).name(name)` opens it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct StoredQueue {
    /// Its kind.
    pub kind: QueueKind,
    /// Its name (the store's, lowercase).
    pub name: String,
}

fn stored(names: impl IntoIterator<Item = String>) -> Vec<StoredQueue> {
    let mut out: Vec<StoredQueue> = names
        .into_iter()
        .filter_map(|n| QueueKind::from_store_name(&n))
        .map(|(kind, name)| StoredQueue { kind, name })
        .collect();
    out.sort();
    out
}

/// The plain-files record queues (`RecordBuilder::files(dir)`) in `dir`:
/// its subdirectories named as a queue's store. Changes nothing.
pub fn queues_in_dir(dir: impl AsRef<Path>) -> Result<Vec<StoredQueue>> {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_type()?.is_dir()
            && let Some(name) = entry.file_name().to_str()
        {
            names.push(name.to_string());
        }
    }
    Ok(stored(names))
}

/// The record queues in the SQLite database file `file` (ours and
/// persist-queue's: the table names are the same). Changes nothing; a
/// missing file is an error.
#[cfg(feature = "sqlite")]
pub fn queues_in_sqlite(file: impl AsRef<Path>) -> Result<Vec<StoredQueue>> {
    Ok(stored(persist_queue_sqlite::table_names(file)?))
}

/// The record queues in the database a server address names. Changes
/// nothing.
pub fn queues_on_server(at: impl Into<ServerAddress>) -> Result<Vec<StoredQueue>> {
    Ok(stored(crate::records::server::table_names(&at.into())?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_names_read_back_as_kind_and_name() {
        for k in QueueKind::ALL {
            let store = persist_queue_core::records::store_name(k.prefix(), "Jobs_1");
            assert_eq!(QueueKind::from_store_name(&store), Some((k, "jobs_1".to_string())));
            assert_eq!(QueueKind::of(k.kind()), k);
            assert_eq!(QueueKind::from_label(k.label()), Some(k));
        }
        assert_eq!(
            QueueKind::from_store_name("queue_ack_queue_x"),
            Some((QueueKind::Fifo, "ack_queue_x".into()))
        );
        for other in ["dict_x", "pq_schema", "queue_", "queue_a-b", "sqlite_sequence"] {
            assert_eq!(QueueKind::from_store_name(other), None, "{other}");
        }
    }
}
