//! Leases across processes, on SQLite, plain files, PostgreSQL and MySQL:
//! 1 producer puts 10,000 items; 4 consumer processes take them; one of
//! them takes 50 items and is killed (SIGKILL) holding them. The other 3,
//! which never restart or reopen, get those items once their leases end,
//! and never an item a live consumer holds: every item is acked exactly
//! once (a late ack after a lost lease is refused), none is lost, and the
//! deliveries beyond the first are exactly the killed consumer's items
//! plus the leases that really ended (each one's refused ack is counted).
//! And fencing across processes: a consumer process's ack after its lease
//! ended and this process took the item is refused.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use persist_queue_tests::servers;
use persist_queue_tests::table_harness::fresh_table_name;

const N: u64 = 10_000;
const HELD: usize = 50;

fn spawn(store: &str, at: &str, name: &str, args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_lease_child"))
        .args([store, at, name])
        .args(args)
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn lease_child")
}

fn run(store: &str, at: &str) {
    let name = fresh_table_name("lease");
    let tmp = tempfile::tempdir().expect("tmp");
    let marker = tmp.path().join("produced");
    let marker = marker.to_str().expect("utf-8");
    let consumers: Vec<Child> = (0..3).map(|_| spawn(store, at, &name, &["consume", marker])).collect();
    let mut victim = spawn(store, at, &name, &["hold", &HELD.to_string()]);
    let mut producer = spawn(store, at, &name, &["produce", &N.to_string(), marker]);
    // The victim holds its items: kill it without a chance to settle.
    let mut held = Vec::new();
    for line in BufReader::new(victim.stdout.take().expect("stdout")).lines() {
        let line = line.expect("line");
        if line == "HELD" {
            break;
        }
        held.push(line.strip_prefix("H ").expect("H line").parse::<u64>().expect("item"));
    }
    victim.kill().expect("SIGKILL the consumer holding items");
    victim.wait().expect("reap");
    assert_eq!(held.len(), HELD);
    assert!(producer.wait().expect("producer").success());
    let mut acked: BTreeMap<u64, u32> = BTreeMap::new();
    let mut lost_leases = 0u64;
    let mut per_consumer = Vec::new();
    for c in consumers {
        let out = c.wait_with_output().expect("consumer");
        assert!(out.status.success(), "{store}: a consumer failed: {}", String::from_utf8_lossy(&out.stderr));
        let mut n = 0;
        for line in String::from_utf8(out.stdout).expect("utf-8").lines() {
            let mut parts = line.split(' ');
            let (tag, item, deliveries) = (parts.next(), parts.next(), parts.next());
            let item: u64 = item.and_then(|v| v.parse().ok()).expect("item");
            let deliveries: u32 = deliveries.and_then(|v| v.parse().ok()).expect("deliveries");
            match tag {
                Some("G") => {
                    assert!(acked.insert(item, deliveries).is_none(), "{store}: item {item} acked twice");
                    n += 1;
                }
                Some("L") => lost_leases += 1,
                other => panic!("{store}: unexpected line {other:?}"),
            }
        }
        per_consumer.push(n);
    }
    assert_eq!(acked.len() as u64, N, "{store}: every item acked once (per consumer {per_consumer:?})");
    for item in &held {
        assert!(acked[item] >= 2, "{store}: item {item}, held by the killed consumer, was delivered again");
    }
    let redeliveries: u64 = acked.values().map(|&d| u64::from(d - 1)).sum();
    assert_eq!(
        redeliveries,
        HELD as u64 + lost_leases,
        "{store}: deliveries beyond the first are the killed consumer's items and the leases that ended"
    );
    eprintln!("{store}: 3 live consumers acked {per_consumer:?}; {lost_leases} other leases ended");
}

/// Fencing across processes: a consumer process whose lease ended while
/// this process took the item acks late; its ack is refused and this
/// process's ack stands.
fn late_ack_is_refused(store: &str, at: &str) {
    use persist_queue::{AckQueue, Error, RecordBuilder};
    let name = fresh_table_name("fence");
    let tmp = tempfile::tempdir().expect("tmp");
    let marker = tmp.path().join("taken");
    let builder: RecordBuilder<_> = match store {
        "sqlite" => AckQueue::builder(at),
        "files" => AckQueue::files(at),
        _ => AckQueue::server(at),
    };
    let q = builder
        .name(name.as_str())
        .lease(std::time::Duration::from_millis(1500))
        .open::<u64>()
        .expect("open");
    q.put(&7).expect("put");
    let mut slow = spawn(store, at, &name, &["late_ack", marker.to_str().expect("utf-8")]);
    let mut lines = BufReader::new(slow.stdout.take().expect("stdout")).lines();
    assert_eq!(lines.next().expect("a line").expect("line"), "H 7");
    let mine = loop {
        match q.try_get() {
            Ok(d) => break d,
            Err(Error::Empty) => std::thread::sleep(std::time::Duration::from_millis(20)),
            Err(e) => panic!("{store}: get: {e}"),
        }
    };
    assert_eq!((mine.item, mine.deliveries), (7, 2), "{store}: taken back once the other's lease ended");
    std::fs::write(&marker, b"").expect("marker");
    assert_eq!(lines.next().expect("a line").expect("line"), "LeaseLost", "{store}: the late ack is refused");
    assert!(slow.wait().expect("wait").success());
    q.ack(&mine).expect("this process's ack stands");
    let s = q.stats().expect("stats");
    assert_eq!((s.acked, s.in_flight, s.ready), (1, 0, 0), "{store}");
}

#[test]
fn a_late_ack_from_another_process_is_refused_on_sqlite_files_and_servers() {
    let tmp = tempfile::tempdir().expect("tmp");
    late_ack_is_refused("sqlite", tmp.path().join("s").to_str().expect("utf-8"));
    late_ack_is_refused("files", tmp.path().join("f").to_str().expect("utf-8"));
    for url in servers::configured() {
        late_ack_is_refused("server", &url);
    }
}

#[test]
fn a_killed_consumers_items_come_back_to_live_ones_on_sqlite() {
    let tmp = tempfile::tempdir().expect("tmp");
    run("sqlite", tmp.path().to_str().expect("utf-8"));
}

#[test]
fn a_killed_consumers_items_come_back_to_live_ones_on_plain_files() {
    let tmp = tempfile::tempdir().expect("tmp");
    run("files", tmp.path().to_str().expect("utf-8"));
}

#[test]
fn a_killed_consumers_items_come_back_to_live_ones_on_servers() {
    for url in servers::configured() {
        run("server", &url);
    }
}
