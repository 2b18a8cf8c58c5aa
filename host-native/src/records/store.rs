//! The record stores a record queue can be opened on, behind one object
//! type so that queue types do not carry the store in their type.

use std::error::Error as StdError;
use std::sync::{Arc, Mutex};

use persist_queue_core::records::{MemoryTable, Outcome, Plan, Table};

/// A record store, type-erased.
pub(crate) trait DynTable: Send {
    fn run(&mut self, plan: &Plan) -> Result<Outcome, Box<dyn StdError + Send + Sync>>;
    fn skipped(&self) -> u64;
}

impl<T> DynTable for T
where
    T: Table + Send,
    T::Error: StdError + Send + Sync + 'static,
{
    fn run(&mut self, plan: &Plan) -> Result<Outcome, Box<dyn StdError + Send + Sync>> {
        self.execute(plan).map_err(|e| Box::new(e) as Box<dyn StdError + Send + Sync>)
    }

    fn skipped(&self) -> u64 {
        self.skipped_ranges()
    }
}

/// The erased store, as a `Table` the core's `RecordQueue` can drive.
pub(crate) struct AnyTable(pub(crate) Box<dyn DynTable>);

/// The error of an erased store.
#[derive(Debug)]
pub(crate) struct StoreError(pub(crate) Box<dyn StdError + Send + Sync>);

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl Table for AnyTable {
    type Error = StoreError;
    fn execute(&mut self, plan: &Plan) -> Result<Outcome, StoreError> {
        self.0.run(plan).map_err(StoreError)
    }

    fn skipped_ranges(&self) -> u64 {
        self.0.skipped()
    }
}

/// An in-memory table shared by every handle of one queue (tests, caches).
#[derive(Clone, Debug, Default)]
pub(crate) struct SharedMemory(pub(crate) Arc<Mutex<MemoryTable>>);

impl Table for SharedMemory {
    type Error = std::convert::Infallible;
    fn execute(&mut self, plan: &Plan) -> Result<Outcome, Self::Error> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).execute(plan)
    }
}
