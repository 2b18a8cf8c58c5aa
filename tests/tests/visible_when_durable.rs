//! A get never returns an item before that item's put has reached the
//! queue's durability: at synced durability a waiting or polling consumer
//! of the file `Queue` sees an item only once the flush covering its put
//! has completed, so nothing a consumer acted on can be erased by a power
//! cut. The storage here holds every flush at a gate the test opens.

use std::thread;
use std::time::Duration;

use persist_queue::Error;
use persist_queue_tests::gated::gated_queue;

#[test]
fn a_synced_put_is_not_visible_before_its_flush_completes() {
    let (q, flush_started, let_through) = gated_queue();
    let producer = thread::spawn({
        let q = q.clone();
        move || q.put(&b"job".to_vec())
    });
    flush_started.recv_timeout(Duration::from_secs(10)).expect("the put's flush started");
    // The put is written but not durable: no consumer may take it.
    assert!(matches!(q.try_get(), Err(Error::Empty)), "an item was handed out before its put was durable");
    let waiting = thread::spawn({
        let q = q.clone();
        move || q.get_timeout(Duration::from_secs(20))
    });
    thread::sleep(Duration::from_millis(50));
    assert!(!waiting.is_finished(), "a waiting get took an item whose put was not durable");
    let_through.send(()).expect("open the gate");
    producer.join().expect("producer").expect("the put returns once durable");
    assert_eq!(waiting.join().expect("consumer").expect("the waiting get wakes once it is durable"), b"job");
}

#[test]
fn an_async_synced_put_waits_for_its_flush_and_wakes_an_async_get() {
    let (q, flush_started, let_through) = gated_queue();
    let q = q.to_async();
    smol::block_on(async {
        let put = smol::spawn({
            let q = q.clone();
            async move { q.put(&b"job".to_vec()).await }
        });
        let get = smol::spawn({
            let q = q.clone();
            async move { q.get_timeout(Duration::from_secs(20)).await }
        });
        // The put's batch is flushed by a blocking-pool task, held at the gate.
        smol::unblock(move || flush_started.recv_timeout(Duration::from_secs(10))).await.expect("flush");
        assert!(matches!(q.try_get().await, Err(Error::Empty)), "visible before durable");
        smol::Timer::after(Duration::from_millis(50)).await;
        assert!(!put.is_finished() && !get.is_finished(), "nothing returns before the flush");
        let_through.send(()).expect("open the gate");
        put.await.expect("the put returns once durable");
        assert_eq!(get.await.expect("the waiting get wakes"), b"job");
    });
}

#[test]
fn a_dropped_async_put_still_lands_and_never_wedges_the_queue() {
    let (q, flush_started, let_through) = gated_queue();
    let aq = q.to_async();
    smol::block_on(async {
        // This put leads its batch and hands the flush to a pool task; the
        // future is dropped while the flush is held at the gate.
        let item = b"dropped".to_vec();
        let put = aq.put(&item);
        let dropped = smol::future::or(async { put.await.map(|()| true) }, async {
            smol::unblock(move || flush_started.recv_timeout(Duration::from_secs(10)).expect("flush")).await;
            Ok(false)
        })
        .await
        .expect("no error");
        assert!(!dropped, "the put cannot have returned before its flush");
    });
    let_through.send(()).expect("open the gate");
    // The batch finished on its own: the next puts (blocking and async)
    // are not stuck behind it, and the dropped put's item was stored.
    for _ in 0..2 {
        let_through.send(()).expect("let the next flushes through");
    }
    q.put(&b"next".to_vec()).expect("a blocking put after the dropped one");
    smol::block_on(aq.put(&b"async next".to_vec())).expect("an async put after the dropped one");
    assert_eq!(q.try_get().expect("first"), b"dropped");
    assert_eq!(q.try_get().expect("second"), b"next");
    assert_eq!(q.try_get().expect("third"), b"async next");
}
