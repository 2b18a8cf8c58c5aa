//! Queue settings, validated before anything is touched.

use alloc::string::String;

use crate::durability::Durability;
use crate::error::ConfigError;

/// The largest `max_item_size` accepted (1 GiB).
pub const MAX_ITEM_SIZE_LIMIT: u32 = 1 << 30;

/// Settings for [`crate::ChunkQueue::open`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// Records per chunk for a new queue (default 10,000). An existing queue
    /// keeps the value it was created with.
    pub chunk_size: u32,
    /// Largest encoded item accepted by `put` (default 64 MiB).
    pub max_item_size: u32,
    /// When writes reach stable storage (default [`Durability::Buffered`]).
    pub durability: Durability,
    /// Save the read cursor on every `get` instead of on `task_done`
    /// (at-most-once instead of at-least-once delivery).
    pub autosave: bool,
    /// Skip damaged records (counted in [`crate::Stats`]) instead of
    /// returning [`crate::CorruptionKind`] errors. Unblocks a stuck queue.
    pub skip_corrupted: bool,
    /// Serializer name recorded in a new queue and checked on reopen.
    pub codec: String,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            chunk_size: 10_000,
            max_item_size: 64 << 20,
            durability: Durability::Buffered,
            autosave: false,
            skip_corrupted: false,
            codec: String::new(),
        }
    }
}

impl Config {
    /// Checks the settings.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.chunk_size == 0 {
            return Err(ConfigError::ZeroChunkSize);
        }
        if self.max_item_size == 0 || self.max_item_size > MAX_ITEM_SIZE_LIMIT {
            return Err(ConfigError::MaxItemSize);
        }
        Ok(())
    }
}
