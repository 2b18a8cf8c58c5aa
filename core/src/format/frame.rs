//! Record framing, in two layouts (see `FORMAT.md`):
//!
//! * **v1** (metadata, and chunks written by format version 1):
//!   `len: u32 | crc: u32 | payload`, the CRC over the length bytes and the
//!   payload (so a run of zero bytes is never a valid frame).
//! * **v2** (chunks written by format version 2):
//!   `len: u32 | index: u32 | head_crc: u32 | crc: u32 | payload`.
//!   `head_crc` covers the chunk number, `len` and `index`, so a length
//!   field can be trusted on its own (a frame cut short by a crash is told
//!   apart from a damaged length) and a frame copied from another chunk or
//!   another slot never verifies; `crc` covers `head_crc` and the payload.
//!   `index` is the record's (or log entry's) number inside its chunk, so
//!   recovery can find valid frames *after* a damaged range and knows how
//!   many records that range held.

use alloc::vec::Vec;

/// Bytes before the payload in a v1 frame.
pub const FRAME_HEADER_LEN: usize = 8;
/// Bytes before the payload in a v2 frame.
pub const FRAME_V2_HEADER_LEN: usize = 16;

/// Which frame layout a blob uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Layout {
    /// Version 1: no index, not bound to its chunk.
    V1,
    /// Version 2, in chunk `chunk`.
    V2 {
        /// The chunk's number (part of every header checksum).
        chunk: u64,
    },
}

impl Layout {
    /// Bytes before the payload.
    pub(crate) fn header_len(self) -> usize {
        match self {
            Layout::V1 => FRAME_HEADER_LEN,
            Layout::V2 { .. } => FRAME_V2_HEADER_LEN,
        }
    }
}

/// The v1 checksum of a frame with this length field and payload.
pub(crate) fn checksum(len_bytes: [u8; 4], payload: &[u8]) -> u32 {
    let mut h = crc32fast::Hasher::new();
    h.update(&len_bytes);
    h.update(payload);
    h.finalize()
}

fn head_checksum(chunk: u64, len: u32, index: u32) -> u32 {
    let mut h = crc32fast::Hasher::new();
    h.update(&chunk.to_le_bytes());
    h.update(&len.to_le_bytes());
    h.update(&index.to_le_bytes());
    h.finalize()
}

fn body_checksum(head_crc: u32, payload: &[u8]) -> u32 {
    let mut h = crc32fast::Hasher::new();
    h.update(&head_crc.to_le_bytes());
    h.update(payload);
    h.finalize()
}

fn len_u32(payload: &[u8]) -> u32 {
    // The caller has checked the length against the configured maximum,
    // which is below `u32::MAX`.
    u32::try_from(payload.len()).unwrap_or(u32::MAX)
}

/// Appends one v1 frame holding `payload` to `out`.
pub(crate) fn encode_into(out: &mut Vec<u8>, payload: &[u8]) {
    let len = len_u32(payload).to_le_bytes();
    out.extend_from_slice(&len);
    out.extend_from_slice(&checksum(len, payload).to_le_bytes());
    out.extend_from_slice(payload);
}

/// Appends one frame in `layout` (record number `index` of its chunk).
pub(crate) fn encode_in(out: &mut Vec<u8>, layout: Layout, index: u32, payload: &[u8]) {
    match layout {
        Layout::V1 => encode_into(out, payload),
        Layout::V2 { chunk } => {
            let len = len_u32(payload);
            let head = head_checksum(chunk, len, index);
            out.extend_from_slice(&len.to_le_bytes());
            out.extend_from_slice(&index.to_le_bytes());
            out.extend_from_slice(&head.to_le_bytes());
            out.extend_from_slice(&body_checksum(head, payload).to_le_bytes());
            out.extend_from_slice(payload);
        }
    }
}

/// Result of looking for one frame at the start of `buf`.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Parsed<'a> {
    /// A whole, valid frame: its payload, total length and (v2) index.
    Frame(&'a [u8], usize, Option<u32>),
    /// `buf` ends before the frame does. `trusted`: the header verified on
    /// its own (v2), so the frame really is longer than `buf` (a write cut
    /// short), not a damaged length field. Always `false` for v1.
    Incomplete {
        /// The length field is known good.
        trusted: bool,
        /// Total frame length the header declares (0 if the header itself
        /// is cut short).
        need: u64,
    },
    /// The header or the payload does not verify.
    Invalid,
}

fn u32_at(buf: &[u8], at: usize) -> u32 {
    let mut b = [0u8; 4];
    b.copy_from_slice(&buf[at..at + 4]);
    u32::from_le_bytes(b)
}

/// Parses the frame at the start of `buf`; `max_len` bounds the payload.
pub(crate) fn parse(buf: &[u8], layout: Layout, max_len: u32) -> Parsed<'_> {
    let hl = layout.header_len();
    if buf.len() < hl {
        return Parsed::Incomplete { trusted: false, need: 0 };
    }
    let len = u32_at(buf, 0);
    match layout {
        Layout::V1 => {
            if len > max_len {
                return Parsed::Invalid;
            }
            let end = hl + len as usize;
            let Some(payload) = buf.get(hl..end) else {
                return Parsed::Incomplete { trusted: false, need: end as u64 };
            };
            if checksum(len.to_le_bytes(), payload) == u32_at(buf, 4) {
                Parsed::Frame(payload, end, None)
            } else {
                Parsed::Invalid
            }
        }
        Layout::V2 { chunk } => {
            let index = u32_at(buf, 4);
            let head = u32_at(buf, 8);
            if head != head_checksum(chunk, len, index) || len > max_len {
                return Parsed::Invalid;
            }
            let end = hl + len as usize;
            let Some(payload) = buf.get(hl..end) else {
                return Parsed::Incomplete { trusted: true, need: end as u64 };
            };
            if body_checksum(head, payload) == u32_at(buf, 12) {
                Parsed::Frame(payload, end, Some(index))
            } else {
                Parsed::Invalid
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_detection_v1() {
        let mut out = Vec::new();
        encode_into(&mut out, b"hello");
        encode_into(&mut out, b"");
        assert_eq!(out[..13], [5, 0, 0, 0, 0x7A, 0x00, 0xAC, 0x5C, b'h', b'e', b'l', b'l', b'o']);
        assert_eq!(parse(&out, Layout::V1, 100), Parsed::Frame(b"hello", 13, None));
        assert_eq!(parse(&out[13..], Layout::V1, 100), Parsed::Frame(b"", 8, None));
        assert_eq!(parse(&out[..12], Layout::V1, 100), Parsed::Incomplete { trusted: false, need: 13 });
        let mut bad = out.clone();
        bad[10] ^= 1;
        assert_eq!(parse(&bad, Layout::V1, 100), Parsed::Invalid);
        assert_eq!(parse(&out, Layout::V1, 4), Parsed::Invalid, "length above the maximum");
        assert_eq!(parse(&[0u8; 16], Layout::V1, 100), Parsed::Invalid, "zeros are not a frame");
    }

    #[test]
    fn v2_is_bound_to_its_chunk_and_slot() {
        let l = Layout::V2 { chunk: 7 };
        let mut out = Vec::new();
        encode_in(&mut out, l, 3, b"hello");
        assert_eq!(out.len(), 21);
        assert_eq!(parse(&out, l, 100), Parsed::Frame(b"hello", 21, Some(3)));
        assert_eq!(parse(&out, Layout::V2 { chunk: 8 }, 100), Parsed::Invalid, "another chunk's frame");
        assert_eq!(parse(&out[..18], l, 100), Parsed::Incomplete { trusted: true, need: 21 });
        let mut bad_len = out.clone();
        bad_len[0] = 200;
        assert_eq!(parse(&bad_len[..18], l, 1000), Parsed::Invalid, "a damaged length is not trusted");
        let mut bad_body = out.clone();
        bad_body[20] ^= 1;
        assert_eq!(parse(&bad_body, l, 100), Parsed::Invalid);
        assert_eq!(parse(&[0u8; 32], l, 100), Parsed::Invalid, "zeros are not a frame");
    }
}
