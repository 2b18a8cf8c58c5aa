//! The secondary indexes of the in-process record stores (`MemoryTable`,
//! `LogTable`): ready records in each delivery order, leased and delayed
//! records by the time they are due, and the unique keys of live records.
//! Claims, expiries and duplicate checks are O(log n).

use alloc::collections::{BTreeMap, BTreeSet};
use alloc::vec::Vec;
use core::iter::Peekable;

use crate::records::id_ranges::IdRanges;
use crate::records::order::Order;
use crate::records::record::Status;

/// Indexes over a store's records, kept in step by `add` / `remove`.
///
/// Ready records of priority 0 (every record of a queue without
/// priorities) are runs of consecutive ids ([`IdRanges`]): a few bytes
/// for millions of them. Other priorities are indexed twice, by id (for
/// FIFO and FILO) and by priority then id.
#[derive(Clone, Debug, Default)]
pub(crate) struct Index {
    ready_plain: IdRanges,
    ready_ranked_ids: BTreeSet<u64>,
    ready_ranked: BTreeSet<(i64, u64)>,
    /// `Unacked` and `Delayed` records by `visible_at`.
    timed: BTreeSet<(u64, u64)>,
    live_keys: BTreeMap<[u8; 32], u64>,
}

impl Index {
    /// Indexes record `id` in this state.
    pub(crate) fn add(&mut self, id: u64, status: Status, priority: i64, key: Option<[u8; 32]>, at: u64) {
        if status == Status::Ready {
            if priority == 0 {
                self.ready_plain.insert(id);
            } else {
                self.ready_ranked_ids.insert(id);
                self.ready_ranked.insert((priority, id));
            }
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
        if priority == 0 {
            self.ready_plain.remove(id);
        } else {
            self.ready_ranked_ids.remove(&id);
            self.ready_ranked.remove(&(priority, id));
        }
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
        let ranked = |r: core::ops::RangeFrom<(i64, u64)>| self.ready_ranked.range(r).map(|&(_, id)| id);
        match order {
            Order::Fifo => {
                Merged::new(self.ready_plain.iter(), self.ready_ranked_ids.iter().copied(), u64::lt)
                    .take(n)
                    .collect()
            }
            Order::Filo => Merged::new(
                self.ready_plain.iter().rev(),
                self.ready_ranked_ids.iter().rev().copied(),
                u64::gt,
            )
            .take(n)
            .collect(),
            Order::Priority => self
                .ready_ranked
                .iter()
                .take_while(|&&(p, _)| p < 0)
                .map(|&(_, id)| id)
                .chain(self.ready_plain.iter())
                .chain(ranked((1, 0)..))
                .take(n)
                .collect(),
        }
    }
}

/// Two iterators, each sorted by `first`, merged into one sorted the same way.
struct Merged<A: Iterator<Item = u64>, B: Iterator<Item = u64>> {
    a: Peekable<A>,
    b: Peekable<B>,
    first: fn(&u64, &u64) -> bool,
}

impl<A: Iterator<Item = u64>, B: Iterator<Item = u64>> Merged<A, B> {
    fn new(a: A, b: B, first: fn(&u64, &u64) -> bool) -> Self {
        Merged { a: a.peekable(), b: b.peekable(), first }
    }
}

impl<A: Iterator<Item = u64>, B: Iterator<Item = u64>> Iterator for Merged<A, B> {
    type Item = u64;

    fn next(&mut self) -> Option<u64> {
        match (self.a.peek(), self.b.peek()) {
            (Some(a), Some(b)) if (self.first)(b, a) => self.b.next(),
            (Some(_), _) => self.a.next(),
            (None, _) => self.b.next(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Index;
    use crate::records::order::Order;
    use crate::records::record::Status;

    #[test]
    fn each_order_interleaves_plain_and_ranked_ready_records() {
        let mut index = Index::default();
        for (id, priority) in [(1, 0), (2, 5), (3, -1), (4, 0), (5, 0), (6, -1), (7, 5)] {
            index.add(id, Status::Ready, priority, None, 0);
        }
        index.add(8, Status::Unacked, 0, None, 9);
        assert_eq!(index.first_ready(Order::Fifo, 10), [1, 2, 3, 4, 5, 6, 7]);
        assert_eq!(index.first_ready(Order::Filo, 3), [7, 6, 5]);
        assert_eq!(index.first_ready(Order::Priority, 10), [3, 6, 1, 4, 5, 2, 7]);
        index.remove(4, 0, None, 0);
        index.remove(3, -1, None, 0);
        assert_eq!(index.first_ready(Order::Priority, 10), [6, 1, 5, 2, 7]);
        assert_eq!(index.first_ready(Order::Fifo, 2), [1, 2]);
    }
}
