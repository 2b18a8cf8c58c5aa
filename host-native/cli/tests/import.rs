//! `pq import-persist-queue` against queues written by the real
//! persist-queue 1.1.0 (`tests/persist_queue_writer.py`): every kind, every
//! serializer, the same items in the same order with the same priorities
//! and ack states; a pickled object beyond plain data is a per-item error
//! with its bytes kept.
//!
//! The Python is `$PQ_PYTHON` (CI: a virtualenv with persist-queue==1.1.0,
//! msgpack and cbor2), else `python3` if it imports persistqueue. Without
//! one the test skips, saying so; with `PQ_REQUIRE_PYTHON=1` it fails.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

fn python() -> Option<String> {
    let candidates = std::env::var("PQ_PYTHON").ok().into_iter().chain(["python3".to_string()]);
    for py in candidates {
        let ok = Command::new(&py)
            .args(["-c", "import persistqueue, msgpack, cbor2"])
            .output()
            .is_ok_and(|o| o.status.success());
        if ok {
            return Some(py);
        }
    }
    if std::env::var("PQ_REQUIRE_PYTHON").is_ok_and(|v| v == "1") {
        panic!("PQ_REQUIRE_PYTHON=1 but no Python with persist-queue, msgpack and cbor2 (set PQ_PYTHON)");
    }
    None
}

fn pq(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_pq")).args(args).output().expect("run pq");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn json(args: &[&str]) -> Value {
    let (ok, out, err) = pq(args);
    assert!(ok, "pq {args:?}: {err}");
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("pq {args:?} printed no JSON ({e}): {out}"))
}

/// The items of a listing in id (or position) order, as the writer states
/// them: item, status, priority.
fn as_written(listing: &Value) -> Vec<Value> {
    let mut rows: Vec<&Value> = listing.as_array().expect("array").iter().collect();
    rows.sort_by_key(|r| r.get("id").or(r.get("position")).and_then(Value::as_u64));
    rows.iter()
        .map(|r| {
            serde_json::json!({
                "item": r["item"], "status": r["status"], "priority": r.get("priority").cloned().unwrap_or(Value::from(0)),
            })
        })
        .collect()
}

#[test]
fn queues_written_by_persist_queue_import_with_items_order_and_states() {
    let Some(py) = python() else {
        return eprintln!("skipped: no Python with persist-queue 1.1.0 (set PQ_PYTHON)");
    };
    let tmp = tempfile::tempdir().expect("tmp");
    let src = tmp.path().join("written");
    let writer = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/persist_queue_writer.py");
    let out = Command::new(&py).arg(&writer).arg(&src).output().expect("run the writer");
    assert!(out.status.success(), "writer: {}", String::from_utf8_lossy(&out.stderr));
    let expected: Value =
        serde_json::from_str(&std::fs::read_to_string(src.join("expected.json")).expect("expected"))
            .expect("json");
    let mut checked = 0;
    for (i, e) in expected.as_array().expect("array").iter().enumerate() {
        let (path, kind, name, ser) = (
            e["path"].as_str().expect("path"),
            e["kind"].as_str().expect("kind"),
            e["name"].as_str().expect("name"),
            e["serializer"].as_str().expect("serializer"),
        );
        // Alternate the backends the queues land on.
        let dst = match (kind, i % 3) {
            ("file", _) => tmp.path().join(format!("out{i}")),
            (_, 0) => tmp.path().join(format!("out{i}.db")),
            (_, 1) => tmp.path().join(format!("out{i}")),
            _ => tmp.path().join(format!("out{i}.sqlite3")),
        };
        let dst = dst.to_str().expect("path");
        let report = json(&["import-persist-queue", path, dst, "--kind", kind, "--name", name, "--json"]);
        let what = format!("{kind} {name} ({ser}) -> {dst}: {report}");
        assert_eq!(report.as_array().map(Vec::len), Some(1), "{what}");
        assert_eq!(report[0]["serializer"], ser, "{what}");
        let rejected: Vec<u64> = report[0]["rejected"]
            .as_array()
            .expect("rejected")
            .iter()
            .map(|r| r["id"].as_u64().expect("id"))
            .collect();
        let want_rejected: Vec<u64> = e
            .get("rejected")
            .and_then(Value::as_array)
            .map(|a| a.iter().map(|v| v.as_u64().expect("id")).collect())
            .unwrap_or_default();
        assert_eq!(rejected, want_rejected, "{what}");
        for r in report[0]["rejected"].as_array().into_iter().flatten() {
            let kept = std::fs::read(r["file"].as_str().expect("file")).expect("the rejected bytes are kept");
            assert_eq!(Some(kept[0]), Some(0x80), "{what}: the pickle's own bytes");
        }
        let listing = json(&["list", dst, "--kind", kind, "--name", name, "--json"]);
        assert_eq!(as_written(&listing), e["items"].as_array().expect("items").clone(), "{what}");
        checked += 1;
    }
    assert_eq!(checked, 4 * 8 + 1, "every kind of every serializer, and the objects");
}

#[test]
fn importing_onto_the_source_is_refused() {
    let Some(py) = python() else {
        return eprintln!("skipped: no Python with persist-queue 1.1.0 (set PQ_PYTHON)");
    };
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("q");
    let script = format!(
        "import persistqueue; q = persistqueue.SQLiteAckQueue({:?}); q.put('x')",
        dir.to_str().expect("path")
    );
    assert!(Command::new(&py).args(["-c", &script]).status().expect("python").success());
    let d = dir.to_str().expect("path");
    let (ok, _, err) = pq(&["import-persist-queue", d, d]);
    assert!(!ok && err.contains("another location"), "{err}");
    let db = dir.join("data.db");
    let (ok, _, err) = pq(&["import-persist-queue", d, db.to_str().expect("path")]);
    assert!(!ok && err.contains("another location"), "{err}");
}
