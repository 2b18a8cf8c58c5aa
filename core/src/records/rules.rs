//! The rules of the record queues, written once for every store: which
//! plan each operation is, which transitions are allowed, and what an
//! outcome means. [`crate::records::RecordQueue`] runs them on any
//! [`crate::records::Table`].

use alloc::vec::Vec;
use core::fmt;

use crate::records::order::Order;
use crate::records::plan::{Claimed, Counts, Outcome, Plan, Target};
use crate::records::record::{NewRecord, Record, Status, StatusSet};
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

/// A queue operation failed.
#[derive(Debug, PartialEq, Eq)]
pub enum RecordError<E> {
    /// The store failed.
    Store(E),
    /// No record has this id (never put, or purged).
    UnknownId(u64),
    /// The record is not in flight, so it cannot be acked, nacked or
    /// failed (persist-queue silently "succeeds" here, B12/B13).
    NotInFlight {
        /// The record.
        id: u64,
        /// Its status.
        status: Status,
    },
    /// An update would make the item equal to another live one (unique
    /// queues).
    Duplicate,
    /// The store answered a plan with the wrong outcome: a bug in the
    /// store, reported rather than trusted.
    Protocol(&'static str),
}

impl<E: fmt::Display> fmt::Display for RecordError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecordError::Store(e) => write!(f, "store error: {e}"),
            RecordError::UnknownId(id) => write!(f, "no item has id {id}"),
            RecordError::NotInFlight { id, status } => {
                write!(f, "item {id} is not in flight (its status is {status:?})")
            }
            RecordError::Duplicate => f.write_str("an equal item is already in the queue"),
            RecordError::Protocol(what) => write!(f, "store answered with the wrong outcome: {what}"),
        }
    }
}

impl<E: fmt::Debug + fmt::Display> core::error::Error for RecordError<E> {}

/// Per id of a batch: settled, or why not.
pub type Settled<E> = Vec<Result<(), RecordError<E>>>;

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
}

// ---- plan builders ---------------------------------------------------------

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
            })
            .collect();
        Plan::Insert { records }
    }

    /// Taking up to `limit` items. `auto_commit`: delete them at once
    /// (plain queues' default, at-most-once); otherwise they are in flight
    /// until settled. Ack queues always keep them in flight.
    pub fn claim_plan(&self, limit: u32, auto_commit: bool) -> Plan {
        Plan::Claim { order: self.order, limit: limit.max(1), then: self.claimed(auto_commit) }
    }

    /// Taking the item `id`, if it is ready.
    pub fn claim_id_plan(&self, id: u64, auto_commit: bool) -> Plan {
        Plan::ClaimId { id, then: self.claimed(auto_commit) }
    }

    fn claimed(&self, auto_commit: bool) -> Claimed {
        if auto_commit && !self.keep_done { Claimed::Deleted } else { Claimed::Unacked }
    }

    /// Settling in-flight items `ids`. Only `Unacked` records change.
    pub fn settle_plan(&self, ids: Vec<u64>, verdict: Verdict) -> Plan {
        let to = match verdict {
            Verdict::Nack => Target::Status(Status::Ready),
            Verdict::Ack if !self.keep_done => Target::Delete,
            Verdict::Ack => Target::Status(Status::Acked),
            Verdict::Fail => Target::Status(Status::AckFailed),
        };
        Plan::Transition { ids, from: StatusSet::of(Status::Unacked), to }
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

// ---- outcome readers ------------------------------------------------------

/// The ids an insert assigned (`None`: a duplicate, skipped).
pub fn read_inserted<E>(o: Outcome, n: usize) -> Result<Vec<Option<u64>>, RecordError<E>> {
    match o {
        Outcome::Inserted(ids) if ids.len() == n => Ok(ids),
        _ => Err(RecordError::Protocol("insert must answer one slot per record")),
    }
}

/// Records read or claimed.
pub fn read_records<E>(o: Outcome) -> Result<Vec<Record>, RecordError<E>> {
    match o {
        Outcome::Records(r) => Ok(r),
        _ => Err(RecordError::Protocol("expected records")),
    }
}

/// Per id, whether settling it succeeded.
pub fn read_settled<E>(ids: &[u64], o: Outcome) -> Result<Settled<E>, RecordError<E>> {
    read_settled_from(ids, o, Status::Unacked)
}

/// Per id, whether its status was `from` (the transition applied to it):
/// [`read_settled`] for items the store holds as `from`.
pub fn read_settled_from<E>(ids: &[u64], o: Outcome, from: Status) -> Result<Settled<E>, RecordError<E>> {
    let Outcome::Before(before) = o else {
        return Err(RecordError::Protocol("transition must answer Before"));
    };
    if before.len() != ids.len() {
        return Err(RecordError::Protocol("transition must answer one slot per id"));
    }
    Ok(ids
        .iter()
        .zip(before)
        .map(|(&id, b)| match b {
            None => Err(RecordError::UnknownId(id)),
            Some(s) if s == from => Ok(()),
            Some(status) => Err(RecordError::NotInFlight { id, status }),
        })
        .collect())
}

/// Records counted per status.
pub fn read_counts<E>(o: Outcome) -> Result<Counts, RecordError<E>> {
    match o {
        Outcome::Counts(c) => Ok(c),
        _ => Err(RecordError::Protocol("expected counts")),
    }
}

/// A number of records changed or deleted.
pub fn read_count<E>(o: Outcome) -> Result<u64, RecordError<E>> {
    match o {
        Outcome::Count(n) => Ok(n),
        _ => Err(RecordError::Protocol("expected a count")),
    }
}
