//! Runs inside a `wasm32-wasip1` guest (driven by `tests/tests/wasi.rs`
//! under wasmtime; it also runs natively):
//!
//! `pq-wasi-suite suite DIR`: the record suite and the table contract of
//! `tests/` (the same source files) on the core's log table over WASI's
//! filesystem in DIR, then the FIFO queue's restart rules; prints `ok NAME`
//! per test (a failure panics, which traps the guest).
//! `pq-wasi-suite fill DIR N`: puts `item-0..N` into a FIFO queue
//! (`DIR/fifo`) and a plain-files ack queue (`DIR/acks`), synced.
//! `pq-wasi-suite drain DIR N`: takes N items from both, checks their
//! order and acks them; prints `drained N`.
//! `pq-wasi-suite put-rate DIR N`: N buffered puts; prints `puts N`.
//! `pq-wasi-suite put-many-rate DIR N`: the same N items as `put_many`
//! calls of 1,000.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use persist_queue_core::Durability;
use persist_queue_core::records::{LogTable, complete};
use persist_queue_fs::FsStorage;
use persist_queue_wasi::{AckQueue, Queue, QueueBuilder};

#[path = "../../src/record_store.rs"]
#[allow(dead_code, unreachable_pub)]
mod record_store;
#[path = "../../src/record_suite.rs"]
#[allow(dead_code, unreachable_pub)]
mod record_suite;
#[path = "../../src/table_contract.rs"]
#[allow(dead_code, unreachable_pub)]
mod table_contract;

use record_store::TableHarness;

/// The directory every test location goes under.
static ROOT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
static NEXT: AtomicU32 = AtomicU32::new(0);

/// The core's log table on WASI's filesystem, a fresh directory per `new`.
struct WasiLog(PathBuf);

impl TableHarness for WasiLog {
    type T = LogTable<FsStorage>;
    fn new() -> Self {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        WasiLog(ROOT.get().expect("root").join(format!("table{n}")))
    }
    async fn open(&self) -> Self::T {
        let storage = FsStorage::open(&self.0, Durability::Synced).expect("open dir");
        LogTable::open(storage, Durability::Synced).expect("open log table")
    }
}

macro_rules! suite_in_guest {
    (suite: $($t:ident),* ; contract: $($c:ident),* $(,)?) => {{
        $(
            complete(record_suite::$t::<WasiLog>());
            println!("ok record_suite::{}", stringify!($t));
        )*
        $(
            complete(async { table_contract::$c(WasiLog::new().open().await).await });
            println!("ok table_contract::{}", stringify!($c));
        )*
    }};
}

fn fifo(dir: &Path, d: Durability) -> Queue<String> {
    QueueBuilder::new(dir.join("fifo")).durability(d).open().expect("open fifo queue")
}

fn acks(dir: &Path) -> AckQueue<String> {
    AckQueue::files(dir.join("acks")).open().expect("open ack queue")
}

/// The FIFO queue's rules that matter across a restart, on WASI.
fn fifo_restarts(dir: &Path) {
    let q = fifo(dir, Durability::Synced);
    for i in 0..250 {
        q.put(&format!("v{i}")).expect("put");
    }
    assert_eq!(q.get().expect("get"), "v0");
    drop(q);
    let q = fifo(dir, Durability::Synced);
    assert_eq!(q.get().expect("get"), "v0", "without task_done, a get comes back after a restart");
    q.task_done().expect("task_done");
    drop(q);
    let q = fifo(dir, Durability::Synced);
    assert_eq!(q.len(), 249);
    assert_eq!(q.get().expect("get"), "v1");
    println!("ok fifo_restarts");
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let dir = PathBuf::from(args.get(2).expect("DIR"));
    let n: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(0);
    match args.get(1).map(String::as_str) {
        Some("suite") => {
            ROOT.set(dir.clone()).expect("root once");
            crate::with_record_test_names!(suite_in_guest {});
            fifo_restarts(&dir.join("fifo_restarts"));
        }
        Some("fill") => {
            let (q, a) = (fifo(&dir, Durability::Synced), acks(&dir));
            let items: Vec<String> = (0..n).map(|i| format!("item-{i}")).collect();
            q.put_many(&items).expect("put_many");
            a.put_many(&items).expect("put_many");
            println!("filled {n}");
        }
        Some("drain") => {
            let (q, a) = (fifo(&dir, Durability::Synced), acks(&dir));
            for i in 0..n {
                assert_eq!(q.get().expect("fifo get"), format!("item-{i}"));
                let d = a.get().expect("ack get");
                assert_eq!(d.item, format!("item-{i}"));
                a.ack(&d).expect("ack");
            }
            q.task_done().expect("task_done");
            assert!(q.is_empty() && a.ready_count().expect("ready") == 0, "nothing left");
            println!("drained {n}");
        }
        Some("put-rate") => {
            let q = fifo(&dir, Durability::Buffered);
            for i in 0..n {
                q.put(&format!("bench{i}")).expect("put");
            }
            println!("puts {n}");
        }
        Some("put-many-rate") => {
            let q = fifo(&dir, Durability::Buffered);
            let items: Vec<String> = (0..n).map(|i| format!("bench{i}")).collect();
            for part in items.chunks(1000) {
                q.put_many(part).expect("put_many");
            }
            println!("puts {n}");
        }
        _ => eprintln!("usage: pq-wasi-suite suite|fill|drain|put-rate|put-many-rate DIR [N]"),
    }
}
