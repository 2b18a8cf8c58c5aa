//! The one error type of the native API.

use std::io;

use persist_queue_core::records::LogError;
use persist_queue_core::{Corruption, CorruptionKind, OpenError, ReadError, WriteError};

use crate::backend::Backend;

/// Everything a queue operation can fail with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No item arrived (non-blocking get, or the timeout passed).
    #[error("queue is empty")]
    Empty,
    /// No space freed up (non-blocking put on a full queue, or the timeout
    /// passed).
    #[error("queue is full")]
    Full,
    /// The queue was closed by [`crate::Queue::close`].
    #[error("queue is closed")]
    Closed,
    /// Stored data is damaged: repair (or open with `skip_corrupted`), don't
    /// retry.
    #[error("queue is corrupted: {0}")]
    Corrupted(Corruption),
    /// The filesystem failed; the message names the file.
    #[error("I/O error: {0}")]
    Io(#[from] io::Error),
    /// Another storage backend failed.
    #[error("storage error: {0}")]
    Storage(Box<dyn std::error::Error + Send + Sync>),
    /// An item could not be encoded, or stored bytes do not decode as the
    /// requested type (the item stays in the queue).
    #[error("{codec} serializer: {message}")]
    Serialization {
        /// The serializer's name.
        codec: &'static str,
        /// What it said.
        message: String,
    },
    /// Settings rejected at open.
    #[error("invalid configuration: {0}")]
    InvalidConfig(String),
    /// The queue was written with another serializer.
    #[error("queue was written with the `{stored}` serializer but opened with `{requested}`")]
    CodecMismatch {
        /// Serializer recorded in the queue.
        stored: String,
        /// Serializer asked for.
        requested: String,
    },
    /// An encoded item is larger than `max_item_size`.
    #[error("item of {len} bytes exceeds max_item_size ({max} bytes)")]
    TooLarge {
        /// Encoded size.
        len: usize,
        /// The limit.
        max: u32,
    },
    /// A write or flush failed earlier: the on-disk state is unknown, so the
    /// handle refuses further work. Reopen the queue to recover.
    #[error("an earlier write or flush failed; reopen the queue to recover")]
    Poisoned,
    /// `task_done` was called more times than items were put.
    #[error("task_done() called too many times")]
    TaskDoneTooMany,
    /// No item has this id (never put, or purged).
    #[error("no item has id {0}")]
    UnknownId(u64),
    /// The item is not in flight, so it cannot be acked, nacked or failed.
    #[error("item {id} is not in flight (its status is {status:?})")]
    NotInFlight {
        /// The item.
        id: u64,
        /// Its status.
        status: persist_queue_core::records::Status,
    },
    /// An equal item is already in a unique queue.
    #[error("an equal item is already in the queue")]
    Duplicate,
}

/// Result alias.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Turns a storage backend's error into [`Error`], keeping `io::Error`s as
/// [`Error::Io`].
pub(crate) fn storage<E: std::error::Error + Send + Sync + 'static>(e: E) -> Error {
    from_boxed(Box::new(e))
}

/// The one place a store's error becomes an [`Error`]: I/O stays
/// [`Error::Io`]; the file-based record store's damage and poisoning become
/// [`Error::Corrupted`] and [`Error::Poisoned`]; anything else is
/// [`Error::Storage`].
pub(crate) fn from_boxed(e: Box<dyn std::error::Error + Send + Sync>) -> Error {
    let e = match e.downcast::<io::Error>() {
        Ok(io) => return Error::Io(*io),
        Err(other) => other,
    };
    match e.downcast::<LogError<io::Error>>() {
        Ok(log) => match *log {
            LogError::Storage(io) => Error::Io(io),
            LogError::Corrupted(blob, offset) => {
                Error::Corrupted(Corruption { blob, offset, kind: CorruptionKind::Record })
            }
            LogError::Poisoned => Error::Poisoned,
            other => Error::Storage(Box::new(other)),
        },
        Err(other) => Error::Storage(other),
    }
}

pub(crate) fn from_write<S: Backend>(e: WriteError<S::Error>) -> Error {
    match e {
        WriteError::Storage(e) => S::error(e),
        WriteError::Poisoned => Error::Poisoned,
        WriteError::TooLarge { len, max } => Error::TooLarge { len, max },
        WriteError::TaskDoneTooMany => Error::TaskDoneTooMany,
        _ => Error::Storage("unknown core error".into()),
    }
}

pub(crate) fn from_read<S: Backend>(e: ReadError<S::Error>) -> Error {
    match e {
        ReadError::Storage(e) => S::error(e),
        ReadError::Corrupted(c) => Error::Corrupted(c),
        ReadError::Poisoned => Error::Poisoned,
        ReadError::Write(w) => from_write::<S>(w),
        _ => Error::Storage("unknown core error".into()),
    }
}

pub(crate) fn from_open<S: Backend>(e: OpenError<S::Error>) -> Error {
    match e {
        OpenError::Storage(e) => S::error(e),
        OpenError::Corrupted(c) => Error::Corrupted(c),
        OpenError::InvalidConfig(c) => Error::InvalidConfig(c.to_string()),
        OpenError::CodecMismatch { stored, requested } => Error::CodecMismatch { stored, requested },
        _ => Error::Storage("unknown core error".into()),
    }
}
