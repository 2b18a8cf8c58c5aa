//! Positions in the chunk log: where the next record is written (head) and
//! where the next one is read (read cursor, and its persisted checkpoint).

use serde::{Deserialize, Serialize};

/// A place in the log: chunk number, records before it in that chunk, and
/// the byte offset of the next frame in the chunk blob.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
    /// Chunk number.
    pub chunk: u64,
    /// Records before this position in the chunk.
    pub index: u32,
    /// Byte offset inside the chunk blob (after the chunk header).
    pub offset: u64,
}

impl Position {
    /// The first record slot of `chunk`.
    pub fn chunk_start(chunk: u64) -> Position {
        Position { chunk, index: 0, offset: crate::format::chunk::CHUNK_HEADER_LEN as u64 }
    }

    /// Records from `self` up to `later`, given `chunk_size` records per
    /// full chunk. `later` must not be before `self`.
    pub fn records_until(&self, later: &Position, chunk_size: u32) -> u64 {
        let chunks = later.chunk.saturating_sub(self.chunk);
        (chunks * u64::from(chunk_size) + u64::from(later.index)).saturating_sub(u64::from(self.index))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_across_chunks() {
        let a = Position { chunk: 2, index: 3, offset: 0 };
        let b = Position { chunk: 4, index: 1, offset: 0 };
        assert_eq!(a.records_until(&b, 10), 18);
        assert_eq!(a.records_until(&a, 10), 0);
    }
}
