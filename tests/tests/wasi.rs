//! persist-queue inside WebAssembly (`wasm32-wasip1`) under wasmtime: the
//! record suite in a guest, the on-disk format shared with native code, and
//! a host-lent queue with well-behaved, failing and hostile plugins.
//!
//! The guests are built first (`.ci/run` does it):
//! `cargo build -p persist-queue-wasi -p persist-queue-wasi-suite --target wasm32-wasip1 --release --bins --examples`.
//! `PQ_WASI_GUESTS` names their directory (default
//! `target/wasm32-wasip1/release`). Without them these tests skip, saying
//! so, unless `PQ_REQUIRE_WASI=1` (CI), which makes them fail.

use std::collections::HashSet;
use std::path::PathBuf;

use persist_queue::plugin::{PluginHost, Report};
use persist_queue::{AckQueue, Durability, QueueBuilder, Raw};

fn guest(name: &str) -> Option<Vec<u8>> {
    let dir = std::env::var("PQ_WASI_GUESTS").map(PathBuf::from).unwrap_or_else(|_| {
        PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../target/wasm32-wasip1/release"))
    });
    let path = dir.join(name);
    match std::fs::read(&path) {
        Ok(bytes) => Some(bytes),
        Err(e) if std::env::var("PQ_REQUIRE_WASI").is_ok_and(|v| v == "1") => {
            panic!("{}: {e} (PQ_REQUIRE_WASI=1)", path.display())
        }
        Err(_) => {
            eprintln!(
                "skipped: no {} (build the guests: cargo build -p persist-queue-wasi -p persist-queue-wasi-suite --target wasm32-wasip1 --release --bins --examples)",
                path.display()
            );
            None
        }
    }
}

fn memory_queue() -> AckQueue<Vec<u8>, Raw> {
    AckQueue::in_memory().codec(Raw).open().expect("queue")
}

fn ok(report: &Report) {
    assert!(report.trap.is_none() && report.exit_code == 0, "{report:?}");
}

#[test]
fn the_record_suite_runs_in_a_guest() {
    let Some(wasm) = guest("pq-wasi-suite.wasm") else { return };
    let tmp = tempfile::tempdir().expect("tmp");
    let host = PluginHost::new(memory_queue()).expect("host").preopen(tmp.path(), "/data");
    let report = host.start(&host.load(&wasm).expect("load"), &["suite", "/data"]).expect("run");
    ok(&report);
    let passed = report.stdout.lines().filter(|l| l.starts_with("ok ")).count();
    assert_eq!(passed, 27, "every suite test passed in the guest:\n{}", report.stdout);
}

#[test]
fn a_queue_written_by_a_guest_opens_natively_and_back() {
    let Some(wasm) = guest("pq-wasi-suite.wasm") else { return };
    let tmp = tempfile::tempdir().expect("tmp");
    let host = PluginHost::new(memory_queue()).expect("host").preopen(tmp.path(), "/data");
    let suite = host.load(&wasm).expect("load");
    ok(&host.start(&suite, &["fill", "/data", "500"]).expect("fill"));
    // Natively: the FIFO queue and the ack queue the guest wrote.
    let fifo = QueueBuilder::new(tmp.path().join("fifo")).open::<String>().expect("open natively");
    let acks = AckQueue::files(tmp.path().join("acks")).open::<String>().expect("open natively");
    for i in 0..500 {
        assert_eq!(fifo.get().expect("get"), format!("item-{i}"));
        let d = acks.get().expect("get");
        assert_eq!(d.item, format!("item-{i}"));
        acks.ack(&d).expect("ack");
    }
    fifo.task_done().expect("task_done");
    // And back: filled natively, drained by the guest.
    let items: Vec<String> = (0..500).map(|i| format!("item-{i}")).collect();
    fifo.put_many(&items).expect("put_many");
    acks.put_many(&items).expect("put_many");
    drop((fifo, acks));
    let report = host.start(&suite, &["drain", "/data", "500"]).expect("drain");
    ok(&report);
    assert!(report.stdout.contains("drained 500"), "{report:?}");
    let fifo = QueueBuilder::new(tmp.path().join("fifo")).open::<String>().expect("reopen");
    assert!(fifo.is_empty(), "the guest's task_done is seen natively");
}

#[test]
fn two_plugins_and_two_native_producers_share_a_queue() {
    let Some(wasm) = guest("examples/plugin.wasm") else { return };
    let q = AckQueue::in_memory().codec(Raw).durability(Durability::Buffered).open().expect("queue");
    let host = PluginHost::new(q.clone()).expect("host");
    let plugin = host.load(&wasm).expect("load");
    let producers: Vec<_> = (0..2u32)
        .map(|p| {
            let q = q.clone();
            std::thread::spawn(move || {
                for i in 0..5000u32 {
                    q.put(&format!("{p}-{i}").into_bytes()).expect("put");
                }
            })
        })
        .collect();
    let mut seen = HashSet::new();
    let mut consumed = 0;
    while consumed < 10_000 {
        let runs: Vec<_> = (0..2)
            .map(|_| {
                let (host, plugin) = (host.clone(), plugin.clone());
                std::thread::spawn(move || host.start(&plugin, &["consume"]).expect("run"))
            })
            .collect();
        for r in runs {
            let report = r.join().expect("plugin thread");
            ok(&report);
            for line in report.stdout.lines() {
                let payload = line.splitn(3, ' ').nth(2).expect("job ID payload").to_string();
                assert!(seen.insert(payload.clone()), "{payload} delivered twice");
                consumed += 1;
            }
        }
    }
    for p in producers {
        p.join().expect("producer");
    }
    assert_eq!(seen.len(), 10_000);
    assert_eq!(q.acked_count().expect("acked"), 10_000, "every item acked once, none lost");
}

#[test]
fn a_plugin_that_traps_or_spins_loses_nothing() {
    let Some(wasm) = guest("examples/plugin.wasm") else { return };
    let q = memory_queue();
    for i in 0..10u8 {
        q.put(&vec![i]).expect("put");
    }
    let host = PluginHost::new(q.clone()).expect("host").fuel(50_000_000);
    let plugin = host.load(&wasm).expect("load");
    let trapped = host.start(&plugin, &["trap-after", "3"]).expect("run");
    assert!(trapped.trap.is_some(), "{trapped:?}");
    assert_eq!(trapped.returned, 3, "the 3 jobs it held are ready again");
    assert_eq!((q.ready_count().expect("ready"), q.unack_count().expect("unacked")), (10, 0));
    let spun = host.start(&plugin, &["spin"]).expect("run");
    assert!(spun.trap.as_deref().is_some_and(|t| t.contains("fuel")), "{spun:?}");
    assert_eq!(spun.returned, 1);
    assert_eq!(q.ready_count().expect("ready"), 10, "stopped by its fuel, it lost nothing");
    // In order still: the first item is the first one put.
    assert_eq!(q.get().expect("get").item, vec![0]);
}

/// A hand-written plugin that calls the ABI with out-of-bounds pointers,
/// negative and huge lengths, ids it does not hold, and checks each answer
/// (a wrong answer traps: `unreachable`).
const HOSTILE: &str = r#"
(module
  (import "persist_queue" "pq_put" (func $put (param i32 i32) (result i64)))
  (import "persist_queue" "pq_get" (func $get (param i32) (result i64)))
  (import "persist_queue" "pq_item_len" (func $len (param i64) (result i64)))
  (import "persist_queue" "pq_item_read" (func $read (param i64 i32 i32) (result i64)))
  (import "persist_queue" "pq_ack" (func $ack (param i64) (result i32)))
  (import "persist_queue" "pq_nack" (func $nack (param i64) (result i32)))
  (memory (export "memory") 1)
  (func $expect (param i64 i64) (if (i64.ne (local.get 0) (local.get 1)) (then unreachable)))
  (func (export "_start") (local $id i64)
    ;; reads outside memory, negative or huge lengths: refused
    (call $expect (call $put (i32.const 65530) (i32.const 100)) (i64.const -2))
    (call $expect (call $put (i32.const -1) (i32.const 4)) (i64.const -2))
    (call $expect (call $put (i32.const 0) (i32.const -5)) (i64.const -2))
    (call $expect (call $put (i32.const 0) (i32.const 2147483647)) (i64.const -5))
    ;; settling ids it does not hold: refused (the host's in-flight item is id 1)
    (call $expect (i64.extend_i32_s (call $ack (i64.const 1))) (i64.const -3))
    (call $expect (i64.extend_i32_s (call $nack (i64.const -7))) (i64.const -3))
    (call $expect (i64.extend_i32_s (call $ack (i64.const 9223372036854775807))) (i64.const -3))
    (call $expect (call $len (i64.const 1)) (i64.const -3))
    ;; take an item, then read it out of bounds or into too small a buffer
    (local.set $id (call $get (i32.const 0)))
    (if (i64.lt_s (local.get $id) (i64.const 0)) (then unreachable))
    (call $expect (call $read (local.get $id) (i32.const 65535) (i32.const 64)) (i64.const -2))
    (call $expect (call $read (local.get $id) (i32.const 0) (i32.const 1)) (i64.const -2))
    (call $expect (call $read (local.get $id) (i32.const 0) (i32.const 64)) (call $len (local.get $id)))
    ;; and end without settling it: the host makes it ready again
  )
)
"#;

#[test]
fn hostile_plugins_get_errors_and_the_queue_stays_intact() {
    let q = memory_queue();
    q.put(&b"held-by-native".to_vec()).expect("put");
    q.put(&b"for-the-plugin".to_vec()).expect("put");
    let native = q.get().expect("native holds id 1");
    assert_eq!(native.id, 1);
    let host = PluginHost::new(q.clone()).expect("host").max_item_size(1 << 20);
    let report = host.start(&host.load(HOSTILE.as_bytes()).expect("load"), &[]).expect("run");
    assert!(report.trap.is_none(), "every answer was the expected error: {report:?}");
    assert_eq!((report.put, report.settled, report.returned), (0, 0, 1));
    q.ack(&native).expect("the native consumer's item was never touched");
    let d = q.get().expect("the plugin's item is ready again");
    assert_eq!(d.item, b"for-the-plugin");
    let counts = (q.ready_count().expect("r"), q.unack_count().expect("u"), q.acked_count().expect("a"));
    assert_eq!(counts, (0, 1, 1), "nothing was added or lost");
    // A module with no memory, or that is not wasm at all.
    let no_memory = r#"(module
        (import "persist_queue" "pq_put" (func $put (param i32 i32) (result i64)))
        (func (export "_start") (if (i64.ne (call $put (i32.const 0) (i32.const 1)) (i64.const -2)) (then unreachable))))"#;
    ok(&host.start(&host.load(no_memory.as_bytes()).expect("load"), &[]).expect("run"));
    assert!(host.load(b"\0asm garbage").is_err(), "not a module: an error, no panic");
}
