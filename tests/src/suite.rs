//! The behaviours of persist-queue's `test_queue.py`, and the ones it
//! lacks, as generic functions over a backend (`H`), a serializer (`C`)
//! and an item type (`I`). `queue_conformance!` turns them into tests.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use persist_queue::{Codec, Error, Queue, QueueBuilder};
use persist_queue_core::Blob;

use crate::harness::Harness;
use crate::item::Item;

type Q<H, C, I> = Queue<I, C, <H as Harness>::S>;

fn open<H: Harness, C: Codec<I> + Default, I>(
    h: &H,
    f: impl FnOnce(QueueBuilder<C>) -> QueueBuilder<C>,
) -> Q<H, C, I> {
    h.open(f(h.builder().codec(C::default()))).expect("open queue")
}

fn plain<C>(b: QueueBuilder<C>) -> QueueBuilder<C> {
    b
}

fn drain<I, C: Codec<I>, S: persist_queue::QueueStorage>(q: &Queue<I, C, S>) -> Vec<I> {
    let mut out = Vec::new();
    loop {
        match q.try_get() {
            Ok(i) => out.push(i),
            Err(Error::Empty) => return out,
            Err(e) => panic!("get failed: {e}"),
        }
    }
}

fn items<I: Item>(range: std::ops::Range<usize>) -> Vec<I> {
    range.map(I::make).collect()
}

/// A put survives closing and reopening.
pub fn open_close_single<H: Harness, C: Codec<I> + Default, I: Item>() {
    let h = H::new();
    let q = open::<H, C, I>(&h, plain);
    q.put(&I::make(1)).expect("put");
    drop(q);
    let q = open::<H, C, I>(&h, plain);
    assert_eq!(q.len(), 1);
    assert_eq!(q.get().expect("get"), I::make(1));
}

/// `is_empty` follows puts and gets (no task_done needed).
pub fn empty<H: Harness, C: Codec<I> + Default, I: Item>() {
    let h = H::new();
    let q = open::<H, C, I>(&h, plain);
    assert!(q.is_empty());
    q.put(&I::make(1)).expect("put");
    assert!(!q.is_empty());
    q.get().expect("get");
    assert!(q.is_empty());
}

/// `max_size` 3: full at 3 items, not after a get; never full without it.
pub fn full<H: Harness, C: Codec<I> + Default, I: Item>() {
    let h = H::new();
    let q = open::<H, C, I>(&h, |b| b.max_size(3));
    for i in 0..3 {
        assert!(!q.is_full());
        q.put(&I::make(i)).expect("put");
    }
    assert!(q.is_full());
    q.get().expect("get");
    assert!(!q.is_full());
    let h2 = H::new();
    let unbounded = open::<H, C, I>(&h2, plain);
    assert!(!unbounded.is_full(), "an empty unbounded queue is not full (B19)");
    unbounded.put_many(&items::<I>(0..100)).expect("put_many");
    assert!(!unbounded.is_full());
}

/// 1000 items survive a reopen in FIFO order, then `Empty`, then the queue
/// is still usable.
pub fn open_close_1000<H: Harness, C: Codec<I> + Default, I: Item>() {
    let h = H::new();
    let q = open::<H, C, I>(&h, |b| b.chunk_size(100));
    for i in 0..1000 {
        q.put(&I::make(i)).expect("put");
    }
    drop(q);
    let q = open::<H, C, I>(&h, plain);
    assert_eq!(q.len(), 1000);
    assert_eq!(drain(&q), items::<I>(0..1000));
    assert!(matches!(q.try_get(), Err(Error::Empty)));
    q.put(&I::make(7)).expect("put after drain");
    assert_eq!(q.get().expect("get"), I::make(7));
}

/// Bytes appended after the last whole record (a torn write) are cut on
/// reopen; the records before them and later puts are intact.
pub fn partial_write<H: Harness, C: Codec<I> + Default, I: Item>() {
    let h = H::new();
    let q = open::<H, C, I>(&h, |b| b.chunk_size(10));
    for i in 0..25 {
        q.put(&I::make(i)).expect("put");
    }
    drop(q);
    let head = *h.chunks().last().expect("a chunk");
    // A torn frame: a plausible length, then too few bytes.
    h.damage(Blob::Chunk(head), &mut |b| b.extend_from_slice(&[9, 0, 0, 0, 1, 2, 3]));
    let q = open::<H, C, I>(&h, plain);
    assert_eq!(q.len(), 25);
    assert_eq!(q.stats().truncated_bytes, 7);
    q.put(&I::make(25)).expect("put");
    assert_eq!(drain(&q), items::<I>(0..26));
}

/// Random puts and gets with `task_done`: `Empty` exactly when empty.
pub fn random_read_write<H: Harness, C: Codec<I> + Default, I: Item>() {
    let h = H::new();
    let q = open::<H, C, I>(&h, |b| b.chunk_size(7));
    let mut rng = fastrand::Rng::with_seed(7);
    let mut model = std::collections::VecDeque::new();
    for n in 0..1000 {
        if rng.bool() {
            q.put(&I::make(n)).expect("put");
            model.push_back(I::make(n));
        } else {
            match q.try_get() {
                Ok(item) => {
                    assert_eq!(Some(item), model.pop_front());
                    q.task_done().expect("task_done");
                }
                Err(Error::Empty) => assert!(model.is_empty()),
                Err(e) => panic!("{e}"),
            }
        }
        assert_eq!(q.len(), model.len() as u64);
    }
}

/// One producer and one consumer thread, 1000 items, `task_done` each:
/// `join` returns and everything arrived in order.
pub fn multi_threaded<H: Harness, C: Codec<I> + Default, I: Item>() {
    let h = H::new();
    let q = open::<H, C, I>(&h, |b| b.chunk_size(50));
    let producer = {
        let q = q.clone();
        thread::spawn(move || {
            for i in 0..1000 {
                q.put(&I::make(i)).expect("put");
            }
        })
    };
    let consumer = {
        let q = q.clone();
        thread::spawn(move || {
            let mut got = Vec::new();
            for _ in 0..1000 {
                got.push(q.get().expect("get"));
                q.task_done().expect("task_done");
            }
            got
        })
    };
    producer.join().expect("producer");
    q.join();
    assert_eq!(consumer.join().expect("consumer"), items::<I>(0..1000));
    assert!(matches!(q.try_get(), Err(Error::Empty)));
}

/// Junk at the head of the newest chunk is cut; puts and gets after it are
/// correct.
pub fn garbage_on_head<H: Harness, C: Codec<I> + Default, I: Item>() {
    let h = H::new();
    let q = open::<H, C, I>(&h, plain);
    q.put(&I::make(0)).expect("put");
    drop(q);
    h.damage(Blob::Chunk(0), &mut |b| b.extend_from_slice(b"garbage \xff\xfe junk"));
    let q = open::<H, C, I>(&h, plain);
    q.put(&I::make(1)).expect("put");
    assert_eq!(drain(&q), items::<I>(0..2));
}

/// More `task_done` calls than items is an error.
pub fn task_done_too_many_times<H: Harness, C: Codec<I> + Default, I: Item>() {
    let h = H::new();
    let q = open::<H, C, I>(&h, plain);
    q.put(&I::make(0)).expect("put");
    q.get().expect("get");
    q.task_done().expect("first task_done");
    assert!(matches!(q.task_done(), Err(Error::TaskDoneTooMany)));
}

/// A get with a timeout on an empty queue waits that long, then `Empty`.
pub fn get_timeout<H: Harness, C: Codec<I> + Default, I: Item>() {
    let h = H::new();
    let q = open::<H, C, I>(&h, plain);
    let start = Instant::now();
    assert!(matches!(q.get_timeout(Duration::from_millis(200)), Err(Error::Empty)));
    assert!(start.elapsed() >= Duration::from_millis(200));
    assert!(matches!(q.get_timeout(Duration::ZERO), Err(Error::Empty)));
}

/// `try_put` (put_nowait) stores the item.
pub fn put_nowait<H: Harness, C: Codec<I> + Default, I: Item>() {
    let h = H::new();
    let q = open::<H, C, I>(&h, plain);
    q.try_put(&I::make(3)).expect("try_put");
    assert_eq!(q.try_get().expect("try_get"), I::make(3));
}

/// `try_put` on a full queue fails with `Full` and stores nothing.
pub fn put_maxsize_reached<H: Harness, C: Codec<I> + Default, I: Item>() {
    let h = H::new();
    let q = open::<H, C, I>(&h, |b| b.max_size(10));
    for i in 0..10 {
        q.try_put(&I::make(i)).expect("try_put");
    }
    assert!(matches!(q.try_put(&I::make(10)), Err(Error::Full)));
    assert_eq!(q.len(), 10);
}

/// A put with a timeout on a full queue waits that long, then `Full`.
pub fn put_timeout_reached<H: Harness, C: Codec<I> + Default, I: Item>() {
    let h = H::new();
    let q = open::<H, C, I>(&h, |b| b.max_size(1));
    q.put(&I::make(0)).expect("put");
    let start = Instant::now();
    assert!(matches!(q.put_timeout(&I::make(1), Duration::from_millis(200)), Err(Error::Full)));
    assert!(start.elapsed() >= Duration::from_millis(200));
    assert_eq!(q.len(), 1);
}

/// A producer of 16 items into a `max_size` 10 queue blocks until a
/// consumer takes 5; the next item is then `var5`.
pub fn put_block_and_wait<H: Harness, C: Codec<I> + Default, I: Item>() {
    let h = H::new();
    let q = open::<H, C, I>(&h, |b| b.max_size(10));
    let done = Arc::new(AtomicUsize::new(0));
    let producer = {
        let (q, done) = (q.clone(), Arc::clone(&done));
        thread::spawn(move || {
            for i in 0..16 {
                q.put(&I::make(i)).expect("put");
                done.fetch_add(1, Ordering::SeqCst);
            }
        })
    };
    while done.load(Ordering::SeqCst) < 10 {
        thread::sleep(Duration::from_millis(5));
    }
    thread::sleep(Duration::from_millis(50));
    assert_eq!(done.load(Ordering::SeqCst), 10, "the producer must block at max_size");
    for i in 0..5 {
        assert_eq!(q.get().expect("get"), I::make(i));
    }
    assert_eq!(q.get().expect("get"), I::make(5));
    producer.join().expect("producer");
    assert_eq!(q.len(), 10, "never more than max_size");
    assert_eq!(drain(&q), items::<I>(6..16));
}

/// chunk_size 10, 35 puts: 15 gets without `task_done` come back after a
/// reopen; 15 + 16 gets then one `task_done` leave 4, and the consumed
/// chunks are deleted.
pub fn clear_tail_file<H: Harness, C: Codec<I> + Default, I: Item>() {
    let h = H::new();
    let q = open::<H, C, I>(&h, |b| b.chunk_size(10));
    for i in 0..35 {
        q.put(&I::make(i)).expect("put");
    }
    for _ in 0..15 {
        q.get().expect("get");
    }
    drop(q);
    let q = open::<H, C, I>(&h, plain);
    assert_eq!(q.len(), 35);
    for _ in 0..15 {
        q.get().expect("get");
    }
    assert_eq!(h.chunks(), vec![0, 1, 2, 3]);
    for _ in 0..16 {
        q.get().expect("get");
    }
    q.task_done().expect("task_done");
    assert_eq!(q.len(), 4);
    assert_eq!(h.chunks(), vec![3], "chunks before the read position are deleted");
    drop(q);
    let q = open::<H, C, I>(&h, plain);
    assert_eq!(drain(&q), items::<I>(31..35));
}

/// Dropping every handle releases the queue: it reopens at once.
pub fn drop_releases<H: Harness, C: Codec<I> + Default, I: Item>() {
    let h = H::new();
    for round in 0..3 {
        let q = open::<H, C, I>(&h, plain);
        q.put(&I::make(round)).expect("put");
        let clone = q.clone();
        drop(q);
        drop(clone);
    }
    let q = open::<H, C, I>(&h, plain);
    assert_eq!(drain(&q), items::<I>(0..3));
}

/// With `autosave`, a get is final without `task_done`.
pub fn autosave_get<H: Harness, C: Codec<I> + Default, I: Item>() {
    let h = H::new();
    let q = open::<H, C, I>(&h, |b| b.autosave(true));
    q.put_many(&items::<I>(0..3)).expect("put_many");
    assert_eq!(q.get().expect("get"), I::make(0));
    drop(q);
    let q = open::<H, C, I>(&h, |b| b.autosave(true));
    assert_eq!(drain(&q), items::<I>(1..3));
}

/// `join` works with `autosave` and a consumer thread.
pub fn autosave_join<H: Harness, C: Codec<I> + Default, I: Item>() {
    let h = H::new();
    let q = open::<H, C, I>(&h, |b| b.autosave(true));
    q.put_many(&items::<I>(0..100)).expect("put_many");
    let consumer = {
        let q = q.clone();
        thread::spawn(move || {
            for _ in 0..100 {
                q.get().expect("get");
                q.task_done().expect("task_done");
            }
        })
    };
    q.join();
    consumer.join().expect("consumer");
    assert_eq!(q.unfinished_tasks(), 0);
}

/// persist-queue's crash matrix (spec §3.8), put 5 / get 2 / restart:
/// 5 items without `task_done`, 3 with `autosave`.
pub fn restart_semantics<H: Harness, C: Codec<I> + Default, I: Item>() {
    for (autosave, expect) in [(false, 0..5), (true, 2..5)] {
        let h = H::new();
        let q = open::<H, C, I>(&h, |b| b.autosave(autosave));
        q.put_many(&items::<I>(0..5)).expect("put_many");
        q.get().expect("get");
        q.get().expect("get");
        drop(q);
        let q = open::<H, C, I>(&h, |b| b.autosave(autosave));
        assert_eq!(q.unfinished_tasks(), expect.len() as u64, "join waits for recovered items");
        assert_eq!(drain(&q), items::<I>(expect));
    }
}

/// `peek` shows the next item without taking it.
pub fn peek<H: Harness, C: Codec<I> + Default, I: Item>() {
    let h = H::new();
    let q = open::<H, C, I>(&h, |b| b.chunk_size(2));
    assert_eq!(q.peek().expect("peek"), None);
    q.put_many(&items::<I>(0..3)).expect("put_many");
    assert_eq!(q.peek().expect("peek"), Some(I::make(0)));
    assert_eq!(q.len(), 3);
    q.get().expect("get");
    q.get().expect("get");
    assert_eq!(q.peek().expect("peek across a chunk"), Some(I::make(2)));
}

/// `put_many` keeps order across chunks and is one batch.
pub fn put_many<H: Harness, C: Codec<I> + Default, I: Item>() {
    let h = H::new();
    let q = open::<H, C, I>(&h, |b| b.chunk_size(7));
    q.put_many(&items::<I>(0..20)).expect("put_many");
    q.put_many(&items::<I>(20..50)).expect("put_many");
    assert_eq!(q.len(), 50);
    drop(q);
    let q = open::<H, C, I>(&h, plain);
    assert_eq!(drain(&q), items::<I>(0..50));
}

/// `close` wakes a blocked `get` with `Closed`; later calls fail too.
pub fn close_wakes_waiters<H: Harness, C: Codec<I> + Default, I: Item>() {
    let h = H::new();
    let q = open::<H, C, I>(&h, plain);
    let waiter = {
        let q = q.clone();
        thread::spawn(move || q.get())
    };
    thread::sleep(Duration::from_millis(50));
    q.close();
    assert!(matches!(waiter.join().expect("waiter"), Err(Error::Closed)));
    assert!(matches!(q.put(&I::make(0)), Err(Error::Closed)));
}

/// Items above `max_item_size` are refused, and nothing is stored.
pub fn too_large<H: Harness, C: Codec<I> + Default, I: Item>() {
    let h = H::new();
    let q = open::<H, C, I>(&h, |b| b.max_item_size(3));
    assert!(matches!(q.put(&I::make(12345)), Err(Error::TooLarge { max: 3, .. })));
    assert!(matches!(q.put_many(&items::<I>(10..12)), Err(Error::TooLarge { .. })));
    assert_eq!(q.len(), 0);
}

/// The chunk size a queue was created with wins on reopen.
pub fn stored_chunk_size_wins<H: Harness, C: Codec<I> + Default, I: Item>() {
    let h = H::new();
    let q = open::<H, C, I>(&h, |b| b.chunk_size(3));
    q.put_many(&items::<I>(0..7)).expect("put_many");
    drop(q);
    let q = open::<H, C, I>(&h, |b| b.chunk_size(1000));
    assert_eq!(q.chunk_size(), 3);
    q.put_many(&items::<I>(7..10)).expect("put_many");
    assert_eq!(h.chunks(), vec![0, 1, 2, 3]);
    assert_eq!(drain(&q), items::<I>(0..10));
}

/// A damaged record is a typed error naming chunk and offset; the item is
/// not consumed. With `skip_corrupted` only the damaged record is skipped
/// and counted: the intact records after it in the same chunk are found by
/// their v2 frame indices and delivered.
pub fn corrupted_record<H: Harness, C: Codec<I> + Default, I: Item>() {
    let h = H::new();
    let q = open::<H, C, I>(&h, |b| b.chunk_size(10));
    q.put_many(&items::<I>(0..30)).expect("put_many");
    drop(q);
    // The first payload byte of chunk 1's first record (header 24 + frame 16).
    h.damage(Blob::Chunk(1), &mut |b| b[40] ^= 0x55);
    let q = open::<H, C, I>(&h, plain);
    for i in 0..10 {
        assert_eq!(q.get().expect("get"), I::make(i));
    }
    match q.get() {
        Err(Error::Corrupted(c)) => {
            assert_eq!(c.blob, Blob::Chunk(1));
            assert_eq!(c.offset, 24);
        }
        other => panic!("expected Corrupted, got {other:?}"),
    }
    assert_eq!(q.len(), 20, "the damaged item is not consumed");
    drop(q);
    let q = open::<H, C, I>(&h, |b| b.skip_corrupted(true));
    let expected: Vec<I> = items::<I>(0..10).into_iter().chain(items::<I>(11..30)).collect();
    assert_eq!(drain(&q), expected, "chunk 0 was not confirmed, so it comes back; only record 10 is skipped");
    assert_eq!(q.stats().skipped_records, 1);
}

/// Damage inside the newest chunk (not a torn tail) fails the open with
/// `Corrupted`; with `skip_corrupted` the queue opens, counts the one record
/// it dropped and delivers the intact records after it.
pub fn corrupted_head_at_open<H: Harness, C: Codec<I> + Default, I: Item>() {
    let h = H::new();
    let q = open::<H, C, I>(&h, |b| b.chunk_size(10));
    q.put_many(&items::<I>(0..5)).expect("put_many");
    let frame = 16 + C::default().encode(&I::make(0)).expect("encode").len();
    drop(q);
    let at = 24 + 2 * frame + 16; // payload of record 2
    h.damage(Blob::Chunk(0), &mut |b| b[at] ^= 0x01);
    match h.open::<I, C>(h.builder().codec(C::default())) {
        Err(Error::Corrupted(c)) => assert_eq!((c.blob, c.offset), (Blob::Chunk(0), (24 + 2 * frame) as u64)),
        other => panic!("expected Corrupted at open, got {:?}", other.map(|q| q.len())),
    }
    let q = open::<H, C, I>(&h, |b| b.skip_corrupted(true));
    assert_eq!(q.stats().skipped_records, 1);
    let expected: Vec<I> = items::<I>(0..2).into_iter().chain(items::<I>(3..5)).collect();
    assert_eq!(drain(&q), expected);
    drop(q);
    // The damaged bytes were left in place: a plain open still reports them.
    assert!(matches!(h.open::<I, C>(h.builder().codec(C::default())), Err(Error::Corrupted(_))));
}

/// 4 producers and 4 consumers move 100,000 items: none lost, none
/// duplicated, `join` returns.
pub fn threads_4x4<H: Harness, C: Codec<I> + Default, I: Item>(total: usize) {
    let h = H::new();
    let q = open::<H, C, I>(&h, plain);
    let per = total / 4;
    let producers: Vec<_> = (0..4)
        .map(|p| {
            let q = q.clone();
            thread::spawn(move || {
                for i in 0..per {
                    q.put(&I::make(p * per + i)).expect("put");
                }
            })
        })
        .collect();
    let consumers: Vec<_> = (0..4)
        .map(|_| {
            let q = q.clone();
            thread::spawn(move || {
                let mut got = Vec::new();
                loop {
                    match q.get_timeout(Duration::from_millis(500)) {
                        Ok(item) => {
                            got.push(item);
                            q.task_done().expect("task_done");
                        }
                        Err(Error::Empty) => return got,
                        Err(e) => panic!("{e}"),
                    }
                }
            })
        })
        .collect();
    for p in producers {
        p.join().expect("producer");
    }
    q.join();
    let mut seen = HashSet::new();
    let mut count = 0;
    for c in consumers {
        for item in c.join().expect("consumer") {
            count += 1;
            assert!(seen.insert(format!("{item:?}")), "duplicate {item:?}");
        }
    }
    assert_eq!(count, per * 4, "every item delivered once");
    assert_eq!(q.len(), 0);
}
