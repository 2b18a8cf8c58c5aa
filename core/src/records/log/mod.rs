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
//! Memory: a 56-byte row per stored record (status, priority, timestamp,
//! deliveries, payload location), in pages of consecutive ids (`rows`);
//! leases, delays and unique keys beside them only for the records that
//! have one; ready records of priority 0 as runs of ids. Payloads stay on
//! storage. Acked records count until purged.
//!
//! The parts: `entry` (what one logged change is and what it does to
//! the in-memory rows), `rows` (those rows), `replay` (reading the log back at open and after
//! other processes' plans), `plans` (executing each [`Plan`] as one
//! committed group of entries), `compaction` (snapshots, and making room
//! at a quota), `error`.

mod compaction;
mod entry;
mod error;
mod plans;
mod replay;
mod rows;

use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use core::future::Future;

use crate::durability::Durability;
use crate::error::CorruptionKind;
use crate::format::chunk::{self, CHUNK_HEADER_LEN};
use crate::format::frame::{self, Layout};
use crate::format::meta::MetaProblem;
use crate::format::reader::Reader;
use crate::records::index::Index;
use crate::records::plan::{Outcome, Plan, Table};
use crate::storage::{Blob, Storage};

use self::entry::Loc;
pub use self::error::LogError;
use self::error::corrupted;
use self::rows::Rows;

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
/// Version 2: entries may carry `visible_at` (leases, delays). Version-1
/// logs open; their meta is rewritten as version 2 before the first such
/// entry, so an older reader refuses the log instead of misreading it.
const META_VERSION: u16 = 2;

/// The record contract over a byte storage.
pub struct LogTable<S: Storage> {
    storage: S,
    durability: Durability,
    rows: Rows,
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
    /// The version the meta on storage says.
    meta_version: u16,
}

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
            rows: Rows::default(),
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
            meta_version: META_VERSION,
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
                (t.start, t.meta_version) = decode_meta(&m).ok_or(corrupted(
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
        self.storage.replace(Blob::Meta, &bytes)?;
        self.meta_version = META_VERSION;
        Ok(())
    }

    /// Before entries of version 2 are written to a version-1 log: its
    /// meta says version 2 from now on.
    fn upgrade_meta(&mut self) -> Result<(), LogError<S::Error>> {
        if self.meta_version < META_VERSION {
            let r = self.write_meta(self.start);
            self.mutated(r)?;
        }
        Ok(())
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
}

/// The first chunk to replay and the meta's version (1 or 2).
fn decode_meta(m: &[u8]) -> Option<(u64, u16)> {
    let version = u16::from_le_bytes(m.get(4..6)?.try_into().ok()?);
    if m.get(..4)? != META_MAGIC || !(1..=META_VERSION).contains(&version) {
        return None;
    }
    match frame::parse(m.get(8..)?, Layout::V1, 64) {
        frame::Parsed::Frame(p, _, _) => Some((u64::from_le_bytes(p.try_into().ok()?), version)),
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
    /// handles appended (nothing to read when the lock says no other
    /// handle held it since).
    fn execute_now(&mut self, plan: &Plan) -> Result<Outcome, LogError<S::Error>> {
        if !self.shared {
            return self.apply_then_compact(plan);
        }
        if self.poisoned {
            return Err(LogError::Poisoned);
        }
        let locked = self.storage.lock().map_err(LogError::Storage)?;
        let r = self.catch_up(locked).and_then(|()| self.apply_then_compact(plan));
        self.storage.unlock();
        r
    }
}

/// What the unit tests of the log's parts share: a log on memory, and
/// plans run at once.
#[cfg(test)]
pub(super) mod test_support {
    use alloc::vec::Vec;

    use super::{LogConfig, LogError, LogTable};
    use crate::durability::Durability;
    use crate::memory::{MemoryStorage, MissingBlob};
    use crate::records::order::Order;
    use crate::records::plan::{Outcome, Plan};
    use crate::records::record::{NewRecord, StatusSet};

    pub(crate) type Log = LogTable<MemoryStorage>;

    /// Small chunks, compaction from 4 KiB.
    pub(crate) const SMALL: LogConfig =
        LogConfig { chunk_bytes: 1024, compact_min: 4096, skip_corrupted: false };

    pub(crate) fn fresh(config: LogConfig) -> Log {
        LogTable::open_with(MemoryStorage::new(), Durability::Synced, config).expect("open")
    }

    pub(crate) fn open(storage: MemoryStorage, config: LogConfig) -> Result<Log, LogError<MissingBlob>> {
        LogTable::open_with(storage, Durability::Synced, config)
    }

    pub(crate) fn run(t: &mut Log, plan: &Plan) -> Outcome {
        t.execute_now(plan).expect("plan")
    }

    pub(crate) fn insert(t: &mut Log, payloads: &[&[u8]]) -> Vec<Option<u64>> {
        let records = payloads
            .iter()
            .map(|p| NewRecord { payload: p.to_vec(), priority: 0, timestamp: 7, unique_key: None, delay: 0 })
            .collect();
        match run(t, &Plan::Insert { records }) {
            Outcome::Inserted(ids) => ids,
            other => panic!("insert answered {other:?}"),
        }
    }

    pub(crate) fn payloads(t: &mut Log) -> Vec<Vec<u8>> {
        match run(t, &Plan::Scan { statuses: StatusSet::ALL, order: Order::Fifo, after: None, limit: 0 }) {
            Outcome::Records(rs) => rs.into_iter().map(|r| r.payload).collect(),
            other => panic!("scan answered {other:?}"),
        }
    }
}
