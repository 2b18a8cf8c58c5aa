//! Every blocking method of every queue kind and of `PDict` has an async
//! twin: the twins are checked against the blocking faces' sources, so a
//! method added to one face alone fails here; and the new twins work on
//! tokio and on smol.

#![cfg(feature = "async")]

use std::collections::BTreeSet;

use persist_queue::{AckQueue, Error, PDict, Queue};

/// The names of `pub fn` / `pub async fn` items in `source`.
fn public_fns(source: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for line in source.lines() {
        let line = line.trim_start();
        let rest = line.strip_prefix("pub async fn ").or_else(|| line.strip_prefix("pub fn "));
        if let Some(rest) = rest {
            let name: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
            names.insert(name);
        }
    }
    names
}

/// Which blocking names have no twin in `twin` (constructors excepted).
fn missing(blocking: &str, twin: &str, except: &[&str]) -> Vec<String> {
    let twins = public_fns(twin);
    public_fns(blocking).into_iter().filter(|n| !except.contains(&n.as_str()) && !twins.contains(n)).collect()
}

#[test]
fn every_blocking_method_has_an_async_twin() {
    let queue = missing(
        include_str!("../src/queue.rs"),
        include_str!("../src/async_queue.rs"),
        &["open", "builder", "to_async"],
    );
    assert!(queue.is_empty(), "Queue methods without an AsyncQueue twin: {queue:?}");
    let records = missing(
        include_str!("../src/records/handle.rs"),
        include_str!("../src/records/async_records.rs"),
        &["to_async"],
    );
    assert!(records.is_empty(), "Records methods without an AsyncRecords twin: {records:?}");
    let dict = missing(
        include_str!("../src/records/pdict.rs"),
        include_str!("../src/records/async_pdict.rs"),
        &[
            "open",
            "builder",
            "server",
            "in_memory",
            "name",
            "durability",
            "db_file_name",
            "codec",
            "to_async",
        ],
    );
    assert!(dict.is_empty(), "PDict methods without an AsyncPDict twin: {dict:?}");
}

/// The twins a service needs beyond put/get: batch puts and acks,
/// updates, nacks, counts and listings, the dictionary.
async fn twins_work() -> Result<(), Error> {
    let dir = tempfile::tempdir()?;
    let q = Queue::<u32>::open(dir.path())?.to_async();
    q.put_many(&[1, 2, 3]).await?;
    assert_eq!(q.peek().await?, Some(1));
    assert_eq!(q.get_timeout(std::time::Duration::from_secs(5)).await?, 1);
    q.task_done().await?;
    q.sync().await?;
    assert_eq!((q.len(), q.unfinished_tasks()), (2, 2));

    let r = AckQueue::in_memory().open::<String>()?.to_async();
    let ids = r.put_many(vec!["a".into(), "b".into(), "c".into()]).await?;
    assert_eq!(ids.len(), 3);
    let got = r.get_many(3).await?;
    assert_eq!(got.len(), 3);
    r.update(&got[2], "C".into()).await?;
    r.nack(&got[2]).await?;
    let acked = r.ack_many(&[got[0].id, got[1].id]).await?;
    assert!(acked.iter().all(Result::is_ok));
    assert_eq!((r.ready_count().await?, r.acked_count().await?, r.unack_count().await?), (1, 2, 0));
    let listed: Vec<String> = r.queue().await?.into_iter().map(|e| e.item).collect();
    assert_eq!(listed, ["a", "b", "C"]);
    assert_eq!(r.clear_acked_data(0, 0, false).await?, 2);

    let d = PDict::in_memory().open::<String, u32>()?.to_async();
    assert_eq!(d.insert("k".into(), 1).await?, None);
    assert_eq!(d.insert("k".into(), 2).await?, Some(1));
    assert!(d.contains_key("k".into()).await?);
    assert_eq!(d.len().await?, 1);
    assert_eq!(d.remove("k".into()).await?, Some(2));
    assert!(d.is_empty().await?);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_twins_work_on_tokio() {
    twins_work().await.expect("twins");
}

#[test]
fn the_twins_work_on_smol() {
    smol::block_on(twins_work()).expect("twins");
}
