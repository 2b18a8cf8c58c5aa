//! Real crashes of an ack queue, on SQLite and on plain files: a child process puts, gets, acks
//! and nacks until it is killed with SIGKILL, again and again on one
//! database (`PQ_KILL_ITERS`, default 60), at both durabilities. After each
//! kill the parent reopens it and checks against what the child reported:
//! every returned put is present exactly once, every returned ack is still
//! acked, nothing is in flight after `auto_resume`, and the only other item
//! that may exist is the put in flight.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use persist_queue::{AckQueue, Durability, Status};

#[test]
fn sigkill_loop_on_sqlite_ack_queue() {
    sigkill_loop("sqlite");
}

#[test]
fn sigkill_loop_on_files_ack_queue() {
    sigkill_loop("files");
}

fn sigkill_loop(store: &str) {
    let open = |dir: &std::path::Path, d: Durability| {
        let b = if store == "files" { AckQueue::files(dir) } else { AckQueue::builder(dir) };
        b.durability(d).auto_resume(true).open::<u64>().expect("reopen")
    };
    let iters: usize = std::env::var("PQ_KILL_ITERS").ok().and_then(|s| s.parse().ok()).unwrap_or(60);
    let seed = fastrand::u64(..);
    let mut rng = fastrand::Rng::with_seed(seed);
    let (mut puts, mut acks) = (0, 0);
    for durability in [Durability::Buffered, Durability::Synced] {
        let tmp = tempfile::tempdir().expect("tmp");
        let mut put: BTreeSet<u64> = BTreeSet::new();
        let mut acked: BTreeSet<u64> = BTreeSet::new();
        let mut next = 0u64;
        for round in 0..iters / 2 {
            let mut child = Command::new(env!("CARGO_BIN_EXE_ack_child"))
                .arg(store)
                .arg(tmp.path())
                .args([durability.name(), &next.to_string(), &rng.u64(..).to_string()])
                .stdout(Stdio::piped())
                .spawn()
                .expect("spawn");
            let stdout = child.stdout.take().expect("stdout");
            let reader = std::thread::spawn(move || {
                BufReader::new(stdout).lines().map_while(Result::ok).collect::<Vec<_>>()
            });
            std::thread::sleep(Duration::from_millis(rng.u64(20..120)));
            child.kill().expect("SIGKILL");
            child.wait().expect("wait");
            let mut last_put = None;
            for line in reader.join().expect("reader") {
                let (op, v) = line.split_once(' ').expect("op value");
                let v: u64 = v.parse().expect("value");
                match op {
                    "P" => {
                        put.insert(v);
                        last_put = Some(v);
                        puts += 1;
                    }
                    "A" => {
                        acked.insert(v);
                        acks += 1;
                    }
                    "G" | "N" => {}
                    other => panic!("unexpected output {other}"),
                }
            }
            let inflight = last_put.map_or(next, |v| v + 1);
            let ctx = format!("{store}, seed {seed}, {} round {round}", durability.name());
            let q = open(tmp.path(), durability);
            let mut found: BTreeMap<u64, Status> = BTreeMap::new();
            for e in q.queue().expect("list") {
                assert!(found.insert(e.item, e.status).is_none(), "{ctx}: item {} stored twice", e.item);
            }
            for v in &put {
                assert!(found.contains_key(v), "{ctx}: returned put {v} lost");
            }
            for v in &acked {
                assert_eq!(found.get(v), Some(&Status::Acked), "{ctx}: returned ack of {v} undone");
            }
            for (v, s) in &found {
                assert!(put.contains(v) || *v == inflight, "{ctx}: unexpected item {v}");
                assert_ne!(*s, Status::Unacked, "{ctx}: {v} still in flight after auto_resume");
            }
            if found.contains_key(&inflight) {
                put.insert(inflight);
            }
            next = inflight + 1;
        }
    }
    eprintln!("{store}: {iters} kills: {puts} puts and {acks} acks checked");
    assert!(puts > 100 && acks > 20, "the children must do real work before being killed");
}
