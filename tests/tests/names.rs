//! Issue 11, defect 6: one name rule for every backend. The limit users are
//! told (64 of `A-Z a-z 0-9 _`) is counted on their name, whatever the
//! kind's table prefix; errors quote their name; a name means the same
//! queue everywhere (names are case-insensitive, as SQLite tables and the
//! macOS and Windows filesystems are).

use persist_queue::{AckQueue, Error, PDict, UniqueQueue};
use persist_queue_core::records::NAME_MAX;

fn longest() -> String {
    "n".repeat(NAME_MAX)
}

#[test]
fn the_longest_name_opens_every_kind_on_every_store() {
    let sqlite = tempfile::tempdir().expect("tmp");
    let files = tempfile::tempdir().expect("tmp");
    let name = longest();
    let q = UniqueQueue::builder(sqlite.path())
        .name(name.as_str())
        .open::<u32>()
        .expect("sqlite, longest prefix");
    q.put(&1).expect("put");
    let q = AckQueue::builder(sqlite.path()).unique().name(name.as_str()).open::<u32>().expect("ack unique");
    q.put(&1).expect("put");
    let q = UniqueQueue::files(files.path()).name(name.as_str()).open::<u32>().expect("files");
    q.put(&1).expect("put");
    let d = PDict::builder(sqlite.path()).name(name.as_str()).open::<String, u32>().expect("PDict");
    d.insert(&"k".to_string(), &1).expect("insert");
    for url in persist_queue_tests::servers::configured() {
        let long = format!("{}{}", persist_queue_tests::fresh_table_name("l"), "n".repeat(NAME_MAX));
        let long = &long[..NAME_MAX];
        let q = AckQueue::server(url.as_str()).unique().name(long).open::<u32>().expect("server, longest");
        q.put(&1).expect("put");
        // Two longest names differing in their last byte are two queues.
        let other = format!("{}x", &long[..NAME_MAX - 1]);
        let p = AckQueue::server(url.as_str()).unique().name(other.as_str()).open::<u32>().expect("other");
        assert_eq!(p.len().expect("len"), 0, "{url}: a long name is not cut into another queue's");
    }
}

#[test]
fn one_past_the_limit_is_invalid_config_naming_the_users_name() {
    let tmp = tempfile::tempdir().expect("tmp");
    let name = "n".repeat(NAME_MAX + 1);
    let check = |r: Result<(), Error>, what: &str| match r {
        Err(Error::InvalidConfig(m)) => {
            let m = m.to_string();
            assert!(m.contains(&format!("{name:?}")), "{what}: {m}");
            assert!(!m.contains("queue_n"), "{what}: quotes a table name: {m}");
            assert!(m.contains(&NAME_MAX.to_string()), "{what}: states the limit: {m}");
        }
        other => panic!("{what}: expected InvalidConfig, got {other:?}"),
    };
    check(UniqueQueue::builder(tmp.path()).name(name.as_str()).open::<u32>().map(drop), "sqlite");
    check(AckQueue::files(tmp.path()).name(name.as_str()).open::<u32>().map(drop), "files");
    check(PDict::builder(tmp.path()).name(name.as_str()).open::<String, u32>().map(drop), "PDict");
}

#[test]
fn names_that_differ_in_case_are_one_queue_on_every_store() {
    let sqlite = tempfile::tempdir().expect("tmp");
    let files = tempfile::tempdir().expect("tmp");
    let upper = AckQueue::builder(sqlite.path()).name("Jobs").open::<u32>().expect("open");
    upper.put(&7).expect("put");
    let lower = AckQueue::builder(sqlite.path()).name("jobs").open::<u32>().expect("open");
    assert_eq!(lower.get().expect("sqlite: one queue").item, 7);
    let upper = AckQueue::files(files.path()).name("Jobs").open::<u32>().expect("open");
    upper.put(&8).expect("put");
    drop(upper);
    let lower = AckQueue::files(files.path()).name("jobs").open::<u32>().expect("open");
    assert_eq!(lower.get().expect("files: one queue").item, 8);
    let d = PDict::builder(sqlite.path()).name("Cfg").open::<String, u32>().expect("open");
    d.insert(&"k".to_string(), &1).expect("insert");
    let e = PDict::builder(sqlite.path()).name("cfg").open::<String, u32>().expect("open");
    assert_eq!(e.get(&"k".to_string()).expect("get"), Some(1));
    for url in persist_queue_tests::servers::configured() {
        let name = persist_queue_tests::fresh_table_name("case");
        let upper =
            AckQueue::server(url.as_str()).name(name.to_uppercase().as_str()).open::<u32>().expect("open");
        upper.put(&9).expect("put");
        let lower = AckQueue::server(url.as_str()).name(name.as_str()).open::<u32>().expect("open");
        assert_eq!(lower.get().expect("server: one queue").item, 9, "{url}");
    }
}

/// A files queue an older version created under a capitalised name is
/// found (moved to its lowercase directory); two directories differing
/// only in case are reported, never merged or picked between.
#[test]
fn a_files_queue_from_before_keeps_its_items() {
    let tmp = tempfile::tempdir().expect("tmp");
    let q = AckQueue::files(tmp.path()).name("jobs").open::<u32>().expect("open");
    q.put(&1).expect("put");
    drop(q);
    // What an older version left: the directory named as the user wrote it.
    std::fs::rename(tmp.path().join("ack_queue_jobs"), tmp.path().join("ack_queue_Jobs")).expect("rename");
    let q = AckQueue::files(tmp.path()).name("Jobs").open::<u32>().expect("open the old queue");
    assert_eq!(q.get().expect("its item").item, 1);
    drop(q);
    std::fs::create_dir(tmp.path().join("ack_queue_JOBS")).expect("a second case variant");
    match AckQueue::files(tmp.path()).name("JOBS").open::<u32>() {
        Err(Error::InvalidConfig(m)) => assert!(m.to_string().contains("differ only in case"), "{m}"),
        other => panic!("expected InvalidConfig, got {:?}", other.map(drop)),
    }
}

/// A server table an older version created under the name as given (names
/// were case-sensitive on servers then) is renamed to the lowercase name
/// at open, its items kept; two tables differing only in case are
/// `InvalidConfig`, never merged.
#[test]
fn a_server_table_from_before_keeps_its_items() {
    use persist_queue_core::Durability;
    use persist_queue_core::records::{Kind, Order, Put, RecordQueue, complete};
    for url in persist_queue_tests::servers::configured() {
        let name = format!("Old{}", persist_queue_tests::fresh_table_name("case"));
        let legacy = format!("ack_queue_{name}");
        // What an older version left: the table named with capitals.
        let put_old = |table: &str| {
            let item = persist_queue::Codec::<u32>::encode(&persist_queue::Postcard, &41).expect("encode");
            if url.starts_with("postgres") {
                let c = persist_queue_postgres::Connect::url(&url).expect("connect");
                let t = persist_queue_postgres::PgTable::open(&c, table, Durability::Synced, Order::Fifo)
                    .expect("old");
                let mut q = complete(RecordQueue::open(t, Kind::ACK, false, persist_queue_tests::LONG_LEASE))
                    .expect("queue");
                complete(q.put(Put::new(&item), 1)).expect("put");
            } else {
                let c = persist_queue_mysql::Connect::url(&url).expect("connect");
                let t = persist_queue_mysql::MySqlTable::open(&c, table, Durability::Synced, Order::Fifo)
                    .expect("old");
                let mut q = complete(RecordQueue::open(t, Kind::ACK, false, persist_queue_tests::LONG_LEASE))
                    .expect("queue");
                complete(q.put(Put::new(&item), 1)).expect("put");
            }
        };
        put_old(&legacy);
        let q = AckQueue::server(url.as_str()).name(name.as_str()).open::<u32>().expect("open the old queue");
        assert_eq!(q.get().expect("its item").item, 41, "{url}");
        drop(q);
        if !url.starts_with("postgres") {
            // MySQL's schema registry compares names without case, so an
            // older version could never make two such tables there.
            continue;
        }
        // A second table that differs only in case.
        put_old(&format!("ack_queue_{}", name.to_uppercase()));
        match AckQueue::server(url.as_str()).name(name.to_uppercase().as_str()).open::<u32>() {
            Err(Error::InvalidConfig(m)) => {
                assert!(m.to_string().contains("differ only in case"), "{url}: {m}")
            }
            other => panic!("{url}: expected InvalidConfig, got {:?}", other.map(drop)),
        }
    }
}
