//! The chunk FIFO ([`crate::ChunkQueue`]): numbered chunks of records in the
//! shared format ([`crate::format`]), a read checkpoint in the metadata,
//! the cursors, and recovery at open.

pub(crate) mod config;
pub(crate) mod cursor;
pub(crate) mod queue;
pub(crate) mod recovery;
