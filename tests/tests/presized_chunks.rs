//! Synced chunks filled inside zeros written ahead of their data
//! (`FsStorage::presized`, used by the file `Queue` at synced durability):
//! a put's flush overwrites blocks that exist instead of growing the file,
//! and the zeros never turn into items or errors — after a clean close
//! they are gone, after a crash recovery cuts them, and zeros at the end
//! of an older chunk (which the storage never leaves: it cuts them durably
//! before starting the next chunk) would not be read as records either.

use std::path::{Path, PathBuf};

use persist_queue::{Durability, Queue, QueueBuilder};

fn chunk(dir: &Path, n: u64) -> PathBuf {
    dir.join(format!("c{n:010}"))
}

fn len(path: &Path) -> u64 {
    std::fs::metadata(path).expect("stat").len()
}

fn synced(dir: &Path, chunk_size: u32) -> Queue<u64> {
    QueueBuilder::new(dir).chunk_size(chunk_size).durability(Durability::Synced).open().expect("open")
}

/// Appends to a presized chunk are written behind, all at once by the
/// next flush (one write per group commit, not one per put), while reads
/// already see them; dropping the storage writes what is left.
#[test]
fn appends_are_written_by_the_next_flush_and_read_back_before_it() {
    use persist_queue::persist_queue_core::{Blob, Flush, Storage};
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("s");
    let mut s = persist_queue::FsStorage::open(&dir, Durability::Synced).expect("open").presized();
    let path = chunk(&dir, 0);
    s.append(Blob::Chunk(0), b"abc").expect("append");
    s.append(Blob::Chunk(0), b"defg").expect("append");
    assert_eq!(s.size(Blob::Chunk(0)).expect("size"), Some(7));
    let mut buf = [0_u8; 16];
    assert_eq!(s.read(Blob::Chunk(0), 0, &mut buf).expect("read"), 7);
    assert_eq!(&buf[..7], b"abcdefg");
    assert_eq!(std::fs::read(&path).expect("file")[..7], [0; 7], "not written before the flush");
    let mut flush = s.begin_flush().expect("begin");
    assert_eq!(&std::fs::read(&path).expect("file")[..7], b"abcdefg", "written by the flush, in one go");
    flush.sync().expect("sync");
    s.end_flush(flush);
    s.append(Blob::Chunk(0), b"hij").expect("append");
    let mut buf = [0_u8; 5];
    assert_eq!(s.read(Blob::Chunk(0), 5, &mut buf).expect("read across"), 5);
    assert_eq!(&buf, b"fghij", "a read spanning written and pending bytes");
    drop(s);
    assert_eq!(
        std::fs::read(&path).expect("file"),
        b"abcdefghij",
        "dropping writes the rest and cuts the zeros"
    );
}

fn drain(q: &Queue<u64>) -> Vec<u64> {
    let mut out = Vec::new();
    while let Ok(v) = q.try_get() {
        out.push(v);
    }
    out
}

#[test]
fn a_synced_put_overwrites_zeros_written_ahead_instead_of_growing_the_file() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("q");
    let q = synced(&dir, 10_000);
    q.put(&0).expect("put");
    let first = len(&chunk(&dir, 0));
    for i in 1..=100 {
        q.put(&i).expect("put");
        assert_eq!(len(&chunk(&dir, 0)), first, "put {i} changed the file's size");
    }
    drop(q);
    let closed = len(&chunk(&dir, 0));
    assert!(closed < first, "the zeros are cut at close ({closed} of {first} bytes kept)");
    let bytes = std::fs::read(chunk(&dir, 0)).expect("read");
    assert_ne!(bytes[bytes.len() - 4..], [0; 4], "the file ends with the last record");
    assert_eq!(drain(&synced(&dir, 10_000)), (0..=100).collect::<Vec<_>>());
}

/// Copies the queue's files as they are now: what a `kill -9` of the
/// process would leave (the page cache holds every returned write).
fn copy_as_crashed(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("list") {
        let e = e.expect("entry");
        if e.file_name() != "lock" {
            std::fs::copy(e.path(), to.join(e.file_name())).expect("copy");
        }
    }
}

#[test]
fn zeros_left_by_a_crash_are_cut_and_every_returned_put_is_kept() {
    let tmp = tempfile::tempdir().expect("tmp");
    let (dir, crashed) = (tmp.path().join("q"), tmp.path().join("crashed"));
    let q = synced(&dir, 16);
    for i in 0..40 {
        q.put(&i).expect("put");
    }
    copy_as_crashed(&dir, &crashed);
    let head = chunk(&crashed, 2);
    let data = 40 % 16;
    assert!(len(&head) >= 64 * 1024, "the crash left the head chunk's zeros ({} bytes)", len(&head));
    let reopened = synced(&crashed, 16);
    assert!(len(&head) < 1024, "recovery cut the zeros after the {data} records");
    assert_eq!(drain(&reopened), (0..40).collect::<Vec<_>>());
    drop(q);
}

#[test]
fn zeros_at_the_end_of_an_older_chunk_are_never_read_as_records() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("q");
    let q = synced(&dir, 16);
    for i in 0..40 {
        q.put(&i).expect("put");
    }
    drop(q);
    // As if chunk 0's zeros had survived the start of chunk 1.
    let older = std::fs::OpenOptions::new().append(true).open(chunk(&dir, 0)).expect("open");
    older.set_len(len(&chunk(&dir, 0)) + 64 * 1024).expect("extend with zeros");
    drop(older);
    let q = synced(&dir, 16);
    assert_eq!(drain(&q), (0..40).collect::<Vec<_>>());
    q.task_done().expect("confirm");
    drop(q);
    assert!(synced(&dir, 16).try_get().is_err(), "nothing comes back");
}
