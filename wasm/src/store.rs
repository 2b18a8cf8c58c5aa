//! The backend behind a handle: IndexedDB or localStorage, one type the
//! core's driver runs on.

use persist_queue_core::Durability;
use persist_queue_core::records::LogError;
use persist_queue_core::records::{LogTable, Outcome, Plan, Table};
use persist_queue_indexeddb::IdbTable;
use persist_queue_local_storage::{LocalStorage, LsError};

use crate::error::StoreError;

/// Which storage a queue lives in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Backend {
    /// IndexedDB: durable (strict) or relaxed, shared by tabs and workers.
    IndexedDb,
    /// localStorage: synchronous, small, one page at a time, never synced.
    LocalStorage,
}

impl Backend {
    /// The level a queue gets when the options name none: strict on
    /// IndexedDB (Chromium's own default became relaxed in Chrome 121),
    /// relaxed on localStorage, which cannot be strict.
    pub(crate) fn default_durability(self) -> Durability {
        match self {
            Backend::IndexedDb => Durability::Synced,
            Backend::LocalStorage => Durability::Buffered,
        }
    }

    pub(crate) fn parse(s: &str) -> Option<Backend> {
        match s {
            "indexeddb" | "indexedDB" => Some(Backend::IndexedDb),
            "localstorage" | "localStorage" => Some(Backend::LocalStorage),
            _ => None,
        }
    }
}

/// A queue's table.
pub(crate) enum Store {
    Idb(IdbTable),
    Ls(Box<LogTable<LocalStorage>>),
}

impl Table for Store {
    type Error = StoreError;

    /// IndexedDB over its quota; localStorage over its quota (where the
    /// log makes room for deletions: its reserve, its dead chunks).
    fn only_deletes(error: &StoreError) -> bool {
        match error {
            StoreError::Idb(e) => IdbTable::only_deletes(e),
            StoreError::Ls(LogError::Storage(e)) => matches!(e, LsError::QuotaExceeded(_)),
            StoreError::Ls(_) => false,
        }
    }

    async fn execute(&mut self, plan: &Plan) -> Result<Outcome, StoreError> {
        match self {
            Store::Idb(t) => Ok(t.execute(plan).await?),
            Store::Ls(t) => Ok(t.execute(plan).await?),
        }
    }
}
