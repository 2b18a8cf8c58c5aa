//! Several processes share one SQLite ack queue: 1 producer and 4
//! consumers move 10,000 items. Every claim is one `BEGIN IMMEDIATE`
//! transaction, so no item reaches two consumers (persist-queue 1.1.0's
//! `SQLiteAckQueue` gave 62 duplicates to 4 consumers of 3,000 items).

use std::collections::HashSet;
use std::process::{Command, Stdio};

use persist_queue_core::Durability;
use persist_queue_core::records::{Kind, RecordQueue};
use persist_queue_sqlite::SqliteTable;

#[test]
fn four_consumer_processes_never_share_an_item() {
    const N: u64 = 10_000;
    let tmp = tempfile::tempdir().expect("tmp");
    let db = tmp.path().join("data.db");
    let db_s = db.to_str().expect("utf-8 path");
    // Create the table before the processes race to.
    drop(SqliteTable::open(&db, "ack_queue_default", Durability::Buffered).expect("create"));
    let child = env!("CARGO_BIN_EXE_record_child");
    let consumers: Vec<_> = (0..4)
        .map(|_| {
            Command::new(child).args([db_s, "consume"]).stdout(Stdio::piped()).spawn().expect("consumer")
        })
        .collect();
    let producer = Command::new(child).args([db_s, "produce", &N.to_string()]).status().expect("producer");
    assert!(producer.success());
    let mut seen = HashSet::new();
    let mut per_consumer = Vec::new();
    for c in consumers {
        let out = c.wait_with_output().expect("consumer output");
        assert!(out.status.success(), "consumer failed: {}", String::from_utf8_lossy(&out.stderr));
        let lines = String::from_utf8(out.stdout).expect("utf-8");
        let mut n = 0;
        for line in lines.lines() {
            let payload: u64 = line.rsplit(' ').next().and_then(|p| p.parse().ok()).expect("payload");
            assert!(seen.insert(payload), "item {payload} was delivered twice");
            n += 1;
        }
        per_consumer.push(n);
    }
    assert_eq!(seen.len() as u64, N, "every item delivered once (per consumer: {per_consumer:?})");
    let table = SqliteTable::open(&db, "ack_queue_default", Durability::Buffered).expect("reopen");
    let mut q = RecordQueue::open(table, Kind::ACK, false).expect("queue");
    let c = q.counts().expect("counts");
    assert_eq!((c.ready, c.unacked, c.acked), (0, 0, N));
    eprintln!("4 consumer processes took {per_consumer:?} items");
}
