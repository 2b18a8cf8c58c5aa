//! Buffered frame reading: one storage read serves many small records.

use alloc::vec::Vec;

use crate::format::frame::{self, Layout, Parsed};
use crate::storage::{Blob, Storage};

/// Bytes asked of the storage per refill.
const READ_AHEAD: usize = 64 * 1024;

/// What was found at a position.
pub(crate) enum Found<'a> {
    /// A valid record: payload (in the reader's window: copy what must
    /// outlive the next read), total frame length, and (v2) its index.
    Record(&'a [u8], u64, Option<u32>),
    /// No valid frame here: the end of the blob, a torn tail or damage
    /// (see [`crate::format::damage::classify`]).
    Stop,
}

/// A window of one chunk's bytes. The buffer is allocated once and only
/// grows; `valid` says how much of it holds the window.
#[derive(Default)]
pub(crate) struct Reader {
    chunk: Option<u64>,
    start: u64,
    data: Vec<u8>,
    valid: usize,
}

impl Reader {
    /// Forgets the window (after the blob was truncated or rewritten).
    pub(crate) fn reset(&mut self) {
        self.chunk = None;
        self.valid = 0;
    }

    /// Returns at least `need` bytes of `chunk` from `from`, or fewer when
    /// the blob ends first.
    pub(crate) fn window<S: Storage>(
        &mut self,
        storage: &mut S,
        chunk: u64,
        from: u64,
        need: usize,
    ) -> Result<&[u8], S::Error> {
        self.fill(storage, chunk, from, need)?;
        Ok(self.cached(from))
    }

    /// Makes the window hold at least `need` bytes of `chunk` from `from`
    /// (fewer when the blob ends first).
    fn fill<S: Storage>(
        &mut self,
        storage: &mut S,
        chunk: u64,
        from: u64,
        need: usize,
    ) -> Result<(), S::Error> {
        let cached = self.chunk == Some(chunk)
            && from >= self.start
            && from + need as u64 <= self.start + self.valid as u64;
        if !cached {
            let mut want = need.max(READ_AHEAD);
            if need > READ_AHEAD {
                // Never allocate for a length the blob cannot hold (a
                // damaged length field).
                let size = storage.size(Blob::Chunk(chunk))?.unwrap_or(0);
                if from + need as u64 > size {
                    want = usize::try_from(size.saturating_sub(from)).unwrap_or(0);
                }
            }
            if self.data.len() < want {
                self.data.resize(want, 0);
            } else if want <= READ_AHEAD && self.data.len() > 16 * READ_AHEAD {
                // A huge record was read earlier: give its memory back.
                self.data = alloc::vec![0; READ_AHEAD];
            }
            self.chunk = None;
            let n = storage.read(Blob::Chunk(chunk), from, &mut self.data[..want])?;
            self.valid = n;
            self.chunk = Some(chunk);
            self.start = from;
        }
        Ok(())
    }

    /// The window's bytes from `from` (a position [`Reader::fill`] covered).
    fn cached(&self, from: u64) -> &[u8] {
        let skip = usize::try_from(from.saturating_sub(self.start)).unwrap_or(usize::MAX);
        self.data.get(skip..self.valid).unwrap_or_default()
    }

    /// Reads the frame of `chunk` at byte `offset`, in `layout`.
    pub(crate) fn frame<S: Storage>(
        &mut self,
        storage: &mut S,
        chunk: u64,
        offset: u64,
        layout: Layout,
    ) -> Result<Found<'_>, S::Error> {
        let max = crate::MAX_ITEM_SIZE_LIMIT;
        self.fill(storage, chunk, offset, layout.header_len())?;
        let head = self.cached(offset);
        let found = match frame::parse(head, layout, max) {
            // Where the payload lies in the window: returned below, after
            // the borrow of this first look ends.
            Parsed::Frame(payload, used, index) => {
                Some((payload.as_ptr() as usize - head.as_ptr() as usize, payload.len(), used as u64, index))
            }
            Parsed::Incomplete { need, .. } if need > head.len() as u64 => {
                self.fill(storage, chunk, offset, usize::try_from(need).unwrap_or(usize::MAX))?;
                None
            }
            Parsed::Incomplete { .. } | Parsed::Invalid => return Ok(Found::Stop),
        };
        let window = self.cached(offset);
        Ok(match found {
            Some((at, len, used, index)) => Found::Record(&window[at..at + len], used, index),
            None => match frame::parse(window, layout, max) {
                Parsed::Frame(payload, used, index) => Found::Record(payload, used as u64, index),
                Parsed::Incomplete { .. } | Parsed::Invalid => Found::Stop,
            },
        })
    }

    /// Reads `len` bytes at `offset` of `chunk` (chunk headers).
    pub(crate) fn bytes<S: Storage>(
        &mut self,
        storage: &mut S,
        chunk: u64,
        offset: u64,
        len: usize,
    ) -> Result<Vec<u8>, S::Error> {
        let w = self.window(storage, chunk, offset, len)?;
        Ok(w.get(..len).unwrap_or(w).to_vec())
    }
}
