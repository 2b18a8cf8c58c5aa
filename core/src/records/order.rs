//! Delivery order: FIFO, FILO, or priority (lower first, ties by id).

/// The order in which ready records are delivered.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Order {
    /// Oldest first (lowest id).
    #[default]
    Fifo,
    /// Newest first (highest id).
    Filo,
    /// Lowest priority value first; ties by id, oldest first (never by
    /// wall clock, so clock steps cannot reorder ties).
    Priority,
}

/// A record's place in an order, to resume a scan after it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct OrderKey {
    /// The record's priority (ignored by FIFO and FILO).
    pub priority: i64,
    /// The record's id.
    pub id: u64,
}

impl Order {
    /// How `a` and `b` compare in this order (for sorting a listing).
    pub fn compare(self, a: OrderKey, b: OrderKey) -> core::cmp::Ordering {
        match self {
            Order::Fifo => a.id.cmp(&b.id),
            Order::Filo => b.id.cmp(&a.id),
            Order::Priority => (a.priority, a.id).cmp(&(b.priority, b.id)),
        }
    }

    /// Whether `a` comes before `b` in this order.
    pub fn before(self, a: OrderKey, b: OrderKey) -> bool {
        match self {
            Order::Fifo => a.id < b.id,
            Order::Filo => a.id > b.id,
            Order::Priority => (a.priority, a.id) < (b.priority, b.id),
        }
    }
}
