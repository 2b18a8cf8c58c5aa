//! Seeded simulated crashes of the log table (the file-based record
//! queues): random plans on the fault-injecting storage, a crash at a
//! random write (torn at a random byte), a power cut (synced) or a process
//! crash (buffered), a reopen, and one invariant: the reopened table equals
//! the reference `MemoryTable` that ran every plan that returned, plus the
//! interrupted plan either entirely or not at all.
//!
//! For each of persist-queue's 7 kinds, `PQ_CRASH_ITERS` (default 10,000)
//! seeds of the plans that kind issues; `PQ_SEED` replays one seed.

use persist_queue_core::records::{
    Claimed, Kind, Lease, LogTable, MemoryTable, NewRecord, Order, Outcome, Plan, Status, StatusSet, Table,
    Target, complete, unique_key,
};
use persist_queue_core::{Durability, FaultPlan, FaultyStorage};

/// persist-queue's kinds; each seed runs the plans one of them issues.
const KINDS: [Kind; 7] =
    [Kind::FIFO, Kind::FILO, Kind::PRIORITY, Kind::UNIQUE, Kind::ACK, Kind::ACK_FILO, Kind::ACK_UNIQUE];

/// A random plan of `kind` at time `now` (leases of 150 ms, delays of 0
/// or 100 ms, so that claims take back expired leases and due delays).
fn random_plan(rng: &mut fastrand::Rng, kind: Kind, now: u64) -> Plan {
    let order = kind.order;
    let id = rng.u64(1..40);
    let lease = Lease { now, ms: 150 };
    match rng.u8(..23) {
        0..=6 => Plan::Insert {
            records: (0..rng.usize(1..4))
                .map(|_| {
                    let p = rng.u8(..8);
                    NewRecord {
                        payload: vec![p; rng.usize(0..30)],
                        priority: if kind.order == Order::Priority { i64::from(rng.i8(..)) } else { 0 },
                        timestamp: now,
                        unique_key: kind.unique.then(|| unique_key(&[p])),
                        delay: [0, 0, 100][rng.usize(..3)],
                    }
                })
                .collect(),
        },
        7..=9 => Plan::Claim {
            order,
            limit: rng.u32(1..4),
            then: if kind.keep_done || rng.bool() { Claimed::Unacked } else { Claimed::Deleted },
            lease,
        },
        10 => Plan::ClaimId { id, then: Claimed::Unacked, lease },
        20 | 21 => Plan::Settle {
            leases: (0..rng.usize(1..4)).map(|_| (rng.u64(1..40), rng.u32(1..3))).collect(),
            to: [
                Target::Status(Status::Acked),
                Target::Status(Status::Ready),
                Target::Status(Status::Unacked),
                Target::Status(Status::AckFailed),
                Target::Delete,
            ][rng.usize(..5)],
            now,
            delay: [0, 120][rng.usize(..2)],
        },
        22 => Plan::LeaseInFlight { lease },
        11..=14 => Plan::Transition {
            ids: (0..rng.usize(1..4)).map(|_| rng.u64(1..40)).collect(),
            from: StatusSet::of(Status::Unacked),
            to: [
                Target::Status(Status::Acked),
                Target::Status(Status::Ready),
                Target::Status(Status::AckFailed),
                Target::Delete,
            ][rng.usize(..4)],
        },
        15 => Plan::TransitionAll { from: StatusSet::of(Status::Unacked), to: Target::Status(Status::Ready) },
        16 => {
            Plan::Update { id, payload: vec![9; rng.usize(0..10)], unique_key: None, from: StatusSet::LIVE }
        }
        17 => {
            Plan::Purge { statuses: StatusSet::DONE, keep_latest: rng.u64(0..3), max_delete: rng.u64(0..4) }
        }
        _ => Plan::Compact,
    }
}

fn all(t: &mut impl Table) -> Result<Vec<persist_queue_core::records::Record>, String> {
    match complete(t.execute(&Plan::Scan {
        statuses: StatusSet::ALL,
        order: Order::Fifo,
        after: None,
        limit: 0,
    })) {
        Ok(Outcome::Records(r)) => Ok(r),
        Ok(other) => Err(format!("scan answered {other:?}")),
        Err(e) => Err(format!("scan failed: {e}")),
    }
}

fn check(seed: u64, kind: Kind) -> Result<(), String> {
    let mut rng = fastrand::Rng::with_seed(seed);
    let durability = if rng.bool() { Durability::Synced } else { Durability::Buffered };
    let plan = FaultPlan {
        crash_at_write: Some(rng.u64(1..120)),
        torn_keep: rng.usize(0..64),
        ..FaultPlan::default()
    };
    let mut model = MemoryTable::new();
    let mut maybe = None;
    let image = match LogTable::open(FaultyStorage::new(plan), durability) {
        Err(_) => persist_queue_core::MemoryStorage::new(),
        Ok(mut t) => {
            let mut now = 1_000;
            for _ in 0..rng.usize(1..80) {
                now += rng.u64(0..60);
                let p = random_plan(&mut rng, kind, now);
                let before = model.clone();
                let Ok(expected) = complete(model.execute(&p));
                match complete(t.execute(&p)) {
                    Ok(got) if got == expected => {}
                    Ok(got) => return Err(format!("{p:?}: log table answered {got:?}, model {expected:?}")),
                    Err(_) => {
                        maybe = Some((before, model.clone()));
                        break;
                    }
                }
            }
            let storage = t.into_storage();
            if durability.is_synced() { storage.after_power_cut(seed) } else { storage.after_process_crash() }
        }
    };
    let mut image = image;
    // `pq verify` on what the crash left: a torn tail at most, never damage.
    let audit = persist_queue_core::audit(&mut image).map_err(|e| format!("audit: {e}"))?;
    if audit.damaged() {
        return Err(format!("verify reports a crash's leftovers as damage: {:?}", audit.findings));
    }
    let mut reopened = LogTable::open(image, durability).map_err(|e| format!("reopen failed: {e}"))?;
    let state = all(&mut reopened)?;
    let ok = match &mut maybe {
        None => state == all(&mut model)?,
        Some((before, after)) => state == all(before)? || state == all(after)?,
    };
    if !ok {
        return Err(format!("state after the crash matches neither side of the interrupted plan: {state:?}"));
    }
    // The reopened table keeps working and assigns fresh ids.
    let ids = match complete(reopened.execute(&Plan::Insert {
        records: vec![NewRecord { payload: vec![1], priority: 0, timestamp: 0, unique_key: None, delay: 0 }],
    })) {
        Ok(Outcome::Inserted(ids)) => ids,
        other => return Err(format!("insert after reopen: {other:?}")),
    };
    let max_seen = state.iter().map(|r| r.id).max().unwrap_or(0);
    if ids[0].is_none_or(|id| id <= max_seen) {
        return Err(format!("id {:?} reused after reopen (max stored {max_seen})", ids[0]));
    }
    Ok(())
}

#[test]
fn seeded_crash_points_on_the_log_table() {
    for kind in KINDS {
        persist_queue_tests::seeds::for_each_seed(&format!("{kind:?}"), |seed| check(seed, kind));
    }
}
