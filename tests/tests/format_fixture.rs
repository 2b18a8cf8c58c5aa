//! The storage format is pinned: a queue written by chunk format version 1
//! (in `tests/fixtures/v1/`, frames without indices) or version 2
//! (`tests/fixtures/v2/`) must open with every later release, and the
//! writer must keep producing the version-2 bytes. `PQ_WRITE_FIXTURE=1`
//! rewrites the current version's fixture (only when the format changes).

use std::fs;
use std::path::{Path, PathBuf};

use persist_queue::{Json, QueueBuilder};
use serde_json::{Value, json};

fn fixture(version: u32) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("fixtures/v{version}"))
}

fn items() -> Vec<Value> {
    vec![json!("a"), json!("b"), json!({"k": 1}), json!([1, 2]), json!(5), Value::Null, json!("z")]
}

/// What the fixture holds: 7 items, chunk size 3, 2 got and confirmed.
fn write(dir: &Path) {
    let q = QueueBuilder::new(dir).chunk_size(3).codec(Json).open::<Value>().expect("open");
    for v in items() {
        q.put(&v).expect("put");
    }
    q.get().expect("get");
    q.get().expect("get");
    q.task_done().expect("task_done");
}

fn queue_files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = fs::read_dir(dir)
        .expect("read_dir")
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n != "lock")
        .map(|n| {
            let bytes = fs::read(dir.join(&n)).expect("read");
            (n, bytes)
        })
        .collect();
    out.sort();
    out
}

fn check(version: u32) {
    let tmp = tempfile::tempdir().expect("tmp");
    let copy = tmp.path().join("q");
    fs::create_dir_all(&copy).expect("mkdir");
    for (name, bytes) in queue_files(&fixture(version)) {
        fs::write(copy.join(name), bytes).expect("copy");
    }
    let q = QueueBuilder::new(&copy).codec(Json).open::<Value>().expect("open the fixture");
    assert_eq!(q.len(), 5);
    assert_eq!(q.chunk_size(), 3);
    let mut got = Vec::new();
    while let Ok(v) = q.try_get() {
        got.push(v);
    }
    assert_eq!(got, items()[2..]);
}

#[test]
fn v1_fixture_opens() {
    check(1);
}

#[test]
fn v2_fixture_opens() {
    if std::env::var("PQ_WRITE_FIXTURE").is_ok() {
        let _ = fs::remove_dir_all(fixture(2));
        write(&fixture(2));
        let _ = fs::remove_file(fixture(2).join("lock"));
    }
    check(2);
}

#[test]
fn writer_produces_the_v2_bytes() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("q");
    write(&dir);
    let written = queue_files(&dir);
    let pinned = queue_files(&fixture(2));
    let names: Vec<&str> = written.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["c0000000000", "c0000000001", "c0000000002", "meta"]);
    assert_eq!(written, pinned, "the on-disk format changed: bump the format version (core/FORMAT.md)");
}
