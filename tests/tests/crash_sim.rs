//! Seeded simulated crashes: random operations on the fault-injecting
//! storage, a crash at a random write (a torn write at a random byte), then
//! a power cut (synced durability) or a process crash (buffered), a
//! reopen, and the invariants:
//!
//! * the queue opens (no `Corrupted`, no panic);
//! * every item whose put returned is present exactly once, in order;
//! * nothing confirmed (`task_done`, or `get` with autosave) comes back;
//! * the only other item that may appear is the put in flight at the crash.
//!
//! `PQ_CRASH_ITERS` sets the number of seeds (default 10,000); `PQ_SEED`
//! replays one seed. A failure prints its seed.

use persist_queue_core::{
    ChunkQueue, Config, Durability, FaultPlan, FaultyStorage, MemoryStorage, WriteError,
};

#[derive(Default, Debug)]
struct Model {
    acked: Vec<u64>,
    inflight: Vec<u64>,
    popped: usize,
    /// A get or confirmation may have reached storage without returning.
    popped_maybe: usize,
    confirmed: usize,
}

fn payload(id: u64, rng: &mut fastrand::Rng) -> Vec<u8> {
    let mut p = id.to_le_bytes().to_vec();
    p.extend(std::iter::repeat_n(0xAB, rng.usize(0..24)));
    p
}

fn id_of(p: &[u8]) -> Result<u64, String> {
    let b: [u8; 8] = p.get(..8).and_then(|b| b.try_into().ok()).ok_or("short payload")?;
    if p[8..].iter().any(|&x| x != 0xAB) {
        return Err("payload filler damaged".into());
    }
    Ok(u64::from_le_bytes(b))
}

fn run_ops(q: &mut ChunkQueue<FaultyStorage>, m: &mut Model, rng: &mut fastrand::Rng) -> Result<(), String> {
    let mut next = 0u64;
    for _ in 0..rng.usize(1..160) {
        match rng.u8(..10) {
            0..=4 => {
                let p = payload(next, rng);
                match q.put(&p) {
                    Ok(()) => m.acked.push(next),
                    Err(_) => {
                        m.inflight = vec![next];
                        return Ok(());
                    }
                }
                next += 1;
            }
            5 => {
                let ids: Vec<u64> = (next..next + rng.u64(1..6)).collect();
                next += ids.len() as u64;
                let ps: Vec<Vec<u8>> = ids.iter().map(|&i| payload(i, rng)).collect();
                match q.put_many(&ps) {
                    Ok(()) => m.acked.extend(ids),
                    Err(_) => {
                        m.inflight = ids;
                        return Ok(());
                    }
                }
            }
            6..=7 => match q.get() {
                Ok(Some(p)) => {
                    let id = id_of(&p)?;
                    if m.acked.get(m.popped) != Some(&id) {
                        return Err(format!(
                            "before the crash: got {id}, expected {:?}",
                            m.acked.get(m.popped)
                        ));
                    }
                    m.popped += 1;
                    m.popped_maybe = m.popped;
                    if q.config().autosave {
                        m.confirmed = m.popped;
                    }
                }
                Ok(None) => {
                    if m.popped != m.acked.len() {
                        return Err("empty before the crash while items remain".into());
                    }
                }
                Err(_) => {
                    m.popped_maybe = m.popped + 1;
                    return Ok(());
                }
            },
            _ => match q.task_done() {
                Ok(()) => m.confirmed = m.popped,
                Err(WriteError::TaskDoneTooMany) => {}
                Err(_) => return Ok(()),
            },
        }
    }
    Ok(())
}

fn check(seed: u64) -> Result<(), String> {
    let mut rng = fastrand::Rng::with_seed(seed);
    let durability = if rng.bool() { Durability::Synced } else { Durability::Buffered };
    let config = Config {
        chunk_size: rng.u32(1..6),
        durability,
        autosave: rng.u8(..4) == 0,
        codec: "sim".into(),
        ..Config::default()
    };
    let plan = FaultPlan {
        crash_at_write: Some(rng.u64(1..150)),
        torn_keep: rng.usize(0..40),
        ..FaultPlan::default()
    };
    let mut m = Model::default();
    let image = match ChunkQueue::open(FaultyStorage::new(plan), config.clone()) {
        Ok(mut q) => {
            run_ops(&mut q, &mut m, &mut rng)?;
            let storage = q.into_storage();
            if durability.is_synced() { storage.after_power_cut(seed) } else { storage.after_process_crash() }
        }
        // The crash hit the creation itself: nothing was promised.
        Err(_) => MemoryStorage::new(),
    };
    if std::env::var("PQ_SEED").is_ok() {
        let sizes: Vec<String> = image.blobs().iter().map(|(b, v)| format!("{b}:{}", v.len())).collect();
        eprintln!("{config:?}\n{m:?}\nimage: {}", sizes.join(" "));
    }
    let mut image = image;
    // `pq verify` on what the crash left: a torn tail at most, never damage.
    let audit = persist_queue_core::audit(&mut image).map_err(|e| format!("audit: {e}"))?;
    if audit.damaged() {
        return Err(format!("verify reports a crash's leftovers as damage: {:?}", audit.findings));
    }
    let mut q = ChunkQueue::open(image, config).map_err(|e| format!("reopen failed: {e}"))?;
    let mut s = Vec::new();
    while let Some(p) = q.get().map_err(|e| format!("get after reopen failed: {e}"))? {
        s.push(id_of(&p)?);
    }
    let k = match s.first() {
        Some(first) => m.acked.iter().position(|a| a == first).unwrap_or(m.acked.len()),
        None => m.acked.len(),
    };
    if k < m.confirmed {
        return Err(format!("confirmed items came back: resumed at {k}, confirmed {}", m.confirmed));
    }
    if k > m.popped_maybe {
        return Err(format!("items lost: resumed at {k} but only {} were ever got", m.popped_maybe));
    }
    let tail = &m.acked[k..];
    if s.get(..tail.len()) != Some(tail) {
        return Err(format!(
            "acked items missing or out of order: after reopen {s:?}, expected {tail:?} first"
        ));
    }
    let extra = &s[tail.len()..];
    if !m.inflight.starts_with(extra) {
        return Err(format!("unexpected items {extra:?} (in flight: {:?})", m.inflight));
    }
    Ok(())
}

#[test]
fn seeded_crash_points() {
    persist_queue_tests::seeds::for_each_seed("chunk queue", check);
}

/// A failed flush poisons the queue: later writes are refused until a
/// reopen, which finds every put that had returned.
#[test]
fn failed_flush_poisons_until_reopen() {
    let config = Config { durability: Durability::Synced, chunk_size: 3, ..Config::default() };
    // Flush 1 is the creation, 2..=6 the five puts; the 7th fails.
    let plan = FaultPlan { fail_flush: Some(7), ..FaultPlan::default() };
    let mut q = ChunkQueue::open(FaultyStorage::new(plan), config.clone()).expect("open");
    for i in 0..5u8 {
        q.put(&[i]).expect("put");
    }
    assert!(matches!(q.put(&[5]), Err(WriteError::Storage(_))));
    assert!(q.is_poisoned());
    assert!(matches!(q.put(&[6]), Err(WriteError::Poisoned)));
    assert!(matches!(q.get(), Err(persist_queue_core::ReadError::Poisoned)));
    let image = q.into_storage().after_power_cut(1);
    let mut q = ChunkQueue::open(image, config).expect("reopen");
    let mut got = Vec::new();
    while let Some(p) = q.get().expect("get") {
        got.push(p[0]);
    }
    assert_eq!(&got[..5], &[0, 1, 2, 3, 4]);
    assert!(got.len() <= 6, "only the failed put may also be there");
}

/// A failed write poisons the queue too, and a reopen recovers it.
#[test]
fn failed_write_poisons_until_reopen() {
    let config = Config { chunk_size: 2, ..Config::default() };
    let plan = FaultPlan { fail_write: Some(6), ..FaultPlan::default() };
    let mut q = ChunkQueue::open(FaultyStorage::new(plan), config.clone()).expect("open");
    let mut ok = 0u8;
    while q.put(&[ok]).is_ok() {
        ok += 1;
    }
    assert!(matches!(q.put(&[99]), Err(WriteError::Poisoned)));
    let mut q = ChunkQueue::open(q.into_storage().after_process_crash(), config).expect("reopen");
    let mut got = Vec::new();
    while let Some(p) = q.get().expect("get") {
        got.push(p[0]);
    }
    assert_eq!(got, (0..ok).collect::<Vec<_>>());
}
