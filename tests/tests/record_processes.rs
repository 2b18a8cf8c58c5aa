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
