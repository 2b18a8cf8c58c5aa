//! Error enums, one per operation family. Corruption is kept apart from the
//! storage's own errors: callers "repair" the first and "retry" the second.

use alloc::string::String;
use core::fmt;

use crate::format::chunk::HeaderProblem;
use crate::format::meta::MetaProblem;
use crate::storage::Blob;

/// What is wrong with stored bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CorruptionKind {
    /// A record's length or checksum does not match its bytes.
    Record,
    /// A chunk header is damaged, misplaced or from a newer version.
    ChunkHeader(HeaderProblem),
    /// The metadata blob is damaged or from a newer version.
    Meta(MetaProblem),
    /// A chunk between the read cursor and the head is missing, or the
    /// metadata is missing while chunks exist.
    Missing,
    /// A chunk holds more records than the queue's chunk size.
    Overfull,
}

/// Where and how stored data is damaged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Corruption {
    /// The damaged blob.
    pub blob: Blob,
    /// Byte offset of the damage inside the blob.
    pub offset: u64,
    /// What is wrong.
    pub kind: CorruptionKind,
}

impl fmt::Display for Corruption {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.kind {
            CorruptionKind::Record => "record length or checksum mismatch",
            CorruptionKind::ChunkHeader(HeaderProblem::Short) => "chunk header truncated",
            CorruptionKind::ChunkHeader(HeaderProblem::Damaged) => "chunk header damaged",
            CorruptionKind::ChunkHeader(HeaderProblem::Version(_)) => {
                "chunk written by a newer format version"
            }
            CorruptionKind::ChunkHeader(HeaderProblem::Misplaced(_)) => "chunk header names another chunk",
            CorruptionKind::Meta(MetaProblem::Damaged) => "metadata damaged",
            CorruptionKind::Meta(MetaProblem::Version(_)) => "metadata written by a newer format version",
            CorruptionKind::Meta(MetaProblem::NoCheckpoint) => "metadata has no valid read checkpoint",
            CorruptionKind::Missing => "missing",
            CorruptionKind::Overfull => "chunk holds more records than the chunk size",
        };
        write!(f, "{} at {} offset {}", what, self.blob, self.offset)
    }
}

/// Settings rejected before anything is touched.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigError {
    /// `chunk_size` must be at least 1.
    ZeroChunkSize,
    /// `max_item_size` must be between 1 and [`crate::MAX_ITEM_SIZE_LIMIT`].
    MaxItemSize,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::ZeroChunkSize => f.write_str("chunk_size must be at least 1"),
            ConfigError::MaxItemSize => {
                write!(f, "max_item_size must be between 1 and {} bytes", crate::MAX_ITEM_SIZE_LIMIT)
            }
        }
    }
}

/// Opening (and recovering) a queue failed.
#[derive(Debug)]
pub enum OpenError<E> {
    /// The storage failed.
    Storage(E),
    /// Stored data is damaged where recovery may not guess.
    Corrupted(Corruption),
    /// The settings are invalid.
    InvalidConfig(ConfigError),
    /// The queue was written with another serializer.
    CodecMismatch {
        /// Serializer recorded in the queue.
        stored: String,
        /// Serializer asked for at open.
        requested: String,
    },
}

/// A write (put, checkpoint, flush) failed.
#[derive(Debug)]
pub enum WriteError<E> {
    /// The storage failed; the queue is now poisoned.
    Storage(E),
    /// An earlier write or flush failed: the stored state is unknown, so the
    /// queue refuses writes until it is reopened (which recovers it).
    Poisoned,
    /// The item is larger than the configured maximum.
    TooLarge {
        /// Size of the encoded item.
        len: usize,
        /// The configured maximum.
        max: u32,
    },
    /// `task_done` was called more times than items were put.
    TaskDoneTooMany,
}

/// A read (get, peek) failed.
#[derive(Debug)]
pub enum ReadError<E> {
    /// The storage failed.
    Storage(E),
    /// The next record is damaged (and skipping is off).
    Corrupted(Corruption),
    /// An earlier write failed; reopen the queue.
    Poisoned,
    /// The read cursor moved, and saving it (autosave) failed.
    Write(WriteError<E>),
}

impl<E: fmt::Display> fmt::Display for OpenError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OpenError::Storage(e) => write!(f, "storage error while opening: {e}"),
            OpenError::Corrupted(c) => write!(f, "queue is corrupted: {c}"),
            OpenError::InvalidConfig(c) => write!(f, "invalid configuration: {c}"),
            OpenError::CodecMismatch { stored, requested } => {
                write!(f, "queue was written with the `{stored}` serializer but opened with `{requested}`")
            }
        }
    }
}

impl<E: fmt::Display> fmt::Display for WriteError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WriteError::Storage(e) => write!(f, "storage error while writing: {e}"),
            WriteError::Poisoned => f.write_str("an earlier write failed; reopen the queue to recover"),
            WriteError::TooLarge { len, max } => {
                write!(f, "item of {len} bytes exceeds max_item_size {max}")
            }
            WriteError::TaskDoneTooMany => f.write_str("task_done() called too many times"),
        }
    }
}

impl<E: fmt::Display> fmt::Display for ReadError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::Storage(e) => write!(f, "storage error while reading: {e}"),
            ReadError::Corrupted(c) => write!(f, "queue is corrupted: {c}"),
            ReadError::Poisoned => f.write_str("an earlier write failed; reopen the queue to recover"),
            ReadError::Write(e) => e.fmt(f),
        }
    }
}

impl<E: fmt::Debug + fmt::Display> core::error::Error for OpenError<E> {}
impl<E: fmt::Debug + fmt::Display> core::error::Error for WriteError<E> {}
impl<E: fmt::Debug + fmt::Display> core::error::Error for ReadError<E> {}
impl core::error::Error for Corruption {}
impl core::error::Error for ConfigError {}
