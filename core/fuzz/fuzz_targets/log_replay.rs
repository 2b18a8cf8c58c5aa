//! (b) The record log's replay on damaged bytes: a log written through the
//! record rules, then damaged as the input says, is opened (plain, then
//! skipping damage) and every record read. Never a panic; never a record
//! whose payload is not an item as written.

#![no_main]

use libfuzzer_sys::fuzz_target;
use persist_queue_core::records::{
    Kind, Lease, LogConfig, LogTable, Order, Outcome, Plan, Put, RecordQueue, StatusSet, Table, Verdict,
    complete,
};
use persist_queue_core::{Durability, MemoryStorage};
use persist_queue_core_fuzz::{Input, damage, index_of, item};

fuzz_target!(|data: &[u8]| {
    let mut input = Input(data);
    let config = LogConfig { chunk_bytes: 256, compact_min: 512, skip_corrupted: false };
    let table = LogTable::open_with(MemoryStorage::new(), Durability::Synced, config).expect("open");
    // Leases of 500 ms on a clock the input moves: claims take back
    // expired leases, settles are fenced (some stale), puts are delayed.
    let mut now = 1_000u64;
    let mut q =
        complete(RecordQueue::open(table, Kind::ACK, false, Lease { now, ms: 500 })).expect("queue");
    let items = u32::from(input.byte() % 40);
    for i in 0..items {
        let delay = u64::from(input.byte() % 4) * 300;
        complete(q.put(Put { delay, ..Put::new(&item(i)) }, now)).expect("put");
    }
    for _ in 0..input.byte() % 8 {
        now += u64::from(input.byte()) * 10;
        let got = complete(q.get_many(u32::from(input.byte() % 4) + 1, false, Lease { now, ms: 500 }))
            .expect("claim");
        let verdict = match input.byte() % 3 {
            0 => Verdict::Ack,
            1 => Verdict::Nack,
            _ => Verdict::Fail,
        };
        if input.byte() % 2 == 0 {
            let ids: Vec<u64> = got.iter().map(|r| r.id).collect();
            complete(q.settle_many(&ids, verdict)).expect("settle");
        } else {
            let stale = u32::from(input.byte() % 2);
            let leases: Vec<(u64, u32)> = got.iter().map(|r| (r.id, r.deliveries - stale)).collect();
            let delay = u64::from(input.byte() % 3) * 200;
            complete(q.settle_leased(&leases, verdict, now, delay)).expect("settle leased");
        }
    }
    let mut image = q.into_table().into_storage();
    damage(&mut image, &mut input, true);
    for skip_corrupted in [false, true] {
        let config = LogConfig { skip_corrupted, ..config };
        let Ok(mut t) = LogTable::open_with(image.clone(), Durability::Synced, config) else { continue };
        let scan = Plan::Scan { statuses: StatusSet::ALL, order: Order::Fifo, after: None, limit: 0 };
        if let Ok(Outcome::Records(rs)) = complete(t.execute(&scan)) {
            for r in rs {
                index_of(&r.payload).expect("a record as written, never garbage");
            }
        }
    }
});
