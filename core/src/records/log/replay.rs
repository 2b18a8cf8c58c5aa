//! Reading the log back: at open (every chunk from the one `meta` names)
//! and, when several processes share the log, before each plan
//! (`catch_up`). A plan takes effect only once its `Commit` entry is read;
//! where the frames stop, [`crate::format::damage::classify`] tells a torn tail
//! (cut: never acknowledged) from damage (reported, or skipped and
//! counted with `skip_corrupted`).

use alloc::vec::Vec;

use super::entry::{Entry, Loc, Skipped};
use super::error::{LogError, corrupted};
use super::{LogTable, decode_meta};
use crate::error::CorruptionKind;
use crate::format::chunk::{self, CHUNK_HEADER_LEN, HeaderProblem};
use crate::format::damage::{self, ChunkBytes, Tail};
use crate::format::frame::Layout;
use crate::format::meta::MetaProblem;
use crate::records::index::Index;
use crate::storage::{Blob, Locked, Storage};

/// Where a chunk scan ended.
struct ChunkEnd {
    /// After the last committed plan (or after skipped damage): what a torn
    /// tail is cut back to.
    committed: (Loc, u32),
}

impl<S: Storage> LogTable<S> {
    pub(super) fn replay(&mut self) -> Result<(), LogError<S::Error>> {
        let mut chunks = chunk::chunks_from(&mut self.storage, self.start).map_err(LogError::Storage)?;
        if chunks.is_empty() {
            self.storage
                .append(Blob::Chunk(self.start), &chunk::encode_header(self.start))
                .map_err(LogError::Storage)?;
            chunks.push(self.start);
        }
        let last = chunks.len() - 1;
        for (i, &n) in chunks.iter().enumerate() {
            if i > 0 && n != chunks[i - 1] + 1 {
                return Err(corrupted(Blob::Chunk(chunks[i - 1] + 1), 0, CorruptionKind::Missing));
            }
            let layout = self.checked_layout(n, i == last)?;
            self.layouts.insert(n, layout);
            let from = Loc { chunk: n, offset: CHUNK_HEADER_LEN as u64 };
            let end = self.scan_chunk(n, layout, from, 0, i == last)?;
            if i == last {
                // Cut what the last committed plan does not cover: a torn plan.
                self.cut_after(n, end.committed)?;
            }
        }
        Ok(())
    }

    /// Shared mode: catch up with what other processes committed since our
    /// last plan, and cut a plan torn by a process that died mid-append.
    /// Nothing to do when no other process held the lock since our last
    /// plan (`Locked::Unchanged`): the rows and the cached bytes still hold.
    pub(super) fn catch_up(&mut self, locked: Locked) -> Result<(), LogError<S::Error>> {
        if locked == Locked::Unchanged {
            return Ok(());
        }
        self.reader.reset();
        let mut m = alloc::vec![0; 64];
        let n = self.storage.read(Blob::Meta, 0, &mut m).map_err(LogError::Storage)?;
        m.truncate(n);
        let (start, version) =
            decode_meta(&m).ok_or(corrupted(Blob::Meta, 0, CorruptionKind::Meta(MetaProblem::Damaged)))?;
        self.meta_version = version;
        if start != self.start {
            // Another process compacted: reload from its snapshot.
            self.rows.clear();
            self.index = Index::default();
            self.logged = 0;
            self.live = 0;
            self.start = start;
            return self.replay();
        }
        loop {
            let n = self.head.chunk;
            let next_exists = self.storage.size(Blob::Chunk(n + 1)).map_err(LogError::Storage)?.is_some();
            let layout = self.layout(n);
            let end = self.scan_chunk(n, layout, self.head, self.head_index, !next_exists)?;
            if !next_exists {
                self.cut_after(n, end.committed)?;
                return Ok(());
            }
            let next = n + 1;
            let layout = self.checked_layout(next, false)?;
            self.layouts.insert(next, layout);
            self.head = Loc { chunk: next, offset: CHUNK_HEADER_LEN as u64 };
            self.head_index = 0;
        }
    }

    /// Makes `committed` the head of chunk `n`, cutting what follows it (a
    /// torn tail or an uncommitted plan: never acknowledged).
    fn cut_after(&mut self, n: u64, committed: (Loc, u32)) -> Result<(), LogError<S::Error>> {
        let size = self.storage.size(Blob::Chunk(n)).map_err(LogError::Storage)?.unwrap_or(0);
        let keep = committed.0.offset;
        if size > keep {
            self.storage.truncate(Blob::Chunk(n), keep).map_err(LogError::Storage)?;
            self.reader.reset();
        }
        self.head = committed.0;
        self.head_index = committed.1;
        Ok(())
    }

    /// The layout of chunk `n` (v2 unless it was replayed as a v1 chunk).
    pub(super) fn layout(&self, n: u64) -> Layout {
        self.layouts.get(&n).copied().unwrap_or(Layout::V2 { chunk: n })
    }

    /// Chunk `n`'s layout from its header. A damaged header is `Corrupted`;
    /// with `skip_corrupted` the layout is taken from the frames after it.
    /// `newest`: a header torn at creation (short, or zeros with nothing
    /// but zeros after it) is rewritten: the chunk never held an entry.
    fn checked_layout(&mut self, n: u64, newest: bool) -> Result<Layout, LogError<S::Error>> {
        let header =
            self.reader.bytes(&mut self.storage, n, 0, CHUNK_HEADER_LEN).map_err(LogError::Storage)?;
        let p = match chunk::check_header(&header, n) {
            Ok(layout) => return Ok(layout),
            Err(p) => p,
        };
        let size = self.storage.size(Blob::Chunk(n)).map_err(LogError::Storage)?.unwrap_or(0);
        let mut src = ChunkBytes { reader: &mut self.reader, storage: &mut self.storage, chunk: n };
        let empty = p == HeaderProblem::Short
            || (header.iter().all(|&b| b == 0)
                && damage::zeros(&mut src, CHUNK_HEADER_LEN as u64, size).map_err(LogError::Storage)?);
        if newest && empty {
            self.storage.truncate(Blob::Chunk(n), 0).map_err(LogError::Storage)?;
            self.storage.append(Blob::Chunk(n), &chunk::encode_header(n)).map_err(LogError::Storage)?;
            self.reader.reset();
            return Ok(Layout::V2 { chunk: n });
        }
        if matches!(p, HeaderProblem::Version(_)) || !self.limits.skip_corrupted {
            return Err(corrupted(Blob::Chunk(n), 0, CorruptionKind::ChunkHeader(p)));
        }
        self.skipped += 1;
        let v2 = Layout::V2 { chunk: n };
        let found =
            damage::resync(&mut src, CHUNK_HEADER_LEN as u64, size, v2, 0).map_err(LogError::Storage)?;
        Ok(if found.is_some() { v2 } else { Layout::V1 })
    }

    /// Reads chunk `n` from `at` (frame number `index`) to its end,
    /// applying each plan whose `Commit` is read. Where the frames stop
    /// before the end, [`damage::classify`] decides: a torn tail of the
    /// `newest` chunk ends the scan (the caller cuts it); damage is
    /// `Corrupted`, or skipped with `skip_corrupted` (dropping the plan it
    /// cut into, keeping its bytes, reading on after it).
    fn scan_chunk(
        &mut self,
        n: u64,
        layout: Layout,
        from: Loc,
        from_index: u32,
        newest: bool,
    ) -> Result<ChunkEnd, LogError<S::Error>> {
        let size = self.storage.size(Blob::Chunk(n)).map_err(LogError::Storage)?.unwrap_or(0);
        let mut at = from;
        let mut index = from_index;
        let mut pending: Vec<(Entry<Skipped>, Loc, u64)> = Vec::new();
        let mut committed = (from, from_index);
        loop {
            if let Some((e, len, i)) = self.read_entry_in(at, layout)?
                && i.is_none_or(|i| i == index)
            {
                index += 1;
                if self.step(&mut pending, e, &mut at, len) {
                    committed = (at, index);
                }
                continue;
            }
            let mut src = ChunkBytes { reader: &mut self.reader, storage: &mut self.storage, chunk: n };
            let tail =
                damage::classify(&mut src, at.offset, size, layout, index).map_err(LogError::Storage)?;
            let resume = match tail {
                Tail::Clean => break,
                Tail::Torn if newest => break,
                // A torn tail in an older chunk: later chunks were written
                // after it, so its bytes were once whole.
                Tail::Torn => None,
                Tail::Damaged { resume } => resume,
            };
            if !self.limits.skip_corrupted {
                return Err(corrupted(Blob::Chunk(n), at.offset, CorruptionKind::Record));
            }
            self.skipped += 1;
            self.drop_pending(&mut pending);
            match resume {
                Some((offset, i)) => {
                    at = Loc { chunk: n, offset };
                    index = i.unwrap_or(index + 1);
                }
                None => {
                    at = Loc { chunk: n, offset: size };
                    index += 1;
                }
            }
            committed = (at, index);
        }
        if !pending.is_empty() && !newest {
            // A plan cut off at the end of an older chunk.
            if !self.limits.skip_corrupted {
                return Err(corrupted(Blob::Chunk(n), at.offset, CorruptionKind::Record));
            }
            self.skipped += 1;
            self.drop_pending(&mut pending);
        } else if !pending.is_empty() {
            self.drop_pending(&mut pending);
        }
        Ok(ChunkEnd { committed })
    }

    /// Forgets the entries of a plan that will never commit (their bytes
    /// stay counted in the log's size).
    fn drop_pending(&mut self, pending: &mut Vec<(Entry<Skipped>, Loc, u64)>) {
        pending.clear();
    }

    /// One entry read at `at` during replay or catch-up: held until its
    /// plan's `Commit`, which applies the whole plan. Returns whether this
    /// entry was that commit (`at` then ends the committed log).
    fn step(
        &mut self,
        pending: &mut Vec<(Entry<Skipped>, Loc, u64)>,
        e: Entry<Skipped>,
        at: &mut Loc,
        len: u64,
    ) -> bool {
        let is_commit = matches!(e, Entry::Commit { .. });
        pending.push((e, *at, len));
        at.offset += len;
        self.logged += len;
        if is_commit {
            // Drained, not taken: the next plan reuses the allocation.
            let mut plan = core::mem::take(pending);
            for (e, loc, len) in plan.drain(..) {
                self.apply(&e, loc, len);
            }
            *pending = plan;
        }
        is_commit
    }
}

#[cfg(test)]
mod tests {
    use alloc::vec;

    use crate::error::{Corruption, CorruptionKind};
    use crate::records::log::test_support::{Log, SMALL, fresh, insert, open, payloads};
    use crate::records::log::{LogConfig, LogError};
    use crate::storage::Blob;

    #[test]
    fn a_plan_without_its_commit_is_dropped_whole_and_cut() {
        let mut t = fresh(SMALL);
        insert(&mut t, &[b"a"]);
        let committed = t.storage.blob(Blob::Chunk(0)).expect("chunk").len();
        insert(&mut t, &[b"b", b"c"]);
        let mut storage = t.into_storage();
        let chunk = storage.blob_mut(Blob::Chunk(0)).expect("chunk");
        chunk.truncate(chunk.len() - 3); // inside the second plan's Commit frame
        let mut t = open(storage, SMALL).expect("a torn plan is not damage");
        assert_eq!(payloads(&mut t), vec![b"a".to_vec()], "neither b nor c: the plan is atomic");
        assert_eq!(t.storage.blob(Blob::Chunk(0)).expect("chunk").len(), committed, "cut back to the commit");
        assert_eq!(insert(&mut t, &[b"d"]), vec![Some(2)], "the next id follows the last committed one");
    }

    /// A log of 40 one-record plans over several chunks, a byte of the
    /// first record's payload flipped.
    fn damaged_log() -> (crate::memory::MemoryStorage, usize) {
        let mut t: Log = fresh(SMALL);
        for i in 0..40u8 {
            insert(&mut t, &[&[i; 60]]);
        }
        assert!(t.head.chunk >= 2, "the test needs several chunks");
        let mut storage = t.into_storage();
        let at = 24 + 16 + 4; // chunk header, frame header, into the entry
        storage.blob_mut(Blob::Chunk(0)).expect("chunk")[at] ^= 0x40;
        let len = storage.blob(Blob::Chunk(0)).expect("chunk").len();
        (storage, len)
    }

    #[test]
    fn damage_in_an_older_chunk_is_reported_never_cut() {
        let (storage, _) = damaged_log();
        match open(storage, SMALL) {
            Err(LogError::Corrupted(Corruption {
                blob: Blob::Chunk(0),
                kind: CorruptionKind::Record,
                ..
            })) => {}
            Err(e) => panic!("expected Corrupted in chunk 0, got {e}"),
            Ok(_) => panic!("damage must be reported"),
        }
    }

    #[test]
    fn skipped_damage_loses_only_its_plan_and_keeps_the_bytes() {
        let (storage, len) = damaged_log();
        let skip = LogConfig { skip_corrupted: true, ..SMALL };
        let mut t = open(storage, skip).expect("open skipping");
        assert_eq!(t.skipped(), 1);
        let got = payloads(&mut t);
        assert_eq!(got.len(), 39, "only the damaged plan's record is lost");
        assert_eq!(got[0], vec![1u8; 60]);
        assert_eq!(t.storage.blob(Blob::Chunk(0)).expect("chunk").len(), len, "the damaged bytes are kept");
    }
}
