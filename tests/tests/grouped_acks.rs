//! Fenced acks of concurrent consumers share one transaction (one flush):
//! each consumer still gets its own answer, nothing is acked twice, and a
//! delivery acked by two callers at once is settled once (the other is
//! refused, as it would be one after the other). On SQLite and plain
//! files, synced.

use std::collections::HashSet;
use std::sync::{Arc, Barrier, Mutex};
use std::thread;

use persist_queue::{AckQueue, Error, RecordBuilder};

fn stores(dir: &std::path::Path) -> [(&'static str, RecordBuilder<persist_queue::AckKind>); 2] {
    [("sqlite", AckQueue::builder(dir.join("sqlite"))), ("files", AckQueue::files(dir.join("files")))]
}

#[test]
fn four_consumers_ack_every_item_exactly_once() {
    let dir = tempfile::tempdir().expect("dir");
    for (store, builder) in stores(dir.path()) {
        let q = builder.open::<u32>().expect("open");
        q.put_many(&(0..400).collect::<Vec<u32>>()).expect("fill");
        let acked = Arc::new(Mutex::new(Vec::new()));
        let consumers: Vec<_> = (0..4)
            .map(|_| {
                let (q, acked) = (q.clone(), Arc::clone(&acked));
                thread::spawn(move || {
                    while let Ok(d) = q.try_get() {
                        q.ack(&d).expect("each consumer's own ack succeeds");
                        acked.lock().expect("acked").push(d.item);
                    }
                })
            })
            .collect();
        for c in consumers {
            c.join().expect("consumer");
        }
        let acked = acked.lock().expect("acked");
        let distinct: HashSet<u32> = acked.iter().copied().collect();
        assert_eq!((acked.len(), distinct.len()), (400, 400), "{store}: every item acked once");
        let stats = q.stats().expect("stats");
        assert_eq!((stats.ready, stats.in_flight), (0, 0), "{store}: nothing left");
        drop(q);
        // Durable: a reopened queue has nothing to deliver again.
        let (_, builder) = stores(dir.path()).into_iter().find(|(s, _)| *s == store).expect("store");
        let q = builder.open::<u32>().expect("reopen");
        assert!(matches!(q.try_get(), Err(Error::Empty)), "{store}: an acked item came back");
    }
}

#[test]
fn the_same_delivery_acked_twice_at_once_is_settled_once() {
    let dir = tempfile::tempdir().expect("dir");
    for (store, builder) in stores(dir.path()) {
        let q = builder.open::<u32>().expect("open");
        for round in 0..20 {
            q.put(&round).expect("put");
            let d = Arc::new(q.try_get().expect("get"));
            let barrier = Arc::new(Barrier::new(2));
            let ackers: Vec<_> = (0..2)
                .map(|_| {
                    let (q, d, barrier) = (q.clone(), Arc::clone(&d), Arc::clone(&barrier));
                    thread::spawn(move || {
                        barrier.wait();
                        q.ack(&*d)
                    })
                })
                .collect();
            let results: Vec<_> = ackers.into_iter().map(|a| a.join().expect("acker")).collect();
            let ok = results.iter().filter(|r| r.is_ok()).count();
            // The other one gets what a second ack gets after the first.
            let refused = results
                .iter()
                .filter(|r| matches!(r, Err(Error::LeaseLost { .. } | Error::NotInFlight { .. })))
                .count();
            assert_eq!((ok, refused), (1, 1), "{store}, round {round}: {results:?}");
        }
        assert_eq!(q.stats().expect("stats").in_flight, 0, "{store}");
    }
}
