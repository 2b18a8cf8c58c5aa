//! Walking every chunk of a storage and every frame's checksum, changing
//! nothing: what `pq verify` reports. Both engines (the chunk FIFO and the
//! record log) keep their data in these chunks, so one walk serves both;
//! each engine's metadata is checked by opening it.
//!
//! Where the frames of a chunk stop before its end, the one rule of
//! [`crate::format::damage`] says what the bytes are: a torn tail (a write
//! a crash cut short: never acknowledged, open cuts it) or damage (reported
//! with its range; the walk resynchronises and goes on, so every damaged
//! range of a chunk is found, not only the first).

use alloc::vec::Vec;

use crate::format::chunk::{self, CHUNK_HEADER_LEN, HeaderProblem};
use crate::format::damage::{self, ChunkBytes, Tail};
use crate::format::frame::Layout;
use crate::format::reader::{Found, Reader};
use crate::storage::{Blob, Storage};

/// What a walk found wrong at one place.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FindingKind {
    /// Bytes that held data once and no longer read as frames: damage.
    Damaged,
    /// A write cut short at the end of the newest chunk: never
    /// acknowledged; opening the queue cuts it (not a problem).
    TornTail,
    /// A torn-looking tail in a chunk that is not the newest: a later
    /// chunk exists, so the writer had finished it; treated as damage.
    TornBeforeNewest,
    /// The chunk's header does not hold (its frames were still walked,
    /// in the layout they show).
    Header(HeaderProblem),
    /// A chunk between two others is missing.
    MissingChunk,
}

impl FindingKind {
    /// Whether this is damage to data (anything but a torn tail, which
    /// open repairs by rule).
    pub fn is_damage(self) -> bool {
        !matches!(self, FindingKind::TornTail)
    }
}

/// One problem: where (blob, byte offset, length) and what.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Finding {
    /// The blob.
    pub blob: Blob,
    /// Where the bad bytes start.
    pub offset: u64,
    /// How many bytes are bad (0 for a missing chunk).
    pub len: u64,
    /// What they are.
    pub kind: FindingKind,
}

/// What a walk saw.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Audit {
    /// Chunks walked.
    pub chunks: u64,
    /// Valid frames read (every checksum verified).
    pub frames: u64,
    /// Bytes in valid frames.
    pub frame_bytes: u64,
    /// Every problem, in storage order.
    pub findings: Vec<Finding>,
}

impl Audit {
    /// Whether any finding is damage (a torn tail alone is not).
    pub fn damaged(&self) -> bool {
        self.findings.iter().any(|f| f.kind.is_damage())
    }
}

/// Walks every chunk of `storage` (in number order) and every frame in it,
/// verifying each checksum; writes nothing. The metadata blob is not read
/// (its format is the engine's: open the queue to check it).
pub fn audit<S: Storage>(storage: &mut S) -> Result<Audit, S::Error> {
    let mut chunks: Vec<u64> = storage
        .list()?
        .into_iter()
        .filter_map(|b| if let Blob::Chunk(n) = b { Some(n) } else { None })
        .collect();
    chunks.sort_unstable();
    let mut out = Audit::default();
    let mut reader = Reader::default();
    for (i, &n) in chunks.iter().enumerate() {
        if i > 0 {
            for missing in chunks[i - 1] + 1..n {
                out.findings.push(Finding {
                    blob: Blob::Chunk(missing),
                    offset: 0,
                    len: 0,
                    kind: FindingKind::MissingChunk,
                });
            }
        }
        walk_chunk(storage, &mut reader, n, i + 1 == chunks.len(), &mut out)?;
        out.chunks += 1;
    }
    Ok(out)
}

/// Walks chunk `n`; `newest`: whether no later chunk exists.
fn walk_chunk<S: Storage>(
    storage: &mut S,
    reader: &mut Reader,
    n: u64,
    newest: bool,
    out: &mut Audit,
) -> Result<(), S::Error> {
    reader.reset();
    let size = storage.size(Blob::Chunk(n))?.unwrap_or(0);
    let header = reader.bytes(storage, n, 0, CHUNK_HEADER_LEN)?;
    let layout = match chunk::check_header(&header, n) {
        Ok(layout) => layout,
        Err(p) => {
            let len = (CHUNK_HEADER_LEN as u64).min(size);
            // A newest chunk whose header is short or zeros, with nothing
            // after it, was cut while being created: torn, never used.
            let torn = newest && (size < CHUNK_HEADER_LEN as u64 || header.iter().all(|&b| b == 0)) && {
                let mut src = ChunkBytes { reader: &mut *reader, storage: &mut *storage, chunk: n };
                damage::zeros(&mut src, CHUNK_HEADER_LEN as u64, size)?
            };
            if torn {
                out.findings.push(Finding {
                    blob: Blob::Chunk(n),
                    offset: 0,
                    len: size,
                    kind: FindingKind::TornTail,
                });
                return Ok(());
            }
            out.findings.push(Finding { blob: Blob::Chunk(n), offset: 0, len, kind: FindingKind::Header(p) });
            if matches!(p, HeaderProblem::Version(_)) {
                return Ok(()); // a newer format: its frames are not ours to judge
            }
            let v2 = Layout::V2 { chunk: n };
            let mut src = ChunkBytes { reader: &mut *reader, storage: &mut *storage, chunk: n };
            if damage::resync(&mut src, CHUNK_HEADER_LEN as u64, size, v2, 0)?.is_some() {
                v2
            } else {
                Layout::V1
            }
        }
    };
    let (mut at, mut index) = (CHUNK_HEADER_LEN as u64, 0u32);
    while at < size {
        match reader.frame(storage, n, at, layout)? {
            Found::Record(payload, len, i) if i.is_none_or(|i| i == index) => {
                out.frames += 1;
                out.frame_bytes += payload.len() as u64;
                at += len;
                index += 1;
                continue;
            }
            _ => {}
        }
        let mut src = ChunkBytes { reader: &mut *reader, storage: &mut *storage, chunk: n };
        match damage::classify(&mut src, at, size, layout, index)? {
            Tail::Clean => break,
            Tail::Torn => {
                let kind = if newest { FindingKind::TornTail } else { FindingKind::TornBeforeNewest };
                out.findings.push(Finding { blob: Blob::Chunk(n), offset: at, len: size - at, kind });
                break;
            }
            Tail::Damaged { resume: None } => {
                out.findings.push(Finding {
                    blob: Blob::Chunk(n),
                    offset: at,
                    len: size - at,
                    kind: FindingKind::Damaged,
                });
                break;
            }
            Tail::Damaged { resume: Some((next, i)) } => {
                out.findings.push(Finding {
                    blob: Blob::Chunk(n),
                    offset: at,
                    len: next - at,
                    kind: FindingKind::Damaged,
                });
                at = next;
                index = i.unwrap_or(index + 1);
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::frame;
    use crate::memory::MemoryStorage;

    fn chunk_with(n: u64, frames: u32) -> Vec<u8> {
        let mut bytes = chunk::encode_header(n).to_vec();
        for i in 0..frames {
            frame::encode_in(&mut bytes, Layout::V2 { chunk: n }, i, &[i as u8 + 1; 40]);
        }
        bytes
    }

    fn storage(chunks: &[(u64, Vec<u8>)]) -> MemoryStorage {
        let mut s = MemoryStorage::new();
        for (n, bytes) in chunks {
            s.append(Blob::Chunk(*n), bytes).expect("memory");
        }
        s
    }

    fn audited(s: &mut MemoryStorage) -> Audit {
        audit(s).expect("memory")
    }

    #[test]
    fn a_whole_storage_has_no_findings() {
        let a = audited(&mut storage(&[(0, chunk_with(0, 5)), (1, chunk_with(1, 3))]));
        assert_eq!((a.chunks, a.frames, a.frame_bytes), (2, 8, 8 * 40));
        assert!(a.findings.is_empty());
    }

    #[test]
    fn every_damaged_range_is_found_and_walking_goes_on() {
        let mut c = chunk_with(0, 6);
        let f = Layout::V2 { chunk: 0 }.header_len() + 40;
        let h = CHUNK_HEADER_LEN;
        c[h + f + 10] ^= 1; // frame 1
        c[h + 4 * f + 10] ^= 1; // frame 4
        let a = audited(&mut storage(&[(0, c), (1, chunk_with(1, 1))]));
        let offsets: Vec<(u64, u64)> = a.findings.iter().map(|x| (x.offset, x.len)).collect();
        assert_eq!(offsets, [((h + f) as u64, f as u64), ((h + 4 * f) as u64, f as u64)]);
        assert!(a.findings.iter().all(|x| x.kind == FindingKind::Damaged));
        assert_eq!(a.frames, 5);
        assert!(a.damaged());
    }

    #[test]
    fn a_torn_tail_is_told_from_damage_and_from_a_missing_chunk() {
        let mut newest = chunk_with(2, 3);
        newest.truncate(newest.len() - 7);
        let mut older = chunk_with(0, 3);
        older.truncate(older.len() - 7);
        let a = audited(&mut storage(&[(0, older), (2, newest)]));
        let kinds: Vec<FindingKind> = a.findings.iter().map(|x| x.kind).collect();
        assert_eq!(kinds, [FindingKind::TornBeforeNewest, FindingKind::MissingChunk, FindingKind::TornTail]);
        assert!(a.damaged());
        let mut only_torn = chunk_with(0, 2);
        only_torn.truncate(only_torn.len() - 3);
        assert!(!audited(&mut storage(&[(0, only_torn)])).damaged());
    }

    #[test]
    fn a_damaged_header_is_reported_and_its_frames_still_walked() {
        let mut c = chunk_with(0, 4);
        c[3] ^= 0x10;
        let a = audited(&mut storage(&[(0, c), (1, chunk_with(1, 1))]));
        assert!(matches!(a.findings[..], [Finding { kind: FindingKind::Header(_), offset: 0, .. }]));
        assert_eq!(a.frames, 5);
    }
}
