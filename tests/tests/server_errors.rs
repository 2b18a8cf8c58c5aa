//! A server user can tell the two failures apart by matching, not by
//! reading messages: a connection lost while a put's commit was on its way
//! is `Error::CommitUnknown` (the item may or may not be stored; never
//! retried), and a server that cannot be reached for the whole retry
//! window is `Error::Unavailable` (nothing was written). Each server is
//! reached through a proxy the test controls (`cut_proxy`). Needs `PG_URL`
//! / `MYSQL_URL` (see `persist_queue_tests::servers`).

use std::time::{Duration, Instant};

use persist_queue::{AckQueue, Error};
use persist_queue_tests::cut_proxy::{CutProxy, authority};
use persist_queue_tests::{fresh_table_name, servers};

const MARKER: &str = "cut-the-connection-here";

fn each_server_in_parallel(test: fn(&str)) {
    let urls = servers::configured();
    if urls.is_empty() {
        eprintln!("skipped: no PG_URL / MYSQL_URL");
    }
    let threads: Vec<_> = urls.into_iter().map(|url| std::thread::spawn(move || test(&url))).collect();
    for t in threads {
        t.join().expect("a server's test failed");
    }
}

fn commit_unknown_then_unavailable(url: &str) {
    let proxy = CutProxy::start(&authority(url), MARKER.as_bytes()).expect("proxy");
    let mut through = proxy.url(url);
    if through.starts_with("mysql") {
        // The MySQL client moves a loopback connection to the server's
        // Unix socket unless told not to, which would bypass the proxy.
        through.push_str("?prefer_socket=false");
    }
    let q = AckQueue::server(&through)
        .name(fresh_table_name("err").as_str())
        .open::<String>()
        .expect("open through the proxy");
    q.put(&"before".to_string()).expect("a put through the proxy");

    // The connection dies with the put's statement (its commit) in flight.
    match q.put(&format!("{MARKER} item")) {
        Err(Error::CommitUnknown(_)) => {}
        other => panic!("{url}: a connection lost during the commit must be CommitUnknown, got {other:?}"),
    }
    assert_eq!(proxy.cuts(), 1, "{url}: the proxy cut exactly the marked put");
    // The handle reconnects: the next put and a get work.
    q.put(&"after".to_string()).expect("a put after CommitUnknown reconnects");
    assert_eq!(q.get().expect("get").item, "before");

    // The server is gone for good. The connection the handle held dies
    // under its next put: the client cannot tell whether that statement
    // reached the server, so either typed answer is right.
    proxy.close();
    match q.put(&"unreachable".to_string()) {
        Err(Error::CommitUnknown(_) | Error::Unavailable(_)) => {}
        other => panic!("{url}: a put on a dead connection, got {other:?}"),
    }
    // With no connection left, every attempt to connect is refused until
    // the retry window ends: nothing was written.
    let start = Instant::now();
    match q.put(&"unreachable".to_string()) {
        Err(Error::Unavailable(_)) => {}
        other => panic!("{url}: an unreachable server must be Unavailable, got {other:?}"),
    }
    assert!(start.elapsed() >= Duration::from_secs(1), "{url}: Unavailable only after retrying");
}

#[test]
fn commit_unknown_and_unavailable_are_matchable() {
    each_server_in_parallel(commit_unknown_then_unavailable);
}
