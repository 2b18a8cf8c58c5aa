//! The chunk header: a versioned, checksummed 24-byte prefix of every chunk.

use alloc::vec::Vec;

use crate::format::frame::Layout;
use crate::storage::{Blob, Storage};

/// Magic bytes at the start of every chunk.
pub const CHUNK_MAGIC: [u8; 4] = *b"PQCK";
/// The chunk format version this crate writes. It reads 1 and 2: a chunk's
/// version says how its frames are laid out (v1: `len | crc`; v2: with
/// the record's index and a header checksum bound to the chunk).
pub const CHUNK_VERSION: u16 = 2;
/// The oldest chunk format version this crate reads.
pub const CHUNK_VERSION_MIN: u16 = 1;
/// Length of the chunk header.
pub const CHUNK_HEADER_LEN: usize = 24;

/// Encodes the header of chunk `number` (current version).
pub(crate) fn encode_header(number: u64) -> [u8; CHUNK_HEADER_LEN] {
    encode_header_version(number, CHUNK_VERSION)
}

/// Encodes a header of the given version (tests write version-1 chunks).
pub(crate) fn encode_header_version(number: u64, version: u16) -> [u8; CHUNK_HEADER_LEN] {
    let mut h = [0u8; CHUNK_HEADER_LEN];
    h[0..4].copy_from_slice(&CHUNK_MAGIC);
    h[4..6].copy_from_slice(&version.to_le_bytes());
    // 6..8 reserved (flags), zero.
    h[8..16].copy_from_slice(&number.to_le_bytes());
    // 16..20 reserved, zero.
    let crc = crc32fast::hash(&h[0..20]);
    h[20..24].copy_from_slice(&crc.to_le_bytes());
    h
}

/// Why a chunk header was rejected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HeaderProblem {
    /// Fewer than 24 bytes.
    Short,
    /// Wrong magic or checksum.
    Damaged,
    /// Written by a newer format version.
    Version(u16),
    /// The header names another chunk (a misplaced file).
    Misplaced(u64),
}

/// The frame layout of chunk `number` written in format `version`.
pub(crate) fn layout(number: u64, version: u16) -> Layout {
    if version >= 2 { Layout::V2 { chunk: number } } else { Layout::V1 }
}

/// Checks that `bytes` is a valid header for chunk `number` and returns
/// the frame layout it announces.
pub(crate) fn check_header(bytes: &[u8], number: u64) -> Result<Layout, HeaderProblem> {
    let h = bytes.get(..CHUNK_HEADER_LEN).ok_or(HeaderProblem::Short)?;
    let mut crc = [0u8; 4];
    crc.copy_from_slice(&h[20..24]);
    if h[0..4] != CHUNK_MAGIC || crc32fast::hash(&h[0..20]) != u32::from_le_bytes(crc) {
        return Err(HeaderProblem::Damaged);
    }
    let version = u16::from_le_bytes([h[4], h[5]]);
    if !(CHUNK_VERSION_MIN..=CHUNK_VERSION).contains(&version) {
        return Err(HeaderProblem::Version(version));
    }
    let mut n = [0u8; 8];
    n.copy_from_slice(&h[8..16]);
    let found = u64::from_le_bytes(n);
    if found != number {
        return Err(HeaderProblem::Misplaced(found));
    }
    Ok(layout(number, version))
}

/// The numbers of every chunk of `storage`, in order; changes nothing.
pub(crate) fn chunk_numbers<S: Storage>(storage: &mut S) -> Result<Vec<u64>, S::Error> {
    let mut chunks: Vec<u64> = storage
        .list()?
        .into_iter()
        .filter_map(|b| if let Blob::Chunk(n) = b { Some(n) } else { None })
        .collect();
    chunks.sort_unstable();
    Ok(chunks)
}

/// The chunks of `storage` from `first` on, in order. Chunks before
/// `first` are deleted: an interrupted cleanup (the checkpoint or the log's
/// start had already moved past them). Both engines open this way.
pub(crate) fn chunks_from<S: Storage>(storage: &mut S, first: u64) -> Result<Vec<u64>, S::Error> {
    let mut chunks = chunk_numbers(storage)?;
    for &n in chunks.iter().filter(|&&n| n < first) {
        storage.remove(Blob::Chunk(n))?;
    }
    chunks.retain(|&n| n >= first);
    Ok(chunks)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_checks() {
        let h = encode_header(7);
        assert_eq!(check_header(&h, 7), Ok(Layout::V2 { chunk: 7 }));
        assert_eq!(check_header(&encode_header_version(7, 1), 7), Ok(Layout::V1));
        assert_eq!(check_header(&encode_header_version(7, 3), 7), Err(HeaderProblem::Version(3)));
        assert_eq!(check_header(&h, 8), Err(HeaderProblem::Misplaced(7)));
        assert_eq!(check_header(&h[..10], 7), Err(HeaderProblem::Short));
        let mut bad = h;
        bad[9] ^= 0x40;
        assert_eq!(check_header(&bad, 7), Err(HeaderProblem::Damaged));
    }
}
