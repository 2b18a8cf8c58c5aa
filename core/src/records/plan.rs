//! The record-store contract: the core turns each queue operation into a
//! [`Plan`]; a [`Table`] executes it atomically and answers with an
//! [`Outcome`]. Plans are data, so the same rules drive synchronous stores
//! (SQLite: `execute`, then feed the outcome back) and asynchronous ones
//! (IndexedDB, SQL servers: await the transaction, then feed it back).

use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use core::fmt;
use core::future::Future;

use crate::records::order::{Order, OrderKey};
use crate::records::record::{NewRecord, Record, Status, StatusSet};

/// What a claim does to the records it takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Claimed {
    /// Mark them `Unacked` and count a delivery (ack queues, and plain
    /// queues with `auto_commit` off).
    Unacked,
    /// Delete them (plain queues with `auto_commit` on: at-most-once).
    Deleted,
}

/// Where a transition moves records.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Target {
    /// To this status. Moving to `Acked` or `AckFailed` clears the
    /// record's unique key (a done item no longer blocks an equal one).
    Status(Status),
    /// Out of the store.
    Delete,
}

/// The clock and lease of a claim: the store's `now` (ms since the Unix
/// epoch; embedded stores take it from the plan, SQL servers use their
/// own clock instead so machines with skewed clocks agree) and how long a
/// claimed record stays leased to its consumer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Lease {
    /// The host's clock now (ms).
    pub now: u64,
    /// The lease length (ms).
    pub ms: u64,
}

impl Lease {
    /// When a lease taken now ends.
    pub fn until(self) -> u64 {
        self.now.saturating_add(self.ms)
    }
}

/// One atomic operation on a record store. Each variant's doc is its
/// contract; "atomic" means all of it or none, and isolated from every
/// other user of the same store (other threads, processes and machines).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Plan {
    /// Inserts records with status `Ready`, zero deliveries, and ids the
    /// store assigns: strictly increasing, never reused, even after
    /// deletion. A record whose `unique_key` equals that of a live record
    /// (or of an earlier record in the same plan) is skipped.
    /// Outcome: [`Outcome::Inserted`], one slot per record (`None` =
    /// skipped as a duplicate).
    Insert {
        /// The records, in put order.
        records: Vec<NewRecord>,
    },
    /// First makes every `Unacked` or `Delayed` record whose `visible_at`
    /// is at or before `lease.now` `Ready` (a lease ended, a delay is due;
    /// deliveries kept). Then takes up to `limit` `Ready` records, first
    /// in `order`, and applies `then` to them, so that no other claim can
    /// take the same record: marked in flight, each counts a delivery and
    /// is leased until `lease.until()`. Both steps use an index on
    /// (status, visible_at): a claim never scans records that are not due.
    /// Outcome: [`Outcome::Records`] in order, as they are after the claim
    /// (a deleted record is returned as it was).
    Claim {
        /// Delivery order.
        order: Order,
        /// Most records to take (at least 1).
        limit: u32,
        /// Mark in flight, or delete.
        then: Claimed,
        /// The store's clock and the lease length.
        lease: Lease,
    },
    /// Like `Claim`, for the record `id` only, and only if it is `Ready`
    /// or `Unacked`/`Delayed` and due at `lease.now`. Outcome:
    /// [`Outcome::Records`] with zero or one record.
    ClaimId {
        /// The record.
        id: u64,
        /// Mark in flight, or delete.
        then: Claimed,
        /// The store's clock and the lease length.
        lease: Lease,
    },
    /// Settles deliveries, fenced by their lease tokens: for each
    /// `(id, token)` in order, if the record is `Unacked` and its
    /// `deliveries` equal `token` (no one claimed it since), applies `to`
    /// and sets `visible_at` to `now + delay`; a move to `Ready` with a
    /// `delay` above 0 makes it `Delayed`, and a move to `Unacked` extends
    /// the lease (a heartbeat). A repeated id sees its earlier change.
    /// Outcome: [`Outcome::Leases`]: per pair, the record's status and
    /// deliveries just before its step (`None`: no such record).
    Settle {
        /// The deliveries: record id and lease token.
        leases: Vec<(u64, u32)>,
        /// What happens to each.
        to: Target,
        /// The store's clock (SQL servers use their own).
        now: u64,
        /// Milliseconds from `now` to the new `visible_at`.
        delay: u64,
    },
    /// Gives every `Unacked` record with `visible_at` 0 (in flight since
    /// before leases existed) a lease until `lease.until()`. Run when a
    /// queue opens. Outcome: [`Outcome::Count`] of records changed.
    LeaseInFlight {
        /// The store's clock and the lease length.
        lease: Lease,
    },
    /// For each id whose record's status is in `from`, applies `to`, in
    /// the order given (a repeated id sees its earlier change). Outcome:
    /// [`Outcome::Before`]: per id, its status just before that step
    /// (`None`: no such record). A record changed iff its status was in
    /// `from`.
    Transition {
        /// The records.
        ids: Vec<u64>,
        /// Statuses a record must have to change.
        from: StatusSet,
        /// What happens to it.
        to: Target,
    },
    /// Applies `to` to every record whose status is in `from` (recovery:
    /// in flight → ready). Outcome: [`Outcome::Count`] of records changed.
    TransitionAll {
        /// Statuses to change.
        from: StatusSet,
        /// What happens to them.
        to: Target,
    },
    /// Replaces the payload (and unique key) of `id` if its status is in
    /// `from`. Outcome: [`Outcome::Before`] with one slot, or
    /// [`Outcome::Duplicate`] if the new key belongs to another live record
    /// (nothing changed).
    Update {
        /// The record.
        id: u64,
        /// The new encoded item.
        payload: Vec<u8>,
        /// The new unique key (unique queues).
        unique_key: Option<[u8; 32]>,
        /// Statuses the record must have.
        from: StatusSet,
    },
    /// Reads records by id, whatever their status. Outcome:
    /// [`Outcome::Records`] for the ids that exist, in the ids' order.
    Fetch {
        /// The records.
        ids: Vec<u64>,
    },
    /// Reads up to `limit` records whose status is in `statuses`, in
    /// `order`, strictly after `after` when given. Changes nothing.
    /// Outcome: [`Outcome::Records`].
    Scan {
        /// Statuses to list.
        statuses: StatusSet,
        /// Order of the listing.
        order: Order,
        /// Resume after this record's place in the order.
        after: Option<OrderKey>,
        /// Most records (0: no limit).
        limit: u32,
    },
    /// Counts records per status. Outcome: [`Outcome::Counts`].
    Count,
    /// Deletes records whose status is in `statuses`, newest (highest id)
    /// first, skipping the `keep_latest` newest of them, at most
    /// `max_delete` (0: no limit). Outcome: [`Outcome::Count`] deleted.
    Purge {
        /// Statuses to delete.
        statuses: StatusSet,
        /// Newest matching records to keep.
        keep_latest: u64,
        /// Most records to delete (0: all).
        max_delete: u64,
    },
    /// Gives unused space back to the filesystem (VACUUM, compaction)
    /// without closing the store. Outcome: [`Outcome::Done`].
    Compact,
    /// Puts back a record that a claim returned (the host could not use
    /// it, e.g. it does not decode as the expected type), whether the claim
    /// deleted it or it is still in flight: same id, payload, priority and
    /// timestamp, the deliveries given in `record` (the host undoes the
    /// claim's count), status `Ready`. A record still in the store keeps
    /// its own unique key; one the claim deleted gets `unique_key`.
    /// Outcome: [`Outcome::Done`].
    Restore {
        /// The record as the claim returned it.
        record: Record,
        /// Its unique key (unique queues).
        unique_key: Option<[u8; 32]>,
    },
}

impl Plan {
    /// Whether the plan writes nothing but deletions (or only reads): what
    /// a store at its quota still runs, so a full queue drains.
    pub fn only_deletes(&self) -> bool {
        matches!(
            self,
            Plan::Claim { then: Claimed::Deleted, .. }
                | Plan::Settle { to: Target::Delete, .. }
                | Plan::ClaimId { then: Claimed::Deleted, .. }
                | Plan::Transition { to: Target::Delete, .. }
                | Plan::TransitionAll { to: Target::Delete, .. }
                | Plan::Purge { .. }
                | Plan::Fetch { .. }
                | Plan::Scan { .. }
                | Plan::Count
        )
    }
}

/// The ids a [`Plan::Purge`] deletes, given the matching ids newest
/// first: skip `keep_latest`, then take at most `max_delete` (0: all).
pub fn purge_selection(
    newest_first: impl Iterator<Item = u64>,
    keep_latest: u64,
    max_delete: u64,
) -> Vec<u64> {
    let limit = if max_delete == 0 { usize::MAX } else { usize::try_from(max_delete).unwrap_or(usize::MAX) };
    newest_first.skip(usize::try_from(keep_latest).unwrap_or(usize::MAX)).take(limit).collect()
}

/// What a [`Plan::Transition`] does, given each distinct id's status before
/// the plan (`current`): per id in order, its status just before its step
/// (a repeated id sees its earlier change), and the distinct ids that
/// change. Stores that change many rows in one statement use it to keep
/// the one-at-a-time meaning.
pub fn transition_steps(
    ids: &[u64],
    mut current: impl FnMut(u64) -> Option<Status>,
    from: StatusSet,
    to: Target,
) -> (Vec<Option<Status>>, Vec<u64>) {
    let after = match to {
        Target::Delete => None,
        Target::Status(t) => Some(t),
    };
    // Per distinct id: its status now, and whether it changed already.
    let mut now: BTreeMap<u64, (Option<Status>, bool)> = BTreeMap::new();
    let mut before = Vec::with_capacity(ids.len());
    let mut change = Vec::new();
    for &id in ids {
        let (status, changed) = now.entry(id).or_insert_with(|| (current(id), false));
        before.push(*status);
        if status.is_some_and(|s| from.contains(s)) {
            if !*changed {
                change.push(id);
                *changed = true;
            }
            *status = after;
        }
    }
    (before, change)
}

/// What a [`Plan::Settle`] does, given each distinct id's status and
/// deliveries before the plan (`current`): per pair in order, the state
/// just before its step (a repeated id sees its earlier change), and the
/// distinct ids that change. Stores that change many rows in one statement
/// use it to keep the one-at-a-time meaning.
pub fn settle_steps(
    leases: &[(u64, u32)],
    mut current: impl FnMut(u64) -> Option<(Status, u32)>,
    to: Target,
) -> (Vec<Option<(Status, u32)>>, Vec<u64>) {
    let mut now: BTreeMap<u64, (Option<(Status, u32)>, bool)> = BTreeMap::new();
    let mut before = Vec::with_capacity(leases.len());
    let mut change = Vec::new();
    for &(id, token) in leases {
        let (state, changed) = now.entry(id).or_insert_with(|| (current(id), false));
        before.push(*state);
        if let Some((Status::Unacked, d)) = *state
            && d == token
        {
            if !*changed {
                change.push(id);
                *changed = true;
            }
            *state = match to {
                Target::Delete => None,
                Target::Status(t) => Some((t, d)),
            };
        }
    }
    (before, change)
}

/// The status a [`Plan::Settle`] to `to` with `delay` writes: `Ready`
/// with a delay is `Delayed`.
pub fn settled_status(to: Status, delay: u64) -> Status {
    if to == Status::Ready && delay > 0 { Status::Delayed } else { to }
}

/// The outcome of a [`Plan::Insert`] of `records`, from the rows a store
/// reports it inserted (`(id, unique_key)`, in any order), for a store that
/// assigns increasing ids along the plan's order and skips duplicate keys
/// (one multi-row statement): records without a key take the keyless ids
/// in increasing order; a keyed record takes the id returned with its key,
/// if any (its first occurrence; `None`: a duplicate, skipped).
pub fn inserted_ids(
    records: &[NewRecord],
    inserted: impl IntoIterator<Item = (u64, Option<Vec<u8>>)>,
) -> Vec<Option<u64>> {
    let mut keyless = Vec::new();
    let mut keyed = BTreeMap::new();
    for (id, key) in inserted {
        match key {
            None => keyless.push(id),
            Some(k) => {
                keyed.insert(k, id);
            }
        }
    }
    keyless.sort_unstable();
    let mut keyless = keyless.into_iter();
    records
        .iter()
        .map(|r| match &r.unique_key {
            None => keyless.next(),
            Some(k) => keyed.remove(k.as_slice()),
        })
        .collect()
}

/// Per-status record counts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// `Ready` records (including never-delivered ones).
    pub ready: u64,
    /// `Unacked` records (in flight).
    pub unacked: u64,
    /// `Acked` records kept.
    pub acked: u64,
    /// `AckFailed` records kept (dead letters).
    pub ack_failed: u64,
    /// `Delayed` records.
    pub delayed: u64,
}

impl Counts {
    /// Adds `n` records of status `s`.
    pub fn add_n(&mut self, s: Status, n: u64) {
        match s {
            Status::Ready => self.ready += n,
            Status::Unacked => self.unacked += n,
            Status::Acked => self.acked += n,
            Status::AckFailed => self.ack_failed += n,
            Status::Delayed => self.delayed += n,
        }
    }

    /// Adds one record of status `s`.
    pub fn add(&mut self, s: Status) {
        self.add_n(s, 1);
    }
}

/// A store's answer to a plan. Each plan's doc names the variant it gets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Ids assigned by an insert (`None`: duplicate, skipped).
    Inserted(Vec<Option<u64>>),
    /// Records read or claimed.
    Records(Vec<Record>),
    /// Statuses before a transition or update (`None`: no such record).
    Before(Vec<Option<Status>>),
    /// Statuses and deliveries before a settle (`None`: no such record).
    Leases(Vec<Option<(Status, u32)>>),
    /// An update's new unique key belongs to another live record.
    Duplicate,
    /// Per-status counts.
    Counts(Counts),
    /// How many records changed or were deleted.
    Count(u64),
    /// Done, nothing to report.
    Done,
}

/// A record store for one queue (a SQL table, an IndexedDB object store,
/// the plain-files log, an in-memory map): the one seam every record store
/// implements. Executes [`Plan`]s atomically.
///
/// `execute` returns a future: a store that awaits its I/O (IndexedDB)
/// is an `async fn`; a synchronous store does its work at once and
/// returns [`core::future::ready`]. A synchronous host runs the queue's
/// futures with [`crate::records::complete`].
pub trait Table {
    /// The store's own error (SQL, JS, I/O ...), kept intact.
    type Error: fmt::Debug + fmt::Display;

    /// Executes `plan` atomically and answers with the outcome its
    /// contract names. On `Err` the plan took effect entirely or not at
    /// all; a store that cannot tell which (a connection lost during a
    /// commit) must say so in its error.
    fn execute(&mut self, plan: &Plan) -> impl Future<Output = Result<Outcome, Self::Error>>;

    /// Whether `error` says the store is at its quota, where it still runs
    /// plans that only delete (IndexedDB in Chromium). The queue then
    /// drains by deleting: held claims
    /// ([`crate::records::RecordQueue::claim_held`]) and acks that delete.
    /// Default: never.
    fn only_deletes(_error: &Self::Error) -> bool {
        false
    }

    /// Damaged ranges this store skipped instead of failing (opened with
    /// `skip_corrupted`), so the loss is counted, never silent. Default: 0
    /// (the store reports damage as errors).
    fn skipped_ranges(&self) -> u64 {
        0
    }
}
