//! Damage to durable data is reported, never taken for a torn tail: a
//! closed, synced queue's files are damaged the way bit rot, a bad disk or
//! a stray tool does, then reopened. A plain open fails with `Corrupted`
//! naming the file and offset and changes no byte on disk; with
//! `skip_corrupted` only the damaged item is lost and every intact one
//! after it is delivered. (Issue 11, defects 1-4.)

use std::fs;
use std::path::{Path, PathBuf};

use persist_queue::persist_queue_core::Blob;
use persist_queue::{AckQueue, CorruptionKind, Durability, Error, Json, Queue, QueueBuilder};

const ITEMS: usize = 300;
/// A JSON string of 5 digits is 7 bytes; a v2 frame adds 16.
const FRAME: usize = 16 + 7;
const HEADER: usize = 24;

fn item(i: usize) -> String {
    format!("{i:05}")
}

fn chunk(dir: &Path, n: u64) -> PathBuf {
    dir.join(Blob::Chunk(n).to_string())
}

fn synced_queue(dir: &Path, chunk_size: u32) {
    let q = QueueBuilder::new(dir)
        .codec(Json)
        .chunk_size(chunk_size)
        .durability(Durability::Synced)
        .open::<String>()
        .expect("open");
    for i in 0..ITEMS {
        q.put(&item(i)).expect("put");
    }
}

fn open(dir: &Path, skip: bool) -> Result<Queue<String, Json>, Error> {
    QueueBuilder::new(dir).codec(Json).skip_corrupted(skip).open::<String>()
}

fn drain(q: &Queue<String, Json>) -> Vec<String> {
    let mut got = Vec::new();
    while let Ok(v) = q.try_get() {
        got.push(v);
    }
    got
}

fn edit(path: &Path, f: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    let mut bytes = fs::read(path).expect("read");
    f(&mut bytes);
    fs::write(path, &bytes).expect("write");
    bytes
}

fn corruption(r: Result<Queue<String, Json>, Error>) -> persist_queue::Corruption {
    match r {
        Err(Error::Corrupted(c)) => c,
        Err(e) => panic!("expected Corrupted, got {e}"),
        Ok(q) => panic!("expected Corrupted, the queue opened with {} items", q.len()),
    }
}

/// Defect 2: 16 zero bytes over record 100's length field in the newest
/// chunk were cut as a torn tail (100 items left, no error).
#[test]
fn zeros_inside_the_newest_chunk_are_reported() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("q");
    synced_queue(&dir, 10_000);
    let at = HEADER + 100 * FRAME;
    let damaged = edit(&chunk(&dir, 0), |b| b[at..at + 16].fill(0));
    let c = corruption(open(&dir, false));
    assert_eq!((c.blob, c.offset), (Blob::Chunk(0), at as u64));
    assert_eq!(fs::read(chunk(&dir, 0)).expect("read"), damaged, "the open changed no byte");

    let q = open(&dir, true).expect("open with skip_corrupted");
    assert_eq!(q.stats().skipped_records, 1);
    assert_eq!(q.stats().truncated_bytes, 0);
    let expected: Vec<String> = (0..ITEMS).filter(|&i| i != 100).map(item).collect();
    assert_eq!(drain(&q), expected);
}

/// Defect 2, at the very end: a flipped bit in the last frame is damage,
/// not a torn write — its verified header says the whole frame reached the
/// file, so recovery must report it rather than cut it.
#[test]
fn a_flipped_byte_in_the_last_record_is_reported() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("q");
    synced_queue(&dir, 10_000);
    let at = HEADER + (ITEMS - 1) * FRAME + 16;
    edit(&chunk(&dir, 0), |b| b[at] ^= 0x20);
    let c = corruption(open(&dir, false));
    assert_eq!((c.blob, c.offset), (Blob::Chunk(0), (at - 16) as u64));
    let q = open(&dir, true).expect("open with skip_corrupted");
    assert_eq!(drain(&q), (0..ITEMS - 1).map(item).collect::<Vec<_>>());
}

/// A write cut short after the last frame's header (the payload's bytes
/// still zeros, as a process killed inside a copy into a mapped chunk
/// leaves them, followed by the mapping's zero-filled reserve) is a torn
/// tail: that put never returned, so the frame is cut and nothing is
/// reported. (Found by `crash_kill` under disk load: the scan saw the
/// whole buffered window instead of the header alone and called it
/// damage.)
#[test]
fn a_last_frame_cut_after_its_header_is_torn() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("q");
    synced_queue(&dir, 10_000);
    let at = HEADER + (ITEMS - 1) * FRAME;
    edit(&chunk(&dir, 0), |b| {
        b[at + 16..].fill(0);
        b.resize(256 * 1024, 0);
    });
    let q = open(&dir, false).expect("a torn tail opens");
    assert_eq!(q.stats().truncated_bytes, 256 * 1024 - at as u64);
    assert_eq!(drain(&q), (0..ITEMS - 1).map(item).collect::<Vec<_>>());
    drop(q);
    assert_eq!(fs::metadata(chunk(&dir, 0)).expect("stat").len(), at as u64, "only the torn frame was cut");
}

/// Defect 3: a zeroed header of the newest chunk was taken for a torn
/// creation and the chunk rewritten over 300 intact records.
#[test]
fn a_zeroed_newest_header_is_reported() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("q");
    synced_queue(&dir, 10_000);
    let damaged = edit(&chunk(&dir, 0), |b| b[..HEADER].fill(0));
    let c = corruption(open(&dir, false));
    assert_eq!((c.blob, c.offset), (Blob::Chunk(0), 0));
    assert!(matches!(c.kind, CorruptionKind::ChunkHeader(_)), "{:?}", c.kind);
    assert_eq!(fs::read(chunk(&dir, 0)).expect("read"), damaged, "the open changed no byte");
    let q = open(&dir, true).expect("open with skip_corrupted");
    assert_eq!(
        drain(&q),
        (0..ITEMS).map(item).collect::<Vec<_>>(),
        "every record after the header is intact"
    );
}

/// Defect 4: a damaged header of the newest chunk wedged the queue (both
/// opens failed), so the intact older chunks were unreachable.
#[test]
fn a_damaged_newest_header_does_not_wedge_the_queue() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("q");
    synced_queue(&dir, 100);
    let newest = (ITEMS / 100) as u64;
    let newest = if chunk(&dir, newest).exists() { newest } else { newest - 1 };
    edit(&chunk(&dir, newest), |b| b[9] ^= 0xff);
    let c = corruption(open(&dir, false));
    assert_eq!((c.blob, c.offset), (Blob::Chunk(newest), 0));
    assert!(matches!(c.kind, CorruptionKind::ChunkHeader(_)), "{:?}", c.kind);
    let q = open(&dir, true).expect("open with skip_corrupted");
    assert_eq!(drain(&q), (0..ITEMS).map(item).collect::<Vec<_>>());
}

/// Defect 1: one flipped byte in a plain-files record log made everything
/// after it a torn tail, and the open truncated the file on disk.
#[test]
fn a_flipped_byte_in_the_record_log_is_reported_and_not_cut() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("acks");
    let q = AckQueue::files(&dir).durability(Durability::Synced).open::<String>().expect("open");
    for i in 0..ITEMS {
        q.put(&item(i)).expect("put");
    }
    drop(q);
    let log = chunk(&dir.join("ack_queue_default"), 0);
    // Near the start: inside the first few plans.
    let damaged = edit(&log, |b| b[HEADER + 40] ^= 0x04);
    match AckQueue::files(&dir).open::<String>() {
        Err(Error::Corrupted(c)) => {
            assert_eq!(c.blob, Blob::Chunk(0));
            assert!(c.offset >= HEADER as u64 && c.offset <= (HEADER + 40) as u64, "offset {}", c.offset);
        }
        Err(e) => panic!("expected Corrupted, got {e}"),
        Ok(q) => panic!("expected Corrupted, opened with {:?} items", q.len()),
    }
    assert_eq!(fs::read(&log).expect("read"), damaged, "the open changed no byte");

    let q = AckQueue::files(&dir).skip_corrupted(true).open::<String>().expect("open with skip_corrupted");
    assert_eq!(q.skipped_ranges(), 1, "the skipped damage is counted");
    let mut got = Vec::new();
    while let Ok(d) = q.try_get() {
        got.push(d.item.clone());
        q.ack(&d).expect("ack");
    }
    assert_eq!(got.len(), ITEMS - 1, "only the damaged put is lost");
    assert_eq!(got[1..], (2..ITEMS).map(item).collect::<Vec<_>>()[..]);
    drop(q);
    // The acks after the skip were appended after the damaged bytes; every
    // one of them is still there on the next skipping open.
    let q = AckQueue::files(&dir).skip_corrupted(true).open::<String>().expect("reopen");
    assert_eq!(q.ready_count().expect("ready"), 0);
    assert_eq!(q.acked_count().expect("acked"), (ITEMS - 1) as u64);
}

/// Defect 1, newest log chunk header: damaged, it is reported; skipped,
/// every plan after it is replayed.
#[test]
fn a_damaged_log_header_is_reported_and_skippable() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("acks");
    let q = AckQueue::files(&dir).durability(Durability::Synced).open::<String>().expect("open");
    for i in 0..50 {
        q.put(&item(i)).expect("put");
    }
    drop(q);
    let log = chunk(&dir.join("ack_queue_default"), 0);
    edit(&log, |b| b[..HEADER].fill(0));
    assert!(matches!(AckQueue::files(&dir).open::<String>(), Err(Error::Corrupted(_))));
    let q = AckQueue::files(&dir).skip_corrupted(true).open::<String>().expect("open with skip_corrupted");
    assert_eq!(q.skipped_ranges(), 1, "the skipped header is counted");
    assert_eq!(q.ready_count().expect("ready"), 50);
}
