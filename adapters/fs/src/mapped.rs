//! The head chunk as a shared memory map (Linux, buffered durability).
//!
//! A `put` then costs a `memcpy` into the page cache instead of a `write()`
//! system call, with the same guarantee: the bytes are in the kernel's page
//! cache the moment the copy ends, so they survive a crash of the process.
//!
//! Safety of the map rests on three facts, checked here:
//! * every byte written lies inside the mapping (`len + n <= cap`);
//! * the blocks under the mapping are allocated with `fallocate` before they
//!   are mapped, so a full disk is an `ENOSPC` error from `fallocate`, never
//!   a `SIGBUS` on a write into a hole;
//! * only this process truncates the file (the queue directory is locked),
//!   and only after unmapping.
//!
//! The file is longer than its data while mapped (zero-filled to `cap`);
//! the zeros are cut on drop, and by recovery after a crash (a zero frame
//! header never passes its checksum).

#![allow(unsafe_code)]

use std::fs::File;
use std::io;
use std::sync::Arc;

use memmap2::{MmapOptions, MmapRaw};
use rustix::fs::{FallocateFlags, fallocate};

/// First mapping size, then doubled up to `MAX_STEP` at a time.
const FIRST_CAP: u64 = 256 * 1024;
const MAX_STEP: u64 = 16 * 1024 * 1024;

/// A mapped, append-only file.
pub(crate) struct Mapped {
    file: Arc<File>,
    map: MmapRaw,
    len: u64,
    cap: u64,
}

impl std::fmt::Debug for Mapped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mapped").field("len", &self.len).field("cap", &self.cap).finish()
    }
}

fn reserve(file: &File, from: u64, to: u64) -> io::Result<()> {
    fallocate(file, FallocateFlags::empty(), from, to - from).map_err(io::Error::from)
}

fn map(file: &File, cap: u64) -> io::Result<MmapRaw> {
    let len = usize::try_from(cap).map_err(|_| io::Error::other("mapping larger than the address space"))?;
    MmapOptions::new().len(len).map_raw(file)
}

impl Mapped {
    /// Maps `file`, whose current length is its data. Fails with
    /// `Unsupported` where the filesystem has no `fallocate`.
    pub(crate) fn open(file: Arc<File>) -> io::Result<Mapped> {
        let len = file.metadata()?.len();
        let cap = (len + 1).next_power_of_two().max(FIRST_CAP);
        reserve(&file, len, cap)?;
        let map = map(&file, cap)?;
        Ok(Mapped { file, map, len, cap })
    }

    /// Data bytes.
    pub(crate) fn len(&self) -> u64 {
        self.len
    }

    /// Appends `data`, growing the file and the mapping first if needed.
    pub(crate) fn append(&mut self, data: &[u8]) -> io::Result<()> {
        let n = data.len() as u64;
        if self.len + n > self.cap {
            let mut cap = self.cap;
            while self.len + n > cap {
                cap += cap.min(MAX_STEP);
            }
            reserve(&self.file, self.cap, cap)?;
            self.map = map(&self.file, cap)?;
            self.cap = cap;
        }
        let at = usize::try_from(self.len).map_err(|_| io::Error::other("offset overflow"))?;
        debug_assert!(at + data.len() <= self.map.len());
        // SAFETY: `at + data.len() <= cap == map.len()` (checked above), the
        // blocks are allocated (fallocate), the file is not truncated while
        // mapped, and `data` (caller memory) cannot overlap the mapping.
        unsafe {
            std::ptr::copy_nonoverlapping(data.as_ptr(), self.map.as_mut_ptr().add(at), data.len());
        }
        self.len += n;
        Ok(())
    }
}

impl Drop for Mapped {
    fn drop(&mut self) {
        // Cut the zero-filled reserve. Nothing is read or written through
        // the mapping past `len`, and the mapping is released right after.
        let _ = self.file.set_len(self.len);
    }
}
