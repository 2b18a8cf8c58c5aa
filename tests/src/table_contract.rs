//! The record-store contract (`Plan` → `Table` → `Outcome`), checked the
//! same way on every table: each assertion is one sentence of a plan's doc.

use persist_queue_core::records::{
    Claimed, Counts, Lease, NewRecord, Order, OrderKey, Outcome, Plan, Record, Status, StatusSet, Table,
    Target, unique_key,
};

fn rec(payload: &str, priority: i64) -> NewRecord {
    NewRecord { payload: payload.as_bytes().to_vec(), priority, timestamp: 1000, unique_key: None, delay: 0 }
}

/// An hour's lease: nothing expires while these tests run.
const L: Lease = Lease { now: 1_000_000, ms: 3_600_000 };

async fn execute<T: Table>(t: &mut T, plan: Plan) -> Outcome {
    t.execute(&plan).await.unwrap_or_else(|e| panic!("{plan:?} failed: {e}"))
}

fn ids_of(o: &Outcome) -> Vec<u64> {
    match o {
        Outcome::Records(r) => r.iter().map(|r| r.id).collect(),
        other => panic!("expected records, got {other:?}"),
    }
}

async fn insert<T: Table>(t: &mut T, records: Vec<NewRecord>) -> Vec<Option<u64>> {
    match execute(t, Plan::Insert { records }).await {
        Outcome::Inserted(ids) => ids,
        other => panic!("expected Inserted, got {other:?}"),
    }
}

/// Ids: assigned increasing, never reused after deletion.
pub async fn ids_are_increasing_and_never_reused<T: Table>(mut t: T) {
    let a = insert(&mut t, vec![rec("a", 0), rec("b", 0)]).await;
    let (Some(a0), Some(a1)) = (a[0], a[1]) else { panic!("ids expected") };
    assert!(a1 > a0);
    execute(&mut t, Plan::Transition { ids: vec![a1], from: StatusSet::ALL, to: Target::Delete }).await;
    let b = insert(&mut t, vec![rec("c", 0)]).await;
    let b0 = b[0].expect("id");
    assert!(b0 > a1, "a deleted id is never reused");
    // Empty the table by a claim that deletes: the newest id stays taken,
    // invisible to every read.
    let taken =
        execute(&mut t, Plan::Claim { order: Order::Fifo, limit: 10, then: Claimed::Deleted, lease: L })
            .await;
    assert!(matches!(&taken, Outcome::Records(r) if r.len() == 2), "{taken:?}");
    assert!(
        matches!(execute(&mut t, Plan::Fetch { ids: vec![a0, b0] }).await, Outcome::Records(r) if r.is_empty())
    );
    let scan =
        execute(&mut t, Plan::Scan { statuses: StatusSet::ALL, order: Order::Fifo, after: None, limit: 0 })
            .await;
    assert!(matches!(scan, Outcome::Records(r) if r.is_empty()));
    assert!(matches!(execute(&mut t, Plan::Count).await, Outcome::Counts(c) if c == Counts::default()));
    let c = insert(&mut t, vec![rec("d", 0)]).await;
    assert!(c[0].expect("id") > b0, "the newest id, deleted, is never reused");
}

/// Claims take ready records in order, mark them in flight with a delivery
/// counted, and never hand the same record out twice.
pub async fn claims_follow_the_order<T: Table>(mut t: T) {
    let ids: Vec<u64> = insert(&mut t, vec![rec("a", 5), rec("b", -1), rec("c", 5), rec("d", 0)])
        .await
        .into_iter()
        .map(|i| i.expect("id"))
        .collect();
    let fifo =
        execute(&mut t, Plan::Claim { order: Order::Fifo, limit: 1, then: Claimed::Unacked, lease: L }).await;
    assert_eq!(ids_of(&fifo), [ids[0]]);
    let Outcome::Records(r) = &fifo else { unreachable!() };
    assert_eq!((r[0].status, r[0].deliveries, r[0].payload.as_slice()), (Status::Unacked, 1, &b"a"[..]));
    let filo =
        execute(&mut t, Plan::Claim { order: Order::Filo, limit: 1, then: Claimed::Unacked, lease: L }).await;
    assert_eq!(ids_of(&filo), [ids[3]]);
    let prio =
        execute(&mut t, Plan::Claim { order: Order::Priority, limit: 5, then: Claimed::Unacked, lease: L })
            .await;
    assert_eq!(
        ids_of(&prio),
        [ids[1], ids[2]],
        "lower priority first, ties by id; in-flight records are not taken"
    );
    let none =
        execute(&mut t, Plan::Claim { order: Order::Fifo, limit: 1, then: Claimed::Unacked, lease: L }).await;
    assert_eq!(ids_of(&none), Vec::<u64>::new());
}

/// A deleting claim removes what it returns.
pub async fn deleting_claim_removes<T: Table>(mut t: T) {
    insert(&mut t, vec![rec("a", 0), rec("b", 0)]).await;
    let o =
        execute(&mut t, Plan::Claim { order: Order::Fifo, limit: 1, then: Claimed::Deleted, lease: L }).await;
    let Outcome::Records(r) = o else { panic!("records") };
    assert_eq!(r[0].payload, b"a");
    assert_eq!(execute(&mut t, Plan::Count).await, Outcome::Counts(Counts { ready: 1, ..Counts::default() }));
}

/// `ClaimId` takes only a ready record.
pub async fn claim_id_takes_only_ready<T: Table>(mut t: T) {
    let id = insert(&mut t, vec![rec("a", 0)]).await[0].expect("id");
    assert_eq!(ids_of(&execute(&mut t, Plan::ClaimId { id, then: Claimed::Unacked, lease: L }).await), [id]);
    assert_eq!(
        ids_of(&execute(&mut t, Plan::ClaimId { id, then: Claimed::Unacked, lease: L }).await),
        Vec::<u64>::new(),
        "in flight"
    );
    assert_eq!(
        ids_of(&execute(&mut t, Plan::ClaimId { id: id + 100, then: Claimed::Unacked, lease: L }).await),
        Vec::<u64>::new()
    );
}

/// Transitions are conditional and report each id's status before.
pub async fn transitions_are_conditional<T: Table>(mut t: T) {
    let ids: Vec<u64> =
        insert(&mut t, vec![rec("a", 0), rec("b", 0)]).await.into_iter().map(|i| i.expect("id")).collect();
    execute(&mut t, Plan::ClaimId { id: ids[0], then: Claimed::Unacked, lease: L }).await;
    let o = execute(
        &mut t,
        Plan::Transition {
            ids: vec![ids[0], ids[1], 999_999],
            from: StatusSet::of(Status::Unacked),
            to: Target::Status(Status::Acked),
        },
    )
    .await;
    assert_eq!(o, Outcome::Before(vec![Some(Status::Unacked), Some(Status::Ready), None]));
    assert_eq!(
        execute(&mut t, Plan::Count).await,
        Outcome::Counts(Counts { ready: 1, acked: 1, ..Counts::default() })
    );
    execute(&mut t, Plan::ClaimId { id: ids[1], then: Claimed::Unacked, lease: L }).await;
    let twice = execute(
        &mut t,
        Plan::Transition {
            ids: vec![ids[1], ids[1]],
            from: StatusSet::of(Status::Unacked),
            to: Target::Delete,
        },
    )
    .await;
    assert_eq!(
        twice,
        Outcome::Before(vec![Some(Status::Unacked), None]),
        "a repeated id sees its earlier change"
    );
    let id2 = insert(&mut t, vec![rec("c", 0)]).await[0].expect("id");
    let all = execute(
        &mut t,
        Plan::TransitionAll { from: StatusSet::of(Status::Ready), to: Target::Status(Status::AckFailed) },
    )
    .await;
    assert_eq!(all, Outcome::Count(1));
    let Outcome::Records(r) = execute(&mut t, Plan::Fetch { ids: vec![id2] }).await else {
        panic!("records")
    };
    assert_eq!(r[0].status, Status::AckFailed);
}

/// A transition of many distinct ids (the batch path of SQL tables) reports
/// the same as one id at a time: in flight, ready, done, unknown.
pub async fn batch_transitions_report_each_id<T: Table>(mut t: T) {
    let recs = (0..30).map(|i| rec(&format!("r{i}"), 0)).collect();
    let ids: Vec<u64> = insert(&mut t, recs).await.into_iter().map(|i| i.expect("id")).collect();
    execute(&mut t, Plan::Claim { order: Order::Fifo, limit: 20, then: Claimed::Unacked, lease: L }).await;
    execute(&mut t, Plan::Transition { ids: ids[..5].to_vec(), from: StatusSet::ALL, to: Target::Delete })
        .await;
    let mut asked = ids.clone();
    asked.push(999_999);
    let acked = execute(
        &mut t,
        Plan::Transition {
            ids: asked.clone(),
            from: StatusSet::of(Status::Unacked),
            to: Target::Status(Status::Acked),
        },
    )
    .await;
    let mut want = vec![None; 5];
    want.extend(vec![Some(Status::Unacked); 15]);
    want.extend(vec![Some(Status::Ready); 10]);
    want.push(None);
    assert_eq!(acked, Outcome::Before(want));
    let both = StatusSet::of(Status::Ready).with(Status::Acked);
    let deleted = execute(&mut t, Plan::Transition { ids: asked, from: both, to: Target::Delete }).await;
    let mut want = vec![None; 5];
    want.extend(vec![Some(Status::Acked); 15]);
    want.extend(vec![Some(Status::Ready); 10]);
    want.push(None);
    assert_eq!(deleted, Outcome::Before(want));
    assert_eq!(execute(&mut t, Plan::Count).await, Outcome::Counts(Counts::default()));
}

/// Uniqueness covers live records only; done records free their key.
pub async fn unique_keys_cover_live_records<T: Table>(mut t: T) {
    let k = unique_key(b"same");
    let u = |p: &str| NewRecord { unique_key: Some(k), ..rec(p, 0) };
    let ids = insert(&mut t, vec![u("first"), u("again in the same plan")]).await;
    assert!(ids[0].is_some() && ids[1].is_none());
    assert_eq!(insert(&mut t, vec![u("later")]).await, vec![None]);
    let id = ids[0].expect("id");
    execute(&mut t, Plan::ClaimId { id, then: Claimed::Unacked, lease: L }).await;
    assert_eq!(insert(&mut t, vec![u("while in flight")]).await, vec![None]);
    execute(
        &mut t,
        Plan::Transition { ids: vec![id], from: StatusSet::ALL, to: Target::Status(Status::Acked) },
    )
    .await;
    assert!(
        insert(&mut t, vec![u("after ack")]).await[0].is_some(),
        "an acked item no longer blocks an equal one (B15)"
    );
}

/// A restore puts back a record a claim returned, deleted or still in
/// flight: ready, with the deliveries it is given; an in-flight record
/// keeps its own unique key (the host may not be able to compute it).
pub async fn restore_undoes_a_claim<T: Table>(mut t: T) {
    let k = unique_key(b"kept");
    let ids = insert(&mut t, vec![NewRecord { unique_key: Some(k), ..rec("a", 0) }, rec("b", 0)]).await;
    let claimed =
        match execute(&mut t, Plan::Claim { order: Order::Fifo, limit: 1, then: Claimed::Unacked, lease: L })
            .await
        {
            Outcome::Records(r) => r,
            other => panic!("expected records, got {other:?}"),
        };
    assert_eq!((claimed.len(), claimed[0].deliveries), (1, 1));
    let undone = Record { deliveries: 0, ..claimed[0].clone() };
    execute(&mut t, Plan::Restore { record: undone, unique_key: None }).await;
    assert_eq!(execute(&mut t, Plan::Count).await, Outcome::Counts(Counts { ready: 2, ..Counts::default() }));
    let again =
        execute(&mut t, Plan::Claim { order: Order::Fifo, limit: 1, then: Claimed::Unacked, lease: L }).await;
    assert!(
        matches!(&again, Outcome::Records(r) if r[0].id == ids[0].expect("id") && r[0].deliveries == 1),
        "first again, the undone delivery not counted: {again:?}"
    );
    assert_eq!(
        insert(&mut t, vec![NewRecord { unique_key: Some(k), ..rec("equal", 0) }]).await,
        vec![None],
        "the restored record kept its unique key"
    );
}

/// Updates replace the payload of records in `from` only, and refuse a key
/// held by another live record.
pub async fn updates_are_conditional<T: Table>(mut t: T) {
    let ids: Vec<u64> = insert(
        &mut t,
        vec![
            NewRecord { unique_key: Some(unique_key(b"x")), ..rec("x", 0) },
            NewRecord { unique_key: Some(unique_key(b"y")), ..rec("y", 0) },
        ],
    )
    .await
    .into_iter()
    .map(|i| i.expect("id"))
    .collect();
    let up = |id, p: &str| Plan::Update {
        id,
        payload: p.as_bytes().to_vec(),
        unique_key: Some(unique_key(p.as_bytes())),
        from: StatusSet::LIVE,
    };
    assert_eq!(execute(&mut t, up(ids[0], "y")).await, Outcome::Duplicate);
    assert_eq!(execute(&mut t, up(ids[0], "z")).await, Outcome::Before(vec![Some(Status::Ready)]));
    let Outcome::Records(r) = execute(&mut t, Plan::Fetch { ids: vec![ids[0]] }).await else {
        panic!("records")
    };
    assert_eq!(r[0].payload, b"z");
    assert_eq!(execute(&mut t, up(999_999, "q")).await, Outcome::Before(vec![None]));
}

/// Payloads of every size come back byte for byte through every plan
/// (stores may keep large ones apart from the record: IndexedDB does).
pub async fn payloads_of_any_size<T: Table>(mut t: T) {
    let sizes = [0usize, 1, 511, 512, 513, 4096, 100_000];
    let bytes = |n: usize, salt: u8| {
        (0..n).map(|i| (i as u8).wrapping_mul(31).wrapping_add(salt)).collect::<Vec<u8>>()
    };
    let records = sizes
        .iter()
        .map(|&n| NewRecord {
            payload: bytes(n, 1),
            priority: 0,
            timestamp: 1000,
            unique_key: None,
            delay: 0,
        })
        .collect();
    let ids: Vec<u64> = insert(&mut t, records).await.into_iter().map(|i| i.expect("id")).collect();
    let payloads = |o: Outcome| match o {
        Outcome::Records(r) => r.into_iter().map(|r| r.payload.len()).collect::<Vec<_>>(),
        other => panic!("expected records, got {other:?}"),
    };
    let fetched = execute(&mut t, Plan::Fetch { ids: ids.clone() }).await;
    assert!(
        matches!(&fetched, Outcome::Records(r) if r.iter().zip(&sizes).all(|(r, &n)| r.payload == bytes(n, 1)))
    );
    // An update swaps small and large.
    execute(
        &mut t,
        Plan::Update { id: ids[1], payload: bytes(70_000, 2), unique_key: None, from: StatusSet::LIVE },
    )
    .await;
    execute(
        &mut t,
        Plan::Update { id: ids[6], payload: bytes(3, 2), unique_key: None, from: StatusSet::LIVE },
    )
    .await;
    let claimed =
        execute(&mut t, Plan::Claim { order: Order::Fifo, limit: 3, then: Claimed::Unacked, lease: L }).await;
    assert_eq!(payloads(claimed), [0, 70_000, 511]);
    let after = execute(&mut t, Plan::Fetch { ids: vec![ids[1], ids[6]] }).await;
    assert!(
        matches!(&after, Outcome::Records(r) if r[0].payload == bytes(70_000, 2) && r[1].payload == bytes(3, 2))
    );
    // A deleting claim returns the payload; a restore puts it back.
    let taken =
        match execute(&mut t, Plan::Claim { order: Order::Fifo, limit: 2, then: Claimed::Deleted, lease: L })
            .await
        {
            Outcome::Records(r) => r,
            other => panic!("expected records, got {other:?}"),
        };
    assert_eq!(taken.iter().map(|r| r.payload.clone()).collect::<Vec<_>>(), [bytes(512, 1), bytes(513, 1)]);
    for r in taken.clone() {
        execute(&mut t, Plan::Restore { record: r, unique_key: None }).await;
    }
    let back = execute(&mut t, Plan::Fetch { ids: vec![taken[0].id, taken[1].id] }).await;
    assert!(
        matches!(&back, Outcome::Records(r) if r.iter().zip(&taken).all(|(a, b)| a.payload == b.payload))
    );
    let scan =
        execute(&mut t, Plan::Scan { statuses: StatusSet::ALL, order: Order::Fifo, after: None, limit: 0 })
            .await;
    assert_eq!(payloads(scan), [0, 70_000, 511, 512, 513, 4096, 3]);
}

/// Scans list in order, resume after a key, and change nothing.
pub async fn scans_list_in_order<T: Table>(mut t: T) {
    let ids: Vec<u64> = insert(&mut t, vec![rec("a", 3), rec("b", 1), rec("c", 2)])
        .await
        .into_iter()
        .map(|i| i.expect("id"))
        .collect();
    let scan = |after, limit| Plan::Scan { statuses: StatusSet::ALL, order: Order::Priority, after, limit };
    assert_eq!(ids_of(&execute(&mut t, scan(None, 0)).await), [ids[1], ids[2], ids[0]]);
    assert_eq!(ids_of(&execute(&mut t, scan(Some(OrderKey { priority: 1, id: ids[1] }), 1)).await), [ids[2]]);
    assert_eq!(execute(&mut t, Plan::Count).await, Outcome::Counts(Counts { ready: 3, ..Counts::default() }));
    let Outcome::Records(fetched) = execute(&mut t, Plan::Fetch { ids: vec![ids[2], 999_999, ids[0]] }).await
    else {
        panic!("records")
    };
    assert_eq!(fetched.iter().map(|r| r.id).collect::<Vec<_>>(), [ids[2], ids[0]]);
}

/// Purge deletes newest first, keeps the latest, and respects the limit.
pub async fn purge_keeps_latest<T: Table>(mut t: T) {
    let ids: Vec<u64> = insert(&mut t, (0..10).map(|i| rec(&i.to_string(), 0)).collect())
        .await
        .into_iter()
        .flatten()
        .collect();
    execute(
        &mut t,
        Plan::Transition { ids: ids.clone(), from: StatusSet::ALL, to: Target::Status(Status::Acked) },
    )
    .await;
    let o = execute(
        &mut t,
        Plan::Purge { statuses: StatusSet::of(Status::Acked), keep_latest: 3, max_delete: 4 },
    )
    .await;
    assert_eq!(o, Outcome::Count(4));
    let Outcome::Records(left) = execute(&mut t, Plan::Fetch { ids: ids.clone() }).await else {
        panic!("records")
    };
    let left: Vec<u64> = left.iter().map(|r| r.id).collect();
    assert_eq!(left, [ids[0], ids[1], ids[2], ids[7], ids[8], ids[9]], "newest 3 kept, the next 4 deleted");
    assert_eq!(execute(&mut t, Plan::Compact).await, Outcome::Done);
}
