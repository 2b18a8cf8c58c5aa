//! The queue kinds ([`Kind`]: order, uniqueness, whether done items are
//! kept) and, for each queue operation, the [`Plan`] a store executes for
//! it: the rules of the record queues, written once for every store.
//! [`crate::records::RecordQueue`] runs them on any [`crate::records::Table`].

use alloc::vec::Vec;

use crate::records::order::Order;
use crate::records::plan::{Claimed, Lease, Plan, Target};
use crate::records::record::{NewRecord, Status, StatusSet};
use crate::records::unique::unique_key;

/// What kind of queue a table holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Kind {
    /// Delivery order.
    pub order: Order,
    /// Refuse an item equal to a live one (ready or in flight).
    pub unique: bool,
    /// Keep acked / failed records until purged (ack queues), instead of
    /// deleting them when acked.
    pub keep_done: bool,
}

impl Kind {
    /// persist-queue's `SQLiteQueue` / `FIFOSQLiteQueue`.
    pub const FIFO: Kind = Kind { order: Order::Fifo, unique: false, keep_done: false };
    /// `FILOSQLiteQueue`.
    pub const FILO: Kind = Kind { order: Order::Filo, unique: false, keep_done: false };
    /// `PriorityQueue`.
    pub const PRIORITY: Kind = Kind { order: Order::Priority, unique: false, keep_done: false };
    /// `UniqueQ`.
    pub const UNIQUE: Kind = Kind { order: Order::Fifo, unique: true, keep_done: false };
    /// `SQLiteAckQueue` / `FIFOSQLiteAckQueue`.
    pub const ACK: Kind = Kind { order: Order::Fifo, unique: false, keep_done: true };
    /// `FILOSQLiteAckQueue`.
    pub const ACK_FILO: Kind = Kind { order: Order::Filo, unique: false, keep_done: true };
    /// `UniqueAckQ`.
    pub const ACK_UNIQUE: Kind = Kind { order: Order::Fifo, unique: true, keep_done: true };
}

/// How a consumer settles an item it was given.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Verdict {
    /// Done: `Acked` (kept until purged in ack queues, deleted otherwise).
    Ack,
    /// Give it back: `Ready` again, at its place in the order.
    Nack,
    /// Failed for good: `AckFailed`, never delivered again.
    Fail,
}

/// One item to put.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Put<'a> {
    /// The encoded item.
    pub payload: &'a [u8],
    /// Lower is served first (priority queues).
    pub priority: i64,
    /// The item's canonical encoding, for unique queues (`None`: the
    /// payload is canonical).
    pub canonical: Option<&'a [u8]>,
    /// Milliseconds before it is due (0: at once; more: `Delayed`).
    pub delay: u64,
}

impl<'a> Put<'a> {
    /// An item due at once, priority 0, its payload canonical.
    pub fn new(payload: &'a [u8]) -> Put<'a> {
        Put { payload, priority: 0, canonical: None, delay: 0 }
    }
}

impl Kind {
    /// Inserting `items` at time `now` (ms since the Unix epoch).
    pub fn put_plan(&self, items: &[Put<'_>], now: u64) -> Plan {
        let records = items
            .iter()
            .map(|p| NewRecord {
                payload: p.payload.to_vec(),
                priority: if self.order == Order::Priority { p.priority } else { 0 },
                timestamp: now,
                unique_key: self.unique.then(|| unique_key(p.canonical.unwrap_or(p.payload))),
                delay: p.delay,
            })
            .collect();
        Plan::Insert { records }
    }

    /// Taking up to `limit` items. `auto_commit`: delete them at once
    /// (plain queues' default, at-most-once); otherwise they are in flight,
    /// leased for `lease.ms`, until settled or the lease ends. Ack queues
    /// always keep them in flight.
    pub fn claim_plan(&self, limit: u32, auto_commit: bool, lease: Lease) -> Plan {
        Plan::Claim { order: self.order, limit: limit.max(1), then: self.claimed(auto_commit), lease }
    }

    /// Taking the item `id`, if it is ready (or its lease or delay ended).
    pub fn claim_id_plan(&self, id: u64, auto_commit: bool, lease: Lease) -> Plan {
        Plan::ClaimId { id, then: self.claimed(auto_commit), lease }
    }

    /// Settling deliveries `(id, lease token)`, fenced: only a record still
    /// in flight under that token changes. A nack with a `delay` makes it
    /// `Delayed` for that long.
    pub fn settle_lease_plan(&self, leases: Vec<(u64, u32)>, verdict: Verdict, now: u64, delay: u64) -> Plan {
        Plan::Settle { leases, to: self.verdict_target(verdict), now, delay }
    }

    /// Extending the lease of delivery `(id, token)` to `lease.until()`.
    pub fn extend_plan(&self, id: u64, token: u32, lease: Lease) -> Plan {
        Plan::Settle {
            leases: alloc::vec![(id, token)],
            to: Target::Status(Status::Unacked),
            now: lease.now,
            delay: lease.ms,
        }
    }

    /// At open: items in flight since before leases existed get a lease
    /// from now.
    pub fn lease_in_flight_plan(&self, lease: Lease) -> Plan {
        Plan::LeaseInFlight { lease }
    }

    fn verdict_target(&self, verdict: Verdict) -> Target {
        match verdict {
            Verdict::Nack => Target::Status(Status::Ready),
            Verdict::Ack if !self.keep_done => Target::Delete,
            Verdict::Ack => Target::Status(Status::Acked),
            Verdict::Fail => Target::Status(Status::AckFailed),
        }
    }

    fn claimed(&self, auto_commit: bool) -> Claimed {
        if auto_commit && !self.keep_done { Claimed::Deleted } else { Claimed::Unacked }
    }

    /// Settling in-flight items `ids`. Only `Unacked` records change.
    pub fn settle_plan(&self, ids: Vec<u64>, verdict: Verdict) -> Plan {
        Plan::Transition { ids, from: StatusSet::of(Status::Unacked), to: self.verdict_target(verdict) }
    }

    /// Deleting the items `ids` whose status is `from`: at a store's quota
    /// an ack deletes (`Unacked`), and so does settling a held claim
    /// (`Ready`: held items were never marked).
    pub fn delete_plan(&self, ids: Vec<u64>, from: Status) -> Plan {
        Plan::Transition { ids, from: StatusSet::of(from), to: Target::Delete }
    }

    /// Recovery at open (`auto_resume`): every in-flight item is ready
    /// again.
    pub fn resume_plan(&self) -> Plan {
        Plan::TransitionAll { from: StatusSet::of(Status::Unacked), to: Target::Status(Status::Ready) }
    }

    /// persist-queue's `clear_acked_data(max_delete, keep_latest,
    /// clear_ack_failed)`; 0 means "no limit" for both numbers.
    pub fn purge_plan(&self, max_delete: u64, keep_latest: u64, include_failed: bool) -> Plan {
        let mut statuses = StatusSet::of(Status::Acked);
        if include_failed {
            statuses = statuses.with(Status::AckFailed);
        }
        Plan::Purge { statuses, keep_latest, max_delete }
    }

    /// Replacing the payload of a live item.
    pub fn update_plan(&self, id: u64, put: &Put<'_>) -> Plan {
        Plan::Update {
            id,
            payload: put.payload.to_vec(),
            unique_key: self.unique.then(|| unique_key(put.canonical.unwrap_or(put.payload))),
            from: StatusSet::LIVE,
        }
    }
}
