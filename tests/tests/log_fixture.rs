//! The record log's format is pinned: an `AckQueue` on plain files written
//! by log format version 1 (`tests/fixtures/log-v1/`, frames without
//! indices), by version 2 (`tests/fixtures/log-v2/`) and by version 3
//! (`tests/fixtures/log-v3/`: meta version 2, entries with leases and
//! delays) must open with every later release and hold the same items.
//! `PQ_WRITE_FIXTURE=1` rewrites the fixture of the current version (only
//! when it changes).

use std::fs;
use std::path::{Path, PathBuf};

use std::time::Duration;

use persist_queue::{AckQueue, PutOptions, Status};

fn fixture(version: u32) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("fixtures/log-v{version}"))
}

/// What each fixture holds: 6 items put; "a" acked, "b" taken and not
/// acked, "c" acked-failed. Version 3 also holds "g", put with a delay of
/// a year, and "b" is under a lease of a year.
fn write(dir: &Path) {
    let q = AckQueue::files(dir).lease(Duration::from_secs(365 * 86_400)).open::<String>().expect("open");
    for v in ["a", "b", "c", "d", "e", "f"] {
        q.put(&v.to_string()).expect("put");
    }
    let a = q.get().expect("get a");
    q.ack(&a).expect("ack a");
    q.get().expect("get b");
    let c = q.get().expect("get c");
    q.ack_failed(&c).expect("ack_failed c");
    q.put_with(&"g".to_string(), PutOptions::delayed(Duration::from_secs(365 * 86_400))).expect("put g");
}

/// Copies a queue's directory tree, leaving out its lock files.
fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).expect("mkdir");
    for e in fs::read_dir(from).expect("read fixture") {
        let e = e.expect("entry");
        if e.file_type().expect("type").is_dir() {
            copy_dir(&e.path(), &to.join(e.file_name()));
        } else if e.file_name() != "lock" {
            fs::copy(e.path(), to.join(e.file_name())).expect("copy");
        }
    }
}

fn check(version: u32) {
    let tmp = tempfile::tempdir().expect("tmp");
    let copy = tmp.path().join("q");
    copy_dir(&fixture(version), &copy);
    let q = AckQueue::files(&copy).open::<String>().expect("open the fixture");
    assert_eq!(q.acked_count().expect("acked"), 1);
    assert_eq!(q.ack_failed_count().expect("failed"), 1);
    assert_eq!(q.ready_count().expect("ready"), 3);
    // "b" stays in flight: before version 3 it gets a lease from this open.
    let b = q.queue().expect("queue").into_iter().find(|e| e.item == "b").expect("b");
    assert_eq!(b.status, Status::Unacked, "an item in flight is not taken from its consumer at open");
    let delayed = u64::from(version >= 3);
    assert_eq!(q.stats().expect("stats").delayed, delayed);
    drop(q);
    // persist-queue's recovery brings "b" back.
    let q = AckQueue::files(&copy).auto_resume(true).open::<String>().expect("open resuming");
    assert_eq!(q.ready_count().expect("ready"), 4, "b came back");
    let mut got = Vec::new();
    while let Ok(d) = q.try_get() {
        got.push(d.item.clone());
        q.ack(&d).expect("ack");
    }
    assert_eq!(got, ["b", "d", "e", "f"]);
    drop(q);
    // Written to after the upgrade, it still reopens with everything.
    let q = AckQueue::files(&copy).open::<String>().expect("reopen");
    assert_eq!(q.acked_count().expect("acked"), 5);
    assert_eq!(q.stats().expect("stats").delayed, delayed, "g is still delayed");
}

#[test]
fn log_v1_fixture_opens() {
    check(1);
}

#[test]
fn log_v2_fixture_opens() {
    check(2);
}

#[test]
fn log_v3_fixture_opens() {
    if std::env::var("PQ_WRITE_FIXTURE").is_ok() {
        let _ = fs::remove_dir_all(fixture(3));
        write(&fixture(3));
        let _ = fs::remove_file(fixture(3).join("ack_queue_default/lock"));
    }
    check(3);
}

/// A version-2 log written to with leases says meta version 2 from then
/// on (an older reader refuses it instead of misreading it).
#[test]
fn a_lease_upgrades_the_meta_of_an_older_log() {
    let tmp = tempfile::tempdir().expect("tmp");
    let copy = tmp.path().join("q");
    copy_dir(&fixture(2), &copy);
    let meta = copy.join("ack_queue_default/meta");
    let version = |p: &Path| {
        let b = fs::read(p).expect("meta");
        u16::from_le_bytes([b[4], b[5]])
    };
    assert_eq!(version(&meta), 1);
    let q = AckQueue::files(&copy).open::<String>().expect("open");
    let d = q.get().expect("get");
    q.ack(&d).expect("ack");
    assert_eq!(version(&meta), 2);
}

/// New chunks of the log are written in the current version.
#[test]
fn log_writer_uses_version_2() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("q");
    write(&dir);
    let mut chunks = 0;
    for e in fs::read_dir(dir.join("ack_queue_default")).expect("read_dir") {
        let e = e.expect("entry");
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with('c') {
            let bytes = fs::read(e.path()).expect("read");
            assert_eq!(u16::from_le_bytes([bytes[4], bytes[5]]), 2, "{name} is a version-2 chunk");
            chunks += 1;
        }
    }
    assert!(chunks > 0);
}
