//! The metadata blob: an 8-byte prefix, a header frame, then read-cursor
//! checkpoint frames appended by `task_done`/autosave (the last valid one
//! wins). Compacted by an atomic replace when it grows long. See `FORMAT.md`.

use alloc::string::String;
use alloc::vec::Vec;
use serde::{Deserialize, Serialize};

use crate::fifo::cursor::Position;
use crate::format::damage::{self, SliceBytes, Tail};
use crate::format::frame::{self, Layout, Parsed};

/// Magic bytes at the start of the metadata blob.
pub const META_MAGIC: [u8; 4] = *b"PQMT";
/// The metadata format version this crate writes and reads.
pub const META_VERSION: u16 = 1;
/// Length of the fixed prefix (magic, version, reserved).
pub(crate) const META_PREFIX_LEN: usize = 8;
/// Checkpoint frames kept before the blob is compacted.
pub const META_COMPACT_AT: u32 = 4096;
/// Largest header or checkpoint frame payload accepted.
const META_FRAME_MAX: u32 = 4096;

/// The first frame: settings fixed when the queue was created.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct MetaHeader {
    /// Records per chunk. The stored value wins over the one asked at open.
    pub chunk_size: u32,
    /// Name of the serializer the items were written with (`postcard`,
    /// `json`, ...), checked at open so that a queue is never read with the
    /// wrong one. Empty means "not recorded".
    pub codec: String,
}

/// A decoded metadata blob.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Meta {
    /// The header frame.
    pub header: MetaHeader,
    /// The last valid checkpoint.
    pub checkpoint: Position,
    /// Checkpoint frames present.
    pub checkpoints: u32,
    /// Bytes to keep: after them is only a torn append (cut at open).
    pub valid_len: usize,
    /// Offset of the first damaged checkpoint frame (not a torn append),
    /// and how many damaged ranges there are.
    pub damaged: Option<(usize, u64)>,
}

/// Why a metadata blob was rejected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MetaProblem {
    /// Wrong magic, or the header frame is missing or damaged.
    Damaged,
    /// Written by a newer format version.
    Version(u16),
    /// No valid checkpoint frame follows the header.
    NoCheckpoint,
}

fn frame_of<T: Serialize>(out: &mut Vec<u8>, value: &T) {
    // Serialising these plain structs into a Vec cannot fail.
    let bytes = postcard::to_allocvec(value).unwrap_or_default();
    frame::encode_into(out, &bytes);
}

/// A whole metadata blob: prefix, header, one checkpoint.
pub(crate) fn encode(header: &MetaHeader, checkpoint: &Position) -> Vec<u8> {
    let mut out = Vec::with_capacity(64);
    out.extend_from_slice(&META_MAGIC);
    out.extend_from_slice(&META_VERSION.to_le_bytes());
    out.extend_from_slice(&[0, 0]);
    frame_of(&mut out, header);
    frame_of(&mut out, checkpoint);
    out
}

/// One checkpoint frame, to append.
pub(crate) fn encode_checkpoint(out: &mut Vec<u8>, checkpoint: &Position) {
    frame_of(out, checkpoint);
}

/// Decodes a metadata blob, tolerating a torn final frame. Damaged
/// checkpoint frames (not a torn append: see [`crate::format::damage`]) are noted
/// in [`Meta::damaged`]; the last intact checkpoint is the one returned.
pub(crate) fn decode(bytes: &[u8]) -> Result<Meta, MetaProblem> {
    let prefix = bytes.get(..META_PREFIX_LEN).ok_or(MetaProblem::Damaged)?;
    if prefix[0..4] != META_MAGIC {
        return Err(MetaProblem::Damaged);
    }
    let version = u16::from_le_bytes([prefix[4], prefix[5]]);
    if version != META_VERSION {
        return Err(MetaProblem::Version(version));
    }
    let mut at = META_PREFIX_LEN;
    let rest = bytes.get(at..).unwrap_or_default();
    let Parsed::Frame(payload, used, _) = frame::parse(rest, Layout::V1, META_FRAME_MAX) else {
        return Err(MetaProblem::Damaged);
    };
    let header: MetaHeader = postcard::from_bytes(payload).map_err(|_| MetaProblem::Damaged)?;
    at += used;
    let mut checkpoint = None;
    let mut checkpoints = 0;
    let mut damaged: Option<(usize, u64)> = None;
    let valid_len = loop {
        let rest = bytes.get(at..).unwrap_or_default();
        if let Parsed::Frame(payload, used, _) = frame::parse(rest, Layout::V1, META_FRAME_MAX)
            && let Ok(pos) = postcard::from_bytes::<Position>(payload)
        {
            checkpoint = Some(pos);
            checkpoints += 1;
            at += used;
            continue;
        }
        let Ok(tail) = damage::classify(&mut SliceBytes(bytes), at as u64, bytes.len() as u64, Layout::V1, 0);
        match tail {
            Tail::Clean | Tail::Torn => break at,
            Tail::Damaged { resume } => {
                let d = damaged.get_or_insert((at, 0));
                d.1 += 1;
                match resume {
                    Some((next, _)) => at = usize::try_from(next).unwrap_or(bytes.len()),
                    None => break bytes.len(),
                }
            }
        }
    };
    let checkpoint = checkpoint.ok_or(MetaProblem::NoCheckpoint)?;
    Ok(Meta { header, checkpoint, checkpoints, valid_len, damaged })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_checkpoint_wins_and_torn_tail_is_ignored() {
        let header = MetaHeader { chunk_size: 10, codec: "json".into() };
        let mut bytes = encode(&header, &Position::chunk_start(0));
        let p = Position { chunk: 1, index: 2, offset: 40 };
        encode_checkpoint(&mut bytes, &p);
        let whole = bytes.len();
        encode_checkpoint(&mut bytes, &Position { chunk: 9, index: 9, offset: 99 });
        bytes.truncate(bytes.len() - 2);
        let meta = decode(&bytes).expect("valid");
        assert_eq!(meta.header, header);
        assert_eq!(meta.checkpoint, p);
        assert_eq!(meta.checkpoints, 2);
        assert_eq!(meta.valid_len, whole);
        assert_eq!(meta.damaged, None);
    }

    #[test]
    fn a_damaged_checkpoint_is_not_a_torn_tail() {
        let header = MetaHeader { chunk_size: 10, codec: "json".into() };
        let mut bytes = encode(&header, &Position::chunk_start(0));
        let second = bytes.len();
        encode_checkpoint(&mut bytes, &Position { chunk: 0, index: 1, offset: 40 });
        let last = Position { chunk: 0, index: 2, offset: 50 };
        encode_checkpoint(&mut bytes, &last);
        bytes[second + 9] ^= 0x20;
        let meta = decode(&bytes).expect("decodes");
        assert_eq!(meta.damaged, Some((second, 1)));
        assert_eq!(meta.checkpoint, last, "the later intact checkpoint is in force");
        assert_eq!(meta.valid_len, bytes.len(), "nothing is cut");
        // The last checkpoint damaged: reported, never silently rolled back.
        let n = bytes.len();
        bytes[n - 1] ^= 0x01;
        let meta = decode(&bytes).expect("decodes");
        assert_eq!(meta.damaged.map(|d| d.1), Some(1), "two adjacent damaged frames are one range");
        assert_eq!(meta.valid_len, bytes.len());
    }

    #[test]
    fn damage_is_reported() {
        assert_eq!(decode(b"PQMT"), Err(MetaProblem::Damaged));
        let mut bytes = encode(&MetaHeader { chunk_size: 1, codec: String::new() }, &Position::default());
        bytes[4] = 9;
        assert_eq!(decode(&bytes), Err(MetaProblem::Version(9)));
    }
}
