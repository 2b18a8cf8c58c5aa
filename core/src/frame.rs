//! Record framing: `len: u32 LE | crc32: u32 LE | payload`, where the CRC
//! covers the four length bytes and the payload (so a run of zero bytes is
//! never a valid frame). See `FORMAT.md`.

use alloc::vec::Vec;

/// Bytes before the payload in every frame.
pub const FRAME_HEADER_LEN: usize = 8;

/// The checksum of a frame with this length field and payload.
pub(crate) fn checksum(len_bytes: [u8; 4], payload: &[u8]) -> u32 {
    let mut h = crc32fast::Hasher::new();
    h.update(&len_bytes);
    h.update(payload);
    h.finalize()
}

/// Appends one frame holding `payload` to `out`.
///
/// The caller has checked `payload.len()` against the configured maximum,
/// which is below `u32::MAX`.
pub(crate) fn encode_into(out: &mut Vec<u8>, payload: &[u8]) {
    let len = u32::try_from(payload.len()).unwrap_or(u32::MAX).to_le_bytes();
    out.extend_from_slice(&len);
    out.extend_from_slice(&checksum(len, payload).to_le_bytes());
    out.extend_from_slice(payload);
}

/// What a frame header says about the bytes that follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FrameHeader {
    /// Payload length.
    pub len: u32,
    /// Stored checksum.
    pub crc: u32,
}

impl FrameHeader {
    /// Decodes the 8 header bytes.
    pub(crate) fn parse(bytes: [u8; FRAME_HEADER_LEN]) -> FrameHeader {
        let [a, b, c, d, e, f, g, h] = bytes;
        FrameHeader { len: u32::from_le_bytes([a, b, c, d]), crc: u32::from_le_bytes([e, f, g, h]) }
    }

    /// Whether `payload` matches this header.
    pub(crate) fn verifies(&self, payload: &[u8]) -> bool {
        payload.len() == self.len as usize && checksum(self.len.to_le_bytes(), payload) == self.crc
    }

    /// Total frame length (header + payload).
    pub(crate) fn frame_len(&self) -> u64 {
        FRAME_HEADER_LEN as u64 + u64::from(self.len)
    }
}

/// Result of looking for one frame at the start of `buf`.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Parsed<'a> {
    /// A whole, valid frame: its payload and total length.
    Frame(&'a [u8], usize),
    /// `buf` ends before the frame does (need more bytes, or a torn tail).
    Incomplete,
    /// The length is impossible or the checksum does not match.
    Invalid,
}

/// Parses the frame at the start of `buf`; `max_len` bounds the payload.
pub(crate) fn parse(buf: &[u8], max_len: u32) -> Parsed<'_> {
    let Some(head) = buf.get(..FRAME_HEADER_LEN) else {
        return Parsed::Incomplete;
    };
    let mut hb = [0u8; FRAME_HEADER_LEN];
    hb.copy_from_slice(head);
    let header = FrameHeader::parse(hb);
    if header.len > max_len {
        return Parsed::Invalid;
    }
    let end = FRAME_HEADER_LEN + header.len as usize;
    let Some(payload) = buf.get(FRAME_HEADER_LEN..end) else {
        return Parsed::Incomplete;
    };
    if header.verifies(payload) { Parsed::Frame(payload, end) } else { Parsed::Invalid }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_detection() {
        let mut out = Vec::new();
        encode_into(&mut out, b"hello");
        encode_into(&mut out, b"");
        assert_eq!(parse(&out, 100), Parsed::Frame(b"hello", 13));
        assert_eq!(parse(&out[13..], 100), Parsed::Frame(b"", 8));
        assert_eq!(parse(&out[..12], 100), Parsed::Incomplete);
        let mut bad = out.clone();
        bad[10] ^= 1;
        assert_eq!(parse(&bad, 100), Parsed::Invalid);
        assert_eq!(parse(&out, 4), Parsed::Invalid, "length above the maximum");
        assert_eq!(parse(&[0u8; 16], 100), Parsed::Invalid, "zeros are not a frame");
    }
}
