//! Buffered frame reading: one storage read serves many small records.

use alloc::vec::Vec;

use crate::frame::{self, FRAME_HEADER_LEN, Parsed};
use crate::storage::{Blob, Storage};

/// Bytes asked of the storage per refill.
const READ_AHEAD: usize = 64 * 1024;

/// What was found at a position.
pub(crate) enum Found {
    /// A valid record: payload and total frame length.
    Record(Vec<u8>, u64),
    /// The blob ends inside (or right at) this frame.
    End,
    /// Length or checksum mismatch.
    Invalid,
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
    fn window<S: Storage>(
        &mut self,
        storage: &mut S,
        chunk: u64,
        from: u64,
        need: usize,
    ) -> Result<&[u8], S::Error> {
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
        let skip = usize::try_from(from - self.start).unwrap_or(usize::MAX);
        Ok(self.data.get(skip..self.valid).unwrap_or_default())
    }

    /// Reads the frame of `chunk` at byte `offset`.
    pub(crate) fn frame<S: Storage>(
        &mut self,
        storage: &mut S,
        chunk: u64,
        offset: u64,
    ) -> Result<Found, S::Error> {
        let max = crate::MAX_ITEM_SIZE_LIMIT;
        let head = self.window(storage, chunk, offset, FRAME_HEADER_LEN)?;
        let need = match frame::parse(head, max) {
            Parsed::Frame(payload, used) => {
                return Ok(Found::Record(payload.to_vec(), used as u64));
            }
            Parsed::Invalid => return Ok(Found::Invalid),
            Parsed::Incomplete if head.len() < FRAME_HEADER_LEN => return Ok(Found::End),
            Parsed::Incomplete => {
                let mut hb = [0u8; FRAME_HEADER_LEN];
                hb.copy_from_slice(&head[..FRAME_HEADER_LEN]);
                frame::FrameHeader::parse(hb).frame_len() as usize
            }
        };
        let whole = self.window(storage, chunk, offset, need)?;
        Ok(match frame::parse(whole, max) {
            Parsed::Frame(payload, used) => Found::Record(payload.to_vec(), used as u64),
            Parsed::Invalid => Found::Invalid,
            Parsed::Incomplete => Found::End,
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
