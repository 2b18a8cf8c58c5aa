//! The synced chunk being filled, with written zeros ahead of its data
//! (see [`crate::FsStorage::presized`]).
//!
//! `fdatasync` after an append that grows a file must also commit the new
//! size (on ext4 a journal commit: one more device write per flush). Here
//! the file is first extended by a step of zeros, really written, so the
//! puts that follow overwrite blocks that already exist: their flushes
//! write the data alone. The size changes once per step (64 KiB, doubling
//! up to 4 MiB), not once per flush.
//!
//! The file is longer than its data while it is being filled. When the
//! next chunk is started, the zeros are cut and the cut is made durable
//! first (one `fdatasync` per chunk), so after a crash only the newest
//! chunk can end in zeros, and recovery cuts them: zeros to the end of
//! the newest chunk are a tail no put ever returned for
//! (`core/src/format/damage.rs`). Dropping the storage cuts them too.
//!
//! Appends are written behind: a put copies its frame into memory, and
//! the next flush writes every pending frame with one positioned write
//! before its `fdatasync` (in [`crate::FsStorage`]'s `begin_flush`, under
//! the queue's lock, so writes stay in order). At synced durability
//! nothing is readable before its flush, so nothing is lost that a put
//! returned for; reads of the chunk see the pending bytes all the same.

use std::fs::File;
use std::io;

use persist_queue_core::Blob;

use crate::positioned::write_at;

const FIRST_STEP: u64 = 64 * 1024;
const MAX_STEP: u64 = 4 * 1024 * 1024;
/// Zeros written per call while extending.
static ZEROS: [u8; 64 * 1024] = [0; 64 * 1024];

/// One chunk's file opened for positioned writes (not `O_APPEND`: Linux
/// would ignore the offset), its data length and its file length.
#[derive(Debug)]
pub(crate) struct Reserve {
    pub(crate) blob: Blob,
    file: File,
    len: u64,
    cap: u64,
    /// Bytes of data in the file; the rest, up to `len`, is `pending`.
    written: u64,
    pending: Vec<u8>,
}

impl Reserve {
    /// Takes over `file` (the chunk `blob`), whose length is its data.
    pub(crate) fn open(blob: Blob, file: File) -> io::Result<Reserve> {
        let len = file.metadata()?.len();
        Ok(Reserve { blob, file, len, cap: len, written: len, pending: Vec::new() })
    }

    /// Bytes of data (the rest of the file is zeros).
    pub(crate) fn len(&self) -> u64 {
        self.len
    }

    /// Appends `data` after the data (written at the next
    /// [`Self::write_pending`]), extending the zeros first if needed.
    pub(crate) fn append(&mut self, data: &[u8]) -> io::Result<()> {
        let end = self.len + data.len() as u64;
        if end > self.cap {
            let mut cap = self.cap.max(FIRST_STEP);
            while cap < end {
                cap += cap.min(MAX_STEP);
            }
            let mut at = self.cap;
            while at < cap {
                let n = usize::try_from(cap - at).unwrap_or(ZEROS.len()).min(ZEROS.len());
                write_at(&self.file, &ZEROS[..n], at)?;
                at += n as u64;
            }
            self.cap = cap;
        }
        self.pending.extend_from_slice(data);
        self.len = end;
        Ok(())
    }

    /// Writes the appended bytes not yet in the file, with one positioned
    /// write. On failure they stay pending (the caller poisons the queue).
    pub(crate) fn write_pending(&mut self) -> io::Result<()> {
        if !self.pending.is_empty() {
            write_at(&self.file, &self.pending, self.written)?;
            self.written = self.len;
            self.pending.clear();
        }
        Ok(())
    }

    /// Copies the pending bytes that `buf`, read at `offset`, covers into
    /// it; returns how many bytes at its start are to be read from the
    /// file (the rest came from here). `buf` ends at most at [`Self::len`].
    pub(crate) fn read_pending(&self, offset: u64, buf: &mut [u8]) -> usize {
        let in_file =
            usize::try_from(self.written.saturating_sub(offset)).unwrap_or(usize::MAX).min(buf.len());
        let from = usize::try_from((offset + in_file as u64) - self.written).unwrap_or(usize::MAX);
        let rest = &mut buf[in_file..];
        if let Some(src) = self.pending.get(from..from + rest.len()) {
            rest.copy_from_slice(src);
        }
        in_file
    }

    /// Forgets the pending bytes (the chunk is being removed).
    pub(crate) fn discard(mut self) {
        self.pending.clear();
        self.len = self.written;
    }

    /// Cuts the zeros after the data and makes the cut durable.
    pub(crate) fn close(mut self) -> io::Result<()> {
        self.finish()?;
        self.file.sync_data()
    }

    /// Writes what is pending and cuts the zeros after the data.
    fn finish(&mut self) -> io::Result<()> {
        self.write_pending()?;
        if self.cap > self.len {
            self.file.set_len(self.len)?;
            self.cap = self.len;
        }
        Ok(())
    }
}

impl Drop for Reserve {
    fn drop(&mut self) {
        let _ = self.finish();
    }
}
