//! Real crashes: a child process puts, gets and confirms on one queue and
//! is killed with SIGKILL at a random moment, again and again on the same
//! directory (`PQ_KILL_ITERS`, default 60), at both durabilities. After each
//! kill the parent reopens the queue and checks it against what the child
//! reported as done:
//!
//! * every item whose put returned is present exactly once, in order;
//! * nothing confirmed by a returned `task_done` comes back;
//! * the only other item that may appear is the put in flight.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use persist_queue::{Durability, Error, QueueBuilder};

struct Report {
    puts: Vec<u64>,
    gets: Vec<u64>,
    /// Gets confirmed by the last returned `task_done`.
    confirmed: usize,
}

fn run_child(dir: &std::path::Path, durability: Durability, first: u64, seed: u64, ms: u64) -> Report {
    let mut child = Command::new(env!("CARGO_BIN_EXE_crash_child"))
        .arg(dir)
        .arg(durability.name())
        .arg(first.to_string())
        .arg(seed.to_string())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn child");
    let stdout = child.stdout.take().expect("stdout");
    let reader =
        std::thread::spawn(move || BufReader::new(stdout).lines().map_while(Result::ok).collect::<Vec<_>>());
    std::thread::sleep(Duration::from_millis(ms));
    child.kill().expect("SIGKILL the child");
    let status = child.wait().expect("wait");
    assert!(!status.success(), "the child must have been killed");
    let mut r = Report { puts: vec![], gets: vec![], confirmed: 0 };
    for line in reader.join().expect("reader") {
        match line.split_once(' ') {
            Some(("P", id)) => r.puts.push(id.parse().expect("id")),
            Some(("G", id)) => r.gets.push(id.parse().expect("id")),
            _ if line == "D" => r.confirmed = r.gets.len(),
            _ => panic!("unexpected child output {line:?}"),
        }
    }
    r
}

fn contents(dir: &std::path::Path, durability: Durability) -> Vec<u64> {
    // Read without confirming: the items stay for the next child.
    let q = QueueBuilder::new(dir).durability(durability).open::<u64>().expect("reopen after kill");
    let mut out = Vec::new();
    loop {
        match q.try_get() {
            Ok(v) => out.push(v),
            Err(Error::Empty) => return out,
            Err(e) => panic!("get after kill: {e}"),
        }
    }
}

#[test]
fn sigkill_loop() {
    let iters: usize = std::env::var("PQ_KILL_ITERS").ok().and_then(|s| s.parse().ok()).unwrap_or(60);
    let seed = fastrand::u64(..);
    let mut rng = fastrand::Rng::with_seed(seed);
    let (mut puts, mut confirms, mut redelivered) = (0, 0, 0);
    for durability in [Durability::Buffered, Durability::Synced] {
        let tmp = tempfile::tempdir().expect("tmp");
        let dir = tmp.path().join("q");
        let mut before: Vec<u64> = Vec::new();
        let mut next = 0u64;
        for round in 0..iters / 2 {
            let r = run_child(&dir, durability, next, rng.u64(..), rng.u64(2..40));
            let ctx = format!("seed {seed}, {} round {round}", durability.name());
            // What the child saw must already be FIFO.
            let full: Vec<u64> = before.iter().chain(&r.puts).copied().collect();
            assert_eq!(r.gets, full[..r.gets.len()], "{ctx}: child got items out of order");
            let inflight = r.puts.last().map_or(next, |l| l + 1);
            let after = contents(&dir, durability);
            let k = match after.first() {
                Some(f) => full.iter().position(|x| x == f).unwrap_or(full.len()),
                None => full.len(),
            };
            assert!(
                k >= r.confirmed,
                "{ctx}: confirmed items came back (resumed at {k}, confirmed {})",
                r.confirmed
            );
            assert!(k <= r.gets.len(), "{ctx}: items lost (resumed at {k}, only {} got)", r.gets.len());
            assert_eq!(after[..full.len() - k], full[k..], "{ctx}: returned puts missing or reordered");
            let extra = &after[full.len() - k..];
            assert!(extra.is_empty() || extra == [inflight], "{ctx}: unexpected items {extra:?}");
            puts += r.puts.len();
            confirms += r.confirmed;
            redelivered += r.gets.len() - k.min(r.gets.len());
            before = after;
            next = inflight + 1;
        }
    }
    eprintln!(
        "{iters} kills: {puts} puts, {confirms} confirmed gets, {redelivered} unconfirmed gets redelivered"
    );
    assert!(puts > 100 && confirms > 10, "the children must do real work before being killed");
}
