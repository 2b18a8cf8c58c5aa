//! A storage whose flushes wait at a gate the test opens: to hold a
//! group commit's flush while checking what others see meanwhile.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};

use persist_queue::persist_queue_core::{Blob, Durability, Flush, MemoryStorage, MissingBlob, Storage};
use persist_queue::{Queue, Raw};

/// Once armed, flushes report that they started (`started`) and wait
/// until the test lets one through (`open`); before, they pass at once.
pub struct Gate {
    armed: AtomicBool,
    started: SyncSender<()>,
    open: Mutex<Receiver<()>>,
}

/// Memory storage whose flushes pass the [`Gate`].
pub struct GatedStorage {
    inner: MemoryStorage,
    gate: Arc<Gate>,
}

/// A flush that waits at the [`Gate`] once it is armed.
pub struct GatedFlush(Arc<Gate>);

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

/// A raw-bytes file `Queue` on a [`GatedStorage`].
pub type GatedQueue = Queue<Vec<u8>, Raw, GatedStorage>;

/// A synced queue on a gated storage, the gate armed; the receiver of
/// flush starts and the sender that lets one flush complete.
pub fn gated_queue() -> (GatedQueue, Receiver<()>, SyncSender<()>) {
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
