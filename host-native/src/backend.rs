//! Which storages a native queue can run on.

use persist_queue_core::{MemoryStorage, Storage};
use persist_queue_fs::FsStorage;

/// A [`Storage`] usable from several threads through a [`crate::Queue`]:
/// `Send`, with a standard error type. Implemented for every such storage
/// ([`FsStorage`], [`MemoryStorage`], the fault-injecting test storage).
pub trait Backend: Storage + Send + 'static {
    /// Converts the storage's error.
    fn error(e: Self::Error) -> crate::Error;
}

impl<S> Backend for S
where
    S: Storage + Send + 'static,
    S::Error: std::error::Error + Send + Sync + 'static,
{
    fn error(e: Self::Error) -> crate::Error {
        crate::error::storage(e)
    }
}

/// The default backend: a directory on the filesystem.
pub type DefaultStorage = FsStorage;

/// Also usable: everything in memory (nothing survives the process).
pub type InMemory = MemoryStorage;
