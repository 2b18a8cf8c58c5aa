//! A process of `tests/server_processes.rs` and `tests/server_restart.rs`:
//! one `AckQueue<u64>` on a database server, through the public API.
//!
//! `server_child URL NAME produce FROM COUNT BATCH`: puts FROM..FROM+COUNT,
//! BATCH items per call; prints `P item` for each put that returned, `E item` for
//! each that failed (the batch's error on stderr).
//! `server_child URL NAME consume DONE`: takes up to 10 items at a time and
//! acks them; prints `G item` per delivery and `A item` per returned ack,
//! until the file DONE exists and the queue is empty.

use std::io::Write;
use std::time::Duration;

use persist_queue::{AckQueue, Durability, Error};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (url, name, cmd) = (&args[1], &args[2], args[3].as_str());
    // auto_resume off: a process starting late must not take back items
    // that live processes hold.
    let q = AckQueue::server(url.as_str())
        .name(name.as_str())
        .durability(Durability::Synced)
        .auto_resume(false)
        .open::<u64>()
        .expect("open queue");
    let out = std::io::stdout();
    let mut out = out.lock();
    match cmd {
        "produce" => {
            let from: u64 = args[4].parse().expect("FROM");
            let count: u64 = args[5].parse().expect("COUNT");
            let per_call: usize = args[6].parse().expect("BATCH");
            let items: Vec<u64> = (from..from + count).collect();
            for batch in items.chunks(per_call) {
                let mark = match q.put_many(batch) {
                    Ok(_) => "P",
                    Err(e) => {
                        eprintln!("put_many: {e}");
                        "E"
                    }
                };
                for item in batch {
                    writeln!(out, "{mark} {item}").expect("stdout");
                }
                out.flush().expect("stdout");
            }
        }
        "consume" => {
            let done = std::path::Path::new(&args[4]);
            loop {
                let finished = done.exists();
                let got = match q.get_many(10) {
                    Ok(got) => got,
                    Err(e) => {
                        eprintln!("get_many: {e}");
                        std::thread::sleep(Duration::from_millis(50));
                        continue;
                    }
                };
                if got.is_empty() {
                    if finished {
                        break;
                    }
                    // Wait for a put (woken by it) or a short while.
                    match q.get_timeout(Duration::from_millis(100)) {
                        Ok(d) => {
                            writeln!(out, "G {}", d.item).expect("stdout");
                            match q.ack(&d) {
                                Ok(()) => writeln!(out, "A {}", d.item).expect("stdout"),
                                Err(e) => eprintln!("ack: {e}"),
                            }
                        }
                        Err(Error::Empty) => {}
                        Err(e) => eprintln!("get: {e}"),
                    }
                    continue;
                }
                for d in &got {
                    writeln!(out, "G {}", d.item).expect("stdout");
                }
                let ids: Vec<u64> = got.iter().map(|d| d.id).collect();
                match q.ack_many(&ids) {
                    Ok(acked) => {
                        for (d, r) in got.iter().zip(acked) {
                            match r {
                                Ok(()) => writeln!(out, "A {}", d.item).expect("stdout"),
                                Err(e) => eprintln!("ack {}: {e}", d.item),
                            }
                        }
                    }
                    Err(e) => eprintln!("ack_many: {e}"),
                }
                out.flush().expect("stdout");
            }
        }
        other => panic!("unknown command {other}"),
    }
}
