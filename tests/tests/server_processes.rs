//! 2 producer and 4 consumer processes move 20,000 items through one ack
//! queue on each database server: none lost, none delivered twice, each
//! consumer receives each producer's items in order (persist-queue 1.1.0's
//! `MySQLQueue` delivered 88% of 3,000 items more than once to 4 consumer
//! processes). Needs `PG_URL` / `MYSQL_URL` (see `persist_queue_tests::servers`).

use std::collections::HashSet;

use persist_queue::{AckQueue, Durability};
use persist_queue_tests::server_run::Load;
use persist_queue_tests::{fresh_table_name, server_run, servers};

const PRODUCERS: u64 = 2;
const PER_PRODUCER: u64 = 10_000;

fn six_processes(url: &str) {
    let name = fresh_table_name("procs");
    // Create the table before the processes race to.
    let q =
        AckQueue::server(url).name(name.as_str()).durability(Durability::Synced).open::<u64>().expect("open");
    let load = Load { producers: PRODUCERS, per_producer: PER_PRODUCER, batch: 50, consumers: 4 };
    let r = server_run::drive_children(env!("CARGO_BIN_EXE_server_child"), url, &name, load, || {});
    let total = PRODUCERS * PER_PRODUCER;
    assert_eq!(r.put.len() as u64, total, "every put returned: {}", r.stderr);
    let mut seen = HashSet::new();
    for mine in &r.delivered {
        for &item in mine {
            assert!(seen.insert(item), "item {item} was delivered twice");
        }
        // FIFO: each producer's items reach each consumer in put order.
        for p in 0..PRODUCERS {
            let range = p * PER_PRODUCER..(p + 1) * PER_PRODUCER;
            let from_p: Vec<u64> = mine.iter().copied().filter(|i| range.contains(i)).collect();
            if let Some(w) = from_p.windows(2).find(|w| w[0] > w[1]) {
                let at = mine.iter().position(|i| *i == w[0]).unwrap_or(0);
                let around = &mine[at.saturating_sub(12)..(at + 12).min(mine.len())];
                panic!("producer {p}'s items out of order: {} before {}; around: {around:?}", w[0], w[1]);
            }
        }
    }
    assert_eq!(seen, r.put, "every item delivered once");
    assert_eq!(r.acked, r.put, "every item acked");
    let c =
        (q.ready_count().expect("ready"), q.unack_count().expect("unacked"), q.acked_count().expect("acked"));
    assert_eq!(c, (0, 0, total));
    let per: Vec<usize> = r.delivered.iter().map(Vec::len).collect();
    eprintln!("4 consumer processes took {per:?} items");
    assert!(per.iter().filter(|n| **n > 0).count() >= 2, "the consumers shared the work: {per:?}");
}

#[test]
fn postgres_six_processes() {
    match servers::pg_url() {
        Ok(url) => six_processes(&url),
        Err(why) => eprintln!("skipped: {why}"),
    }
}

#[test]
fn mysql_six_processes() {
    match servers::mysql_url() {
        Ok(url) => six_processes(&url),
        Err(why) => eprintln!("skipped: {why}"),
    }
}
