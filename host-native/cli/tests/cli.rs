//! The `pq` command line, run as a process.

use std::process::Command;

fn pq<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> (bool, String, String) {
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
fn items_show_through_the_serializer_the_queue_records() {
    let tmp = tempfile::tempdir().expect("tmp");
    let typed = tmp.path().join("msgpack");
    let q: persist_queue::Queue<Vec<u32>, persist_queue::MessagePack> =
        persist_queue::Queue::builder(&typed).codec(persist_queue::MessagePack).open().expect("open");
    q.put(&vec![1, 2]).expect("put");
    drop(q);
    assert_eq!(pq(&["peek", typed.to_str().expect("path")]).1.trim(), "[1,2]");
    // postcard is not self-describing: shown as hex, still listed and taken.
    let opaque = tmp.path().join("postcard");
    let q: persist_queue::Queue<u32> = persist_queue::Queue::open(&opaque).expect("open");
    q.put(&7).expect("put");
    drop(q);
    let d = opaque.to_str().expect("path");
    let stat = json(&["stat", d, "--json"]);
    assert_eq!(stat["codec"], "postcard");
    let (ok, out, err) = pq(&["get", d]);
    assert!(ok, "{err}");
    assert_eq!(out.trim(), "hex:07");
    assert_eq!(json(&["stat", d, "--json"])["counts"]["ready"], 0);
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
        "--files-depth",
        "20000",
        "--sqlite-items",
        "2000",
        "--dir",
        tmp.path().to_str().expect("path"),
    ]);
    assert!(ok, "{err}");
    for needle in
        ["| buffered |", "| synced |", "baseline F", "synced put, 2 producers", "Memory: 5,000 items"]
    {
        assert!(out.contains(needle), "missing {needle:?} in:\n{out}");
    }
    assert!(!out.contains("target"), "the tables give figures and baselines only:\n{out}");
}

fn pq_stdin(args: &[&str], stdin: &str) -> (Option<i32>, String, String) {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_pq"))
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run pq");
    child.stdin.take().expect("stdin").write_all(stdin.as_bytes()).expect("write");
    let out = child.wait_with_output().expect("wait");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Runs pq, which must succeed, and parses its JSON output.
fn json<S: AsRef<std::ffi::OsStr> + std::fmt::Debug>(args: &[S]) -> serde_json::Value {
    let (ok, out, err) = pq(args);
    assert!(ok, "pq {args:?} failed: {err}");
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("pq {args:?} printed no JSON ({e}): {out}"))
}

fn code<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> Option<i32> {
    Command::new(env!("CARGO_BIN_EXE_pq")).args(args).output().expect("run pq").status.code()
}

/// A queue name no other test or run uses (servers outlive test runs).
fn fresh_name(tag: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").subsec_nanos();
    format!("cli_{tag}_{}_{}_{}", std::process::id(), nanos, N.fetch_add(1, Ordering::Relaxed))
}

fn ids(v: &serde_json::Value) -> Vec<u64> {
    v.as_array().expect("array").iter().map(|e| e["id"].as_u64().expect("id")).collect()
}

/// Every record subcommand on the ack queue `name` at `location`.
fn every_subcommand(location: &str, name: &str, copy_to: &str) {
    fn args<'a>(cmd: &'a str, location: &'a str, name: &'a str, more: &[&'a str]) -> Vec<&'a str> {
        let mut v = vec![cmd, location, "--kind", "ack", "--name", name];
        v.extend_from_slice(more);
        v
    }
    let with = |cmd: &'static str, more: &[&str]| -> Vec<String> {
        args(cmd, location, name, more).into_iter().map(String::from).collect()
    };
    let put = json(&with("put", &["--json", r#"{"job":1}"#, r#"{"job":2}"#, r#"{"job":3}"#, "4"]));
    assert_eq!(put["put"], 4);
    let first = put["ids"][0].as_u64().expect("id");
    let listed = json(&["ls", location, "--json"]);
    let mine = listed.as_array().expect("array").iter().find(|q| q["name"] == name && q["kind"] == "ack");
    assert_eq!(mine.expect("ls lists the queue")["counts"]["ready"], 4, "{listed}");
    let verified = json(&with("verify", &["--codec", "json", "--json"]));
    assert_eq!((verified["ok"].as_bool(), verified["items"].as_u64()), (Some(true), Some(4)), "{verified}");
    let got = json(&with("get", &["-n", "3", "--json"]));
    assert_eq!(ids(&got), [first, first + 1, first + 2]);
    assert_eq!(got[0]["item"]["job"], 1);
    assert_eq!(got[0]["deliveries"], 1);
    assert!(pq(&with("ack", &[&first.to_string()])).0);
    assert!(pq(&with("ack", &["--failed", &(first + 1).to_string()])).0);
    assert!(pq(&with("nack", &[&(first + 2).to_string()])).0);
    // Settling an item twice (it is no longer in flight) fails, naming it.
    let (ok, _, err) = pq(&with("ack", &[&first.to_string()]));
    assert!(!ok && err.contains(&first.to_string()), "{err}");
    let stat = json(&with("stat", &["--json"]));
    assert_eq!(
        stat["counts"],
        serde_json::json!({"ready": 2, "unacked": 0, "acked": 1, "failed": 1}),
        "{stat}"
    );
    assert_eq!(stat["kind"], "ack");
    assert!(stat["oldest_age_ms"].as_u64().is_some(), "{stat}");
    assert_eq!(ids(&json(&with("list", &["--status", "acked", "--json"]))), [first]);
    assert_eq!(ids(&json(&with("peek", &["-n", "5", "--json"]))), [first + 2, first + 3]);
    let (ok, dump, err) = pq(&with("dump", &["--format", "ndjson"]));
    assert!(ok, "{err}");
    let lines: Vec<serde_json::Value> =
        dump.lines().map(|l| serde_json::from_str(l).expect("ndjson")).collect();
    assert_eq!(lines.len(), 4);
    assert_eq!(lines[3]["item"], 4);
    // copy keeps order, priorities and states, on another backend.
    let copied = json(&["copy", location, copy_to, "--kind", "ack", "--name", name, "--json"]);
    assert_eq!(
        (copied["copied"].as_u64(), copied["acked"].as_u64(), copied["failed"].as_u64()),
        (Some(4), Some(1), Some(1))
    );
    let there = json(&["stat", copy_to, "--kind", "ack", "--name", name, "--json"]);
    assert_eq!(there["counts"], stat["counts"], "{there}");
    let items: Vec<serde_json::Value> = json(&["list", copy_to, "--kind", "ack", "--name", name, "--json"])
        .as_array()
        .expect("array")
        .iter()
        .map(|e| e["item"].clone())
        .collect();
    assert_eq!(
        items,
        [
            serde_json::json!({"job":1}),
            serde_json::json!({"job":2}),
            serde_json::json!({"job":3}),
            serde_json::json!(4)
        ]
    );
    // Copying again into a queue that holds items is refused.
    assert_eq!(code(&["copy", location, copy_to, "--kind", "ack", "--name", name]), Some(1));
    assert_eq!(json(&with("clear-acked", &["--failed", "--json"]))["deleted"], 2);
    assert!(pq(&with("compact", &[])).0);
    assert_eq!(json(&with("purge", &["--yes", "--json"]))["deleted_live"], 2);
    let stat = json(&with("stat", &["--json"]));
    assert_eq!(stat["counts"], serde_json::json!({"ready": 0, "unacked": 0, "acked": 0, "failed": 0}));
    assert_eq!(code(&with("get", &[])), Some(3), "an empty queue's get exits 3");
    assert_eq!(code(&["purge", location, "--kind", "ack", "--name", name]), Some(2), "purge needs --yes");
    // Dead letters: listed, requeued (ready again, attempts from 0), purged.
    assert_eq!(code(&with("dead", &[])), Some(2), "dead needs an action");
    let d = |action: &'static str, more: &[&str]| -> Vec<String> {
        let mut v =
            vec!["dead".to_string(), action.to_string(), location.into(), "--kind".into(), "ack".into()];
        v.extend(["--name".to_string(), name.to_string()]);
        v.extend(more.iter().map(|m| m.to_string()));
        v
    };
    assert_eq!(code(&d("list", &[])), Some(3), "no dead letters: exit 3");
    let put = json(&with("put", &["--json", "doomed"]));
    let doomed = put["ids"][0].as_u64().expect("id");
    json(&with("get", &["--json"]));
    assert!(pq(&with("ack", &["--failed", &doomed.to_string()])).0);
    assert_eq!(ids(&json(&d("list", &["--json"]))), [doomed]);
    assert_eq!(json(&d("requeue", &[&doomed.to_string(), "--json"]))["requeued"], 1);
    let again = json(&with("get", &["--json"]));
    assert_eq!((ids(&again), again[0]["deliveries"].as_u64()), (vec![doomed], Some(1)), "{again}");
    assert!(pq(&with("ack", &["--failed", &doomed.to_string()])).0);
    assert_eq!(code(&d("purge", &[])), Some(2), "dead purge needs --yes");
    assert_eq!(json(&d("purge", &["--yes", "--json"]))["purged"], 1);
    assert_eq!(code(&d("list", &[])), Some(3));
}

#[test]
fn every_subcommand_on_plain_files() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("records");
    let copy = tmp.path().join("copy.db");
    every_subcommand(dir.to_str().expect("path"), "jobs", copy.to_str().expect("path"));
}

#[test]
fn every_subcommand_on_sqlite() {
    let tmp = tempfile::tempdir().expect("tmp");
    let db = tmp.path().join("data.db");
    let copy = tmp.path().join("copy");
    every_subcommand(db.to_str().expect("path"), "jobs", copy.to_str().expect("path"));
}

#[test]
fn every_subcommand_on_postgres() {
    let url = match persist_queue_tests::servers::pg_url() {
        Ok(url) => url,
        Err(why) => return eprintln!("skipped: {why}"),
    };
    let tmp = tempfile::tempdir().expect("tmp");
    let copy = tmp.path().join("copy.db");
    every_subcommand(&url, &fresh_name("pg"), copy.to_str().expect("path"));
}

#[test]
fn every_subcommand_on_mysql() {
    let url = match persist_queue_tests::servers::mysql_url() {
        Ok(url) => url,
        Err(why) => return eprintln!("skipped: {why}"),
    };
    let tmp = tempfile::tempdir().expect("tmp");
    let copy = tmp.path().join("copy");
    every_subcommand(&url, &fresh_name("my"), copy.to_str().expect("path"));
}

#[test]
fn copy_between_servers() {
    let (Ok(pg), Ok(my)) =
        (persist_queue_tests::servers::pg_url(), persist_queue_tests::servers::mysql_url())
    else {
        return eprintln!("skipped: PG_URL and MYSQL_URL are not both set");
    };
    let name = fresh_name("x");
    assert!(pq(&["put", &pg, "--kind", "priority", "--name", &name, "--priority", "5", "late"]).0);
    assert!(pq(&["put", &pg, "--kind", "priority", "--name", &name, "--priority", "1", "early"]).0);
    let copied = json(&["copy", &pg, &my, "--kind", "priority", "--name", &name, "--json"]);
    assert_eq!(copied["copied"], 2);
    let got = json(&["get", &my, "--kind", "priority", "--name", &name, "-n", "2", "--json"]);
    let items: Vec<&serde_json::Value> = got.as_array().expect("array").iter().map(|d| &d["item"]).collect();
    assert_eq!(items, ["early", "late"]);
    assert_eq!((got[0]["priority"].as_i64(), got[1]["priority"].as_i64()), (Some(1), Some(5)));
}

#[test]
fn bad_input_is_an_error_and_changes_nothing() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("q");
    let d = dir.to_str().expect("path");
    let (ok, _, err) = pq(&["put", d, "fine", "{bad json"]);
    assert!(!ok);
    assert!(err.contains("line 1 column 2"), "the error names the position: {err}");
    assert!(!dir.exists(), "nothing was created");
    // --text stores it as a string on purpose.
    assert!(pq(&["put", d, "--text", "{bad json"]).0);
    assert_eq!(pq(&["get", d]).1.trim(), r#""{bad json""#);
    // A bad line on stdin names its line, and nothing is put.
    let (code, _, err) = pq_stdin(&["put", d, "--json"], "{\"a\":1}\n[1,\n");
    assert_eq!(code, Some(1));
    assert!(err.contains("stdin line 2"), "{err}");
    assert_eq!(json(&["stat", d, "--json"])["counts"]["ready"], 0);
}

#[test]
fn put_reads_ndjson_from_stdin() {
    let tmp = tempfile::tempdir().expect("tmp");
    let db = tmp.path().join("bulk.db");
    let d = db.to_str().expect("path");
    let lines: String = (0..1000).map(|i| format!("{{\"n\":{i}}}\n")).collect();
    let (code, out, err) = pq_stdin(&["put", d, "--kind", "fifo", "--json"], &lines);
    assert_eq!(code, Some(0), "{err}");
    let out: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(out["put"], 1000);
    let got = json(&["get", d, "-n", "1000", "--json"]);
    let ns: Vec<u64> =
        got.as_array().expect("array").iter().map(|g| g["item"]["n"].as_u64().expect("n")).collect();
    assert_eq!(ns, (0..1000).collect::<Vec<_>>());
}

#[test]
fn a_place_with_several_queues_needs_kind_and_name() {
    let tmp = tempfile::tempdir().expect("tmp");
    let db = tmp.path().join("many.db");
    let d = db.to_str().expect("path");
    assert!(pq(&["put", d, "--kind", "ack", "--name", "a", "1"]).0);
    assert!(pq(&["put", d, "--kind", "priority", "--name", "b", "2"]).0);
    let (ok, _, err) = pq(&["get", d]);
    assert!(!ok && err.contains("several") && err.contains("ack a") && err.contains("priority b"), "{err}");
    assert_eq!(json(&["peek", d, "--name", "b", "--json"])[0]["item"], 2);
    let (ok, _, err) = pq(&["get", d, "--name", "nope"]);
    assert!(!ok && err.contains("pq ls"), "{err}");
    // A queue written by the library reads back under its kind and name.
    let q: persist_queue::UniqueQueue<String, persist_queue::Json> =
        persist_queue::UniqueQueue::builder(tmp.path())
            .name("Crawl")
            .codec(persist_queue::Json)
            .open()
            .expect("open");
    q.put(&"/a".to_string()).expect("put");
    drop(q);
    let data = tmp.path().join("data.db");
    let ls = json(&["ls", data.to_str().expect("path"), "--json"]);
    assert_eq!(
        ls,
        serde_json::json!([{"kind": "unique", "name": "crawl", "counts": {"ready": 1, "unacked": 0, "acked": 0, "failed": 0}}])
    );
    // pq's put is the library's: a duplicate of a queued item is refused.
    let dup = json(&["put", data.to_str().expect("path"), "--json", "/a"]);
    assert_eq!((dup["put"].as_u64(), dup["duplicates"].as_u64()), (Some(0), Some(1)));
}

#[test]
fn bench_report_writes_markdown_and_well_formed_charts_naming_every_backend() {
    let tmp = tempfile::tempdir().expect("tmp");
    let out = tmp.path().join("report");
    let (ok, stdout, err) = pq(&[
        "bench",
        "--report",
        out.to_str().expect("path"),
        "--compare-persist-queue",
        "--seconds",
        "0.05",
        "--rounds",
        "1",
        "--threads",
        "2",
        "--dir",
        tmp.path().to_str().expect("path"),
    ]);
    assert!(ok, "{err}");
    assert!(stdout.contains("report.md"), "{stdout}");
    let md = std::fs::read_to_string(out.join("report.md")).expect("report.md");
    let backends = ["file Queue", "SQLite AckQueue", "plain-files AckQueue"];
    for b in backends {
        for d in ["buffered", "synced"] {
            assert!(md.contains(&format!("| {b} | {d} |")), "{b} {d} missing:\n{md}");
        }
    }
    assert!(md.contains("p999"), "{md}");
    assert!(md.contains("persist-queue 1.1.0"), "the comparison section is there, run or not:\n{md}");
    for chart in ["throughput.svg", "producers.svg", "latency.svg"] {
        let text = std::fs::read_to_string(out.join(chart)).expect("svg");
        let doc = roxmltree::Document::parse(&text).unwrap_or_else(|e| panic!("{chart} is not XML: {e}"));
        assert_eq!(doc.root_element().tag_name().name(), "svg");
        let words: String = doc.descendants().filter_map(|n| n.text()).collect();
        let named: Vec<&str> =
            if chart == "producers.svg" { vec!["file Queue", "SQLite AckQueue"] } else { backends.to_vec() };
        for b in named {
            assert!(words.contains(b), "{chart} does not name {b}");
        }
    }
    // The plain table names each row's figure and baseline, no internal targets.
    assert!(!md.contains("target"), "{md}");
}
