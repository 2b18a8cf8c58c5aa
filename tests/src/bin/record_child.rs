//! A process of `tests/record_processes.rs`, on one ack queue: SQLite (a
//! database file), or plain files (`files DIR`: the shared log table).
//!
//! `record_child [files] DB produce N`: puts items 0..N, then creates `DB.done`.
//! `record_child [files] DB produce_after MS`: waits MS ms, then puts one item.
//! `record_child [files] DB consume`: takes, prints (`G id payload`) and acks items
//! until the producer is done and the queue is empty.

use std::io::Write;

use persist_queue_core::Durability;
use persist_queue_core::records::{Kind, LogConfig, LogTable, Put, RecordQueue, Table, Verdict, complete};
use persist_queue_fs::FsStorage;
use persist_queue_sqlite::SqliteTable;

fn main() {
    let mut args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("files") {
        args.remove(1);
        let dir = args.get(1).expect("DIR").clone();
        let storage = FsStorage::open_shared(&dir, Durability::Buffered).expect("open dir");
        let table = LogTable::open_shared(storage, Durability::Buffered, LogConfig::default())
            .expect("open log table");
        work_on(table, &args);
    } else {
        let db = args.get(1).expect("DB path");
        work_on(SqliteTable::open(db, "ack_queue_default", Durability::Buffered).expect("open table"), &args);
    }
}

fn work_on<T: Table>(table: T, args: &[String]) {
    let db = args.get(1).expect("path");
    // auto_resume off: a process starting late must not take back items
    // that live processes hold.
    let mut q = complete(RecordQueue::open(table, Kind::ACK, false, persist_queue_tests::LONG_LEASE))
        .expect("open queue");
    let done = format!("{db}.done");
    match args.get(2).map(String::as_str) {
        Some("produce") => {
            let n: u64 = args.get(3).and_then(|s| s.parse().ok()).expect("N");
            for i in 0..n {
                let payload = i.to_string();
                complete(q.put(Put::new(payload.as_bytes()), 0)).expect("put");
            }
            std::fs::write(&done, b"").expect("done marker");
        }
        Some("produce_after") => {
            let ms: u64 = args.get(3).and_then(|s| s.parse().ok()).expect("MS");
            std::thread::sleep(std::time::Duration::from_millis(ms));
            complete(q.put(Put::new(b"late"), 0)).expect("put");
        }
        Some("consume") => {
            let out = std::io::stdout();
            let mut out = out.lock();
            loop {
                let finished = std::path::Path::new(&done).exists();
                match complete(q.get(false, persist_queue_tests::LONG_LEASE)).expect("get") {
                    Some(r) => {
                        complete(q.settle(r.id, Verdict::Ack)).expect("ack");
                        writeln!(out, "G {} {}", r.id, String::from_utf8_lossy(&r.payload)).expect("stdout");
                    }
                    None if finished => break,
                    None => std::thread::sleep(std::time::Duration::from_millis(1)),
                }
            }
        }
        _ => panic!("usage: record_child DB produce N | consume"),
    }
}
