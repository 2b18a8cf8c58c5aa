//! What a record queue hands out.

use persist_queue_core::records::Status;

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
    /// How many times it has been delivered, this time included.
    pub deliveries: u32,
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

/// Something that names an item: its id, or the delivery that carried it.
pub trait ItemId {
    /// The id.
    fn item_id(&self) -> u64;
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
}

impl<T> ItemId for &Delivery<T> {
    fn item_id(&self) -> u64 {
        self.id
    }
}
