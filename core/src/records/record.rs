//! The record model of the record-store queues (ack, priority, unique,
//! FIFO/FILO on SQLite, IndexedDB, SQL servers): one row per item.

use alloc::vec::Vec;

/// Where an item is in its life. The numbers are persist-queue's
/// `AckStatus` values and are what stores keep.
///
/// `Ready → Unacked` (delivered) `→ Acked | AckFailed | Ready` (nack).
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
    /// Failed for good; never delivered again. Kept until purged.
    AckFailed,
}

impl Status {
    /// The stored number (persist-queue's codes: 1, 2, 5, 9).
    pub fn code(self) -> u8 {
        match self {
            Status::Ready => 1,
            Status::Unacked => 2,
            Status::Acked => 5,
            Status::AckFailed => 9,
        }
    }

    /// Parses a stored number; persist-queue's `inited` (0) is `Ready`.
    pub fn from_code(code: u8) -> Option<Status> {
        match code {
            0 | 1 => Some(Status::Ready),
            2 => Some(Status::Unacked),
            5 => Some(Status::Acked),
            9 => Some(Status::AckFailed),
            _ => None,
        }
    }

    /// Whether the item still waits for a consumer (ready or in flight).
    pub fn is_live(self) -> bool {
        matches!(self, Status::Ready | Status::Unacked)
    }
}

/// A set of statuses (a bit per status), for conditional transitions.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct StatusSet(u8);

impl StatusSet {
    /// No status.
    pub const NONE: StatusSet = StatusSet(0);
    /// `Ready` and `Unacked`.
    pub const LIVE: StatusSet = StatusSet(0b0011);
    /// `Acked` and `AckFailed`.
    pub const DONE: StatusSet = StatusSet(0b1100);
    /// Every status.
    pub const ALL: StatusSet = StatusSet(0b1111);

    /// The set holding only `s`.
    pub const fn of(s: Status) -> StatusSet {
        StatusSet(match s {
            Status::Ready => 0b0001,
            Status::Unacked => 0b0010,
            Status::Acked => 0b0100,
            Status::AckFailed => 0b1000,
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
        [Status::Ready, Status::Unacked, Status::Acked, Status::AckFailed]
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
    /// How many times it was delivered.
    pub deliveries: u32,
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
}
