//! The child of `tests/record_kill.rs`: works on an ack queue (SQLite or
//! plain files) until
//! it is killed, reporting each call that returned: `P v` (put of item v),
//! `G v` (got), `A v` (acked), `N v` (nacked).
//!
//! Usage: `ack_child sqlite|files DIR buffered|synced FIRST SEED`

use std::io::Write;

use persist_queue::{AckQueue, Durability};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, store, dir, durability, first, seed] = args.as_slice() else {
        eprintln!("usage: ack_child sqlite|files DIR buffered|synced FIRST SEED");
        std::process::exit(2);
    };
    let durability = Durability::from_name(durability).expect("durability");
    let mut next: u64 = first.parse().expect("FIRST");
    let mut rng = fastrand::Rng::with_seed(seed.parse().expect("SEED"));
    let builder = if store == "files" { AckQueue::files(dir) } else { AckQueue::builder(dir) };
    let q = builder.durability(durability).open::<u64>().expect("open");
    let out = std::io::stdout();
    let mut out = out.lock();
    let mut say = |s: String| writeln!(out, "{s}").and_then(|()| out.flush()).expect("stdout");
    loop {
        if rng.u8(..10) < 5 {
            q.put(&next).expect("put");
            say(format!("P {next}"));
            next += 1;
        } else if let Ok(d) = q.try_get() {
            say(format!("G {}", d.item));
            if rng.u8(..4) == 0 {
                q.nack(&d).expect("nack");
                say(format!("N {}", d.item));
            } else {
                q.ack(&d).expect("ack");
                say(format!("A {}", d.item));
            }
        }
    }
}
