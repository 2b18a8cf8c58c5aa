//! The chunk header: a versioned, checksummed 24-byte prefix of every chunk.

/// Magic bytes at the start of every chunk.
pub const CHUNK_MAGIC: [u8; 4] = *b"PQCK";
/// The chunk format version this crate writes and reads.
pub const CHUNK_VERSION: u16 = 1;
/// Length of the chunk header.
pub const CHUNK_HEADER_LEN: usize = 24;

/// Encodes the header of chunk `number`.
pub(crate) fn encode_header(number: u64) -> [u8; CHUNK_HEADER_LEN] {
    let mut h = [0u8; CHUNK_HEADER_LEN];
    h[0..4].copy_from_slice(&CHUNK_MAGIC);
    h[4..6].copy_from_slice(&CHUNK_VERSION.to_le_bytes());
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

/// Checks that `bytes` is a valid header for chunk `number`.
pub(crate) fn check_header(bytes: &[u8], number: u64) -> Result<(), HeaderProblem> {
    let h = bytes.get(..CHUNK_HEADER_LEN).ok_or(HeaderProblem::Short)?;
    let mut crc = [0u8; 4];
    crc.copy_from_slice(&h[20..24]);
    if h[0..4] != CHUNK_MAGIC || crc32fast::hash(&h[0..20]) != u32::from_le_bytes(crc) {
        return Err(HeaderProblem::Damaged);
    }
    let version = u16::from_le_bytes([h[4], h[5]]);
    if version != CHUNK_VERSION {
        return Err(HeaderProblem::Version(version));
    }
    let mut n = [0u8; 8];
    n.copy_from_slice(&h[8..16]);
    let found = u64::from_le_bytes(n);
    if found != number {
        return Err(HeaderProblem::Misplaced(found));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_checks() {
        let h = encode_header(7);
        assert_eq!(check_header(&h, 7), Ok(()));
        assert_eq!(check_header(&h, 8), Err(HeaderProblem::Misplaced(7)));
        assert_eq!(check_header(&h[..10], 7), Err(HeaderProblem::Short));
        let mut bad = h;
        bad[9] ^= 0x40;
        assert_eq!(check_header(&bad, 7), Err(HeaderProblem::Damaged));
    }
}
