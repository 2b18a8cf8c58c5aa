//! Which storages a native queue can run on.

use persist_queue_core::{MemoryStorage, Storage};
use persist_queue_fs::FsStorage;

/// A [`Storage`] usable from several threads through a [`crate::Queue`]:
/// `Send`, with an error that converts into [`crate::Error`]. Implemented
/// for every such storage: [`FsStorage`] (its `io::Error` stays
/// [`crate::Error::Io`]), [`MemoryStorage`], the fault-injecting test
/// storage (feature `testing`). A storage of your own needs
/// `impl From<YourError> for persist_queue::Error`, for example
/// `Error::Storage(StoreError::custom(e))`.
pub trait QueueStorage: Storage<Error: Into<crate::Error>> + Send + 'static {}

impl<S> QueueStorage for S where S: Storage<Error: Into<crate::Error>> + Send + 'static {}

/// The default storage: a directory on the filesystem.
pub type DefaultStorage = FsStorage;

/// Also usable: everything in memory (nothing survives the process).
pub type InMemory = MemoryStorage;
