//! Issue 11, defect 8, the rule under every table: a store at its quota
//! (only deleting plans run, as IndexedDB over quota in Chromium) still
//! drains — deleting claims, held claims, deleting acks — and loses
//! nothing; a held item that is never settled is delivered again.

use persist_queue_core::records::{
    FullTable, Kind, LogConfig, LogTable, MemoryTable, Put, RecordQueue, Status, Table, Verdict, complete,
};
use persist_queue_core::{Durability, FaultPlan, FaultyStorage};
use persist_queue_tests::LONG_LEASE;

fn put_all<T: Table>(q: &mut RecordQueue<FullTable<T>>, n: u8) {
    for i in 0..n {
        complete(q.put(Put::new(&[i]), 1)).expect("put");
    }
}

fn payloads(rs: &[persist_queue_core::records::Record]) -> Vec<u8> {
    rs.iter().map(|r| r.payload[0]).collect()
}

fn drains<T: Table>(fresh: impl Fn() -> T) {
    // A plain queue: deleting claims are deletions.
    let mut q =
        complete(RecordQueue::open(FullTable::new(fresh()), Kind::FIFO, true, LONG_LEASE)).expect("open");
    put_all(&mut q, 4);
    q.table_mut().full = true;
    assert!(complete(q.put(Put::new(b"x"), 1)).is_err(), "full: puts refused");
    assert_eq!(payloads(&complete(q.get_many(2, true, LONG_LEASE)).expect("deleting claim")), [0, 1]);
    assert_eq!(payloads(&complete(q.get_many(9, true, LONG_LEASE)).expect("deleting claim")), [2, 3]);

    // An ack queue: claims cannot be marked, so they are held; acks delete.
    let mut q =
        complete(RecordQueue::open(FullTable::new(fresh()), Kind::ACK, true, LONG_LEASE)).expect("open");
    put_all(&mut q, 5);
    let marked = complete(q.get_many(1, false, LONG_LEASE)).expect("a claim before the quota");
    q.table_mut().full = true;
    assert!(complete(q.get_many(1, false, LONG_LEASE)).is_err(), "a marking claim is refused");
    let held = complete(q.claim_held(2)).expect("held claim");
    assert_eq!((payloads(&held), held[0].deliveries, q.held()), (vec![1, 2], 1, 2));
    assert_eq!(payloads(&complete(q.claim_held(9)).expect("held")), [3, 4], "held items are not taken twice");
    complete(q.settle(marked[0].id, Verdict::Ack)).expect("an ack of a marked item deletes it");
    complete(q.settle(held[0].id, Verdict::Ack)).expect("an ack of a held item deletes it");
    complete(q.settle(held[1].id, Verdict::Nack)).expect("a nack lets go of it");
    assert_eq!(q.held(), 2);
    assert_eq!(payloads(&complete(q.claim_held(9)).expect("held")), [2], "let go of: taken again");
    let c = complete(q.counts()).expect("counts");
    assert_eq!((c.ready, c.unacked, c.acked), (3, 0, 0), "acked items were deleted, the held still ready");

    // The handle goes away holding items: nothing is lost.
    let table = q.table_mut();
    table.full = false;
    let inner = std::mem::replace(&mut table.inner, fresh());
    drop(q);
    let mut again =
        complete(RecordQueue::open(FullTable::new(inner), Kind::ACK, true, LONG_LEASE)).expect("reopen");
    let rest = complete(again.get_many(9, false, LONG_LEASE)).expect("claim");
    assert_eq!(payloads(&rest), [2, 3, 4], "every held item is delivered again");
    assert!(rest.iter().all(|r| r.status == Status::Unacked && r.deliveries == 1));
}

#[test]
fn a_full_memory_table_drains() {
    drains(MemoryTable::default);
}

#[test]
fn a_full_log_table_drains() {
    drains(|| {
        LogTable::open_with(
            FaultyStorage::new(FaultPlan::default()),
            Durability::Synced,
            LogConfig::default(),
        )
        .expect("log")
    });
}

#[test]
fn a_full_sqlite_table_drains() {
    let dir = tempfile::tempdir().expect("tmp");
    let n = std::sync::atomic::AtomicU32::new(0);
    drains(|| {
        let i = n.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        persist_queue_sqlite::SqliteTable::open(
            dir.path().join("q.db"),
            &format!("t{i}"),
            Durability::Buffered,
        )
        .expect("sqlite")
    });
}

/// A byte store with a quota, refusing a write over it whole (as
/// localStorage does), with a reserve it gives back on request.
struct QuotaStorage {
    inner: persist_queue_core::MemoryStorage,
    quota: usize,
    reserve: usize,
}

#[derive(Debug)]
enum QuotaError {
    Full,
    Missing,
}

impl std::fmt::Display for QuotaError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{self:?}")
    }
}

impl QuotaStorage {
    fn used(&self) -> usize {
        self.inner.blobs().values().map(Vec::len).sum::<usize>() + self.reserve
    }

    fn room(&self, grows_by: usize) -> Result<(), QuotaError> {
        if self.used() + grows_by > self.quota { Err(QuotaError::Full) } else { Ok(()) }
    }
}

impl persist_queue_core::Storage for QuotaStorage {
    type Error = QuotaError;
    type Flush = persist_queue_core::NoFlush<QuotaError>;

    fn list(&mut self) -> Result<Vec<persist_queue_core::Blob>, QuotaError> {
        self.inner.list().map_err(|_| QuotaError::Missing)
    }
    fn size(&mut self, blob: persist_queue_core::Blob) -> Result<Option<u64>, QuotaError> {
        self.inner.size(blob).map_err(|_| QuotaError::Missing)
    }
    fn read(
        &mut self,
        blob: persist_queue_core::Blob,
        offset: u64,
        buf: &mut [u8],
    ) -> Result<usize, QuotaError> {
        self.inner.read(blob, offset, buf).map_err(|_| QuotaError::Missing)
    }
    fn append(&mut self, blob: persist_queue_core::Blob, data: &[u8]) -> Result<(), QuotaError> {
        self.room(data.len())?;
        self.inner.append(blob, data).map_err(|_| QuotaError::Missing)
    }
    fn truncate(&mut self, blob: persist_queue_core::Blob, len: u64) -> Result<(), QuotaError> {
        self.inner.truncate(blob, len).map_err(|_| QuotaError::Missing)
    }
    fn replace(&mut self, blob: persist_queue_core::Blob, data: &[u8]) -> Result<(), QuotaError> {
        let old = self.inner.blob(blob).map_or(0, <[u8]>::len);
        self.room(data.len().saturating_sub(old))?;
        self.inner.replace(blob, data).map_err(|_| QuotaError::Missing)
    }
    fn remove(&mut self, blob: persist_queue_core::Blob) -> Result<(), QuotaError> {
        self.inner.remove(blob).map_err(|_| QuotaError::Missing)
    }
    fn begin_flush(&mut self) -> Result<Self::Flush, QuotaError> {
        Ok(persist_queue_core::NoFlush::new())
    }
    fn untouched(&self, e: &QuotaError) -> bool {
        matches!(e, QuotaError::Full)
    }
    fn release_reserve(&mut self) -> Result<bool, QuotaError> {
        Ok(std::mem::take(&mut self.reserve) > 0)
    }
}

/// The record log at its quota (localStorage's case: every plan, a
/// deletion too, appends): filled until a put is refused, a plain queue
/// still drains every item, in order, by making room (its reserve, then
/// the chunks no record needs any more).
#[test]
fn a_full_record_log_drains_by_making_room() {
    let storage =
        QuotaStorage { inner: persist_queue_core::MemoryStorage::new(), quota: 256 << 10, reserve: 4 << 10 };
    let config = LogConfig { chunk_bytes: 16 << 10, compact_min: 64 << 10, skip_corrupted: false };
    let table = LogTable::open_with(storage, Durability::Buffered, config).expect("log");
    let mut q = complete(RecordQueue::open(table, Kind::FIFO, true, LONG_LEASE)).expect("queue");
    let item = |i: u32| -> Vec<u8> { i.to_le_bytes().iter().copied().cycle().take(1000).collect() };
    let mut put = 0u32;
    while complete(q.put(Put::new(&item(put)), 1)).is_ok() {
        put += 1;
    }
    assert!(put > 200, "stored {put} before the quota");
    let mut got = 0u32;
    while let Some(r) = complete(q.get(true, LONG_LEASE)).expect("a deleting claim at the quota") {
        assert_eq!(r.payload, item(got), "in order");
        got += 1;
    }
    assert_eq!(got, put, "every item drained");
}
