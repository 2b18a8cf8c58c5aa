//! The record log's errors: the storage's own, damage (the one shape of
//! every store, [`Corruption`]), and poisoning after a failed write.

use core::fmt;

use crate::error::{Corruption, CorruptionKind};
use crate::storage::Blob;

/// Errors of a [`crate::records::LogTable`].
#[derive(Debug)]
pub enum LogError<E> {
    /// The storage failed; the table refuses writes until reopened.
    Storage(E),
    /// Stored data is damaged: where, and how (the one damage shape of
    /// every store, [`Corruption`]).
    Corrupted(Corruption),
    /// An earlier write failed.
    Poisoned,
}

impl<E: fmt::Display> fmt::Display for LogError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LogError::Storage(e) => write!(f, "storage error: {e}"),
            LogError::Corrupted(c) => write!(f, "record log corrupted: {c}"),
            LogError::Poisoned => f.write_str("an earlier write failed; reopen the queue to recover"),
        }
    }
}

impl<E: fmt::Debug + fmt::Display> core::error::Error for LogError<E> {}

/// The log's damage error at `blob`/`offset`.
pub(super) fn corrupted<E>(blob: Blob, offset: u64, kind: CorruptionKind) -> LogError<E> {
    LogError::Corrupted(Corruption { blob, offset, kind })
}

#[cfg(test)]
mod tests {
    use alloc::string::ToString;

    use super::*;

    #[test]
    fn each_error_says_what_happened_and_where() {
        let e: LogError<&str> = corrupted(Blob::Chunk(4), 96, CorruptionKind::Record);
        assert!(matches!(e, LogError::Corrupted(Corruption { blob: Blob::Chunk(4), offset: 96, .. })));
        assert!(e.to_string().starts_with("record log corrupted"), "{e}");
        assert_eq!(LogError::Storage("disk gone").to_string(), "storage error: disk gone");
        assert!(LogError::<&str>::Poisoned.to_string().contains("reopen"));
    }
}
