//! Several processes share one ack queue: 1 producer and 4 consumers move
//! 10,000 items, on SQLite (every claim one `BEGIN IMMEDIATE` transaction)
//! and on plain files (the shared log table: each operation locks the
//! directory and catches up with the others' appends). No item reaches two
//! consumers (persist-queue 1.1.0's `SQLiteAckQueue` gave 62 duplicates to 4
//! consumers of 3,000 items).

use std::collections::HashSet;
use std::path::Path;
use std::process::{Command, Stdio};

use persist_queue_core::Durability;
use persist_queue_core::records::{Kind, LogConfig, LogTable, RecordQueue, Table, complete};
use persist_queue_fs::FsStorage;
use persist_queue_sqlite::SqliteTable;

const N: u64 = 10_000;

/// Runs 4 consumers and 1 producer on `path`; checks every item was
/// delivered once and returns how many each consumer took.
fn run_processes(store: &[&str], path: &Path) -> Vec<usize> {
    let p = path.to_str().expect("utf-8 path");
    let child = env!("CARGO_BIN_EXE_record_child");
    let consumers: Vec<_> = (0..4)
        .map(|_| {
            Command::new(child)
                .args(store)
                .args([p, "consume"])
                .stdout(Stdio::piped())
                .spawn()
                .expect("consumer")
        })
        .collect();
    let producer =
        Command::new(child).args(store).args([p, "produce", &N.to_string()]).status().expect("producer");
    assert!(producer.success());
    let mut seen = HashSet::new();
    let mut per_consumer = Vec::new();
    for c in consumers {
        let out = c.wait_with_output().expect("consumer output");
        assert!(out.status.success(), "consumer failed: {}", String::from_utf8_lossy(&out.stderr));
        let lines = String::from_utf8(out.stdout).expect("utf-8");
        let mut n = 0;
        for line in lines.lines() {
            let payload: u64 = line.rsplit(' ').next().and_then(|v| v.parse().ok()).expect("payload");
            assert!(seen.insert(payload), "item {payload} was delivered twice");
            n += 1;
        }
        per_consumer.push(n);
    }
    assert_eq!(seen.len() as u64, N, "every item delivered once (per consumer: {per_consumer:?})");
    per_consumer
}

fn check_all_acked<T: Table>(table: T, per_consumer: &[usize]) {
    let mut q =
        complete(RecordQueue::open(table, Kind::ACK, false, persist_queue_tests::LONG_LEASE)).expect("queue");
    let c = complete(q.counts()).expect("counts");
    assert_eq!((c.ready, c.unacked, c.acked), (0, 0, N), "per consumer: {per_consumer:?}");
    eprintln!("4 consumer processes took {per_consumer:?} items");
}

#[test]
fn four_consumer_processes_never_share_an_item() {
    let tmp = tempfile::tempdir().expect("tmp");
    let db = tmp.path().join("data.db");
    // Create the table before the processes race to.
    drop(SqliteTable::open(&db, "ack_queue_default", Durability::Buffered).expect("create"));
    let counts = run_processes(&[], &db);
    check_all_acked(
        SqliteTable::open(&db, "ack_queue_default", Durability::Buffered).expect("reopen"),
        &counts,
    );
}

#[test]
fn four_consumer_processes_on_plain_files() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("ack_queue");
    let counts = run_processes(&["files"], &dir);
    let storage = FsStorage::open_shared(&dir, Durability::Buffered).expect("open");
    check_all_acked(
        LogTable::open_shared(storage, Durability::Buffered, LogConfig::default()).expect("reopen"),
        &counts,
    );
}

/// Two handles of one directory (as two processes have them), taking turns
/// at random: puts, gets, acks of what the other handle got, purges and
/// compactions. Each turn must see every change of the other's turns, both
/// when the lock's generation number says "changed" and, after a turn of
/// its own, when it says "unchanged": small chunks make most turns cross a
/// chunk end or a compaction of the other handle.
#[test]
fn two_handles_taking_turns_see_each_others_every_change() {
    use persist_queue_core::records::{Put, StatusSet, Verdict};

    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("q");
    let config = LogConfig { chunk_bytes: 512, compact_min: 2048, skip_corrupted: false };
    let open = || {
        let storage = FsStorage::open_shared(&dir, Durability::Buffered).expect("open");
        let table = LogTable::open_shared(storage, Durability::Buffered, config).expect("table");
        complete(RecordQueue::open(table, Kind::ACK, false, persist_queue_tests::LONG_LEASE)).expect("queue")
    };
    let mut handles = [open(), open()];
    let mut rng = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let (mut put, mut got, mut held) = (0u64, HashSet::new(), Vec::new());
    for _ in 0..4_000 {
        let r = next();
        let h = &mut handles[(r & 1) as usize];
        match (r >> 1) % 16 {
            0..=6 => {
                let payload = put.to_le_bytes();
                complete(h.put(Put::new(&payload), 5)).expect("put");
                put += 1;
            }
            7..=10 => {
                if let Some(rec) = complete(h.get(false, persist_queue_tests::LONG_LEASE)).expect("get") {
                    let v = u64::from_le_bytes(rec.payload[..8].try_into().expect("8 bytes"));
                    assert!(got.insert(v), "item {v} delivered twice");
                    held.push(rec.id);
                }
            }
            11..=13 => {
                if let Some(id) = held.pop() {
                    complete(h.settle(id, Verdict::Ack)).expect("the other handle's delivery acks");
                }
            }
            14 => {
                complete(h.purge(StatusSet::of(persist_queue_core::records::Status::Acked))).expect("purge");
            }
            _ => complete(h.compact()).expect("compact"),
        }
        let c = complete(h.counts()).expect("counts");
        assert_eq!(c.ready + c.unacked, put - (got.len() as u64 - held.len() as u64), "live items");
        assert_eq!(c.unacked, held.len() as u64, "in flight");
    }
    drop(handles);
    let mut q = open();
    let c = complete(q.counts()).expect("counts");
    assert_eq!(c.ready + c.unacked, put - (got.len() as u64 - held.len() as u64), "after reopening");
}
