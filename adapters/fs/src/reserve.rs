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
}

impl Reserve {
    /// Takes over `file` (the chunk `blob`), whose length is its data.
    pub(crate) fn open(blob: Blob, file: File) -> io::Result<Reserve> {
        let len = file.metadata()?.len();
        Ok(Reserve { blob, file, len, cap: len })
    }

    /// Bytes of data (the rest of the file is zeros).
    pub(crate) fn len(&self) -> u64 {
        self.len
    }

    /// Writes `data` after the data, extending the zeros first if needed.
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
        write_at(&self.file, data, self.len)?;
        self.len = end;
        Ok(())
    }

    /// Cuts the zeros after the data and makes the cut durable.
    pub(crate) fn close(mut self) -> io::Result<()> {
        self.finish()?;
        self.file.sync_data()
    }

    /// Cuts the zeros after the data.
    fn finish(&mut self) -> io::Result<()> {
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
