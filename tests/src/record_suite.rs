//! persist-queue's SQLite queue tests (test_sqlqueue.py, test_sqlackqueue.py,
//! test_priorityqueue.py) and regressions for its bugs B4–B15, as generic
//! functions over a record store ([`TableHarness`]).

use persist_queue_core::records::{
    Kind, Lease, Put, RecordError, RecordQueue, Status, StatusSet, Table, Verdict,
};

use crate::record_store::TableHarness;

/// The clock and lease of the tests that are not about leases: an hour,
/// so nothing expires while they run.
const L: Lease = Lease { now: 1_000_000, ms: 3_600_000 };

async fn open<H: TableHarness>(h: &H, kind: Kind, auto_resume: bool) -> RecordQueue<H::T> {
    RecordQueue::open(h.open().await, kind, auto_resume, L).await.expect("open")
}

fn put(p: &str) -> Put<'_> {
    Put::new(p.as_bytes())
}

fn payloads(rs: &[persist_queue_core::records::Record]) -> Vec<String> {
    rs.iter().map(|r| String::from_utf8_lossy(&r.payload).into_owned()).collect()
}

async fn put_all<T: Table>(q: &mut RecordQueue<T>, items: &[&str]) -> Vec<u64> {
    let mut ids = Vec::new();
    for p in items {
        ids.push(q.put(put(p), 1).await.expect("put").expect("id"));
    }
    ids
}

async fn drain<T: Table>(q: &mut RecordQueue<T>, auto_commit: bool) -> Vec<String> {
    let mut out = Vec::new();
    while let Some(r) = q.get(auto_commit, L).await.expect("get") {
        out.push(String::from_utf8_lossy(&r.payload).into_owned());
    }
    out
}

/// FIFO, FILO and priority orders (priority ties by id, not clock).
pub async fn orders<H: TableHarness>() {
    for (kind, expect) in [
        (Kind::FIFO, ["a", "b", "c", "d"]),
        (Kind::FILO, ["d", "c", "b", "a"]),
        (Kind::PRIORITY, ["b", "d", "a", "c"]),
    ] {
        let h = H::new();
        let mut q = open(&h, kind, true).await;
        for (p, prio) in [("a", 5), ("b", -3), ("c", 5), ("d", 0)] {
            q.put(Put { priority: prio, ..put(p) }, 1).await.expect("put");
        }
        assert_eq!(drain(&mut q, true).await, expect, "{kind:?}");
    }
}

/// Ack lifecycle (test_sqlackqueue ack_unack_ack_failed): counts per
/// status, nack returns the item at its place, ack_failed is final.
pub async fn ack_lifecycle<H: TableHarness>() {
    let h = H::new();
    let mut q = open(&h, Kind::ACK, true).await;
    let ids = put_all(&mut q, &["v1", "v2", "v3"]).await;
    for _ in 0..3 {
        q.get(false, L).await.expect("get").expect("item");
    }
    let c = q.counts().await.expect("counts");
    assert_eq!((c.ready, c.unacked), (0, 3));
    q.settle(ids[0], Verdict::Nack).await.expect("nack");
    q.settle(ids[1], Verdict::Fail).await.expect("ack_failed");
    q.settle(ids[2], Verdict::Ack).await.expect("ack");
    let c = q.counts().await.expect("counts");
    assert_eq!((c.ready, c.unacked, c.acked, c.ack_failed), (1, 0, 1, 1));
    let again = q.get(false, L).await.expect("get").expect("the nacked item");
    assert_eq!((again.id, again.deliveries), (ids[0], 2));
    assert!(
        q.get(false, L).await.expect("get").is_none(),
        "failed and acked items are never delivered again"
    );
}

/// Settling an unknown id or an item not in flight is a typed error,
/// never a silent success (B12/B13).
pub async fn settle_errors<H: TableHarness>() {
    let h = H::new();
    let mut q = open(&h, Kind::ACK, true).await;
    let id = q.put(put("x"), 1).await.expect("put").expect("id");
    assert!(matches!(q.settle(999, Verdict::Ack).await, Err(RecordError::UnknownId(999))));
    assert!(matches!(
        q.settle(id, Verdict::Ack).await,
        Err(RecordError::NotInFlight { status: Status::Ready, .. })
    ));
    q.get(false, L).await.expect("get");
    q.settle(id, Verdict::Ack).await.expect("ack");
    assert!(matches!(
        q.settle(id, Verdict::Nack).await,
        Err(RecordError::NotInFlight { status: Status::Acked, .. })
    ));
    assert_eq!(q.counts().await.expect("counts").ready, 0, "a refused nack changes nothing (B12)");
}

/// `get(id)` hands out only a ready item (B12: persist-queue re-delivers
/// acked or in-flight rows), and hostile ids are inert (B4b).
pub async fn get_by_id<H: TableHarness>() {
    let h = H::new();
    let mut q = open(&h, Kind::ACK, true).await;
    let a = q.put(put("a"), 1).await.expect("put").expect("id");
    let b = q.put(put("b"), 1).await.expect("put").expect("id");
    assert_eq!(q.get_id(b, false, L).await.expect("get_id").map(|r| r.id), Some(b));
    assert!(q.get_id(b, false, L).await.expect("get_id").is_none(), "in flight: not handed out again");
    q.settle(b, Verdict::Ack).await.expect("ack");
    assert!(q.get_id(b, false, L).await.expect("get_id").is_none(), "acked: not handed out again");
    assert!(q.get_id(u64::MAX, false, L).await.expect("get_id").is_none());
    assert_eq!(q.get(false, L).await.expect("get").map(|r| r.id), Some(a));
}

/// `next_in_order` walks the order from an id and wraps (FIFO and FILO).
pub async fn next_in_order<H: TableHarness>() {
    let h = H::new();
    let mut q = open(&h, Kind::ACK, true).await;
    let ids = put_all(&mut q, &["v1", "v2", "v3"]).await;
    assert_eq!(q.next_in_order(ids[0], false, L).await.expect("next").map(|r| r.id), Some(ids[1]));
    assert_eq!(q.next_in_order(ids[2], false, L).await.expect("next wraps").map(|r| r.id), Some(ids[0]));
    let h2 = H::new();
    let mut f = open(&h2, Kind::ACK_FILO, true).await;
    let fids = put_all(&mut f, &["w1", "w2", "w3"]).await;
    assert_eq!(f.next_in_order(fids[2], false, L).await.expect("next").map(|r| r.id), Some(fids[1]));
    assert_eq!(f.next_in_order(fids[0], false, L).await.expect("next wraps").map(|r| r.id), Some(fids[2]));
}

/// In-flight items come back after a restart with `auto_resume`, stay in
/// flight without it, and `resume` readies them.
pub async fn resume_after_restart<H: TableHarness>() {
    let h = H::new();
    let mut q = open(&h, Kind::ACK, true).await;
    q.put(put("x"), 1).await.expect("put");
    q.get(false, L).await.expect("get");
    drop(q);
    let mut q = open(&h, Kind::ACK, false).await;
    let c = q.counts().await.expect("counts");
    assert_eq!((c.ready, c.unacked), (0, 1), "in flight across the restart");
    assert_eq!(q.resume().await.expect("resume"), 1);
    assert_eq!(q.get(false, L).await.expect("get").map(|r| r.deliveries), Some(2));
}

/// `clear_acked_data(keep_latest=10)` leaves the 10 newest acked.
pub async fn clear_acked_data<H: TableHarness>() {
    let h = H::new();
    let mut q = open(&h, Kind::ACK, true).await;
    for i in 0..100 {
        q.put(put(&i.to_string()), 1).await.expect("put");
    }
    let got = q.get_many(100, false, L).await.expect("get_many");
    let ids: Vec<u64> = got.iter().map(|r| r.id).collect();
    assert!(q.settle_many(&ids, Verdict::Ack).await.expect("ack_many").iter().all(Result::is_ok));
    assert_eq!(q.clear_done(0, 10, false).await.expect("clear"), 90);
    let left = q.list(StatusSet::ALL).await.expect("list");
    assert_eq!(payloads(&left), (90..100).map(|i| i.to_string()).collect::<Vec<_>>());
    q.compact().await.expect("shrink_disk_usage");
}

/// Plain queues with `auto_commit` off, FILO and priority: the items given
/// out come back until settled, and settling deletes exactly those (B6, B7:
/// persist-queue returns FIFO order and deletes undelivered items).
pub async fn manual_commit_keeps_order<H: TableHarness>() {
    for (kind, first_two, rest) in
        [(Kind::FILO, ["c", "b"], vec!["a"]), (Kind::PRIORITY, ["b", "c"], vec!["a"])]
    {
        let h = H::new();
        let mut q = open(&h, kind, true).await;
        for (p, prio) in [("a", 9), ("b", 1), ("c", 2)] {
            q.put(Put { priority: prio, ..put(p) }, 1).await.expect("put");
        }
        let got = q.get_many(2, false, L).await.expect("get_many");
        assert_eq!(payloads(&got), first_two, "{kind:?} order with auto_commit off");
        let ids: Vec<u64> = got.iter().map(|r| r.id).collect();
        assert!(q.settle_many(&ids, Verdict::Ack).await.expect("task_done").iter().all(Result::is_ok));
        assert_eq!(drain(&mut q, true).await, rest, "{kind:?}: only the settled items are gone");
    }
}

/// Unique queues: an equal live item is refused; once got (plain) or acked
/// (ack queue) it may be put again (B15).
pub async fn unique_items<H: TableHarness>() {
    let h = H::new();
    let mut q = open(&h, Kind::UNIQUE, true).await;
    assert!(q.put(put("x"), 1).await.expect("put").is_some());
    assert!(q.put(put("x"), 1).await.expect("put").is_none());
    assert_eq!(q.counts().await.expect("counts").ready, 1);
    q.get(true, L).await.expect("get");
    assert!(q.put(put("x"), 1).await.expect("put").is_some(), "got items no longer count");

    let h2 = H::new();
    let mut a = open(&h2, Kind::ACK_UNIQUE, true).await;
    let id = a.put(put("y"), 1).await.expect("put").expect("id");
    a.get(false, L).await.expect("get");
    assert!(a.put(put("y"), 1).await.expect("put").is_none(), "in flight still counts");
    a.settle(id, Verdict::Ack).await.expect("ack");
    assert!(a.put(put("y"), 1).await.expect("put").is_some(), "acked items no longer block (B15)");
    let canonical = Put { canonical: Some(b"{\"a\":2,\"b\":1}"), ..Put::new(b"{\"b\":1,\"a\":2}") };
    assert!(a.put(canonical, 1).await.expect("put").is_some());
    let same = Put::new(b"{\"a\":2,\"b\":1}");
    assert!(a.put(same, 1).await.expect("put").is_none(), "equal canonical encodings are the same item");
}

/// `update` replaces a live item's payload; unknown ids and done items are
/// typed errors (B10).
pub async fn update<H: TableHarness>() {
    let h = H::new();
    let mut q = open(&h, Kind::ACK, true).await;
    let id = q.put(put("old"), 1).await.expect("put").expect("id");
    q.update(id, put("new")).await.expect("update");
    assert!(matches!(q.update(id + 1000, put("x")).await, Err(RecordError::UnknownId(_))));
    let r = q.get(false, L).await.expect("get").expect("item");
    assert_eq!(r.payload, b"new");
    q.settle(id, Verdict::Ack).await.expect("ack");
    assert!(matches!(
        q.update(id, put("late")).await,
        Err(RecordError::NotInFlight { status: Status::Acked, .. })
    ));
}

/// The tests' clock: moved by the tests for stores that take the plans'
/// `now`, real time (paused for) for stores with their own clock.
struct Clock<H> {
    now: u64,
    _store: core::marker::PhantomData<H>,
}

/// Leases of the lease tests: short, so that a store with its own clock
/// needs only short pauses.
const LEASE_MS: u64 = 600;

impl<H: TableHarness> Clock<H> {
    fn new() -> Self {
        Clock { now: H::start_time(), _store: core::marker::PhantomData }
    }
    fn lease(&self) -> Lease {
        Lease { now: self.now, ms: LEASE_MS }
    }
    async fn advance(&mut self, ms: u64) {
        self.now += ms;
        if H::OWN_CLOCK {
            H::pause(ms).await;
        }
    }
}

/// A claim leases its items: a second claim does not take them while the
/// lease lasts, takes them back once it ends (another delivery, token + 1),
/// and then the first consumer's late settle is refused (fencing) while
/// the second's stands.
pub async fn leases_expire_and_fence<H: TableHarness>() {
    let h = H::new();
    let mut clock = Clock::<H>::new();
    let mut q = open(&h, Kind::ACK, false).await;
    let id = q.put(put("job"), clock.now).await.expect("put").expect("id");
    let first = q.get(false, clock.lease()).await.expect("get").expect("item");
    assert_eq!((first.id, first.deliveries), (id, 1));
    assert!(q.get(false, clock.lease()).await.expect("get").is_none(), "held while its lease lasts");
    clock.advance(LEASE_MS + 100).await;
    let second = q.get(false, clock.lease()).await.expect("get").expect("taken back after the lease");
    assert_eq!((second.id, second.deliveries), (id, 2));
    let stale = q.settle_leased(&[(id, first.deliveries)], Verdict::Ack, clock.now, 0).await.expect("settle");
    assert!(matches!(stale[0], Err(RecordError::LeaseLost { id: i, token: 1 }) if i == id), "{stale:?}");
    let c = q.counts().await.expect("counts");
    assert_eq!((c.unacked, c.acked), (1, 0), "a refused settle changes nothing");
    let held = q.settle_leased(&[(id, second.deliveries)], Verdict::Ack, clock.now, 0).await.expect("settle");
    assert!(held[0].is_ok(), "{held:?}");
    let late =
        q.settle_leased(&[(id, second.deliveries)], Verdict::Fail, clock.now, 0).await.expect("settle");
    assert!(matches!(late[0], Err(RecordError::NotInFlight { status: Status::Acked, .. })), "{late:?}");
    assert_eq!(q.counts().await.expect("counts").acked, 1);
}

/// `extend` keeps a lease past its end (a heartbeat); a stale token cannot
/// extend; leases survive a restart.
pub async fn extend_and_restart_keep_leases<H: TableHarness>() {
    let h = H::new();
    let mut clock = Clock::<H>::new();
    let mut q = open(&h, Kind::ACK, false).await;
    let id = q.put(put("long job"), clock.now).await.expect("put").expect("id");
    let d = q.get(false, clock.lease()).await.expect("get").expect("item");
    clock.advance(LEASE_MS / 2).await;
    q.extend(id, d.deliveries, Lease { now: clock.now, ms: 3 * LEASE_MS }).await.expect("extend");
    assert!(matches!(
        q.extend(id, d.deliveries + 1, clock.lease()).await,
        Err(RecordError::LeaseLost { .. })
    ));
    drop(q);
    let mut q = open(&h, Kind::ACK, false).await;
    clock.advance(LEASE_MS).await;
    assert!(q.get(false, clock.lease()).await.expect("get").is_none(), "extended, and kept across a restart");
    assert_eq!(q.stats(clock.now).await.expect("stats").expired_leases, 0);
    clock.advance(3 * LEASE_MS).await;
    assert_eq!(q.stats(clock.now).await.expect("stats").expired_leases, 1);
    let again = q.get(false, clock.lease()).await.expect("get").expect("back after the extended lease");
    assert_eq!(again.deliveries, 2);
    assert!(matches!(q.extend(id, d.deliveries, clock.lease()).await, Err(RecordError::LeaseLost { .. })));
}

/// A delayed put is invisible until due, then delivered in order; a nack
/// with a delay likewise; counts show them as delayed.
pub async fn delays_hold_items_until_due<H: TableHarness>() {
    let h = H::new();
    let mut clock = Clock::<H>::new();
    let mut q = open(&h, Kind::ACK, false).await;
    let later = q.put(Put { delay: LEASE_MS, ..put("later") }, clock.now).await.expect("put").expect("id");
    let now = q.put(put("now"), clock.now).await.expect("put").expect("id");
    assert_eq!(q.counts().await.expect("counts").delayed, 1);
    assert!(
        q.get_id(later, false, clock.lease()).await.expect("get_id").is_none(),
        "not due: not by id either"
    );
    let d = q.get(false, clock.lease()).await.expect("get").expect("the ready one");
    assert_eq!(d.id, now);
    assert!(q.get(false, clock.lease()).await.expect("get").is_none(), "the delayed one is not due");
    let nacked = q.settle_leased(&[(now, d.deliveries)], Verdict::Nack, clock.now, 3 * LEASE_MS).await;
    assert!(nacked.expect("nack")[0].is_ok());
    let c = q.counts().await.expect("counts");
    assert_eq!((c.delayed, c.ready, c.unacked), (2, 0, 0));
    clock.advance(LEASE_MS + 100).await;
    let due = q.get(false, clock.lease()).await.expect("get").expect("due now");
    assert_eq!((due.id, due.deliveries), (later, 1));
    assert!(q.settle_leased(&[(later, 1)], Verdict::Ack, clock.now, 0).await.expect("ack")[0].is_ok());
    assert!(q.get(false, clock.lease()).await.expect("get").is_none(), "the nacked one waits longer");
    clock.advance(2 * LEASE_MS + 100).await;
    let back = q.get(false, clock.lease()).await.expect("get").expect("the nacked one, due");
    assert_eq!((back.id, back.deliveries), (now, 2));
}

/// With `max_attempts`, an item nacked on its last attempt, or whose last
/// lease ended, is a dead letter: never delivered again until requeued,
/// then with its attempts counted from 0.
pub async fn attempts_run_out_into_dead_letters<H: TableHarness>() {
    let h = H::new();
    let mut clock = Clock::<H>::new();
    let mut q = open(&h, Kind::ACK, false).await;
    q.set_max_attempts(2);
    let nacked = q.put(put("nacked"), clock.now).await.expect("put").expect("id");
    let expired = q.put(put("expired"), clock.now).await.expect("put").expect("id");
    for attempt in 1..=2 {
        let d = q.get_id(nacked, false, clock.lease()).await.expect("get").expect("nacked item");
        assert_eq!(d.deliveries, attempt);
        let r = q.settle_leased(&[(nacked, d.deliveries)], Verdict::Nack, clock.now, 0).await.expect("nack");
        assert!(r[0].is_ok());
    }
    for attempt in 1..=2 {
        let d = q.get(false, clock.lease()).await.expect("get").expect("expiring item");
        assert_eq!((d.id, d.deliveries), (expired, attempt));
        clock.advance(LEASE_MS + 100).await;
    }
    assert!(q.get(false, clock.lease()).await.expect("get").is_none(), "both are out of attempts");
    let c = q.counts().await.expect("counts");
    assert_eq!((c.ack_failed, c.ready, c.unacked), (2, 0, 0));
    assert_eq!(q.requeue_dead(Some(&[expired, 999])).await.expect("requeue"), 1);
    let d = q.get(false, clock.lease()).await.expect("get").expect("requeued");
    assert_eq!((d.id, d.deliveries), (expired, 1));
    assert_eq!(q.requeue_dead(None).await.expect("requeue all"), 1);
    assert_eq!(q.purge(StatusSet::of(Status::AckFailed)).await.expect("purge"), 0);
}

/// The record suite's tests and the table contract's, named once for every
/// runner: the native one (`record_conformance!`), the browser's
/// (`wasm/tests/conformance.rs`) and the WASI guest's
/// (`tests/wasi-suite`). `with_record_test_names!(callback { ARGS })`
/// expands to `callback! { ARGS suite: NAME, ...; contract: NAME, ... }`.
/// `tests/tests/record_conformance.rs` checks that every public function of
/// both files is listed here.
#[macro_export]
macro_rules! with_record_test_names {
    ($callback:ident { $($args:tt)* }) => {
        $callback! {
            $($args)*
            suite: orders, ack_lifecycle, settle_errors, get_by_id, next_in_order, resume_after_restart,
                clear_acked_data, manual_commit_keeps_order, unique_items, update, leases_expire_and_fence,
                extend_and_restart_keep_leases, delays_hold_items_until_due, attempts_run_out_into_dead_letters;
            contract: ids_are_increasing_and_never_reused, claims_follow_the_order, deleting_claim_removes,
                claim_id_takes_only_ready, transitions_are_conditional, batch_transitions_report_each_id,
                unique_keys_cover_live_records, updates_are_conditional, scans_list_in_order, purge_keeps_latest,
                payloads_of_any_size, restore_undoes_a_claim
        }
    };
}
