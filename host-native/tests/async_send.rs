//! The async record faces' futures are `Send` for any `Send` item type,
//! `Sync` or not (items are encoded before the first await), so they run
//! under `tokio::spawn`. A compile-time check: this file fails to build
//! otherwise.
#![cfg(feature = "async")]

use std::cell::Cell;

use persist_queue::{AckQueue, PutOptions};

fn assert_send<F: Send>(f: F) -> F {
    f
}

#[test]
fn record_futures_are_send_for_items_that_are_not_sync() {
    let dir = tempfile::tempdir().expect("dir");
    let q = AckQueue::builder(dir.path()).open::<Cell<u32>>().expect("open").to_async();
    smol::block_on(async {
        let id = assert_send(q.put(Cell::new(1), 0)).await.expect("put");
        assert_send(q.put_with(Cell::new(2), PutOptions::default())).await.expect("put_with");
        assert_send(q.put_many(vec![Cell::new(3)])).await.expect("put_many");
        assert_send(q.put_many_prioritized(vec![(Cell::new(4), 0)])).await.expect("put_many_prioritized");
        assert_send(q.put_many_with(vec![Cell::new(5)], PutOptions::default())).await.expect("put_many_with");
        let d = assert_send(q.get()).await.expect("get");
        assert_eq!((d.id, d.item.get()), (id, 1));
        q.ack(&d).await.expect("ack");
        assert_eq!(q.len().await.expect("len"), 4);
    });
}
