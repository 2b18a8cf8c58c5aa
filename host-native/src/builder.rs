//! `QueueBuilder`: every setting of a queue, validated at open.

use std::path::{Path, PathBuf};

use persist_queue_core::{Config, Durability};
use persist_queue_fs::FsStorage;

use crate::codec::{Codec, Postcard, Raw};
use crate::error::{Error, Misconfiguration, Result};
use crate::queue::Queue;
use crate::queue_storage::QueueStorage;

/// Settings for [`Queue`]. Start from [`Queue::builder`].
#[derive(Clone, Debug)]
#[must_use]
pub struct QueueBuilder<C = Postcard> {
    path: PathBuf,
    config: Config,
    max_size: u64,
    codec: C,
}

impl QueueBuilder<Postcard> {
    /// A builder for the queue in directory `path`, with the defaults.
    pub fn new(path: impl AsRef<Path>) -> Self {
        QueueBuilder {
            path: path.as_ref().to_path_buf(),
            config: Config::default(),
            max_size: 0,
            codec: Postcard,
        }
    }
}

impl<C> QueueBuilder<C> {
    /// Items not yet got before `put` blocks (persist-queue's `maxsize`).
    /// Default 0: unbounded.
    pub fn max_size(mut self, max_size: u64) -> Self {
        self.max_size = max_size;
        self
    }

    /// Items per chunk file for a new queue (default 10,000; must be ≥ 1).
    /// An existing queue keeps the value it was created with.
    pub fn chunk_size(mut self, chunk_size: u32) -> Self {
        self.config.chunk_size = chunk_size;
        self
    }

    /// When writes reach the disk (default [`Durability::Buffered`]).
    pub fn durability(mut self, durability: Durability) -> Self {
        self.config.durability = durability;
        self
    }

    /// Save the read position on every `get` (at-most-once delivery)
    /// instead of on `task_done` (at-least-once). Default off.
    pub fn autosave(mut self, autosave: bool) -> Self {
        self.config.autosave = autosave;
        self
    }

    /// Skip damaged records (counted in [`Queue::stats`]) instead of
    /// failing with [`Error::Corrupted`]. Default off.
    pub fn skip_corrupted(mut self, skip: bool) -> Self {
        self.config.skip_corrupted = skip;
        self
    }

    /// Largest encoded item `put` accepts (default 64 MiB, at most 1 GiB).
    pub fn max_item_size(mut self, bytes: u32) -> Self {
        self.config.max_item_size = bytes;
        self
    }

    /// The serializer (default [`Postcard`]).
    pub fn codec<C2>(self, codec: C2) -> QueueBuilder<C2> {
        QueueBuilder { path: self.path, config: self.config, max_size: self.max_size, codec }
    }

    /// Opens (or creates) the queue in the directory.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidConfig`] for a zero chunk size or a path that is a
    /// file; [`Error::CodecMismatch`] if the queue was written with another
    /// serializer; [`Error::Corrupted`] for damage recovery may not repair;
    /// [`Error::Io`] otherwise (including another process holding the
    /// queue).
    pub fn open<T>(self) -> Result<Queue<T, C>>
    where
        C: Codec<T>,
    {
        self.config.validate().map_err(Misconfiguration::Queue)?;
        let storage = self.storage()?;
        self.open_with(storage)
    }

    /// The queue directory; at synced durability chunks are filled inside
    /// written zeros (`FsStorage::presized`: a flush then writes no new
    /// file size).
    fn storage(&self) -> Result<FsStorage> {
        let storage = FsStorage::open(&self.path, self.config.durability).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotADirectory {
                Error::from(Misconfiguration::NotADirectory(e.to_string()))
            } else {
                Error::Io(e)
            }
        })?;
        Ok(storage.presized())
    }

    /// Opens (or creates) the queue whatever serializer wrote it, its items
    /// as the stored bytes: for tools that read any queue
    /// ([`Queue::codec_name`] says which serializer to decode with). A
    /// queue it creates records no serializer, so any later one may open it.
    pub fn open_bytes(self) -> Result<Queue<Vec<u8>, Raw>> {
        let mut q = self.codec(Raw);
        q.config.codec = String::new();
        q.config.validate().map_err(Misconfiguration::Queue)?;
        let storage = q.storage()?;
        let label = q.path.display().to_string();
        Queue::from_parts(storage, q.config, q.max_size, Raw, &label)
    }

    /// Opens the queue held by another storage (in memory, or a test
    /// storage).
    pub fn open_with<T, S: QueueStorage>(self, storage: S) -> Result<Queue<T, C, S>>
    where
        C: Codec<T>,
    {
        let mut config = self.config;
        config.codec = C::NAME.to_string();
        Queue::from_parts(storage, config, self.max_size, self.codec, &self.path.display().to_string())
    }
}
