//! The metrics a queue emits (feature `metrics`), read back from a
//! recorder after a known workload.

#![cfg(feature = "metrics")]

use std::collections::BTreeMap;

use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};
use persist_queue::{AckQueue, Durability, Queue};

/// Per (metric, queue label): counters and gauges as numbers, histograms
/// as their sample count.
fn read(snapshotter: &Snapshotter) -> BTreeMap<(String, String), f64> {
    snapshotter
        .snapshot()
        .into_vec()
        .into_iter()
        .map(|(key, _, _, value)| {
            let key = key.key();
            let queue =
                key.labels().find(|l| l.key() == "queue").map(|l| l.value().to_string()).unwrap_or_default();
            let v = match value {
                DebugValue::Counter(n) => n as f64,
                DebugValue::Gauge(g) => g.into_inner(),
                DebugValue::Histogram(samples) => samples.len() as f64,
            };
            ((key.name().to_string(), queue), v)
        })
        .collect()
}

#[test]
fn counters_histograms_and_depth_after_a_known_workload() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("files");
    metrics::with_local_recorder(&recorder, || {
        let q: AckQueue<u32> = AckQueue::in_memory().name("Jobs").open().expect("open");
        for i in 0..5 {
            q.put(&i).expect("put");
        }
        let got: Vec<_> = (0..3).map(|_| q.get().expect("get")).collect();
        q.ack(&got[0]).expect("ack");
        q.nack(&got[1]).expect("nack");
        q.ack_failed(&got[2]).expect("fail");
        assert_eq!(q.ready_count().expect("count"), 3);
        let held = q.get().expect("get");
        let s = q.stats().expect("stats");
        assert_eq!((s.ready, s.in_flight, s.dead), (2, 1, 1));
        q.ack(&held).expect("ack");

        let f: Queue<u32> = Queue::builder(&dir).durability(Durability::Synced).open().expect("open");
        f.put_many(&[1, 2, 3]).expect("put");
        f.put(&4).expect("put");
        f.get().expect("get");
        f.get().expect("get");
        f.task_done().expect("done");
    });
    let m = read(&snapshotter);
    let at = |name: &str, queue: &str| m.get(&(name.to_string(), queue.to_string())).copied();
    assert_eq!(at("persist_queue_puts_total", "jobs"), Some(5.0), "{m:?}");
    assert_eq!(at("persist_queue_gets_total", "jobs"), Some(4.0));
    assert_eq!(at("persist_queue_acks_total", "jobs"), Some(2.0));
    assert_eq!(at("persist_queue_nacks_total", "jobs"), Some(1.0));
    assert_eq!(at("persist_queue_ack_failed_total", "jobs"), Some(1.0));
    assert_eq!(at("persist_queue_depth", "jobs"), Some(2.0), "as stats() read it");
    assert_eq!(at("persist_queue_in_flight", "jobs"), Some(1.0));
    assert_eq!(at("persist_queue_dead_letters", "jobs"), Some(1.0));
    assert_eq!(at("persist_queue_delayed", "jobs"), Some(0.0));
    assert_eq!(at("persist_queue_expired_leases", "jobs"), Some(0.0));
    assert!(at("persist_queue_oldest_ready_age_seconds", "jobs").is_some_and(|a| a >= 0.0));
    // One group commit per put, per synced get's claim and per fenced ack
    // here (five puts, four gets, two acks): eleven flush samples, eleven
    // batch sizes.
    assert_eq!(at("persist_queue_flush_seconds", "jobs"), Some(11.0));
    assert_eq!(at("persist_queue_commit_batch_size", "jobs"), Some(11.0));
    let d = dir.display().to_string();
    assert_eq!(at("persist_queue_puts_total", &d), Some(4.0), "{m:?}");
    assert_eq!(at("persist_queue_gets_total", &d), Some(2.0));
    assert_eq!(at("persist_queue_acks_total", &d), Some(1.0), "one task_done");
    assert_eq!(at("persist_queue_depth", &d), Some(2.0));
    assert!(at("persist_queue_flush_seconds", &d).is_some_and(|n| n >= 2.0), "synced puts flush: {m:?}");
}

#[test]
fn without_a_recorder_nothing_is_recorded_and_the_queue_works() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    // Opened with no recorder installed: its handles are no-ops for good.
    let q: AckQueue<u32> = AckQueue::in_memory().open().expect("open");
    metrics::with_local_recorder(&recorder, || {
        q.put(&1).expect("put");
        let d = q.get().expect("get");
        q.ack(&d).expect("ack");
    });
    assert!(read(&snapshotter).is_empty());
}
