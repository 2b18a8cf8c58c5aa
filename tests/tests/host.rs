//! The native handle's own guarantees, beyond the conformance suite.

use std::time::Duration;

use persist_queue::{AsyncQueue, Durability, Error, FsStorage, Postcard, Queue, QueueBuilder};
use persist_queue_core::{FaultPlan, FaultyStorage};

fn assert_send_sync<T: Send + Sync + Clone>() {}

#[test]
fn handles_are_send_sync_clone() {
    assert_send_sync::<Queue<String>>();
    assert_send_sync::<Queue<Vec<u8>, persist_queue::Raw, FsStorage>>();
    assert_send_sync::<AsyncQueue<String, Postcard, FsStorage>>();
}

/// A failed flush reaches the caller as an error, and every later call on
/// any handle is refused with `Poisoned` until the queue is reopened.
#[test]
fn failed_flush_poisons_every_handle() {
    // Flush 1 creates the queue, 2 is the first put; the second put's fails.
    let plan = FaultPlan { fail_flush: Some(3), ..FaultPlan::default() };
    let q: Queue<u32, Postcard, FaultyStorage> = QueueBuilder::new("unused")
        .durability(Durability::Synced)
        .open_with(FaultyStorage::new(plan))
        .expect("open");
    let other = q.clone();
    q.put(&1).expect("first put");
    assert!(matches!(q.put(&2), Err(Error::Storage(_))), "the failed flush is reported");
    assert!(matches!(other.put(&3), Err(Error::Poisoned)));
    assert!(matches!(other.try_get(), Err(Error::Poisoned)));
    assert!(matches!(q.task_done(), Err(Error::Poisoned)));
}

/// Dropping a pending async `get` (a timeout, a `select!`) takes nothing.
#[test]
fn cancelled_async_get_takes_nothing() {
    let tmp = tempfile::tempdir().expect("tmp");
    let q: Queue<u32> = Queue::open(tmp.path().join("q")).expect("open");
    let aq = q.to_async();
    let rt = tokio::runtime::Builder::new_current_thread().enable_time().build().expect("rt");
    rt.block_on(async {
        let r = tokio::time::timeout(Duration::from_millis(50), aq.get()).await;
        assert!(r.is_err(), "nothing to get: the future times out");
        aq.put(&7).await.expect("put");
        assert_eq!(aq.try_get().await.expect("the item is still there"), 7);
    });
}

/// Items recovered at open count for `join` until confirmed.
#[test]
fn join_waits_for_recovered_items() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("q");
    let q: Queue<u32> = Queue::open(&dir).expect("open");
    q.put_many(&[1, 2]).expect("put_many");
    drop(q);
    let q: Queue<u32> = Queue::open(&dir).expect("reopen");
    assert_eq!(q.unfinished_tasks(), 2);
    let worker = {
        let q = q.clone();
        std::thread::spawn(move || {
            for _ in 0..2 {
                q.get().expect("get");
                std::thread::sleep(Duration::from_millis(20));
                q.task_done().expect("task_done");
            }
        })
    };
    q.join();
    assert_eq!(q.unfinished_tasks(), 0);
    worker.join().expect("worker");
}
