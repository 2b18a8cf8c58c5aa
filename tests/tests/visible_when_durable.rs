//! A get never returns an item before that item's put has reached the
//! queue's durability: at synced durability a waiting or polling consumer
//! of the file `Queue` sees an item only once the flush covering its put
//! has completed, so nothing a consumer acted on can be erased by a power
//! cut. The storage here holds every flush at a gate the test opens.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use persist_queue::persist_queue_core::{Blob, Durability, Flush, MemoryStorage, MissingBlob, Storage};
use persist_queue::{Error, Queue, Raw};

/// Once armed, flushes report that they started (`started`) and wait
/// until the test lets one through (`open`); before, they pass at once.
struct Gate {
    armed: AtomicBool,
    started: SyncSender<()>,
    open: Mutex<Receiver<()>>,
}

struct GatedStorage {
    inner: MemoryStorage,
    gate: Arc<Gate>,
}

struct GatedFlush(Arc<Gate>);

impl Flush for GatedFlush {
    type Error = MissingBlob;
    fn sync(&mut self) -> Result<(), MissingBlob> {
        if !self.0.armed.load(Ordering::SeqCst) {
            return Ok(());
        }
        let _ = self.0.started.send(());
        self.0.open.lock().expect("gate").recv().expect("the test opens the gate");
        Ok(())
    }
}

impl Storage for GatedStorage {
    type Error = MissingBlob;
    type Flush = GatedFlush;
    fn list(&mut self) -> Result<Vec<Blob>, MissingBlob> {
        self.inner.list()
    }
    fn size(&mut self, blob: Blob) -> Result<Option<u64>, MissingBlob> {
        self.inner.size(blob)
    }
    fn read(&mut self, blob: Blob, offset: u64, buf: &mut [u8]) -> Result<usize, MissingBlob> {
        self.inner.read(blob, offset, buf)
    }
    fn append(&mut self, blob: Blob, data: &[u8]) -> Result<(), MissingBlob> {
        self.inner.append(blob, data)
    }
    fn truncate(&mut self, blob: Blob, len: u64) -> Result<(), MissingBlob> {
        self.inner.truncate(blob, len)
    }
    fn replace(&mut self, blob: Blob, data: &[u8]) -> Result<(), MissingBlob> {
        self.inner.replace(blob, data)
    }
    fn remove(&mut self, blob: Blob) -> Result<(), MissingBlob> {
        self.inner.remove(blob)
    }
    fn begin_flush(&mut self) -> Result<GatedFlush, MissingBlob> {
        Ok(GatedFlush(Arc::clone(&self.gate)))
    }
}

type GatedQueue = Queue<Vec<u8>, Raw, GatedStorage>;

/// A synced queue on a gated storage, the gate armed; the receiver of
/// flush starts and the sender that lets one flush complete.
fn gated_queue() -> (GatedQueue, Receiver<()>, SyncSender<()>) {
    let (started, flush_started) = sync_channel(64);
    let (let_through, open) = sync_channel(64);
    let gate = Arc::new(Gate { armed: AtomicBool::new(false), started, open: Mutex::new(open) });
    let storage = GatedStorage { inner: MemoryStorage::new(), gate: Arc::clone(&gate) };
    let q = Queue::builder("gated")
        .codec(Raw)
        .durability(Durability::Synced)
        .open_with::<Vec<u8>, _>(storage)
        .expect("open");
    gate.armed.store(true, Ordering::SeqCst);
    (q, flush_started, let_through)
}

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
