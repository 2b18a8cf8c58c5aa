//! Why a record-queue operation failed ([`RecordError`]): the store's own
//! error kept intact, or a rule of the queue.

use core::fmt;

use crate::records::record::Status;

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
    /// The delivery's lease is no longer its holder's: it ended and the
    /// item was taken back or delivered again, or it was settled. Nothing
    /// changed (fencing: a slow consumer cannot settle another's delivery).
    LeaseLost {
        /// The record.
        id: u64,
        /// The token the caller held.
        token: u32,
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
            RecordError::LeaseLost { id, token } => {
                write!(
                    f,
                    "delivery {token} of item {id} no longer holds its lease (it ended, or the item was settled)"
                )
            }
            RecordError::Duplicate => f.write_str("an equal item is already in the queue"),
            RecordError::Protocol(what) => write!(f, "store answered with the wrong outcome: {what}"),
        }
    }
}

impl<E: fmt::Debug + fmt::Display> core::error::Error for RecordError<E> {}
