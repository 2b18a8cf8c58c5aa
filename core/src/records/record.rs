//! The record model of the record-store queues (ack, priority, unique,
//! FIFO/FILO on SQLite, IndexedDB, SQL servers): one row per item.

use alloc::vec::Vec;

/// Where an item is in its life. The numbers are persist-queue's
/// `AckStatus` values and are what stores keep.
///
/// `Ready → Unacked` (delivered, under a lease) `→ Acked | AckFailed |
/// Ready | Delayed` (nack). `Delayed` (put or nacked with a delay) and
/// `Unacked` whose lease ended become `Ready` at their `visible_at`.
/// persist-queue's separate `inited` (0) reads as `Ready`: an item never
/// delivered is ready (B14).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Status {
    /// Waiting to be delivered.
    Ready,
    /// Delivered, not yet acked: in flight.
    Unacked,
    /// Done. Kept until purged (`clear_acked_data`).
    Acked,
    /// Failed for good (the consumer said so, or its attempts ran out):
    /// a dead letter, never delivered again unless requeued. Kept until
    /// purged.
    AckFailed,
    /// Put or nacked with a delay: invisible until its `visible_at`.
    Delayed,
}

impl Status {
    /// The stored number (persist-queue's codes: 1, 2, 5, 9; `Delayed`,
    /// which persist-queue has not, is 3).
    pub fn code(self) -> u8 {
        match self {
            Status::Ready => 1,
            Status::Unacked => 2,
            Status::Delayed => 3,
            Status::Acked => 5,
            Status::AckFailed => 9,
        }
    }

    /// Parses a stored number; persist-queue's `inited` (0) is `Ready`.
    pub fn from_code(code: u8) -> Option<Status> {
        match code {
            0 | 1 => Some(Status::Ready),
            2 => Some(Status::Unacked),
            3 => Some(Status::Delayed),
            5 => Some(Status::Acked),
            9 => Some(Status::AckFailed),
            _ => None,
        }
    }

    /// Whether the item still waits for a consumer (ready, delayed or in
    /// flight).
    pub fn is_live(self) -> bool {
        matches!(self, Status::Ready | Status::Unacked | Status::Delayed)
    }

    /// Whether the status ends at a time (`visible_at`): a lease
    /// (`Unacked`) or a delay (`Delayed`).
    pub fn is_timed(self) -> bool {
        matches!(self, Status::Unacked | Status::Delayed)
    }
}

/// A set of statuses (a bit per status), for conditional transitions.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct StatusSet(u8);

impl StatusSet {
    /// No status.
    pub const NONE: StatusSet = StatusSet(0);
    /// `Ready`, `Unacked` and `Delayed`.
    pub const LIVE: StatusSet = StatusSet(0b1_0011);
    /// `Acked` and `AckFailed`.
    pub const DONE: StatusSet = StatusSet(0b0_1100);
    /// `Unacked` and `Delayed`: the statuses that end at `visible_at`.
    pub const TIMED: StatusSet = StatusSet(0b1_0010);
    /// Every status.
    pub const ALL: StatusSet = StatusSet(0b1_1111);

    /// The set holding only `s`.
    pub const fn of(s: Status) -> StatusSet {
        StatusSet(match s {
            Status::Ready => 0b0001,
            Status::Unacked => 0b0010,
            Status::Acked => 0b0100,
            Status::AckFailed => 0b1000,
            Status::Delayed => 0b1_0000,
        })
    }

    /// This set plus `s`.
    pub const fn with(self, s: Status) -> StatusSet {
        StatusSet(self.0 | StatusSet::of(s).0)
    }

    /// Whether `s` is in the set.
    pub const fn contains(self, s: Status) -> bool {
        self.0 & StatusSet::of(s).0 != 0
    }

    /// The statuses in the set, in code order.
    pub fn iter(self) -> impl Iterator<Item = Status> {
        [Status::Ready, Status::Unacked, Status::Delayed, Status::Acked, Status::AckFailed]
            .into_iter()
            .filter(move |s| self.contains(*s))
    }
}

/// One stored item.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// Assigned by the store at insert: strictly increasing, never reused.
    pub id: u64,
    /// The encoded item.
    pub payload: Vec<u8>,
    /// Lower is served first (priority queues); 0 elsewhere.
    pub priority: i64,
    /// Where the item is in its life.
    pub status: Status,
    /// When it was put, as the host's clock said (ms since the Unix epoch).
    pub timestamp: u64,
    /// How many times it was delivered. The current delivery's number is
    /// its lease token: settling with another number is refused.
    pub deliveries: u32,
    /// For `Unacked`: when its lease ends; for `Delayed`: when it is due
    /// (ms, the store's clock). 0 for a record in flight since before
    /// leases existed, until the queue opens and gives it one.
    pub visible_at: u64,
}

/// A record to insert (the store assigns the id; status is `Ready`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewRecord {
    /// The encoded item.
    pub payload: Vec<u8>,
    /// Lower is served first.
    pub priority: i64,
    /// The host's clock at put (ms since the Unix epoch).
    pub timestamp: u64,
    /// For unique queues: the digest of the item's canonical encoding
    /// ([`crate::records::unique_key`]). The store refuses a second live record
    /// with the same key.
    pub unique_key: Option<[u8; 32]>,
    /// Milliseconds after the store's clock at insert before it is due
    /// (0: `Ready` at once; more: `Delayed`).
    pub delay: u64,
}
