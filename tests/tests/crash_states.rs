//! Issue 11: every crash state the POSIX contract allows, for a synced
//! file queue's workload, opens with nothing acknowledged lost and nothing
//! done come back (`persist_queue_tests::explorer`). Prints the count.

use persist_queue_core::{ChunkQueue, Config, Durability};
use persist_queue_fs::{Call, FsStorage, Trace};
use persist_queue_tests::explorer::{done_returned, explore, got_returned, item, put_returned};

#[test]
fn every_crash_state_of_a_synced_queue_keeps_its_promises() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("q");
    let trace = Trace::new();
    let config = Config { chunk_size: 3, durability: Durability::Synced, ..Config::default() };
    let storage = FsStorage::open(&dir, Durability::Synced).expect("open").traced(trace.clone());
    let mut q = ChunkQueue::open(storage, config.clone()).expect("queue");
    let mark = |m| trace.push(Call::Mark(m));
    let mut next = 0;
    let mut put = |q: &mut ChunkQueue<FsStorage>, n: u32| {
        let items: Vec<Vec<u8>> = (next..next + n).map(item).collect();
        if n == 1 { q.put(&items[0]) } else { q.put_many(&items) }.expect("put");
        for i in next..next + n {
            mark(put_returned(i));
        }
        next += n;
    };
    let mut done = 0;
    let mut take = |q: &mut ChunkQueue<FsStorage>, n: u32| {
        for _ in 0..n {
            q.get().expect("get").expect("an item");
        }
        mark(got_returned(done + n));
        q.task_done().expect("task_done");
        done += n;
        mark(done_returned(done));
    };
    // Single puts and batches across chunk boundaries (3 per chunk),
    // checkpoints that delete consumed chunks, and a tail left unconsumed.
    for round in 0..4 {
        put(&mut q, 1);
        put(&mut q, 1);
        put(&mut q, 3 + round);
        take(&mut q, 2);
        put(&mut q, 2);
        take(&mut q, 3);
        take(&mut q, 1 + round);
    }
    put(&mut q, 2);
    drop(q);
    let calls = trace.calls();
    let found = explore(&calls, &config, &tmp.path().join("scratch"), true);
    println!(
        "crash-state explorer: {} calls, {} crash points, {} states checked, {} reordered states reported as Corrupted",
        calls.len(),
        found.crash_points,
        found.states,
        found.false_alarms
    );
    assert!(found.states > 300, "explored {found:?}");
    assert!(found.violations.is_empty(), "{:#?}", found.violations);
}

/// A buffered queue promises what it has flushed: puts and task_dones
/// between two `sync()` calls may reach the disk in any order and torn,
/// and everything before the last completed `sync()` survives — or the
/// open reports the damage (a full chunk is not flushed before the next
/// one at buffered durability, so a power cut can tear a chunk that is no
/// longer the newest: reported, never silently cut).
#[test]
fn every_crash_state_of_a_buffered_queue_keeps_what_it_synced() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("q");
    let trace = Trace::new();
    let config = Config { chunk_size: 4, durability: Durability::Buffered, ..Config::default() };
    let storage = FsStorage::open(&dir, Durability::Buffered).expect("open").traced(trace.clone());
    let mut q = ChunkQueue::open(storage, config.clone()).expect("queue");
    let mark = |m| trace.push(Call::Mark(m));
    let (mut next, mut synced, mut got) = (0u32, 0u32, 0u32);
    for round in 0..4u32 {
        for _ in 0..3 + round {
            q.put(&item(next)).expect("put");
            next += 1;
        }
        for _ in 0..2 {
            q.get().expect("get").expect("an item");
            got += 1;
        }
        mark(got_returned(got));
        q.task_done().expect("task_done");
        q.sync().expect("sync");
        mark(done_returned(got));
        for i in synced..next {
            mark(put_returned(i));
        }
        synced = next;
    }
    drop(q);
    let calls = trace.calls();
    let found = explore(&calls, &config, &tmp.path().join("scratch"), false);
    println!(
        "crash-state explorer (buffered): {} calls, {} crash points, {} states checked, {} reordered and {} \
         ordered states reported as Corrupted",
        calls.len(),
        found.crash_points,
        found.states,
        found.false_alarms,
        found.reported
    );
    assert!(found.states > 300, "explored {found:?}");
    assert!(found.violations.is_empty(), "{:#?}", found.violations);
}

/// The two bugs the explorer found, pinned as the order of calls that
/// fixes them (at buffered durability, where no flush would hide them):
/// `meta.tmp` is flushed before it is renamed over `meta`, and a new
/// chunk's directory entry is flushed before anything else is written.
#[test]
fn the_orderings_the_explorer_asked_for_hold_at_buffered_durability() {
    let tmp = tempfile::tempdir().expect("tmp");
    let trace = Trace::new();
    let config = Config { chunk_size: 2, durability: Durability::Buffered, ..Config::default() };
    let storage =
        FsStorage::open(tmp.path().join("q"), Durability::Buffered).expect("open").traced(trace.clone());
    let mut q = ChunkQueue::open(storage, config).expect("queue");
    for i in 0..7 {
        q.put(&item(i)).expect("put");
    }
    drop(q);
    let calls = trace.calls();
    let renames: Vec<usize> = (0..calls.len()).filter(|&i| matches!(&calls[i], Call::Rename(..))).collect();
    assert!(!renames.is_empty(), "the queue's creation replaces meta");
    for &i in &renames {
        assert!(
            matches!(&calls[i - 1], Call::SyncData(n) if n == "meta.tmp"),
            "meta.tmp flushed before its rename: {:?}",
            &calls[..=i]
        );
    }
    let creates: Vec<usize> =
        (0..calls.len()).filter(|&i| matches!(&calls[i], Call::Create(n) if n.starts_with('c'))).collect();
    assert!(creates.len() >= 4, "7 items in chunks of 2: {calls:?}");
    for &i in &creates {
        assert_eq!(
            calls.get(i + 1),
            Some(&Call::SyncDir),
            "a new chunk's name is durable at once: {calls:?}"
        );
    }
}
