//! Filesystem-specific behaviour: the crash image of a mapped chunk, the
//! directory lock, leftovers, file names and sizes.

use std::fs;
use std::path::Path;

use persist_queue_core::{Blob, ChunkQueue, Config, Durability};
use persist_queue_fs::FsStorage;

fn config(durability: Durability) -> Config {
    Config { durability, chunk_size: 100, ..Config::default() }
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).expect("mkdir");
    for e in fs::read_dir(from).expect("read_dir") {
        let e = e.expect("entry");
        fs::copy(e.path(), to.join(e.file_name())).expect("copy");
    }
}

/// What a killed process leaves is what the page cache holds while it
/// runs: copying the directory of an open queue gives that image. It opens
/// with every item, the zero-filled map reserve cut.
#[test]
fn crash_image_of_open_queue_recovers() {
    let tmp = tempfile::tempdir().expect("tmp");
    let live = tmp.path().join("live");
    let mut q = ChunkQueue::open(
        FsStorage::open(&live, Durability::Buffered).expect("open"),
        config(Durability::Buffered),
    )
    .expect("queue");
    for i in 0..250u32 {
        q.put(&i.to_le_bytes()).expect("put");
    }
    q.get().expect("get");
    q.task_done().expect("task_done");
    let image = tmp.path().join("image");
    copy_dir(&live, &image);
    let mut r = ChunkQueue::open(
        FsStorage::open(&image, Durability::Buffered).expect("open image"),
        config(Durability::Buffered),
    )
    .expect("recover image");
    assert_eq!(r.len(), 249);
    let mut got = Vec::new();
    while let Some(p) = r.get().expect("get") {
        got.push(u32::from_le_bytes(p.try_into().expect("4 bytes")));
    }
    assert_eq!(got, (1..250).collect::<Vec<_>>());
    if cfg!(target_os = "linux") {
        assert!(r.stats().truncated_bytes > 0, "the map's zero reserve was cut");
    }
    drop(q);
}

/// After a clean close, chunk files hold exactly their data.
#[test]
fn closed_files_have_exact_lengths() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("q");
    let mut q = ChunkQueue::open(
        FsStorage::open(&dir, Durability::Buffered).expect("open"),
        config(Durability::Buffered),
    )
    .expect("queue");
    for _ in 0..150 {
        q.put(&[1, 2, 3]).expect("put");
    }
    drop(q);
    // 24-byte header + 100 v2 frames of 16 + 3 bytes; then 50 in the head.
    assert_eq!(fs::metadata(dir.join(Blob::Chunk(0).to_string())).expect("c0").len(), 24 + 100 * 19);
    assert_eq!(fs::metadata(dir.join(Blob::Chunk(1).to_string())).expect("c1").len(), 24 + 50 * 19);
    assert!(dir.join("meta").is_file());
    assert!(dir.join("lock").is_file());
}

/// One process at a time: a second open of the same directory fails with
/// a message naming it, and succeeds once the first is closed.
#[test]
fn directory_is_locked_while_open() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("q");
    let first = FsStorage::open(&dir, Durability::Buffered).expect("first");
    let err = FsStorage::open(&dir, Durability::Buffered).expect_err("second open must fail");
    assert_eq!(err.kind(), std::io::ErrorKind::WouldBlock);
    assert!(err.to_string().contains("open in another process"), "{err}");
    drop(first);
    FsStorage::open(&dir, Durability::Buffered).expect("reopen after close");
}

/// A temp file left by a crash during a replace is removed at open; the
/// old metadata is still in force.
#[test]
fn leftover_temp_file_is_removed() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("q");
    let mut q = ChunkQueue::open(
        FsStorage::open(&dir, Durability::Synced).expect("open"),
        config(Durability::Synced),
    )
    .expect("queue");
    q.put(b"kept").expect("put");
    drop(q);
    fs::write(dir.join("meta.tmp"), b"half-written").expect("tmp file");
    let mut q = ChunkQueue::open(
        FsStorage::open(&dir, Durability::Synced).expect("open"),
        config(Durability::Synced),
    )
    .expect("queue");
    assert!(!dir.join("meta.tmp").exists());
    assert_eq!(q.get().expect("get").as_deref(), Some(&b"kept"[..]));
}

/// A path that is a file is refused with a clear error.
#[test]
fn path_that_is_a_file_is_refused() {
    let tmp = tempfile::tempdir().expect("tmp");
    let file = tmp.path().join("plain");
    fs::write(&file, b"x").expect("file");
    let err = FsStorage::open(&file, Durability::Buffered).expect_err("must refuse");
    assert_eq!(err.kind(), std::io::ErrorKind::NotADirectory);
    assert!(err.to_string().contains("not a directory"));
}

/// Foreign files in the directory are ignored, never read as chunks.
#[test]
fn foreign_files_are_ignored() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("q");
    fs::create_dir_all(&dir).expect("mkdir");
    fs::write(dir.join("README"), b"not a chunk").expect("file");
    fs::write(dir.join("c12"), b"short name").expect("file");
    let mut q = ChunkQueue::open(
        FsStorage::open(&dir, Durability::Buffered).expect("open"),
        config(Durability::Buffered),
    )
    .expect("queue");
    q.put(b"a").expect("put");
    assert_eq!(q.get().expect("get").as_deref(), Some(&b"a"[..]));
}

/// Shared handles keep the directory lock between their operations while
/// nobody else wants it, and hand it over when somebody does: a second
/// handle's lock returns (the first is idle), and the first then knows
/// another handle held the lock in between.
#[test]
fn a_kept_lock_is_handed_to_another_handle_and_the_first_then_sees_a_change() {
    use persist_queue_fs::{Locked, Storage};

    let dir = tempfile::tempdir().expect("tmp");
    let mut a = FsStorage::open_shared(dir.path().join("q"), Durability::Buffered).expect("a");
    let mut b = FsStorage::open_shared(dir.path().join("q"), Durability::Buffered).expect("b");
    assert_eq!(a.lock().expect("lock"), Locked::MaybeChanged, "a first lock cannot know");
    a.unlock();
    assert_eq!(a.lock().expect("lock"), Locked::Unchanged, "nobody else took it");
    a.unlock();
    let (tx, rx) = std::sync::mpsc::channel();
    let waiter = std::thread::spawn(move || {
        let got = b.lock().expect("b's lock");
        b.unlock();
        tx.send(got).expect("send");
        b
    });
    let got = rx.recv_timeout(std::time::Duration::from_secs(10)).expect("b got the lock an idle a kept");
    assert_eq!(got, Locked::MaybeChanged);
    drop(waiter.join().expect("b"));
    assert_eq!(a.lock().expect("lock"), Locked::MaybeChanged, "b held it in between");
    a.unlock();
}
