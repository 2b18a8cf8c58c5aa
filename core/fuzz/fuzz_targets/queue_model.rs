//! (c) Operation sequences against a model, with power cuts and damage:
//! a synced file queue on `FaultyStorage` runs puts, gets, task_dones and
//! flush failures as the input says; the power is cut at a point the
//! input picks (unflushed writes lost, torn at any byte), the image may
//! be damaged, then it is reopened. Every item whose put returned and
//! whose task_done did not is there, in order — or the open or a get
//! reports the damage. An item done before the cut never comes back
//! unless a damaged checkpoint was reported... or replaced by an older
//! intact one, which only delivers again, never loses.

#![no_main]

use std::collections::VecDeque;

use libfuzzer_sys::fuzz_target;
use persist_queue_core::{ChunkQueue, Config, Durability, FaultPlan, FaultyStorage, ReadError, WriteError};
use persist_queue_core_fuzz::{Input, damage, index_of, item};

fuzz_target!(|data: &[u8]| {
    let mut input = Input(data);
    let config = Config {
        chunk_size: u32::from(input.byte() % 4) + 1,
        durability: Durability::Synced,
        ..Config::default()
    };
    let plan = FaultPlan {
        crash_at_write: Some(u64::from(input.byte()) + 1),
        torn_keep: usize::from(input.byte() % 24),
        fail_flush: (input.byte() % 8 == 0).then(|| u64::from(input.byte() % 16) + 1),
        ..FaultPlan::default()
    };
    let Ok(mut q) = ChunkQueue::open(FaultyStorage::new(plan), config.clone()) else { return };
    // Acknowledged and not done, in order; `taken` of them got, not done.
    let mut live: VecDeque<u32> = VecDeque::new();
    let mut taken = 0usize;
    let mut next = 0u32;
    // Whether the last operation failed midway (its item may or may not
    // have reached the disk).
    let mut maybe: Option<u32> = None;
    while !input.is_empty() {
        match input.byte() % 4 {
            0 | 1 => match q.put(&item(next)) {
                Ok(()) => {
                    live.push_back(next);
                    next += 1;
                }
                Err(_) => {
                    maybe = Some(next);
                    break;
                }
            },
            2 => match q.get() {
                Ok(Some(bytes)) => {
                    let i = index_of(&bytes).expect("an item as written");
                    assert_eq!(Some(&i), live.get(taken), "before the cut: in order");
                    taken += 1;
                }
                Ok(None) => assert_eq!(taken, live.len(), "empty while items remain"),
                Err(_) => break,
            },
            _ => match q.task_done() {
                Ok(()) => {
                    live.drain(..taken);
                    taken = 0;
                }
                Err(WriteError::TaskDoneTooMany) => {}
                Err(_) => {
                    // Failed midway: the checkpoint may have reached the
                    // disk, so the taken items may be done.
                    live.drain(..taken);
                    taken = 0;
                    break;
                }
            },
        }
    }
    let seed = u64::from(input.byte());
    let mut image = q.into_storage().after_power_cut(seed);
    let trailing_zeros = |image: &persist_queue_core::MemoryStorage| -> Vec<usize> {
        image.blobs().values().map(|b| b.iter().rev().take_while(|&&x| x == 0).count()).collect()
    };
    let before = trailing_zeros(&image);
    let damaged = damage(&mut image, &mut Input(data.get(data.len() / 2..).unwrap_or_default()), false);
    // Damage that leaves a file ending in more zeros than it did: from
    // inside a record to the end, that is what a torn append (of one
    // record or of a put_many) looks like, and recovery may take it for one
    // and cut the records it covers (FORMAT.md, "What recovery cannot
    // tell"): then a suffix of the acknowledged items may be missing, never
    // one in the middle, and at most the records of the newest chunk.
    let zero_tail = trailing_zeros(&image).iter().zip(&before).any(|(after, before)| after > before);
    let chunk_size = config.chunk_size;
    let mut q = match ChunkQueue::open(image, config) {
        Ok(q) => q,
        Err(e) => {
            assert!(damaged, "an undamaged queue opens after a power cut: {e:?}");
            return;
        }
    };
    let mut got = Vec::new();
    loop {
        match q.get() {
            Ok(Some(bytes)) => got.push(index_of(&bytes).expect("an item as written, never garbage")),
            Ok(None) => break,
            Err(ReadError::Corrupted(_)) if damaged => return,
            Err(e) => panic!("{e:?}"),
        }
    }
    // Allowed beyond the live items: the one whose put failed midway, and
    // (redelivery) items done before the cut whose checkpoint was lost.
    let expected: Vec<u32> = live.iter().copied().collect();
    let tail: Vec<u32> = got.iter().copied().filter(|i| Some(*i) != maybe).collect();
    // Only the newest chunk's tail is ever cut: at most a chunk's records.
    let fewest = expected.len().saturating_sub(chunk_size as usize);
    let newest_cut = zero_tail && (fewest..expected.len()).any(|keep| tail.ends_with(&expected[..keep]));
    assert!(
        tail.ends_with(&expected) || newest_cut,
        "lost acknowledged items: expected {expected:?} at the end of {got:?} (damaged: {damaged})"
    );
    if !damaged {
        assert!(tail.len() >= expected.len());
    }
});
