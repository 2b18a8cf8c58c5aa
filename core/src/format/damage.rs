//! Telling a torn tail from damage: the one rule every scan of frames
//! (chunk recovery, reads, the metadata, the record log) applies where the
//! valid frames stop before the end of a blob.
//!
//! A crash can only leave a write *cut short*: the blob ends inside the
//! last frame, or the filesystem extended it with zeros that were never
//! overwritten. Those bytes were never acknowledged (a put returns after
//! its frame is whole, and at synced durability after it is flushed), so
//! they may be cut. Anything else is damage to data that was once whole:
//!
//! * a valid frame **after** the bad bytes (found by resynchronising, byte
//!   by byte) proves the bad bytes were written before it, so they are
//!   damaged durable data, never a torn tail;
//! * bad bytes that are neither zeros nor a frame cut short by the end of
//!   the blob (a flipped bit in the last frame) are damage too.
//!
//! What cannot be told apart, and is treated as torn: zeros (or a v1 frame
//! whose length runs past the end) at the very end of a blob with no valid
//! frame after them, starting where a crash can cut a write (see
//! [`holed`]: a payload's start, or before a sector boundary). A v2 frame's length is covered by its own header
//! checksum, so only a frame whose verified header says it is longer than
//! the blob counts as cut short.

use crate::format::frame::{self, Layout, Parsed};
use crate::format::reader::Reader;
use crate::storage::Storage;

/// What lies after the last valid frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Tail {
    /// The blob ends there.
    Clean,
    /// A write cut short: never acknowledged, may be cut.
    Torn,
    /// Damaged durable data. `resume`: the next valid frame after it
    /// (offset, and its index for v2 frames), where reading can go on.
    Damaged {
        /// The next valid frame, if any.
        resume: Option<(u64, Option<u32>)>,
    },
}

/// Random access to the bytes of one blob.
pub(crate) trait Bytes {
    /// The source's error.
    type Error;
    /// Up to `len` bytes from `offset` (fewer at the end).
    fn at(&mut self, offset: u64, len: usize) -> Result<&[u8], Self::Error>;
}

/// An in-memory blob (the metadata, read whole).
pub(crate) struct SliceBytes<'a>(pub &'a [u8]);

impl Bytes for SliceBytes<'_> {
    type Error = core::convert::Infallible;
    fn at(&mut self, offset: u64, len: usize) -> Result<&[u8], Self::Error> {
        let start = usize::try_from(offset).unwrap_or(usize::MAX).min(self.0.len());
        let end = start.saturating_add(len).min(self.0.len());
        Ok(&self.0[start..end])
    }
}

/// A chunk read through the buffered [`Reader`].
pub(crate) struct ChunkBytes<'a, S> {
    pub reader: &'a mut Reader,
    pub storage: &'a mut S,
    pub chunk: u64,
}

impl<S: Storage> Bytes for ChunkBytes<'_, S> {
    type Error = S::Error;
    fn at(&mut self, offset: u64, len: usize) -> Result<&[u8], S::Error> {
        // The window may run past `len`: the frame parsers must see only
        // what was asked for (a header alone says whether its frame is
        // cut short).
        let w = self.reader.window(self.storage, self.chunk, offset, len)?;
        Ok(&w[..w.len().min(len)])
    }
}

/// Bytes checked per step when looking for zeros.
const STEP: usize = 64 * 1024;

/// Classifies the bytes `[at, size)` of a blob in `layout`, where a scan
/// expecting frame number `index` (v2; ignored for v1) stopped.
pub(crate) fn classify<B: Bytes>(
    src: &mut B,
    at: u64,
    size: u64,
    layout: Layout,
    index: u32,
) -> Result<Tail, B::Error> {
    if at >= size {
        return Ok(Tail::Clean);
    }
    let max = crate::MAX_ITEM_SIZE_LIMIT;
    let first = match src.at(at, layout.header_len()) {
        Ok(head) => {
            let need = match frame::parse(head, layout, max) {
                Parsed::Incomplete { need, .. } => need,
                _ => 0,
            };
            let whole = usize::try_from(need).unwrap_or(0).max(layout.header_len());
            let whole = whole.min(usize::try_from(size - at).unwrap_or(usize::MAX));
            match frame::parse(src.at(at, whole)?, layout, max) {
                Parsed::Incomplete { trusted, need } => Some((trusted, need)),
                Parsed::Frame(_, _, Some(i)) if i != index => None,
                Parsed::Frame(..) | Parsed::Invalid => None,
            }
        }
        Err(e) => return Err(e),
    };
    // A verified v2 header that runs past the end, or fewer bytes than a
    // header: a write cut short.
    if let Some((trusted, need)) = first
        && (trusted || need == 0)
    {
        return Ok(Tail::Torn);
    }
    if let Some(resume) = resync(src, at + 1, size, layout, index.saturating_add(1))? {
        return Ok(Tail::Damaged { resume: Some(resume) });
    }
    // Nothing valid follows. A v1 length running past the end (it cannot
    // be checked), zeros to the end, or a last frame whose bytes turn to
    // zeros before its declared end (a write whose later sectors never
    // reached the disk): a write cut short.
    if first.is_some() || zeros(src, at, size)? || holed(src, at, size, layout)? {
        return Ok(Tail::Torn);
    }
    Ok(Tail::Damaged { resume: None })
}

/// The unit a torn write leaves whole or zero: a disk sector (a power cut
/// writes whole sectors) and a page (a process killed while its copy into
/// a mapped chunk waits on a page fault) are both multiples of it.
const SECTOR: u64 = 512;

/// Whether the frame at `at` has a header that holds (verified, for v2)
/// and reads as a write cut short inside it: every byte from some point to
/// the end of the blob is zero, and that point is the start of its
/// payload with zeros going on past the frame (the header was copied into
/// a mapped chunk, the payload not yet) or lies before a sector boundary
/// inside the frame (the sectors from there on never written). Zeros that start elsewhere (after a flipped bit, in a payload
/// that ended in zeros anyway) are damage: no crash leaves that shape.
fn holed<B: Bytes>(src: &mut B, at: u64, size: u64, layout: Layout) -> Result<bool, B::Error> {
    let hl = layout.header_len();
    let declared = match frame::parse(src.at(at, hl)?, layout, crate::MAX_ITEM_SIZE_LIMIT) {
        Parsed::Incomplete { trusted, need } if need > 0 && (trusted || layout == Layout::V1) => need,
        _ => return Ok(false),
    };
    let mut last = None;
    let mut pos = at + hl as u64;
    while pos < size {
        let n = usize::try_from(size - pos).unwrap_or(STEP).min(STEP);
        let w = src.at(pos, n)?;
        if w.is_empty() {
            break;
        }
        if let Some(i) = w.iter().rposition(|&b| b != 0) {
            last = Some(pos + i as u64);
        }
        pos += w.len() as u64;
    }
    let (payload, end) = (at + hl as u64, at + declared);
    let hole = last.map_or(payload, |l| l + 1);
    // Payload never copied: the zeros run on past the frame (a mapped
    // chunk's reserve). A payload of zeros ending the file with a bad
    // checksum is damage (the checksum was hit).
    let copied_header_only = hole == payload && size > end;
    Ok(hole < end && (copied_header_only || hole.div_ceil(SECTOR) * SECTOR < end))
}

/// Whether `[from, size)` holds only zeros.
pub(crate) fn zeros<B: Bytes>(src: &mut B, from: u64, size: u64) -> Result<bool, B::Error> {
    let mut at = from;
    while at < size {
        let n = usize::try_from(size - at).unwrap_or(STEP).min(STEP);
        let w = src.at(at, n)?;
        if w.is_empty() {
            break;
        }
        if w.iter().any(|&b| b != 0) {
            return Ok(false);
        }
        at += w.len() as u64;
    }
    Ok(true)
}

/// The first valid frame at or after `from` (v2: for slot `min_index` or
/// a later one).
pub(crate) fn resync<B: Bytes>(
    src: &mut B,
    from: u64,
    size: u64,
    layout: Layout,
    min_index: u32,
) -> Result<Option<(u64, Option<u32>)>, B::Error> {
    let hl = layout.header_len() as u64;
    let max = crate::MAX_ITEM_SIZE_LIMIT;
    let mut at = from;
    while at + hl <= size {
        let room = size - at;
        let head = src.at(at, layout.header_len())?;
        // Cheap rejections before checksumming a payload.
        let len = u64::from(u32::from_le_bytes([head[0], head[1], head[2], head[3]]));
        if len + hl <= room {
            let plausible = match layout {
                Layout::V1 => true,
                // The header verifies on its own, for a later slot.
                Layout::V2 { .. } => {
                    let i = u32::from_le_bytes([head[4], head[5], head[6], head[7]]);
                    i >= min_index
                        && matches!(
                            frame::parse(head, layout, max),
                            Parsed::Incomplete { trusted: true, .. } | Parsed::Frame(..)
                        )
                }
            };
            if plausible {
                let whole = usize::try_from(len + hl).unwrap_or(usize::MAX);
                if let Parsed::Frame(_, _, i) = frame::parse(src.at(at, whole)?, layout, max)
                    && i.is_none_or(|i| i >= min_index)
                {
                    return Ok(Some((at, i)));
                }
            }
        }
        at += 1;
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    fn frames(layout: Layout, n: u32) -> Vec<u8> {
        let mut out = Vec::new();
        for i in 0..n {
            frame::encode_in(&mut out, layout, i, &[i as u8; 20]);
        }
        out
    }

    fn check(bytes: &[u8], at: usize, layout: Layout, index: u32) -> Tail {
        let size = bytes.len() as u64;
        let Ok(t) = classify(&mut SliceBytes(bytes), at as u64, size, layout, index);
        t
    }

    #[test]
    fn torn_and_damaged_are_told_apart() {
        for layout in [Layout::V1, Layout::V2 { chunk: 3 }] {
            let f = layout.header_len() + 20;
            let all = frames(layout, 10);
            assert_eq!(check(&all, all.len(), layout, 10), Tail::Clean);
            // Cut short inside the last frame's payload or header.
            assert_eq!(check(&all[..all.len() - 5], 9 * f, layout, 9), Tail::Torn);
            assert_eq!(check(&all[..9 * f + 3], 9 * f, layout, 9), Tail::Torn);
            // Zeros to the end (an extension never written).
            let mut z = all[..9 * f].to_vec();
            z.extend([0u8; 100]);
            assert_eq!(check(&z, 9 * f, layout, 9), Tail::Torn);
            // Zeros over a length field, valid frames after: damage.
            let mut d = all.clone();
            d[4 * f..4 * f + 16].fill(0);
            let want = Some((5 * f as u64, if layout == Layout::V1 { None } else { Some(5) }));
            assert_eq!(check(&d, 4 * f, layout, 4), Tail::Damaged { resume: want });
            // A flipped bit in the last (whole) frame: damage, nothing after.
            let mut l = all.clone();
            let n = l.len();
            l[n - 3] ^= 0x10;
            assert_eq!(check(&l, 9 * f, layout, 9), Tail::Damaged { resume: None });
            // The last frame copied up to its header only (a process
            // killed between the two): its whole payload zeros, and the
            // mapping's zero reserve after it.
            let mut h = all.clone();
            h[n - 20..].fill(0);
            let mut reserved = h.clone();
            reserved.extend([0u8; 64]);
            assert_eq!(check(&reserved, 9 * f, layout, 9), Tail::Torn);
            // ... but a payload of zeros ending the file, its checksum
            // not matching: the checksum was hit. Damage.
            assert_eq!(check(&h, 9 * f, layout, 9), Tail::Damaged { resume: None });
            // ... but a zeroed last byte is not a hole if a non-zero byte
            // follows the frame.
            h.extend([0, 0, 7]);
            assert_eq!(check(&h, 9 * f, layout, 9), Tail::Damaged { resume: None });
            // Zeros from inside the payload, not at a sector boundary: a
            // flipped bit in a payload that ended in zeros looks so. Damage.
            let mut z = all.clone();
            z[n - 8..].fill(0);
            assert_eq!(check(&z, 9 * f, layout, 9), Tail::Damaged { resume: None });
            // The later sectors of a frame that crosses a sector boundary
            // never written: torn.
            let mut s = Vec::new();
            for i in 0..5 {
                frame::encode_in(&mut s, layout, i, &[7u8; 100]);
            }
            let big = layout.header_len() + 100;
            assert!(
                4 * big + layout.header_len() < 512 && 512 < 5 * big,
                "frame 4 has 512 inside its payload"
            );
            s[512..].fill(0);
            assert_eq!(check(&s, 4 * big, layout, 4), Tail::Torn);
        }
    }
}
