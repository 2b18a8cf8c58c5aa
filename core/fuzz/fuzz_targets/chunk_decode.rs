//! (a) The chunk, frame and meta decoders on damaged bytes: a file queue
//! written by the core, then damaged as the input says, is opened and
//! drained. Never a panic; never an item that is not one as written; and
//! items come out in the order they were put.

#![no_main]

use libfuzzer_sys::fuzz_target;
use persist_queue_core::{ChunkQueue, Config, MemoryStorage};
use persist_queue_core_fuzz::{Input, damage, index_of, item};

fuzz_target!(|data: &[u8]| {
    let mut input = Input(data);
    let config = Config { chunk_size: u32::from(input.byte() % 5) + 1, ..Config::default() };
    let items = u32::from(input.byte() % 40);
    let consumed = u32::from(input.byte()) % (items + 1);
    let mut q = ChunkQueue::open(MemoryStorage::new(), config.clone()).expect("open a new queue");
    for i in 0..items {
        q.put(&item(i)).expect("put");
    }
    for _ in 0..consumed {
        q.get().expect("get");
        q.task_done().expect("task_done");
    }
    q.sync().expect("sync");
    let mut image = q.into_storage();
    damage(&mut image, &mut input, true);
    for skip_corrupted in [false, true] {
        let config = Config { skip_corrupted, ..config.clone() };
        let Ok(mut q) = ChunkQueue::open(image.clone(), config) else { continue };
        let mut last = None;
        for _ in 0..=items {
            match q.get() {
                Ok(Some(bytes)) => {
                    let i = index_of(&bytes).expect("an item as written, never garbage");
                    assert!(last.is_none_or(|l| i > l), "in order: {i} after {last:?}");
                    last = Some(i);
                }
                Ok(None) | Err(_) => break,
            }
        }
    }
});
