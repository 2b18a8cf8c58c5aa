//! What a record queue hands out.

use std::time::Duration;

use persist_queue_core::records::{Stats, Status};

/// An item taken from a record queue, with its id: the handle to `ack`,
/// `nack` or `ack_failed` it by (never by object identity, B13). Also
/// persist-queue's `raw=True` form: id, item, timestamp, priority.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delivery<T> {
    /// The item's id: monotonic, never reused.
    pub id: u64,
    /// The item.
    pub item: T,
    /// Its priority (0 outside priority queues).
    pub priority: i64,
    /// When it was put (ms since the Unix epoch).
    pub timestamp: u64,
    /// How many times it has been delivered, this time included: also
    /// this delivery's lease token, which fences `ack(&delivery)` and the
    /// other settles ([`crate::Error::LeaseLost`] once another delivery
    /// took over).
    pub deliveries: u32,
    /// When its lease ends (ms since the Unix epoch; on the server's clock
    /// for server queues; 0 when the get deleted it).
    pub lease_until: u64,
}

/// A stored item as listed by `queue()`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry<T> {
    /// The item's id.
    pub id: u64,
    /// The item.
    pub item: T,
    /// Where it is in its life.
    pub status: Status,
    /// Its priority.
    pub priority: i64,
    /// When it was put (ms since the Unix epoch).
    pub timestamp: u64,
}

/// Something that names an item: its id, or the delivery that carried it
/// (which also names the lease, so that settling it is fenced).
pub trait ItemId {
    /// The id.
    fn item_id(&self) -> u64;

    /// The delivery's lease token, if this names a delivery (`None`: a bare
    /// id, settled unfenced).
    fn lease_token(&self) -> Option<u32> {
        None
    }
}

impl ItemId for u64 {
    fn item_id(&self) -> u64 {
        *self
    }
}

impl<T> ItemId for Delivery<T> {
    fn item_id(&self) -> u64 {
        self.id
    }

    fn lease_token(&self) -> Option<u32> {
        Some(self.deliveries)
    }
}

impl<T> ItemId for &Delivery<T> {
    fn item_id(&self) -> u64 {
        self.id
    }

    fn lease_token(&self) -> Option<u32> {
        Some(self.deliveries)
    }
}

/// How [`crate::Records::put_with`] puts an item.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PutOptions {
    /// Lower is served first (priority queues; ignored by the others).
    pub priority: i64,
    /// Invisible to consumers for this long (0: ready at once).
    pub delay: Duration,
}

impl PutOptions {
    /// Due `delay` from now.
    pub fn delayed(delay: Duration) -> PutOptions {
        PutOptions { delay, ..PutOptions::default() }
    }
}

/// A queue's state at a glance ([`crate::Records::stats`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct QueueStats {
    /// Items ready to be taken.
    pub ready: u64,
    /// Items in flight (leased to a consumer).
    pub in_flight: u64,
    /// Items put or nacked with a delay, not yet due.
    pub delayed: u64,
    /// Dead letters: failed for good, or out of attempts.
    pub dead: u64,
    /// Acked items kept (ack queues).
    pub acked: u64,
    /// How long the oldest ready item has waited (`None`: none is ready).
    pub oldest_ready_age: Option<Duration>,
    /// In-flight items whose lease ended (their consumer is late or
    /// gone); the next get takes them back.
    pub expired_leases: u64,
}

impl QueueStats {
    pub(crate) fn new(s: Stats, now: u64) -> QueueStats {
        QueueStats {
            ready: s.counts.ready,
            in_flight: s.counts.unacked,
            delayed: s.counts.delayed,
            dead: s.counts.ack_failed,
            acked: s.counts.acked,
            oldest_ready_age: s.oldest_ready.map(|t| Duration::from_millis(now.saturating_sub(t))),
            expired_leases: s.expired_leases,
        }
    }
}
