//! The child of `tests/crash_kill.rs`: works on a queue until it is killed
//! with SIGKILL, reporting each completed call on stdout:
//! `P id` after a put returned, `G id` after a get returned, `D` after a
//! `task_done` returned (which confirms every item got so far).
//!
//! Usage: `crash_child DIR buffered|synced FIRST_ID SEED`

use std::io::Write;

use persist_queue::{Durability, Error, QueueBuilder};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, dir, durability, first, seed] = args.as_slice() else {
        eprintln!("usage: crash_child DIR buffered|synced FIRST_ID SEED");
        std::process::exit(2);
    };
    let durability = Durability::from_name(durability).unwrap_or_else(|| {
        eprintln!("unknown durability {durability}");
        std::process::exit(2)
    });
    let mut next: u64 = first.parse().expect("FIRST_ID");
    let mut rng = fastrand::Rng::with_seed(seed.parse().expect("SEED"));
    let q = QueueBuilder::new(dir).chunk_size(16).durability(durability).open::<u64>().unwrap_or_else(|e| {
        eprintln!("open: {e}");
        std::process::exit(3)
    });
    let out = std::io::stdout();
    let mut out = out.lock();
    loop {
        match rng.u8(..10) {
            0..=5 => {
                q.put(&next).expect("put");
                writeln!(out, "P {next}").and_then(|()| out.flush()).expect("stdout");
                next += 1;
            }
            6..=8 => match q.try_get() {
                Ok(v) => writeln!(out, "G {v}").and_then(|()| out.flush()).expect("stdout"),
                Err(Error::Empty) => {}
                Err(e) => panic!("get: {e}"),
            },
            _ => match q.task_done() {
                Ok(()) => writeln!(out, "D").and_then(|()| out.flush()).expect("stdout"),
                Err(Error::TaskDoneTooMany) => {}
                Err(e) => panic!("task_done: {e}"),
            },
        }
    }
}
