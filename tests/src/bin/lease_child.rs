//! A process of `tests/lease_processes.rs`, on one `AckQueue` with short
//! leases (the host API, so every store behaves as a user's queue does).
//!
//! `lease_child STORE AT NAME produce N MARKER`: puts items 0..N, then
//! creates `MARKER`.
//! `lease_child STORE AT NAME consume MARKER`: takes items and acks each
//! with its delivery (fenced), printing `G payload deliveries` for an ack
//! that stood and `L payload deliveries` for one refused because the lease
//! was lost; exits once `MARKER` exists and nothing is ready, in flight
//! or delayed.
//! `lease_child STORE AT NAME hold K`: takes K items, prints `H payload`
//! for each, and waits to be killed without settling them.
//! `lease_child STORE AT NAME late_ack MARKER`: takes one item, prints
//! `H payload`, waits until `MARKER` exists (another process took the item
//! after the lease ended), then acks its own delivery and prints `acked`
//! or the error's code (`LeaseLost`).
//!
//! STORE is `sqlite` (AT: a directory), `files` (AT: a directory) or
//! `server` (AT: a database URL).

use std::io::Write;
use std::time::Duration;

use persist_queue::{AckQueue, Durability, Error, RecordBuilder};

/// The lease every process takes: short, so the test waits little for a
/// killed consumer's items.
pub const LEASE: Duration = Duration::from_millis(1500);

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, store, at, name, command, rest @ ..] = args.as_slice() else {
        panic!("usage: lease_child STORE AT NAME produce N MARKER | consume MARKER | hold K");
    };
    let builder: RecordBuilder<_> = match store.as_str() {
        "sqlite" => AckQueue::builder(at),
        "files" => AckQueue::files(at),
        "server" => AckQueue::server(at.as_str()),
        other => panic!("unknown store {other}"),
    };
    let q = builder
        .name(name.as_str())
        .durability(Durability::Buffered)
        .lease(LEASE)
        .open::<u64>()
        .expect("open the queue");
    let out = std::io::stdout();
    let mut out = out.lock();
    match (command.as_str(), rest) {
        ("produce", [n, marker]) => {
            let n: u64 = n.parse().expect("N");
            for i in 0..n {
                q.put(&i).expect("put");
            }
            std::fs::write(marker, b"").expect("marker");
        }
        ("consume", [marker]) => loop {
            match q.try_get() {
                Ok(d) => {
                    let tag = match q.ack(&d) {
                        Ok(()) => "G",
                        Err(Error::LeaseLost { .. }) => "L",
                        Err(e) => panic!("ack: {e}"),
                    };
                    writeln!(out, "{tag} {} {}", d.item, d.deliveries).expect("stdout");
                }
                Err(Error::Empty) => {
                    let s = q.stats().expect("stats");
                    if std::path::Path::new(marker).exists() && s.ready + s.in_flight + s.delayed == 0 {
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(5));
                }
                Err(e) => panic!("get: {e}"),
            }
        },
        ("hold", [k]) => {
            let k: usize = k.parse().expect("K");
            let mut held = 0;
            while held < k {
                match q.try_get() {
                    Ok(d) => {
                        writeln!(out, "H {}", d.item).expect("stdout");
                        held += 1;
                    }
                    Err(Error::Empty) => std::thread::sleep(Duration::from_millis(2)),
                    Err(e) => panic!("get: {e}"),
                }
            }
            writeln!(out, "HELD").expect("stdout");
            out.flush().expect("flush");
            std::thread::sleep(Duration::from_secs(3600));
        }
        ("late_ack", [marker]) => {
            let d = loop {
                match q.try_get() {
                    Ok(d) => break d,
                    Err(Error::Empty) => std::thread::sleep(Duration::from_millis(2)),
                    Err(e) => panic!("get: {e}"),
                }
            };
            writeln!(out, "H {}", d.item).expect("stdout");
            out.flush().expect("flush");
            while !std::path::Path::new(marker).exists() {
                std::thread::sleep(Duration::from_millis(5));
            }
            match q.ack(&d) {
                Ok(()) => writeln!(out, "acked").expect("stdout"),
                Err(Error::LeaseLost { .. }) => writeln!(out, "LeaseLost").expect("stdout"),
                Err(e) => panic!("ack: {e}"),
            }
        }
        _ => panic!(
            "usage: lease_child STORE AT NAME produce N MARKER | consume MARKER | hold K | late_ack MARKER"
        ),
    }
}
