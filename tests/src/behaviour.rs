//! QueueStorage-level behaviours that do not depend on the serializer.

use std::collections::HashSet;
use std::thread;

use persist_queue::{ConfigError, Durability, Error, Json, Misconfiguration, Postcard};

use crate::harness::Harness;

/// Bytes that do not decode as the requested type: a `Serialization`
/// error, and the item stays in the queue for a reader of the right type.
pub fn wrong_type_is_kept<H: Harness>() {
    let h = H::new();
    let q = h.open::<String, _>(h.builder().codec(Json)).expect("open");
    q.put(&"hello".to_string()).expect("put");
    drop(q);
    let wrong = h.open::<u64, _>(h.builder().codec(Json)).expect("open as u64");
    assert!(matches!(wrong.try_get(), Err(Error::Serialization { codec: "json", .. })));
    assert_eq!(wrong.len(), 1);
    drop(wrong);
    let q = h.open::<String, _>(h.builder().codec(Json)).expect("open");
    assert_eq!(q.try_get().expect("get"), "hello");

    let h = H::new();
    let q = h.open::<String, _>(h.builder()).expect("open");
    q.put(&"hello".to_string()).expect("put");
    drop(q);
    let wrong = h.open::<u8, _>(h.builder()).expect("open as u8");
    assert!(matches!(wrong.try_get(), Err(Error::Serialization { codec: "postcard", .. })));
    assert_eq!(wrong.len(), 1);
}

/// A queue written with one serializer refuses to open with another.
pub fn codec_mismatch<H: Harness>() {
    let h = H::new();
    let q = h.open::<String, _>(h.builder().codec(Json)).expect("open");
    q.put(&"x".to_string()).expect("put");
    drop(q);
    match h.open::<String, _>(h.builder().codec(Postcard)) {
        Err(Error::CodecMismatch { stored, requested }) => {
            assert_eq!((stored.as_str(), requested.as_str()), ("json", "postcard"));
        }
        other => panic!("expected CodecMismatch, got {:?}", other.map(|q| q.len())),
    }
}

/// Bad settings are refused at open, before anything is written.
pub fn invalid_config<H: Harness>() {
    let h = H::new();
    let r = h.open::<String, _>(h.builder().chunk_size(0));
    assert!(matches!(r, Err(Error::InvalidConfig(ref m)) if m.to_string().contains("chunk_size")), "{r:?}");
    assert!(matches!(r, Err(Error::InvalidConfig(Misconfiguration::Queue(ConfigError::ZeroChunkSize)))));
    let r = h.open::<String, _>(h.builder().max_item_size(0));
    assert!(
        matches!(r, Err(Error::InvalidConfig(Misconfiguration::Queue(ConfigError::MaxItemSize)))),
        "{r:?}"
    );
}

/// 8 producer threads at synced durability (sharing flushes): every put
/// that returned is there after a reopen, once.
pub fn synced_producers<H: Harness>() {
    let h = H::new();
    let q = h.open::<u64, _>(h.builder().durability(Durability::Synced).chunk_size(64)).expect("open");
    let handles: Vec<_> = (0..8u64)
        .map(|t| {
            let q = q.clone();
            thread::spawn(move || {
                for i in 0..100 {
                    q.put(&(t * 1000 + i)).expect("put");
                }
            })
        })
        .collect();
    for t in handles {
        t.join().expect("producer");
    }
    drop(q);
    let q = h.open::<u64, _>(h.builder().durability(Durability::Synced)).expect("reopen");
    let mut seen = HashSet::new();
    let mut last = [None::<u64>; 8];
    while let Ok(v) = q.try_get() {
        assert!(seen.insert(v), "duplicate {v}");
        let t = (v / 1000) as usize;
        assert!(last[t] < Some(v), "a producer's items keep their order");
        last[t] = Some(v);
    }
    assert_eq!(seen.len(), 800);
}

/// The async face on tokio: 2 producers, 2 consumers, 2,000 items.
pub fn async_tokio<H: Harness>() {
    let h = H::new();
    let q = h.open::<u64, _>(h.builder()).expect("open").to_async();
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).build().expect("runtime");
    let got = rt.block_on(async move {
        let mut tasks = Vec::new();
        for p in 0..2u64 {
            let q = q.clone();
            tasks.push(tokio::spawn(async move {
                for i in 0..1000 {
                    q.put(&(p * 10_000 + i)).await.expect("put");
                }
                Vec::new()
            }));
        }
        for _ in 0..2 {
            let q = q.clone();
            tasks.push(tokio::spawn(async move {
                let mut got = Vec::new();
                for _ in 0..1000 {
                    got.push(q.get().await.expect("get"));
                    q.task_done().await.expect("task_done");
                }
                got
            }));
        }
        let mut all = Vec::new();
        for t in tasks {
            all.extend(t.await.expect("task"));
        }
        q.join().await;
        all
    });
    let unique: HashSet<u64> = got.iter().copied().collect();
    assert_eq!((got.len(), unique.len()), (2000, 2000));
}

/// The async face on smol, at synced durability (flushes on the blocking
/// pool): a get waiting on an empty queue wakes when another task puts.
pub fn async_smol<H: Harness>() {
    let h = H::new();
    let q = h.open::<String, _>(h.builder().durability(Durability::Synced)).expect("open").to_async();
    smol::block_on(async {
        let consumer = {
            let q = q.clone();
            smol::spawn(async move { q.get().await })
        };
        smol::Timer::after(std::time::Duration::from_millis(50)).await;
        q.put(&"wake".to_string()).await.expect("put");
        assert_eq!(consumer.await.expect("get"), "wake");
        assert!(matches!(q.try_get().await, Err(Error::Empty)));
    });
}
