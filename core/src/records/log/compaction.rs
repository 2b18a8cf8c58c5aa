//! Keeping the log small: a snapshot of the live records when the log has
//! grown well past them (then `meta` moves forward and the older chunks
//! go), and, for a plan that only deletes at the storage's quota, making
//! room without writing a snapshot.

use alloc::vec::Vec;

use super::LogTable;
use super::entry::Entry;
use super::error::LogError;
use super::rows::Row;
use crate::storage::{Blob, Storage};

/// The log is compacted when it holds this much more than the live records
/// (and at least [`LogConfig::compact_min`] bytes).
const COMPACT_RATIO: u64 = 4;

impl<S: Storage> LogTable<S> {
    /// Compacts when the log has grown well past the live records.
    /// The plan before it took effect, so a compaction refused whole (no
    /// room for the snapshot yet) is left for a later plan, not reported.
    pub(super) fn maybe_compact(&mut self) -> Result<(), LogError<S::Error>> {
        if self.logged > self.limits.compact_min && self.logged > COMPACT_RATIO * self.live {
            match self.compact() {
                Err(LogError::Storage(_)) if !self.poisoned => Ok(()),
                r => r,
            }
        } else {
            Ok(())
        }
    }

    /// Appends `bytes` to `blob`. A store at its quota refuses even a
    /// deletion's entry: a plan that only deletes then makes room and tries
    /// once more, so a full queue drains.
    pub(super) fn append_making_room(&mut self, blob: Blob, bytes: &[u8]) -> Result<(), LogError<S::Error>> {
        let mut r = self.storage.append(blob, bytes);
        if let Err(e) = &r
            && self.shrinking
            && self.storage.untouched(e)
            && self.make_room()?
        {
            r = self.storage.append(blob, bytes);
        }
        self.mutated(r)
    }

    /// Frees storage for a plan that only deletes, refused at the quota:
    /// drops the chunks no record needs any more; or else the storage's
    /// reserve; or, last, the chunks only done records (acked, failed:
    /// what `clear_acked_data` deletes) still need, and those records with
    /// them. Whether anything was freed.
    fn make_room(&mut self) -> Result<bool, LogError<S::Error>> {
        if self.drop_dead_chunks(false)? {
            return Ok(true);
        }
        let r = self.storage.release_reserve();
        if self.mutated(r)? {
            return Ok(true);
        }
        self.drop_dead_chunks(true)
    }

    /// Drops the oldest chunks when every record kept (every live one,
    /// with `done_too` false) has its last `Put` in a later one, so replay
    /// from there gives the same state: `meta` first points past them, then
    /// they go. No snapshot is written, so it needs no room. Whether any
    /// chunk went.
    fn drop_dead_chunks(&mut self, done_too: bool) -> Result<bool, LogError<S::Error>> {
        // The newest `Commit` (the next id) must stay: the head chunk holds
        // one once anything was appended to it.
        let newest = if self.head_index > 0 { self.head.chunk } else { self.head.chunk.saturating_sub(1) };
        let kept = |r: &Row| !done_too || r.status.is_live();
        let needed =
            self.rows.values().filter(|r| kept(r)).map(|r| r.since).min().unwrap_or(newest).min(newest);
        if needed <= self.start {
            return Ok(false);
        }
        match self.write_meta(needed) {
            Err(e) if self.storage.untouched(&e) => return Ok(false),
            r => self.mutated(r)?,
        }
        self.flush()?;
        for n in self.start..needed {
            let size = self.storage.size(Blob::Chunk(n)).map_err(LogError::Storage)?.unwrap_or(0);
            let r = self.storage.remove(Blob::Chunk(n));
            self.mutated(r)?;
            self.layouts.remove(&n);
            self.logged = self.logged.saturating_sub(size);
        }
        self.start = needed;
        // Done records whose whole state was in the dropped chunks.
        let gone: Vec<u64> = self.rows.iter().filter(|(_, r)| r.since < needed).map(|(id, _)| id).collect();
        for id in gone {
            self.unindex(id);
            if let Some(r) = self.rows.remove(id) {
                self.live = self.live.saturating_sub(u64::from(r.size));
            }
        }
        Ok(true)
    }

    /// Writes the live state as a snapshot and drops the chunks before it.
    pub(super) fn compact(&mut self) -> Result<(), LogError<S::Error>> {
        let next = self.next_chunk()?;
        let ids: Vec<u64> = self.rows.keys().collect();
        let mut snapshot = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(r) = self.record(id)? {
                let key = self.rows.key(id);
                snapshot.push(Entry::put(
                    id,
                    r.status,
                    r.priority,
                    r.timestamp,
                    r.deliveries,
                    r.visible_at,
                    key,
                    r.payload,
                ));
            }
        }
        self.logged = 0;
        self.commit(snapshot)?;
        // The snapshot is durable before `meta` points at it, whatever the
        // durability: the chunks before it are about to go.
        let r = self.storage.sync();
        self.mutated(r)?;
        let r = self.write_meta(next);
        self.mutated(r)?;
        self.flush()?;
        for n in self.start..next {
            let r = self.storage.remove(Blob::Chunk(n));
            self.mutated(r)?;
        }
        self.start = next;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use alloc::vec;
    use alloc::vec::Vec;

    use crate::records::log::test_support::{SMALL, fresh, insert, open, payloads, run};
    use crate::records::plan::{Outcome, Plan, Target};
    use crate::records::record::StatusSet;
    use crate::storage::Blob;

    #[test]
    fn a_log_far_past_its_live_records_compacts_and_keeps_them() {
        let mut t = fresh(SMALL);
        assert_eq!(insert(&mut t, &[b"keep-1", b"keep-2"]), vec![Some(1), Some(2)]);
        for i in 0..200u32 {
            let id = insert(&mut t, &[&i.to_le_bytes().repeat(8)])[0].expect("id");
            let delete = Plan::Transition { ids: vec![id], from: StatusSet::ALL, to: Target::Delete };
            assert!(matches!(run(&mut t, &delete), Outcome::Before(_)));
        }
        assert!(t.start > 0, "the log was compacted: meta moved past the first chunks");
        assert!(t.storage.blob(Blob::Chunk(0)).is_none(), "and the chunks before it are gone");
        let mut t = open(t.into_storage(), SMALL).expect("reopen after compaction");
        assert_eq!(payloads(&mut t), vec![b"keep-1".to_vec(), b"keep-2".to_vec()]);
        assert_eq!(insert(&mut t, &[b"next"]), vec![Some(203)], "ids are not reused after compaction");
    }

    #[test]
    fn an_explicit_compaction_drops_deleted_records_bytes() {
        let mut t = fresh(SMALL);
        let ids: Vec<u64> =
            insert(&mut t, &[&[7u8; 500], &[8u8; 500], b"small"]).into_iter().flatten().collect();
        let purge = Plan::Purge { statuses: StatusSet::ALL, keep_latest: 1, max_delete: 0 };
        assert!(matches!(run(&mut t, &purge), Outcome::Count(2)));
        let before: usize =
            t.storage.blobs().iter().filter(|(b, _)| matches!(b, Blob::Chunk(_))).map(|(_, v)| v.len()).sum();
        assert!(matches!(run(&mut t, &Plan::Compact), Outcome::Done));
        let after: usize =
            t.storage.blobs().iter().filter(|(b, _)| matches!(b, Blob::Chunk(_))).map(|(_, v)| v.len()).sum();
        assert!(after < before / 2, "{after} bytes after compaction, {before} before");
        let mut t = open(t.into_storage(), SMALL).expect("reopen");
        assert_eq!(payloads(&mut t), vec![b"small".to_vec()]);
        assert_eq!(insert(&mut t, &[b"next"]), vec![Some(ids[2] + 1)], "ids are not reused after compaction");
    }
}
