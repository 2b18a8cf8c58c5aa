//! The `pq` command line, run as a process.

use std::process::Command;

fn pq(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_pq")).args(args).output().expect("run pq");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn put_len_peek_get() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("q");
    let d = dir.to_str().expect("utf-8 path");
    let (ok, out, err) = pq(&["put", d, r#"{"job":1}"#, "hello", "5"]);
    assert!(ok, "{err}");
    assert_eq!(out.trim(), "3");
    assert_eq!(pq(&["len", d]).1.trim(), "3");
    assert_eq!(pq(&["peek", d]).1.trim(), r#"{"job":1}"#);
    assert_eq!(pq(&["get", d]).1.trim(), r#"{"job":1}"#);
    assert_eq!(pq(&["get", d]).1.trim(), r#""hello""#);
    assert_eq!(pq(&["len", d]).1.trim(), "1", "get confirms what it printed");
    assert_eq!(pq(&["get", d]).1.trim(), "5");
    let (ok, _, err) = pq(&["get", d]);
    assert!(!ok);
    assert!(err.contains("empty"), "{err}");
}

#[test]
fn reading_commands_never_create_a_queue() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("missing");
    let (ok, _, err) = pq(&["len", dir.to_str().expect("path")]);
    assert!(!ok);
    assert!(err.contains("no queue"), "{err}");
    assert!(!dir.exists());
}

#[test]
fn wrong_serializer_is_a_clear_error() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("q");
    let q: persist_queue::Queue<u32> = persist_queue::Queue::open(&dir).expect("open");
    q.put(&1).expect("put");
    drop(q);
    let (ok, _, err) = pq(&["get", dir.to_str().expect("path")]);
    assert!(!ok);
    assert!(err.contains("postcard") && err.contains("json"), "{err}");
}

#[test]
fn bench_smoke() {
    let tmp = tempfile::tempdir().expect("tmp");
    let (ok, out, err) = pq(&[
        "bench",
        "20",
        "--ops",
        "2000",
        "--seconds",
        "0.05",
        "--rounds",
        "1",
        "--threads",
        "2",
        "--large",
        "5000",
        "--dir",
        tmp.path().to_str().expect("path"),
    ]);
    assert!(ok, "{err}");
    for needle in
        ["| buffered |", "| synced |", "baseline F", "synced put, 2 producers", "Memory: 5,000 items"]
    {
        assert!(out.contains(needle), "missing {needle:?} in:\n{out}");
    }
}
