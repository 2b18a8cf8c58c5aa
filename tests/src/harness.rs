//! Backends the suite runs on: how to open "the same queue" again, and how
//! to reach its raw bytes to damage them.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};

use persist_queue::{Codec, FsStorage, Queue, QueueBuilder, QueueStorage, Result};
use persist_queue_core::{Blob, MemoryStorage, MissingBlob, NoFlush, Storage};

/// One backend under test. `new` makes an empty location; `open` may be
/// called again after the previous queue was dropped ("restart").
pub trait Harness: Sized {
    /// The storage type queues run on.
    type S: QueueStorage;
    /// An empty location.
    fn new() -> Self;
    /// A builder pointing at this location.
    fn builder(&self) -> QueueBuilder;
    /// Opens the queue at this location.
    fn open<T, C: Codec<T>>(&self, b: QueueBuilder<C>) -> Result<Queue<T, C, Self::S>>;
    /// Changes a blob's raw bytes (queue closed).
    fn damage(&self, blob: Blob, f: &mut dyn FnMut(&mut Vec<u8>));
    /// Chunk numbers present.
    fn chunks(&self) -> Vec<u64>;
}

/// A `MemoryStorage` shared with the harness, so it outlives the queue.
#[derive(Clone, Debug, Default)]
pub struct SharedMemory(pub Arc<Mutex<MemoryStorage>>);

impl SharedMemory {
    fn get(&self) -> MutexGuard<'_, MemoryStorage> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Storage for SharedMemory {
    type Error = MissingBlob;
    type Flush = NoFlush<MissingBlob>;
    fn list(&mut self) -> Result<Vec<Blob>, MissingBlob> {
        self.get().list()
    }
    fn size(&mut self, blob: Blob) -> Result<Option<u64>, MissingBlob> {
        self.get().size(blob)
    }
    fn read(&mut self, blob: Blob, offset: u64, buf: &mut [u8]) -> Result<usize, MissingBlob> {
        self.get().read(blob, offset, buf)
    }
    fn append(&mut self, blob: Blob, data: &[u8]) -> Result<(), MissingBlob> {
        self.get().append(blob, data)
    }
    fn truncate(&mut self, blob: Blob, len: u64) -> Result<(), MissingBlob> {
        self.get().truncate(blob, len)
    }
    fn replace(&mut self, blob: Blob, data: &[u8]) -> Result<(), MissingBlob> {
        self.get().replace(blob, data)
    }
    fn remove(&mut self, blob: Blob) -> Result<(), MissingBlob> {
        self.get().remove(blob)
    }
    fn begin_flush(&mut self) -> Result<Self::Flush, MissingBlob> {
        Ok(NoFlush::new())
    }
}

/// The in-memory backend.
#[derive(Debug, Default)]
pub struct MemoryHarness {
    storage: SharedMemory,
}

impl Harness for MemoryHarness {
    type S = SharedMemory;
    fn new() -> Self {
        Self::default()
    }
    fn builder(&self) -> QueueBuilder {
        QueueBuilder::new("unused-in-memory")
    }
    fn open<T, C: Codec<T>>(&self, b: QueueBuilder<C>) -> Result<Queue<T, C, SharedMemory>> {
        b.open_with(self.storage.clone())
    }
    fn damage(&self, blob: Blob, f: &mut dyn FnMut(&mut Vec<u8>)) {
        let mut m = self.storage.get();
        let mut bytes = m.blob(blob).map(<[u8]>::to_vec).unwrap_or_default();
        f(&mut bytes);
        m.set_blob(blob, bytes);
    }
    fn chunks(&self) -> Vec<u64> {
        self.storage
            .get()
            .blobs()
            .keys()
            .filter_map(|b| if let Blob::Chunk(n) = b { Some(*n) } else { None })
            .collect()
    }
}

/// The filesystem backend, in a temporary directory.
#[derive(Debug)]
pub struct FsHarness {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
}

impl Harness for FsHarness {
    type S = FsStorage;
    fn new() -> Self {
        let tmp = tempfile::tempdir().expect("temp dir");
        let dir = tmp.path().join("queue");
        FsHarness { _tmp: tmp, dir }
    }
    fn builder(&self) -> QueueBuilder {
        QueueBuilder::new(&self.dir)
    }
    fn open<T, C: Codec<T>>(&self, b: QueueBuilder<C>) -> Result<Queue<T, C, FsStorage>> {
        b.open()
    }
    fn damage(&self, blob: Blob, f: &mut dyn FnMut(&mut Vec<u8>)) {
        let path = self.dir.join(blob.to_string());
        let mut bytes = std::fs::read(&path).unwrap_or_default();
        f(&mut bytes);
        std::fs::write(&path, bytes).expect("write damaged blob");
    }
    fn chunks(&self) -> Vec<u64> {
        let mut out: Vec<u64> = std::fs::read_dir(&self.dir)
            .map(|rd| {
                rd.filter_map(|e| e.ok())
                    .filter_map(|e| e.file_name().to_str().and_then(Blob::parse))
                    .filter_map(|b| if let Blob::Chunk(n) = b { Some(n) } else { None })
                    .collect()
            })
            .unwrap_or_default();
        out.sort_unstable();
        out
    }
}
