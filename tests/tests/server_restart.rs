//! The database server stops and starts while 2 producer and 2 consumer
//! processes work on one ack queue. Afterwards every put that returned is
//! stored exactly once, a put that failed is stored at most once, every
//! ack that returned stays acked, and no item was delivered twice.
//!
//! Needs the servers `.ci/servers` started (`PQ_SERVERS_DIR`), since the
//! test restarts them with it; skipped without (CI always starts them).
//! One test in this binary: the restart must not hit other tests (cargo
//! runs test binaries one after another).

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use persist_queue::{AckQueue, Durability, Status};
use persist_queue_tests::server_run::Load;
use persist_queue_tests::{fresh_table_name, server_run, servers};

const PRODUCERS: u64 = 2;
const PER_PRODUCER: u64 = 3_000;

fn restart(which: &str) {
    let dir = std::env::var("PQ_SERVERS_DIR").expect("PQ_SERVERS_DIR");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../.ci/servers");
    let status = std::process::Command::new("bash").args([script, which, &dir]).status().expect("restart");
    assert!(status.success(), "{which} failed");
}

fn survive_a_restart(url: &str, which: &str) {
    let name = fresh_table_name("restart");
    let open = || {
        AckQueue::server(url)
            .name(name.as_str())
            .durability(Durability::Synced)
            .auto_resume(false)
            .open::<u64>()
            .expect("open")
    };
    drop(open());
    // One put per call, so that the restart finds the producers at work.
    let load = Load { producers: PRODUCERS, per_producer: PER_PRODUCER, batch: 1, consumers: 2 };
    let r = server_run::drive_children(env!("CARGO_BIN_EXE_server_child"), url, &name, load, || {
        std::thread::sleep(Duration::from_millis(700));
        restart(which);
    });
    let mut delivered = HashSet::new();
    for mine in &r.delivered {
        for &item in mine {
            assert!(delivered.insert(item), "item {item} was delivered twice");
        }
    }
    // What the table holds now, item by item.
    let q = open();
    let mut stored: HashMap<u64, Vec<Status>> = HashMap::new();
    for e in q.queue().expect("list") {
        stored.entry(e.item).or_default().push(e.status);
    }
    for item in &r.put {
        assert_eq!(stored.get(item).map(Vec::len), Some(1), "returned put {item} stored exactly once");
    }
    for item in &r.put_failed {
        assert!(stored.get(item).map_or(0, Vec::len) <= 1, "failed put {item} stored at most once");
    }
    for item in stored.keys() {
        assert!(r.put.contains(item) || r.put_failed.contains(item), "{item} was never put");
    }
    for item in &r.acked {
        assert_eq!(stored[item], vec![Status::Acked], "returned ack of {item} undone");
    }
    eprintln!(
        "{which}: {} puts returned, {} failed; {} delivered, {} acks returned",
        r.put.len(),
        r.put_failed.len(),
        delivered.len(),
        r.acked.len()
    );
    assert!(r.producing_during, "the restart came while producers were putting");
    assert!(r.put.len() as u64 > PER_PRODUCER, "most puts returned across the restart: {}", r.stderr);
}

/// The servers can be restarted only if `.ci/servers` started them (CI
/// does; servers given by URL alone are not restarted).
fn servers_dir() -> Result<(), String> {
    match std::env::var("PQ_SERVERS_DIR") {
        Ok(d) if !d.is_empty() => Ok(()),
        _ => Err("PQ_SERVERS_DIR is not set (servers started by `.ci/servers start DIR`)".into()),
    }
}

#[test]
fn servers_restart_under_load() {
    // Both in one test: they must not overlap (each restart breaks every
    // connection to that server).
    match (servers_dir(), servers::pg_url(), servers::mysql_url()) {
        (Ok(()), Ok(pg), Ok(my)) => {
            survive_a_restart(&pg, "restart-pg");
            survive_a_restart(&my, "restart-mysql");
            synced_needs_a_flushing_server(&my);
        }
        (a, b, c) => eprintln!("skipped: {:?}", [a.err(), b.err(), c.err()]),
    }
}

/// MySQL's flush setting is server-wide: a synced queue on a server that
/// does not flush each commit is refused, not silently weaker. (Here, in
/// the binary whose test runs alone: it changes a global setting.)
fn synced_needs_a_flushing_server(url: &str) {
    use persist_queue::persist_queue_core::Durability::{Buffered, Synced};
    let set = |v: u8| {
        let sql = format!("SET GLOBAL innodb_flush_log_at_trx_commit = {v}");
        let dir = std::env::var("PQ_SERVERS_DIR").expect("PQ_SERVERS_DIR");
        let ok = std::process::Command::new("mariadb")
            .args(["--no-defaults", "-uroot", &format!("--socket={dir}/mdb/sock"), "-e", &sql])
            .status()
            .expect("mariadb client");
        assert!(ok.success());
    };
    let name = fresh_table_name("flush");
    set(2);
    let synced = AckQueue::server(url).name(name.as_str()).durability(Synced).open::<u32>();
    let buffered = AckQueue::server(url).name(name.as_str()).durability(Buffered).open::<u32>();
    set(1);
    assert!(matches!(synced, Err(persist_queue::Error::InvalidConfig(_))), "{synced:?}");
    assert!(buffered.is_ok(), "buffered asks nothing of the server");
}
