//! The blocking `Queue`'s wake-ups and its group-commit hand-off, checked
//! by loom over every interleaving of a few threads (a missed wake-up is a
//! deadlock loom reports; a lost or doubled item fails an assertion).
//! Runs only in a loom build:
//!
//! ```text
//! RUSTFLAGS="--cfg pq_loom" cargo test -p persist-queue --no-default-features --test loom --release
//! ```

#![cfg(pq_loom)]

use std::sync::atomic::{AtomicUsize, Ordering};

use loom::thread;
use persist_queue::{Durability, Error, InMemory, Postcard, Queue};

/// Runs `f` under loom over every interleaving and prints how many it ran.
fn model(name: &str, f: impl Fn() + Sync + Send + 'static) {
    model_bounded(name, None, f);
}

/// [`model`] over the interleavings with at most `preemptions` forced
/// thread switches (bounded model checking: most concurrency bugs need
/// only two or three; three threads each taking several locks have too
/// many interleavings to explore them all).
fn model_bounded(name: &str, preemptions: Option<usize>, f: impl Fn() + Sync + Send + 'static) {
    let runs = std::sync::Arc::new(AtomicUsize::new(0));
    let counted = std::sync::Arc::clone(&runs);
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = preemptions;
    builder.check(move || {
        counted.fetch_add(1, Ordering::Relaxed);
        f();
    });
    println!("loom: {name}: {} executions", runs.load(Ordering::Relaxed));
}

fn queue(durability: Durability) -> Queue<u32, Postcard, InMemory> {
    Queue::builder("unused").durability(durability).open_with(InMemory::new()).expect("open")
}

/// A get waiting on an empty queue wakes for a put in another thread.
#[test]
fn a_waiting_get_wakes_for_a_put() {
    model("a_waiting_get_wakes_for_a_put", || {
        let q = queue(Durability::Buffered);
        let getter = {
            let q = q.clone();
            thread::spawn(move || q.get().expect("get"))
        };
        q.put(&7).expect("put");
        assert_eq!(getter.join().expect("getter"), 7);
    });
}

/// At synced durability a waiting get wakes once the put's flush has
/// completed (the put itself does not make the item readable), and the
/// item is taken exactly once.
#[test]
fn a_waiting_get_wakes_when_a_synced_put_is_durable() {
    model("a_waiting_get_wakes_when_a_synced_put_is_durable", || {
        let q = queue(Durability::Synced);
        let getter = {
            let q = q.clone();
            thread::spawn(move || q.get().expect("get"))
        };
        q.put(&7).expect("put");
        assert_eq!(getter.join().expect("getter"), 7);
        assert!(matches!(q.try_get(), Err(Error::Empty)));
    });
}

/// Two getters, two puts: each item goes to exactly one getter.
#[test]
fn two_getters_share_two_puts() {
    model("two_getters_share_two_puts", || {
        let q = queue(Durability::Buffered);
        let getters: Vec<_> = (0..2)
            .map(|_| {
                let q = q.clone();
                thread::spawn(move || q.get().expect("get"))
            })
            .collect();
        q.put(&1).expect("put");
        q.put(&2).expect("put");
        let mut got: Vec<u32> = getters.into_iter().map(|g| g.join().expect("getter")).collect();
        got.sort_unstable();
        assert_eq!(got, [1, 2]);
    });
}

/// `join` returns once `task_done` confirms the last item.
#[test]
fn join_wakes_at_the_last_task_done() {
    model("join_wakes_at_the_last_task_done", || {
        let q = queue(Durability::Buffered);
        q.put(&1).expect("put");
        let worker = {
            let q = q.clone();
            thread::spawn(move || {
                q.get().expect("get");
                q.task_done().expect("task_done");
            })
        };
        q.join();
        assert_eq!(q.unfinished_tasks(), 0);
        worker.join().expect("worker");
    });
}

/// `close` wakes a get blocked on an empty queue, with `Closed`.
#[test]
fn close_wakes_a_blocked_get() {
    model("close_wakes_a_blocked_get", || {
        let q = queue(Durability::Buffered);
        let getter = {
            let q = q.clone();
            thread::spawn(move || q.get())
        };
        q.close();
        assert!(matches!(getter.join().expect("getter"), Err(Error::Closed)));
    });
}

/// Synced puts from three threads: one leads each flush, the others wait
/// for it (each on its own slot) or are called to lead the next; every put
/// returns, and every item is there once. Up to 3 preemptions.
#[test]
fn group_commit_hands_the_flush_over() {
    model_bounded("group_commit_hands_the_flush_over", Some(3), || {
        let q = queue(Durability::Synced);
        let others: Vec<_> = (1..3)
            .map(|i| {
                let q = q.clone();
                thread::spawn(move || q.put(&i).expect("put"))
            })
            .collect();
        q.put(&0).expect("put");
        for o in others {
            o.join().expect("putter");
        }
        let mut got: Vec<u32> = (0..3).map(|_| q.try_get().expect("get")).collect();
        got.sort_unstable();
        assert_eq!(got, [0, 1, 2]);
    });
}
