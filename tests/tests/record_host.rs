//! The typed record queues (`AckQueue`, `PriorityQueue`, `UniqueQueue`,
//! `FifoQueue`, `FiloQueue`) on SQLite and in memory: persist-queue's
//! test_sqlackqueue / test_sqlqueue / test_priorityqueue behaviours.

use std::collections::HashSet;
use std::thread;
use std::time::{Duration, Instant};

use persist_queue::{
    AckQueue, Error, FifoQueue, FiloQueue, Json, PriorityQueue, RecordBuilder, Status, UniqueQueue,
};
use serde_json::{Value, json};

/// Runs `$body` with `$b` bound to a fresh builder, on SQLite, on plain
/// files, in memory, then on each database server configured (`PG_URL`,
/// `MYSQL_URL`; a fresh queue name each).
macro_rules! on_each_store {
    ($ty:ident, |$b:ident| $body:block) => {{
        let tmp = tempfile::tempdir().expect("tmp");
        {
            let $b = || $ty::builder(tmp.path());
            $body
        }
        let files = tempfile::tempdir().expect("tmp");
        {
            let $b = || $ty::files(files.path());
            $body
        }
        {
            let store = $ty::in_memory();
            let $b = || store.clone();
            $body
        }
        for url in persist_queue_tests::servers::configured() {
            let name = persist_queue_tests::fresh_table_name("h");
            let $b = || $ty::server(url.as_str()).name(name.as_str());
            $body
        }
    }};
}

#[test]
fn ack_unack_ack_failed() {
    on_each_store!(AckQueue, |b| {
        let q = b().open::<String>().expect("open");
        for v in ["val1", "val2", "val3"] {
            q.put(&v.to_string()).expect("put");
        }
        assert_eq!(q.ready_count().expect("ready"), 3, "never-delivered items are ready (B14)");
        let got: Vec<_> = (0..3).map(|_| q.get().expect("get")).collect();
        assert_eq!((q.len().expect("len"), q.unack_count().expect("unack")), (0, 3));
        assert_eq!(q.active_size().expect("active"), 3);
        q.nack(&got[0]).expect("nack by delivery");
        q.ack_failed(got[1].id).expect("ack_failed by id");
        q.ack(&got[2]).expect("ack");
        assert_eq!(q.ready_count().expect("ready"), 1);
        assert_eq!(q.acked_count().expect("acked"), 1);
        assert_eq!(q.ack_failed_count().expect("failed"), 1);
        let again = q.get().expect("the nacked item");
        assert_eq!((again.item.as_str(), again.deliveries), ("val1", 2));
        assert!(matches!(q.try_get(), Err(Error::Empty)));
    });
}

#[test]
fn acks_are_checked() {
    on_each_store!(AckQueue, |b| {
        let q = b().open::<u32>().expect("open");
        let id = q.put(&1).expect("put");
        assert!(matches!(q.ack(999_999u64), Err(Error::UnknownId(999_999))), "B12: no silent success");
        assert!(matches!(q.ack(id), Err(Error::NotInFlight { status: Status::Ready, .. })));
        let d = q.get().expect("get");
        q.ack(&d).expect("ack");
        assert!(matches!(q.ack(&d), Err(Error::NotInFlight { status: Status::Acked, .. })));
        assert!(matches!(q.nack(&d), Err(Error::NotInFlight { .. })));
        assert_eq!(q.len().expect("len"), 0, "a refused nack changes nothing");
    });
}

#[test]
fn resume_unack_after_restart() {
    let tmp = tempfile::tempdir().expect("tmp");
    let q = AckQueue::builder(tmp.path()).open::<String>().expect("open");
    q.put(&"job".to_string()).expect("put");
    q.get().expect("get");
    drop(q);
    let q = AckQueue::builder(tmp.path()).auto_resume(false).open::<String>().expect("reopen");
    assert_eq!((q.len().expect("len"), q.unack_count().expect("unack")), (0, 1));
    assert_eq!(q.resume_unack_tasks().expect("resume"), 1);
    drop(q);
    let q = AckQueue::<String>::open(tmp.path()).expect("reopen with auto_resume");
    let d = q.get().expect("get");
    assert_eq!((d.item.as_str(), d.deliveries), ("job", 2));
}

#[test]
fn priorities() {
    on_each_store!(PriorityQueue, |b| {
        let q = b().open::<String>().expect("open");
        q.put(&"low".to_string(), 10).expect("put");
        q.put(&"high".to_string(), 1).expect("put");
        q.put(&"mid".to_string(), 5).expect("put");
        q.put(&"high2".to_string(), 1).expect("put");
        let order: Vec<String> = (0..4).map(|_| q.get().expect("get").item).collect();
        assert_eq!(order, ["high", "high2", "mid", "low"]);
        assert!(matches!(q.try_get(), Err(Error::Empty)));
    });
}

#[test]
fn unique_items_and_canonical_maps() {
    on_each_store!(UniqueQueue, |b| {
        let q = b().codec(Json).open::<Value>().expect("open");
        assert!(q.put(&json!({"k": {"b": 1, "a": 2}})).expect("put").is_some());
        assert!(q.put(&json!({"k": {"a": 2, "b": 1}})).expect("put").is_none(), "key order does not matter");
        assert_eq!(q.len().expect("len"), 1);
        q.get().expect("get");
        assert!(q.put(&json!({"k": {"a": 2, "b": 1}})).expect("put").is_some(), "got items no longer count");
    });
}

/// Issue 11, defect 5: equal maps are one item whatever order they iterate
/// in and whatever the codec. This build turns on serde_json's
/// `preserve_order` (tests/Cargo.toml), as any crate in a user's build can:
/// the canonical form must not depend on it. Each `HashMap` has its own
/// random hasher, so twenty equal maps iterate in (mostly) different orders.
#[test]
fn unique_maps_do_not_depend_on_iteration_order_or_codec() {
    use std::collections::HashMap;
    fn map() -> HashMap<String, u32> {
        (0..20).map(|i| (format!("key{i}"), i)).collect()
    }
    on_each_store!(UniqueQueue, |b| {
        let q = b().codec(Json).open::<Value>().expect("open");
        let forward: Value = serde_json::from_str(r#"{"a":1,"b":{"x":1,"y":2},"c":3}"#).expect("json");
        let backward: Value = serde_json::from_str(r#"{"c":3,"b":{"y":2,"x":1},"a":1}"#).expect("json");
        assert!(q.put(&forward).expect("put").is_some());
        assert!(q.put(&backward).expect("put").is_none(), "the same map in another key order");
        assert_eq!(q.len().expect("len"), 1);
    });
    macro_rules! twenty_maps_are_one_item {
        ($codec:expr) => {
            on_each_store!(UniqueQueue, |b| {
                let q = b().codec($codec).open::<HashMap<String, u32>>().expect("open");
                let accepted = (0..20).filter(|_| q.put(&map()).expect("put").is_some()).count();
                assert_eq!(accepted, 1, "twenty equal maps are one item");
                assert_eq!(q.get().expect("get").item, map());
            });
        };
    }
    twenty_maps_are_one_item!(Json);
    twenty_maps_are_one_item!(persist_queue::Postcard);
    twenty_maps_are_one_item!(persist_queue::MessagePack);
    twenty_maps_are_one_item!(persist_queue::Cbor);
}

#[test]
fn fifo_filo_and_task_done_with_restart() {
    on_each_store!(FiloQueue, |b| {
        let q = b().open::<u32>().expect("open");
        for i in 0..5 {
            q.put(&i).expect("put");
        }
        let got: Vec<u32> = (0..5).map(|_| q.get().expect("get").item).collect();
        assert_eq!(got, [4, 3, 2, 1, 0]);
    });
    let tmp = tempfile::tempdir().expect("tmp");
    let q = FifoQueue::builder(tmp.path()).auto_commit(false).open::<u32>().expect("open");
    for i in 0..10 {
        q.put(&i).expect("put");
    }
    q.get().expect("get");
    q.get().expect("get");
    q.task_done().expect("task_done");
    q.get().expect("get without task_done");
    drop(q);
    let q = FifoQueue::builder(tmp.path()).auto_commit(false).open::<u32>().expect("reopen");
    assert_eq!(
        (q.len().expect("len"), q.unack_count().expect("unacked")),
        (7, 1),
        "leased: not taken back yet"
    );
    drop(q);
    let q =
        FifoQueue::builder(tmp.path()).auto_commit(false).auto_resume(true).open::<u32>().expect("reopen");
    assert_eq!(q.len().expect("len"), 8, "the un-confirmed get came back (persist-queue's recovery)");
    assert_eq!(q.get().expect("get").item, 2);
}

#[test]
fn listing_update_clear_and_shrink() {
    on_each_store!(AckQueue, |b| {
        let q = b().open::<String>().expect("open");
        let ids: Vec<u64> = (0..100).map(|i| q.put(&format!("v{i}")).expect("put")).collect();
        q.update(ids[0], &"changed".to_string()).expect("update");
        let list = q.queue().expect("queue");
        assert_eq!((list.len(), list[0].item.as_str(), list[0].status), (100, "changed", Status::Ready));
        let got = q.get_many(100).expect("get_many");
        assert!(
            q.ack_many(&got.iter().map(|d| d.id).collect::<Vec<_>>())
                .expect("ack_many")
                .iter()
                .all(Result::is_ok)
        );
        assert_eq!(q.clear_acked_data(0, 10, false).expect("clear"), 90);
        assert_eq!(q.acked_count().expect("acked"), 10);
        q.shrink_disk_usage().expect("shrink online");
        q.put(&"after shrink".to_string()).expect("still usable");
        assert!(matches!(q.update(999_999u64, &"x".to_string()), Err(Error::UnknownId(_))), "B10");
    });
}

#[test]
fn wrong_type_is_reported_and_kept() {
    let tmp = tempfile::tempdir().expect("tmp");
    let q = AckQueue::builder(tmp.path()).codec(Json).open::<String>().expect("open");
    q.put(&"text".to_string()).expect("put");
    drop(q);
    let wrong = AckQueue::builder(tmp.path()).codec(Json).open::<u64>().expect("open as u64");
    assert!(matches!(wrong.try_get(), Err(Error::Serialization { .. })));
    assert_eq!(wrong.len().expect("len"), 1, "the item is given back");
    let right = AckQueue::builder(tmp.path()).codec(Json).open::<String>().expect("open");
    assert_eq!(right.get().expect("get").item, "text");
}

/// Issue 11, defect 7: a get that fails to decode as the caller's type
/// spends no delivery, for single and batch gets, on every store.
#[test]
fn wrong_type_reads_spend_no_delivery() {
    on_each_store!(AckQueue, |b| {
        let q = b().codec(Json).open::<Value>().expect("open");
        q.put_many(&[json!("text"), json!(2)]).expect("put");
        let wrong = b().codec(Json).open::<u64>().expect("open as u64");
        for _ in 0..3 {
            assert!(matches!(wrong.try_get(), Err(Error::Serialization { .. })));
            assert!(matches!(wrong.get_many(2), Err(Error::Serialization { .. })));
        }
        let first = q.get().expect("get");
        assert_eq!((first.item, first.deliveries), (json!("text"), 1), "the first real delivery");
        let second = q.get().expect("get");
        assert_eq!((second.item, second.deliveries), (json!(2), 1));
    });
}

#[test]
fn hostile_names_and_ids() {
    let tmp = tempfile::tempdir().expect("tmp");
    for name in ["a`b", "x\"; DROP TABLE t; --", "", "sp ace", "3 OR 1=1"] {
        let r = AckQueue::builder(tmp.path()).name(name).open::<u32>();
        assert!(matches!(r, Err(Error::InvalidConfig(_))), "{name:?} must be refused");
    }
    let q = AckQueue::builder(tmp.path()).name("jobs_2").open::<u32>().expect("valid name");
    q.put(&1).expect("put");
    assert!(q.get_id(u64::MAX).expect("get_id").is_none());
    let other = AckQueue::builder(tmp.path()).name("other").open::<u32>().expect("open");
    assert!(matches!(other.try_get(), Err(Error::Empty)), "names isolate queues in one file");
}

#[test]
fn one_producer_five_consumers() {
    on_each_store!(AckQueue, |b| {
        let q = b().durability(persist_queue::Durability::Buffered).open::<u32>().expect("open");
        let consumers: Vec<_> = (0..5)
            .map(|_| {
                let q = q.clone();
                thread::spawn(move || {
                    (0..200)
                        .map(|_| {
                            let d = q.get_timeout(Duration::from_secs(20)).expect("get");
                            q.ack(&d).expect("ack");
                            d.item
                        })
                        .collect::<Vec<u32>>()
                })
            })
            .collect();
        for i in 0..1000 {
            q.put(&i).expect("put");
        }
        let mut seen = HashSet::new();
        for c in consumers {
            for v in c.join().expect("consumer") {
                assert!(seen.insert(v), "duplicate {v}");
            }
        }
        assert_eq!(seen.len(), 1000);
        assert_eq!(q.acked_count().expect("acked"), 1000);
    });
}

#[test]
fn get_wakes_on_a_put_from_another_process() {
    let tmp = tempfile::tempdir().expect("tmp");
    let q = AckQueue::builder(tmp.path())
        .auto_resume(false)
        .codec(persist_queue::Raw)
        .open::<Vec<u8>>()
        .expect("open");
    let db = tmp.path().join("data.db");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_record_child"))
        .args([db.to_str().expect("path"), "produce_after", "300"])
        .spawn()
        .expect("spawn");
    let start = Instant::now();
    let d = q.get_timeout(Duration::from_secs(30)).expect("woken by the other process's put");
    assert_eq!(d.item, b"late");
    assert!(start.elapsed() >= Duration::from_millis(250), "it waited for the put");
    assert!(child.wait().expect("wait").success());
}

#[test]
fn handles_are_send_sync() {
    fn check<T: Send + Sync + Clone>() {}
    check::<AckQueue<String>>();
    check::<PriorityQueue<u32>>();
    let _ = RecordBuilder::<persist_queue::AckKind>::in_memory();
}

/// persist-queue's test_pdict: add, set, delete, two dicts; and what it
/// lacks: typed keys and iteration.
#[test]
fn pdict() {
    use persist_queue::PDict;
    let tmp = tempfile::tempdir().expect("tmp");
    for d in [
        PDict::builder(tmp.path()).open::<String, u32>().expect("sqlite"),
        PDict::in_memory().open().expect("memory"),
    ] {
        assert_eq!(d.get(&"a".into()).expect("get"), None);
        assert_eq!(d.insert(&"a".into(), &1).expect("insert"), None);
        assert_eq!(d.insert(&"a".into(), &2).expect("overwrite"), Some(1));
        assert!(d.contains_key(&"a".into()).expect("contains"));
        assert_eq!(d.remove(&"missing".into()).expect("remove missing is fine"), None);
        for i in 0..600u32 {
            d.insert(&format!("k{i:04}"), &i).expect("insert");
        }
        assert_eq!(d.len().expect("len"), 601);
        let all: Vec<(String, u32)> = d.iter().collect::<Result<_, _>>().expect("iterate across pages");
        assert_eq!(all.len(), 601);
        assert_eq!(all[0], ("a".to_string(), 2));
        assert!(all.windows(2).all(|w| w[0].0 < w[1].0), "in key order");
        assert_eq!(d.remove(&"a".into()).expect("remove"), Some(2));
        assert_eq!(d.values().count(), 600);
    }
    let nums = PDict::builder(tmp.path()).name("nums").open::<u32, String>().expect("open");
    let texts = PDict::builder(tmp.path()).name("texts").open::<String, String>().expect("open");
    nums.insert(&5, &"int".into()).expect("insert");
    texts.insert(&"5".into(), &"str".into()).expect("insert");
    assert_eq!(nums.get(&5).expect("get").as_deref(), Some("int"), "names isolate maps");
    let mixed = PDict::builder(tmp.path()).name("mixed").codec(Json).open::<Value, u8>().expect("open");
    mixed.insert(&json!(5), &1).expect("insert");
    mixed.insert(&json!("5"), &2).expect("insert");
    assert_eq!(mixed.len().expect("len"), 2, "5 and \"5\" are different keys (persist-queue collides them)");
    drop((nums, texts, mixed));
    let reopened = PDict::builder(tmp.path()).name("nums").open::<u32, String>().expect("reopen");
    assert_eq!(reopened.get(&5).expect("get").as_deref(), Some("int"), "survives a reopen");
}

/// The async face of the record queues, on tokio and on smol: a waiting
/// get wakes on a put from another task; timeouts end in `Empty`.
#[test]
fn async_record_queues_on_tokio_and_smol() {
    let tmp = tempfile::tempdir().expect("tmp");
    let q = AckQueue::builder(tmp.path()).open::<u32>().expect("open").to_async();
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).build().expect("rt");
    rt.block_on(async {
        let consumer = {
            let q = q.clone();
            tokio::spawn(async move {
                let mut got = Vec::new();
                for _ in 0..100 {
                    let d = q.get().await.expect("get");
                    q.ack(&d).await.expect("ack");
                    got.push(d.item);
                }
                got
            })
        };
        for i in 0..100 {
            q.put(i, 0).await.expect("put");
        }
        assert_eq!(consumer.await.expect("consumer"), (0..100).collect::<Vec<_>>());
        assert!(matches!(q.get_timeout(Duration::from_millis(50)).await, Err(Error::Empty)));
    });
    let p = PriorityQueue::in_memory().open::<String>().expect("open").to_async();
    smol::block_on(async {
        let waiter = {
            let p = p.clone();
            smol::spawn(async move { p.get().await })
        };
        smol::Timer::after(Duration::from_millis(30)).await;
        p.put("b".into(), 2).await.expect("put");
        assert_eq!(waiter.await.expect("get").item, "b");
    });
}

/// A batch get where one item does not decode gives back every item of
/// the batch: none is lost (plain queue: they were deleted by the claim) or
/// left in flight (ack queue).
#[test]
fn wrong_type_in_a_batch_loses_nothing() {
    let tmp = tempfile::tempdir().expect("tmp");
    let plain = FifoQueue::builder(tmp.path()).codec(Json).open::<Value>().expect("open");
    plain.put_many(&[json!(1), json!("text"), json!(3)]).expect("put_many");
    let acks = AckQueue::builder(tmp.path()).codec(Json).open::<Value>().expect("open");
    acks.put_many(&[json!(1), json!("text"), json!(3)]).expect("put_many");
    drop((plain, acks));
    let plain = FifoQueue::builder(tmp.path()).codec(Json).open::<u32>().expect("open as u32");
    assert!(matches!(plain.get_many(3), Err(Error::Serialization { .. })));
    assert_eq!(plain.len().expect("len"), 3, "the whole batch is back");
    let acks = AckQueue::builder(tmp.path()).codec(Json).open::<u32>().expect("open as u32");
    assert!(matches!(acks.get_many(3), Err(Error::Serialization { .. })));
    assert_eq!((acks.len().expect("len"), acks.unack_count().expect("unack")), (3, 0));
    let back = FifoQueue::builder(tmp.path()).codec(Json).open::<Value>().expect("open");
    let items: Vec<Value> = back.get_many(3).expect("get_many").into_iter().map(|d| d.item).collect();
    assert_eq!(items, [json!(1), json!("text"), json!(3)], "in their places");
}

/// The host's lease API on every embedded store: a heartbeat keeps an item
/// past its lease; a nack waits out the back-off; a delayed put and the
/// counts of `stats()`; a wrong-type read spends no attempt.
#[test]
fn heartbeats_back_off_and_stats_on_every_embedded_store() {
    use persist_queue::{Backoff, Error, PutOptions};
    use std::time::Duration;
    let tmp = tempfile::tempdir().expect("tmp");
    let lease = Duration::from_millis(150);
    let builders = [
        ("sqlite", AckQueue::builder(tmp.path().join("s"))),
        ("files", AckQueue::files(tmp.path().join("f"))),
        ("memory", AckQueue::in_memory()),
    ];
    for (store, b) in builders {
        let q =
            b.lease(lease).max_attempts(3).backoff(Backoff::Fixed(60_000)).open::<String>().expect("open");
        q.put(&"long".to_string()).expect("put");
        let d = q.get().expect("get");
        let beat = q.keep_alive(&d);
        thread::sleep(lease * 3);
        assert!(matches!(q.try_get(), Err(Error::Empty)), "{store}: the heartbeat kept the lease");
        beat.finish().expect("every beat extended the lease");
        q.nack(&d).expect("nack");
        let s = q.stats().expect("stats");
        assert_eq!((s.ready, s.in_flight, s.delayed), (0, 0, 1), "{store}: the nack waits out its back-off");
        q.put_with(&"soon".to_string(), PutOptions::delayed(Duration::from_millis(1))).expect("put_with");
        thread::sleep(Duration::from_millis(30));
        let soon = q.get_timeout(Duration::from_secs(2)).expect("due");
        assert_eq!((soon.item.as_str(), soon.deliveries), ("soon", 1), "{store}");
        assert!(soon.lease_until > 0, "{store}: the delivery says when its lease ends");
        q.ack(&soon).expect("ack");
        assert_eq!(q.stats().expect("stats").acked, 1, "{store}");
    }
}
