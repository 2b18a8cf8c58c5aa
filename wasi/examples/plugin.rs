//! An example plugin: consumes jobs from the queue its host lends it.
//!
//! `plugin consume`: takes jobs (waiting up to 200 ms for each), acks each,
//! prints one line per job (`job ID BYTES`), stops when none comes.
//! `plugin put N`: puts N items `item-0` .. `item-{N-1}`.
//! `plugin trap-after N`: takes N jobs without acking them, then traps.
//! `plugin spin`: takes one job, then loops forever (stopped by its fuel).
//!
//! Build: `cargo build -p persist-queue-wasi --target wasm32-wasip1 --release --examples`.

use std::time::Duration;

use persist_queue_wasi::host::{HostError, HostQueue};

fn main() -> Result<(), HostError> {
    let args: Vec<String> = std::env::args().collect();
    let q = HostQueue;
    let n = || args.get(2).and_then(|s| s.parse::<u64>().ok()).unwrap_or(0);
    match args.get(1).map(String::as_str) {
        Some("consume") => loop {
            match q.get(Duration::from_millis(200)) {
                Ok(job) => {
                    q.ack(&job)?;
                    println!("job {} {}", job.id, String::from_utf8_lossy(&job.payload));
                }
                Err(HostError::Empty) => return Ok(()),
                Err(e) => return Err(e),
            }
        },
        Some("put") => {
            for i in 0..n() {
                q.put(format!("item-{i}").as_bytes())?;
            }
            Ok(())
        }
        Some("trap-after") => {
            for _ in 0..n() {
                let job = q.get(Duration::from_millis(200))?;
                println!("held {}", job.id);
            }
            panic!("trap-after: failing on purpose while holding its jobs (a test of the host)");
        }
        Some("spin") => {
            let job = q.get(Duration::from_millis(200))?;
            println!("held {}", job.id);
            let mut x = 0u64;
            loop {
                x = std::hint::black_box(x.wrapping_add(1));
            }
        }
        _ => {
            eprintln!("usage: plugin consume | put N | trap-after N | spin");
            Ok(())
        }
    }
}
