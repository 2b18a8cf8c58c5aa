//! `LogTable`: the record contract over a byte [`Storage`] (filesystem,
//! WASI, memory), so that every queue kind also runs there.
//!
//! Storage: numbered chunks of checksummed frames (the chunk format of
//! `FORMAT.md`), each frame one [`Entry`]. A plan appends its entries then a
//! `Commit` frame; replay at open applies a plan only once its `Commit` is
//! read, so a plan torn by a crash is dropped whole (atomicity). The
//! metadata blob names the first chunk to replay; compaction appends a
//! snapshot of the live state, then moves that start forward and deletes
//! the chunks before it.
//!
//! Memory: an index entry per stored record (status, priority, timestamp,
//! deliveries, unique key, payload location): about 150 bytes per record,
//! payloads stay on storage. Acked records count until purged.

use alloc::collections::{BTreeMap, BTreeSet};
use alloc::vec::Vec;
use core::fmt;
use core::future::Future;

use serde::{Deserialize, Serialize};

use crate::chunk::{self, CHUNK_HEADER_LEN, HeaderProblem};
use crate::damage::{self, ChunkBytes, Tail};
use crate::durability::Durability;
use crate::error::{Corruption, CorruptionKind};
use crate::frame::{self, Layout};
use crate::meta::MetaProblem;
use crate::reader::{Found, Reader};
use crate::records::index::Index;
use crate::records::order::OrderKey;
use crate::records::plan::{Claimed, Counts, Outcome, Plan, Table, Target, purge_selection};
use crate::records::record::{Record, Status};
use crate::storage::{Blob, Storage};

/// The log is compacted when it holds this much more than the live records
/// (and at least [`LogConfig::compact_min`] bytes).
const COMPACT_RATIO: u64 = 4;

/// Settings of a [`LogTable`]. Sizes suit a storage: a filesystem takes
/// large chunks; localStorage (5 MiB per origin, each write rewriting its
/// whole value) small ones.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LogConfig {
    /// Chunks are closed once they pass this many bytes.
    pub chunk_bytes: u64,
    /// The log is not compacted before it holds this many bytes.
    pub compact_min: u64,
    /// Damaged log entries (not a torn tail) are skipped and counted
    /// ([`LogTable::skipped`]) instead of failing the open with
    /// [`LogError::Corrupted`]. The plan a damaged entry belongs to is
    /// dropped; every intact plan before and after it is replayed, and the
    /// damaged bytes are left where they are.
    pub skip_corrupted: bool,
}

impl Default for LogConfig {
    /// 8 MiB chunks, compaction from 16 MiB of log, damage reported.
    fn default() -> Self {
        LogConfig { chunk_bytes: 8 << 20, compact_min: 16 << 20, skip_corrupted: false }
    }
}
const META_MAGIC: [u8; 4] = *b"PQRL";
const META_VERSION: u16 = 1;

/// One logged change.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
enum Entry {
    /// A record's whole state (insert, restore, snapshot).
    Put {
        id: u64,
        status: u8,
        priority: i64,
        timestamp: u64,
        deliveries: u32,
        key: Option<[u8; 32]>,
        payload: Vec<u8>,
    },
    /// A status change.
    Status { id: u64, status: u8, deliveries: u32 },
    /// A deletion.
    Delete { id: u64 },
    /// A new payload.
    Update { id: u64, key: Option<[u8; 32]>, payload: Vec<u8> },
    /// The end of one plan: its entries take effect.
    Commit { next_id: u64 },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Loc {
    chunk: u64,
    offset: u64,
}

#[derive(Clone, Debug)]
struct Row {
    status: Status,
    priority: i64,
    timestamp: u64,
    deliveries: u32,
    key: Option<[u8; 32]>,
    payload_at: Loc,
    /// The chunk of its last `Put` (its whole state): replay must start
    /// at or before it.
    since: u64,
    /// Bytes of the entry holding the payload (for compaction decisions).
    size: u64,
}

/// Errors of a [`LogTable`].
#[derive(Debug)]
pub enum LogError<E> {
    /// The storage failed; the table refuses writes until reopened.
    Storage(E),
    /// Stored data is damaged: where, and how (the one damage shape of
    /// every store, [`Corruption`]).
    Corrupted(Corruption),
    /// An earlier write failed.
    Poisoned,
}

impl<E: fmt::Display> fmt::Display for LogError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LogError::Storage(e) => write!(f, "storage error: {e}"),
            LogError::Corrupted(c) => write!(f, "record log corrupted: {c}"),
            LogError::Poisoned => f.write_str("an earlier write failed; reopen the queue to recover"),
        }
    }
}

impl<E: fmt::Debug + fmt::Display> core::error::Error for LogError<E> {}

/// The log's damage error at `blob`/`offset`.
fn corrupted<E>(blob: Blob, offset: u64, kind: CorruptionKind) -> LogError<E> {
    LogError::Corrupted(Corruption { blob, offset, kind })
}

/// The record contract over a byte storage.
pub struct LogTable<S: Storage> {
    storage: S,
    durability: Durability,
    rows: BTreeMap<u64, Row>,
    index: Index,
    next_id: u64,
    start: u64,
    head: Loc,
    poisoned: bool,
    reader: Reader,
    /// Bytes in the log since the last snapshot.
    logged: u64,
    /// Bytes of the live records' payload entries.
    live: u64,
    /// Several processes share the storage: lock and catch up per plan.
    shared: bool,
    limits: LogConfig,
    /// Frame number of the next entry in the head chunk.
    head_index: u32,
    /// The frame layout of each chunk replayed (version-1 chunks stay v1).
    layouts: BTreeMap<u64, Layout>,
    /// Damaged ranges skipped (with `skip_corrupted`).
    skipped: u64,
    /// The plan running only deletes: at the quota it may use the
    /// storage's reserve and drop dead chunks to make room.
    shrinking: bool,
}

/// Where a chunk scan ended.
struct ChunkEnd {
    /// After the last committed plan (or after skipped damage): what a torn
    /// tail is cut back to.
    committed: (Loc, u32),
}

fn status(code: u8) -> Status {
    Status::from_code(code).unwrap_or(Status::Ready)
}

/// An entry read from the log, its frame length and (v2) frame number.
type Framed = (Entry, u64, Option<u32>);

impl<S: Storage> LogTable<S> {
    /// Opens the table held by `storage` (creating it if empty) and
    /// replays its log.
    pub fn open(storage: S, durability: Durability) -> Result<Self, LogError<S::Error>> {
        Self::open_with(storage, durability, LogConfig::default())
    }

    /// Damaged ranges skipped at open or catch-up (`skip_corrupted`).
    pub fn skipped(&self) -> u64 {
        self.skipped
    }

    /// [`LogTable::open`] with settings of the storage's own.
    pub fn open_with(
        storage: S,
        durability: Durability,
        limits: LogConfig,
    ) -> Result<Self, LogError<S::Error>> {
        let mut t = LogTable {
            storage,
            durability,
            rows: BTreeMap::new(),
            index: Index::default(),
            next_id: 0,
            start: 0,
            head: Loc { chunk: 0, offset: CHUNK_HEADER_LEN as u64 },
            poisoned: false,
            reader: Reader::default(),
            logged: 0,
            live: 0,
            shared: false,
            limits,
            head_index: 0,
            layouts: BTreeMap::new(),
            skipped: 0,
            shrinking: false,
        };
        match t.storage.size(Blob::Meta).map_err(LogError::Storage)? {
            None => {
                t.write_meta(0).map_err(LogError::Storage)?;
                t.storage.append(Blob::Chunk(0), &chunk::encode_header(0)).map_err(LogError::Storage)?;
                t.flush()?;
            }
            Some(n) => {
                let mut m = alloc::vec![0; usize::try_from(n).unwrap_or(0)];
                let got = t.storage.read(Blob::Meta, 0, &mut m).map_err(LogError::Storage)?;
                m.truncate(got);
                t.start = decode_meta(&m).ok_or(corrupted(
                    Blob::Meta,
                    0,
                    CorruptionKind::Meta(MetaProblem::Damaged),
                ))?;
                t.replay()?;
            }
        }
        Ok(t)
    }

    /// Opens a table that several processes use at once (the storage must
    /// implement [`Storage::lock`], as `FsStorage::open_shared` does). Each
    /// plan then takes the lock, first reads what other processes appended
    /// (or reloads after their compaction), runs, and releases it.
    pub fn open_shared(
        mut storage: S,
        durability: Durability,
        config: LogConfig,
    ) -> Result<Self, LogError<S::Error>> {
        storage.lock().map_err(LogError::Storage)?;
        let opened = Self::open_with(storage, durability, config);
        match opened {
            Ok(mut t) => {
                t.shared = true;
                t.storage.unlock();
                Ok(t)
            }
            Err(e) => Err(e),
        }
    }

    /// Shared mode: catch up with what other processes committed since our
    /// last plan, and cut a plan torn by a process that died mid-append.
    fn catch_up(&mut self) -> Result<(), LogError<S::Error>> {
        self.reader.reset();
        let mut m = alloc::vec![0; 64];
        let n = self.storage.read(Blob::Meta, 0, &mut m).map_err(LogError::Storage)?;
        m.truncate(n);
        let start =
            decode_meta(&m).ok_or(corrupted(Blob::Meta, 0, CorruptionKind::Meta(MetaProblem::Damaged)))?;
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
    fn layout(&self, n: u64) -> Layout {
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
        let mut pending: Vec<(Entry, Loc, u64)> = Vec::new();
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
    fn drop_pending(&mut self, pending: &mut Vec<(Entry, Loc, u64)>) {
        pending.clear();
    }

    /// The storage, for inspection.
    pub fn into_storage(self) -> S {
        self.storage
    }

    fn write_meta(&mut self, start: u64) -> Result<(), S::Error> {
        let mut bytes = Vec::with_capacity(24);
        bytes.extend_from_slice(&META_MAGIC);
        bytes.extend_from_slice(&META_VERSION.to_le_bytes());
        bytes.extend_from_slice(&[0, 0]);
        frame::encode_into(&mut bytes, &start.to_le_bytes());
        self.storage.replace(Blob::Meta, &bytes)
    }

    /// A storage write's outcome: a failure poisons the table, whose
    /// state on storage is then unknown until it is reopened, unless the
    /// storage says the write left it untouched (a quota refusal).
    fn mutated<T>(&mut self, r: Result<T, S::Error>) -> Result<T, LogError<S::Error>> {
        r.map_err(|e| {
            if !self.storage.untouched(&e) {
                self.poisoned = true;
            }
            LogError::Storage(e)
        })
    }

    /// Flushes at synced durability.
    fn flush(&mut self) -> Result<(), LogError<S::Error>> {
        if self.durability.is_synced() {
            let r = self.storage.sync();
            self.mutated(r)?;
        }
        Ok(())
    }

    /// Starts the chunk after the head one; appends go there from now on.
    fn next_chunk(&mut self) -> Result<u64, LogError<S::Error>> {
        let next = self.head.chunk + 1;
        self.append_making_room(Blob::Chunk(next), &chunk::encode_header(next))?;
        self.head = Loc { chunk: next, offset: CHUNK_HEADER_LEN as u64 };
        self.head_index = 0;
        self.layouts.insert(next, Layout::V2 { chunk: next });
        Ok(next)
    }

    // ---- index -------------------------------------------------------------

    fn unindex(&mut self, id: u64) {
        if let Some(r) = self.rows.get(&id) {
            self.index.remove(id, r.priority, r.key);
        }
    }

    fn index(&mut self, id: u64) {
        if let Some(r) = self.rows.get(&id) {
            self.index.add(id, r.status, r.priority, r.key);
        }
    }

    fn apply(&mut self, e: &Entry, at: Loc, size: u64) {
        match e {
            Entry::Put { id, status: s, priority, timestamp, deliveries, key, .. } => {
                self.unindex(*id);
                if let Some(old) = self.rows.get(id) {
                    self.live = self.live.saturating_sub(old.size);
                }
                self.live += size;
                let row = Row {
                    status: status(*s),
                    priority: *priority,
                    timestamp: *timestamp,
                    deliveries: *deliveries,
                    key: *key,
                    payload_at: at,
                    since: at.chunk,
                    size,
                };
                self.rows.insert(*id, row);
                self.index(*id);
                self.next_id = self.next_id.max(*id);
            }
            Entry::Status { id, status: s, deliveries } => {
                self.unindex(*id);
                if let Some(r) = self.rows.get_mut(id) {
                    r.status = status(*s);
                    r.deliveries = *deliveries;
                    if !r.status.is_live() {
                        r.key = None;
                    }
                }
                self.index(*id);
            }
            Entry::Delete { id } => {
                self.unindex(*id);
                if let Some(old) = self.rows.remove(id) {
                    self.live = self.live.saturating_sub(old.size);
                }
            }
            Entry::Update { id, key, .. } => {
                self.unindex(*id);
                if let Some(r) = self.rows.get_mut(id) {
                    self.live = self.live.saturating_sub(r.size) + size;
                    r.key = *key;
                    r.payload_at = at;
                    r.size = size;
                }
                self.index(*id);
            }
            Entry::Commit { next_id } => self.next_id = self.next_id.max(*next_id),
        }
    }

    // ---- log ---------------------------------------------------------------

    /// The entry at `at` of a chunk laid out in `layout`, its frame length
    /// and (v2) frame number; `None` where no valid frame is.
    fn read_entry_in(&mut self, at: Loc, layout: Layout) -> Result<Option<Framed>, LogError<S::Error>> {
        match self.reader.frame(&mut self.storage, at.chunk, at.offset, layout).map_err(LogError::Storage)? {
            Found::Record(bytes, len, index) => match postcard::from_bytes::<Entry>(&bytes) {
                Ok(e) => Ok(Some((e, len, index))),
                Err(_) => Ok(None),
            },
            Found::Stop => Ok(None),
        }
    }

    /// The entry at `at` (a location the index holds).
    fn read_entry(&mut self, at: Loc) -> Result<Option<(Entry, u64)>, LogError<S::Error>> {
        let layout = self.layout(at.chunk);
        Ok(self.read_entry_in(at, layout)?.map(|(e, len, _)| (e, len)))
    }

    /// One entry read at `at` during replay or catch-up: held until its
    /// plan's `Commit`, which applies the whole plan. Returns whether this
    /// entry was that commit (`at` then ends the committed log).
    fn step(&mut self, pending: &mut Vec<(Entry, Loc, u64)>, e: Entry, at: &mut Loc, len: u64) -> bool {
        let is_commit = matches!(e, Entry::Commit { .. });
        pending.push((e, *at, len));
        at.offset += len;
        self.logged += len;
        if is_commit {
            for (e, loc, len) in core::mem::take(pending) {
                self.apply(&e, loc, len);
            }
        }
        is_commit
    }

    fn replay(&mut self) -> Result<(), LogError<S::Error>> {
        let mut chunks: Vec<u64> = self
            .storage
            .list()
            .map_err(LogError::Storage)?
            .into_iter()
            .filter_map(|b| if let Blob::Chunk(n) = b { Some(n) } else { None })
            .collect();
        chunks.sort_unstable();
        for &n in chunks.iter().filter(|&&n| n < self.start) {
            self.storage.remove(Blob::Chunk(n)).map_err(LogError::Storage)?;
        }
        chunks.retain(|&n| n >= self.start);
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

    /// Appends the entries of one plan and its commit, then applies them.
    fn commit(&mut self, entries: Vec<Entry>) -> Result<(), LogError<S::Error>> {
        if self.poisoned {
            return Err(LogError::Poisoned);
        }
        if self.head.offset > self.limits.chunk_bytes {
            self.next_chunk()?;
        }
        let mut bytes = Vec::new();
        let mut locs = Vec::with_capacity(entries.len());
        let mut next_id = self.next_id;
        let layout = self.layout(self.head.chunk);
        let mut index = self.head_index;
        for e in &entries {
            if let Entry::Put { id, .. } = e {
                next_id = next_id.max(*id);
            }
            let before = bytes.len() as u64;
            frame::encode_in(&mut bytes, layout, index, &postcard::to_allocvec(e).unwrap_or_default());
            index += 1;
            locs.push((
                Loc { chunk: self.head.chunk, offset: self.head.offset + before },
                bytes.len() as u64 - before,
            ));
        }
        frame::encode_in(
            &mut bytes,
            layout,
            index,
            &postcard::to_allocvec(&Entry::Commit { next_id }).unwrap_or_default(),
        );
        self.append_making_room(Blob::Chunk(self.head.chunk), &bytes)?;
        self.head_index = index + 1;
        self.head.offset += bytes.len() as u64;
        self.logged += bytes.len() as u64;
        self.flush()?;
        for (e, (at, len)) in entries.iter().zip(locs) {
            self.apply(e, at, len);
        }
        self.next_id = self.next_id.max(next_id);
        Ok(())
    }

    /// Compacts when the log has grown well past the live records.
    /// The plan before it took effect, so a compaction refused whole (no
    /// room for the snapshot yet) is left for a later plan, not reported.
    fn maybe_compact(&mut self) -> Result<(), LogError<S::Error>> {
        if self.logged > self.limits.compact_min && self.logged > COMPACT_RATIO * self.live {
            match self.compact() {
                Err(LogError::Storage(_)) if !self.poisoned => Ok(()),
                r => r,
            }
        } else {
            Ok(())
        }
    }

    fn record(&mut self, id: u64) -> Result<Option<Record>, LogError<S::Error>> {
        let Some(row) = self.rows.get(&id).cloned() else { return Ok(None) };
        let payload = match self.read_entry(row.payload_at)? {
            Some((Entry::Put { payload, .. }, _)) | Some((Entry::Update { payload, .. }, _)) => payload,
            _ => {
                return Err(corrupted(
                    Blob::Chunk(row.payload_at.chunk),
                    row.payload_at.offset,
                    CorruptionKind::Record,
                ));
            }
        };
        Ok(Some(Record {
            id,
            payload,
            priority: row.priority,
            status: row.status,
            timestamp: row.timestamp,
            deliveries: row.deliveries,
        }))
    }

    fn change(&self, id: u64, to: Target) -> Entry {
        match to {
            Target::Delete => Entry::Delete { id },
            Target::Status(s) => Entry::Status {
                id,
                status: s.code(),
                deliveries: self.rows.get(&id).map_or(0, |r| r.deliveries),
            },
        }
    }

    /// Appends `bytes` to `blob`. A store at its quota refuses even a
    /// deletion's entry: a plan that only deletes then makes room and tries
    /// once more, so a full queue drains.
    fn append_making_room(&mut self, blob: Blob, bytes: &[u8]) -> Result<(), LogError<S::Error>> {
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
        let gone: Vec<u64> = self.rows.iter().filter(|(_, r)| r.since < needed).map(|(&id, _)| id).collect();
        for id in gone {
            self.unindex(id);
            if let Some(r) = self.rows.remove(&id) {
                self.live = self.live.saturating_sub(r.size);
            }
        }
        Ok(true)
    }

    /// Writes the live state as a snapshot and drops the chunks before it.
    fn compact(&mut self) -> Result<(), LogError<S::Error>> {
        let next = self.next_chunk()?;
        let ids: Vec<u64> = self.rows.keys().copied().collect();
        let mut snapshot = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(r) = self.record(id)? {
                let key = self.rows.get(&id).and_then(|row| row.key);
                snapshot.push(Entry::Put {
                    id,
                    status: r.status.code(),
                    priority: r.priority,
                    timestamp: r.timestamp,
                    deliveries: r.deliveries,
                    key,
                    payload: r.payload,
                });
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

fn decode_meta(m: &[u8]) -> Option<u64> {
    if m.get(..4)? != META_MAGIC || m.get(4..6)? != META_VERSION.to_le_bytes() {
        return None;
    }
    match frame::parse(m.get(8..)?, Layout::V1, 64) {
        frame::Parsed::Frame(p, _, _) => Some(u64::from_le_bytes(p.try_into().ok()?)),
        _ => None,
    }
}

impl<S: Storage> Table for LogTable<S> {
    type Error = LogError<S::Error>;

    fn skipped_ranges(&self) -> u64 {
        self.skipped
    }

    fn execute(&mut self, plan: &Plan) -> impl Future<Output = Result<Outcome, Self::Error>> {
        core::future::ready(self.execute_now(plan))
    }
}

impl<S: Storage> LogTable<S> {
    /// Executes `plan` at once (the [`Table`] contract): under the
    /// directory lock when the log is shared, after replaying what other
    /// handles appended.
    fn execute_now(&mut self, plan: &Plan) -> Result<Outcome, LogError<S::Error>> {
        if !self.shared {
            return self.apply_then_compact(plan);
        }
        if self.poisoned {
            return Err(LogError::Poisoned);
        }
        self.storage.lock().map_err(LogError::Storage)?;
        let r = self.catch_up().and_then(|()| self.apply_then_compact(plan));
        self.storage.unlock();
        r
    }
}

impl<S: Storage> LogTable<S> {
    fn apply_then_compact(&mut self, plan: &Plan) -> Result<Outcome, LogError<S::Error>> {
        self.shrinking = plan.only_deletes();
        let outcome = self.execute_plan(plan);
        // A compaction writes a snapshot: never from the reserve.
        self.shrinking = false;
        let outcome = outcome?;
        if !matches!(plan, Plan::Compact) {
            self.maybe_compact()?;
        }
        Ok(outcome)
    }

    fn execute_plan(&mut self, plan: &Plan) -> Result<Outcome, LogError<S::Error>> {
        Ok(match plan {
            Plan::Insert { records } => {
                let mut keys = BTreeSet::new();
                let mut entries = Vec::new();
                let mut ids = Vec::with_capacity(records.len());
                let mut next = self.next_id;
                for r in records {
                    if let Some(k) = r.unique_key
                        && (self.index.key_holder(&k).is_some() || !keys.insert(k))
                    {
                        ids.push(None);
                        continue;
                    }
                    next += 1;
                    ids.push(Some(next));
                    entries.push(Entry::Put {
                        id: next,
                        status: Status::Ready.code(),
                        priority: r.priority,
                        timestamp: r.timestamp,
                        deliveries: 0,
                        key: r.unique_key,
                        payload: r.payload.clone(),
                    });
                }
                self.commit(entries)?;
                Outcome::Inserted(ids)
            }
            Plan::Claim { order, limit, then } => {
                let ids = self.index.first_ready(*order, (*limit).max(1) as usize);
                let mut out = Vec::with_capacity(ids.len());
                for id in ids {
                    out.extend(self.record(id)?);
                }
                self.claim(out, *then)?
            }
            Plan::ClaimId { id, then } => {
                let ready = self.rows.get(id).is_some_and(|r| r.status == Status::Ready);
                let rs = if ready { self.record(*id)?.into_iter().collect() } else { Vec::new() };
                self.claim(rs, *then)?
            }
            Plan::Transition { ids, from, to } => {
                // Ids are processed in order: a repeated id sees the effect
                // of its earlier occurrence.
                let mut overlay: BTreeMap<u64, Option<Status>> = BTreeMap::new();
                let mut before = Vec::with_capacity(ids.len());
                let mut entries = Vec::new();
                for &id in ids {
                    let s = match overlay.get(&id) {
                        Some(s) => *s,
                        None => self.rows.get(&id).map(|r| r.status),
                    };
                    if s.is_some_and(|s| from.contains(s)) {
                        entries.push(self.change(id, *to));
                        overlay.insert(id, if let Target::Status(n) = to { Some(*n) } else { None });
                    }
                    before.push(s);
                }
                self.commit(entries)?;
                Outcome::Before(before)
            }
            Plan::TransitionAll { from, to } => {
                let ids: Vec<u64> =
                    self.rows.iter().filter(|(_, r)| from.contains(r.status)).map(|(id, _)| *id).collect();
                let entries = ids.iter().map(|id| self.change(*id, *to)).collect();
                self.commit(entries)?;
                Outcome::Count(ids.len() as u64)
            }
            Plan::Update { id, payload, unique_key, from } => {
                let s = self.rows.get(id).map(|r| r.status);
                if !s.is_some_and(|s| from.contains(s)) {
                    return Ok(Outcome::Before(alloc::vec![s]));
                }
                if let Some(k) = unique_key
                    && self.index.key_holder(k).is_some_and(|other| other != *id)
                {
                    return Ok(Outcome::Duplicate);
                }
                self.commit(alloc::vec![Entry::Update {
                    id: *id,
                    key: *unique_key,
                    payload: payload.clone()
                }])?;
                Outcome::Before(alloc::vec![s])
            }
            Plan::Fetch { ids } => {
                let mut out = Vec::new();
                for id in ids {
                    out.extend(self.record(*id)?);
                }
                Outcome::Records(out)
            }
            Plan::Scan { statuses, order, after, limit } => {
                let mut keys: Vec<OrderKey> = self
                    .rows
                    .iter()
                    .filter(|(_, r)| statuses.contains(r.status))
                    .map(|(id, r)| OrderKey { priority: r.priority, id: *id })
                    .filter(|k| after.is_none_or(|a| order.before(a, *k)))
                    .collect();
                keys.sort_by(|a, b| order.compare(*a, *b));
                if *limit > 0 {
                    keys.truncate(*limit as usize);
                }
                let mut out = Vec::with_capacity(keys.len());
                for k in keys {
                    out.extend(self.record(k.id)?);
                }
                Outcome::Records(out)
            }
            Plan::Count => {
                let mut c = Counts::default();
                for r in self.rows.values() {
                    c.add(r.status);
                }
                Outcome::Counts(c)
            }
            Plan::Purge { statuses, keep_latest, max_delete } => {
                let ids = purge_selection(
                    self.rows.iter().rev().filter(|(_, r)| statuses.contains(r.status)).map(|(id, _)| *id),
                    *keep_latest,
                    *max_delete,
                );
                self.commit(ids.iter().map(|&id| Entry::Delete { id }).collect())?;
                Outcome::Count(ids.len() as u64)
            }
            Plan::Compact => {
                self.compact()?;
                Outcome::Done
            }
            Plan::Restore { record, unique_key } => {
                self.commit(alloc::vec![Entry::Put {
                    id: record.id,
                    status: Status::Ready.code(),
                    priority: record.priority,
                    timestamp: record.timestamp,
                    deliveries: record.deliveries,
                    key: self.rows.get(&record.id).map_or(*unique_key, |row| row.key),
                    payload: record.payload.clone(),
                }])?;
                Outcome::Done
            }
        })
    }
}

impl<S: Storage> LogTable<S> {
    fn claim(&mut self, rs: Vec<Record>, then: Claimed) -> Result<Outcome, LogError<S::Error>> {
        let entries = rs
            .iter()
            .map(|r| match then {
                Claimed::Deleted => Entry::Delete { id: r.id },
                Claimed::Unacked => Entry::Status {
                    id: r.id,
                    status: Status::Unacked.code(),
                    deliveries: r.deliveries.saturating_add(1),
                },
            })
            .collect();
        self.commit(entries)?;
        let out = match then {
            Claimed::Deleted => rs,
            Claimed::Unacked => rs
                .into_iter()
                .map(|r| Record { status: Status::Unacked, deliveries: r.deliveries.saturating_add(1), ..r })
                .collect(),
        };
        Ok(Outcome::Records(out))
    }
}
