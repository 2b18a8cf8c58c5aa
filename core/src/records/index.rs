//! The secondary indexes of the in-process record stores (`MemoryTable`,
//! `LogTable`): ready records in each delivery order, leased and delayed
//! records by the time they are due, and the unique keys of live records.
//! Claims, expiries and duplicate checks are O(log n).

use alloc::collections::{BTreeMap, BTreeSet};
use alloc::vec::Vec;

use crate::records::order::Order;
use crate::records::record::Status;

/// Indexes over a store's records, kept in step by `add` / `remove`.
#[derive(Clone, Debug, Default)]
pub(crate) struct Index {
    ready_ids: BTreeSet<u64>,
    ready_prio: BTreeSet<(i64, u64)>,
    /// `Unacked` and `Delayed` records by `visible_at`.
    timed: BTreeSet<(u64, u64)>,
    live_keys: BTreeMap<[u8; 32], u64>,
}

impl Index {
    /// Indexes record `id` in this state.
    pub(crate) fn add(&mut self, id: u64, status: Status, priority: i64, key: Option<[u8; 32]>, at: u64) {
        if status == Status::Ready {
            self.ready_ids.insert(id);
            self.ready_prio.insert((priority, id));
        }
        if status.is_timed() {
            self.timed.insert((at, id));
        }
        if let Some(k) = key
            && status.is_live()
        {
            self.live_keys.insert(k, id);
        }
    }

    /// Forgets record `id`, last indexed with this priority, key and
    /// `visible_at`.
    pub(crate) fn remove(&mut self, id: u64, priority: i64, key: Option<[u8; 32]>, at: u64) {
        self.ready_ids.remove(&id);
        self.ready_prio.remove(&(priority, id));
        self.timed.remove(&(at, id));
        if let Some(k) = key
            && self.live_keys.get(&k) == Some(&id)
        {
            self.live_keys.remove(&k);
        }
    }

    /// The live record holding unique key `key`.
    pub(crate) fn key_holder(&self, key: &[u8; 32]) -> Option<u64> {
        self.live_keys.get(key).copied()
    }

    /// The leased and delayed records due at `now`, soonest first. An
    /// in-flight record with `visible_at` 0 holds no lease (a version before
    /// leases claimed it, and may still be working on it): it never falls
    /// due; `Plan::LeaseInFlight` gives it a lease when a queue opens.
    pub(crate) fn due(&self, now: u64) -> Vec<u64> {
        self.timed.range((1, 0)..(now.saturating_add(1), 0)).map(|&(_, id)| id).collect()
    }

    /// The first `n` ready records in `order`.
    pub(crate) fn first_ready(&self, order: Order, n: usize) -> Vec<u64> {
        match order {
            Order::Fifo => self.ready_ids.iter().take(n).copied().collect(),
            Order::Filo => self.ready_ids.iter().rev().take(n).copied().collect(),
            Order::Priority => self.ready_prio.iter().take(n).map(|&(_, id)| id).collect(),
        }
    }
}
