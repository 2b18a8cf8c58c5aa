//! `MemoryStorage`: the whole queue in a `BTreeMap`, for tests, embedded
//! targets without a filesystem, and as the model other backends follow.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use core::fmt;

use crate::storage::{Blob, NoFlush, Storage};

/// The only error of [`MemoryStorage`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MissingBlob(pub Blob);

impl fmt::Display for MissingBlob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "blob {} does not exist", self.0)
    }
}

impl core::error::Error for MissingBlob {}

/// Blobs in memory. Every write is immediately "durable" (there is nothing
/// to lose but the process); clone it to snapshot a queue.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MemoryStorage {
    blobs: BTreeMap<Blob, Vec<u8>>,
}

impl MemoryStorage {
    /// An empty storage.
    pub fn new() -> Self {
        Self::default()
    }

    /// The bytes of `blob`, if it exists.
    pub fn blob(&self, blob: Blob) -> Option<&[u8]> {
        self.blobs.get(&blob).map(Vec::as_slice)
    }

    /// Mutable bytes of `blob`, to damage it in tests.
    pub fn blob_mut(&mut self, blob: Blob) -> Option<&mut Vec<u8>> {
        self.blobs.get_mut(&blob)
    }

    /// Sets the bytes of `blob` directly.
    pub fn set_blob(&mut self, blob: Blob, bytes: Vec<u8>) {
        self.blobs.insert(blob, bytes);
    }

    /// Every blob and its bytes.
    pub fn blobs(&self) -> &BTreeMap<Blob, Vec<u8>> {
        &self.blobs
    }
}

impl Storage for MemoryStorage {
    type Error = MissingBlob;
    type Flush = NoFlush<MissingBlob>;

    fn list(&mut self) -> Result<Vec<Blob>, MissingBlob> {
        Ok(self.blobs.keys().copied().collect())
    }

    fn size(&mut self, blob: Blob) -> Result<Option<u64>, MissingBlob> {
        Ok(self.blobs.get(&blob).map(|b| b.len() as u64))
    }

    fn read(&mut self, blob: Blob, offset: u64, buf: &mut [u8]) -> Result<usize, MissingBlob> {
        let data = self.blobs.get(&blob).ok_or(MissingBlob(blob))?;
        let start = usize::try_from(offset).unwrap_or(usize::MAX).min(data.len());
        let src = data.get(start..).unwrap_or_default();
        let n = src.len().min(buf.len());
        buf[..n].copy_from_slice(&src[..n]);
        Ok(n)
    }

    fn append(&mut self, blob: Blob, data: &[u8]) -> Result<(), MissingBlob> {
        self.blobs.entry(blob).or_default().extend_from_slice(data);
        Ok(())
    }

    fn truncate(&mut self, blob: Blob, len: u64) -> Result<(), MissingBlob> {
        let data = self.blobs.get_mut(&blob).ok_or(MissingBlob(blob))?;
        data.truncate(usize::try_from(len).unwrap_or(usize::MAX));
        Ok(())
    }

    fn replace(&mut self, blob: Blob, data: &[u8]) -> Result<(), MissingBlob> {
        self.blobs.insert(blob, data.to_vec());
        Ok(())
    }

    fn remove(&mut self, blob: Blob) -> Result<(), MissingBlob> {
        self.blobs.remove(&blob);
        Ok(())
    }

    fn begin_flush(&mut self) -> Result<Self::Flush, MissingBlob> {
        Ok(NoFlush::new())
    }
}
