//! The rules of the record queues, written once for every store: which
//! plan each operation is, which transitions are allowed, and what an
//! outcome means. [`RecordQueue`] runs them on a synchronous [`Table`];
//! asynchronous hosts use the same plan builders and outcome readers.

use alloc::vec::Vec;
use core::fmt;

use crate::records::order::{Order, OrderKey};
use crate::records::plan::{Claimed, Counts, Outcome, Plan, Table, Target};
use crate::records::record::{NewRecord, Record, Status, StatusSet};
use crate::records::unique::unique_key;

/// Whether `name` may name a queue or a map: 1 to 64 of `A-Z`, `a-z`,
/// `0-9` and `_`. Stores build table, key and directory names from it, so
/// no user text ever needs escaping (persist-queue pastes names into SQL,
/// B4a).
pub fn valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

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
#[non_exhaustive]
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
            Some(Status::Unacked) => Ok(()),
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

// ---- the synchronous driver -------------------------------------------------

/// A record queue of one [`Kind`] on a synchronous [`Table`]: each method
/// is one atomic plan (two for `next_in_order`, which is then a claim of a
/// known id: still atomic against other consumers).
#[derive(Debug)]
pub struct RecordQueue<T: Table> {
    table: T,
    kind: Kind,
}

impl<T: Table> RecordQueue<T> {
    /// A queue over `table`. With `auto_resume`, items left in flight by a
    /// previous run are made ready again.
    pub fn open(table: T, kind: Kind, auto_resume: bool) -> Result<Self, RecordError<T::Error>> {
        let mut q = RecordQueue { table, kind };
        if auto_resume {
            q.resume()?;
        }
        Ok(q)
    }

    fn run(&mut self, plan: &Plan) -> Result<Outcome, RecordError<T::Error>> {
        self.table.execute(plan).map_err(RecordError::Store)
    }

    /// The queue's kind.
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// The table, for inspection.
    pub fn table(&self) -> &T {
        &self.table
    }

    /// Puts one item; `None` if a unique queue already holds an equal live
    /// item.
    pub fn put(&mut self, item: Put<'_>, now: u64) -> Result<Option<u64>, RecordError<T::Error>> {
        Ok(self.put_many(&[item], now)?.into_iter().next().flatten())
    }

    /// Puts many items in one atomic insert.
    pub fn put_many(
        &mut self,
        items: &[Put<'_>],
        now: u64,
    ) -> Result<Vec<Option<u64>>, RecordError<T::Error>> {
        let o = self.run(&self.kind.put_plan(items, now))?;
        read_inserted(o, items.len())
    }

    /// Takes the next item in order.
    pub fn get(&mut self, auto_commit: bool) -> Result<Option<Record>, RecordError<T::Error>> {
        Ok(self.get_many(1, auto_commit)?.into_iter().next())
    }

    /// Takes up to `n` items in order, atomically.
    pub fn get_many(&mut self, n: u32, auto_commit: bool) -> Result<Vec<Record>, RecordError<T::Error>> {
        let o = self.run(&self.kind.claim_plan(n, auto_commit))?;
        read_records(o)
    }

    /// Takes the item `id`; `None` unless it is ready (never hands out an
    /// item in flight or done: B12).
    pub fn get_id(&mut self, id: u64, auto_commit: bool) -> Result<Option<Record>, RecordError<T::Error>> {
        let o = self.run(&self.kind.claim_id_plan(id, auto_commit))?;
        Ok(read_records(o)?.into_iter().next())
    }

    /// Takes the next ready item after `after_id` in the queue's order,
    /// wrapping to the start (persist-queue's `next_in_order`).
    pub fn next_in_order(
        &mut self,
        after_id: u64,
        auto_commit: bool,
    ) -> Result<Option<Record>, RecordError<T::Error>> {
        let after = match read_records(self.run(&Plan::Fetch { ids: alloc::vec![after_id] })?)?.first() {
            Some(r) => OrderKey { priority: r.priority, id: r.id },
            None => OrderKey { priority: i64::MIN, id: after_id },
        };
        for from in [Some(after), None] {
            // Another consumer may take the candidate first: try the next.
            loop {
                let scan = Plan::Scan {
                    statuses: StatusSet::of(Status::Ready),
                    order: self.kind.order,
                    after: from,
                    limit: 1,
                };
                let Some(candidate) = read_records(self.run(&scan)?)?.into_iter().next() else { break };
                if let Some(r) = self.get_id(candidate.id, auto_commit)? {
                    return Ok(Some(r));
                }
            }
        }
        Ok(None)
    }

    /// Settles one in-flight item.
    pub fn settle(&mut self, id: u64, verdict: Verdict) -> Result<(), RecordError<T::Error>> {
        self.settle_many(&[id], verdict)?.pop().unwrap_or(Err(RecordError::Protocol("empty settle outcome")))
    }

    /// Settles many in-flight items atomically; per id, whether it was in
    /// flight.
    pub fn settle_many(
        &mut self,
        ids: &[u64],
        verdict: Verdict,
    ) -> Result<Settled<T::Error>, RecordError<T::Error>> {
        let o = self.run(&self.kind.settle_plan(ids.to_vec(), verdict))?;
        read_settled(ids, o)
    }

    /// Replaces the payload of a live item (ready or in flight).
    pub fn update(&mut self, id: u64, item: Put<'_>) -> Result<(), RecordError<T::Error>> {
        match self.run(&self.kind.update_plan(id, &item))? {
            Outcome::Duplicate => Err(RecordError::Duplicate),
            Outcome::Before(b) => match b.first().copied().flatten() {
                None => Err(RecordError::UnknownId(id)),
                Some(s) if s.is_live() => Ok(()),
                Some(status) => Err(RecordError::NotInFlight { id, status }),
            },
            _ => Err(RecordError::Protocol("update must answer Before or Duplicate")),
        }
    }

    /// Every in-flight item is ready again; returns how many.
    pub fn resume(&mut self) -> Result<u64, RecordError<T::Error>> {
        let o = self.run(&self.kind.resume_plan())?;
        read_count(o)
    }

    /// Records per status.
    pub fn counts(&mut self) -> Result<Counts, RecordError<T::Error>> {
        let o = self.run(&Plan::Count)?;
        read_counts(o)
    }

    /// Every record with a status in `statuses`, in the queue's order.
    pub fn list(&mut self, statuses: StatusSet) -> Result<Vec<Record>, RecordError<T::Error>> {
        let o = self.run(&Plan::Scan { statuses, order: self.kind.order, after: None, limit: 0 })?;
        read_records(o)
    }

    /// Deletes acked (and optionally failed) records; see
    /// [`Kind::purge_plan`].
    pub fn clear_done(
        &mut self,
        max_delete: u64,
        keep_latest: u64,
        include_failed: bool,
    ) -> Result<u64, RecordError<T::Error>> {
        let o = self.run(&self.kind.purge_plan(max_delete, keep_latest, include_failed))?;
        read_count(o)
    }

    /// Puts back a record a deleting claim returned (see [`Plan::Restore`]).
    pub fn restore(&mut self, record: Record, canonical: Option<&[u8]>) -> Result<(), RecordError<T::Error>> {
        let unique_key = self.kind.unique.then(|| unique_key(canonical.unwrap_or(&record.payload)));
        self.run(&Plan::Restore { record, unique_key }).map(drop)
    }

    /// Gives unused space back, online.
    pub fn compact(&mut self) -> Result<(), RecordError<T::Error>> {
        self.run(&Plan::Compact).map(drop)
    }
}
