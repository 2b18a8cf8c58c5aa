//! The persistent map (persist-queue's `PDict`): the contract a map store
//! implements, and the in-memory reference.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use core::convert::Infallible;
use core::fmt;
use core::future::Future;

/// One atomic operation on a map store. Keys are the host's encoding of
/// the key (so `5` and `"5"` are different keys); iteration is in key-byte
/// order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MapPlan {
    /// Sets `key` to `value`. Outcome: [`MapOutcome::Value`], the previous
    /// value.
    Insert {
        /// Encoded key.
        key: Vec<u8>,
        /// Encoded value.
        value: Vec<u8>,
    },
    /// Reads `key`. Outcome: [`MapOutcome::Value`].
    Get {
        /// Encoded key.
        key: Vec<u8>,
    },
    /// Deletes `key` (deleting a missing key succeeds). Outcome:
    /// [`MapOutcome::Value`], the removed value.
    Remove {
        /// Encoded key.
        key: Vec<u8>,
    },
    /// Counts entries. Outcome: [`MapOutcome::Len`].
    Len,
    /// Up to `limit` entries with keys strictly after `after`, in key
    /// order (a page of an iteration). Outcome: [`MapOutcome::Entries`].
    Scan {
        /// Resume after this key.
        after: Option<Vec<u8>>,
        /// Most entries (at least 1).
        limit: u32,
    },
}

/// A map store's answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MapOutcome {
    /// A value, or none.
    Value(Option<Vec<u8>>),
    /// An entry count.
    Len(u64),
    /// Key/value pairs in key order.
    Entries(Vec<(Vec<u8>, Vec<u8>)>),
}

/// A map store for one persistent map: the seam every map store
/// implements. Executes [`MapPlan`]s atomically; like
/// [`crate::records::Table::execute`], a synchronous store returns a ready
/// future and IndexedDB awaits its transaction.
pub trait MapTable {
    /// The store's own error.
    type Error: fmt::Debug + fmt::Display;
    /// Executes `plan` atomically.
    fn execute_map(&mut self, plan: &MapPlan) -> impl Future<Output = Result<MapOutcome, Self::Error>>;
}

/// The map contract in memory (the reference).
#[derive(Clone, Debug, Default)]
pub struct MemoryMap(BTreeMap<Vec<u8>, Vec<u8>>);

impl MapTable for MemoryMap {
    type Error = Infallible;
    fn execute_map(&mut self, plan: &MapPlan) -> impl Future<Output = Result<MapOutcome, Infallible>> {
        core::future::ready(Ok(match plan {
            MapPlan::Insert { key, value } => MapOutcome::Value(self.0.insert(key.clone(), value.clone())),
            MapPlan::Get { key } => MapOutcome::Value(self.0.get(key).cloned()),
            MapPlan::Remove { key } => MapOutcome::Value(self.0.remove(key)),
            MapPlan::Len => MapOutcome::Len(self.0.len() as u64),
            MapPlan::Scan { after, limit } => {
                let range = match after {
                    Some(k) => self
                        .0
                        .range::<Vec<u8>, _>((core::ops::Bound::Excluded(k), core::ops::Bound::Unbounded)),
                    None => self.0.range::<Vec<u8>, _>(..),
                };
                MapOutcome::Entries(
                    range.take((*limit).max(1) as usize).map(|(k, v)| (k.clone(), v.clone())).collect(),
                )
            }
        }))
    }
}
