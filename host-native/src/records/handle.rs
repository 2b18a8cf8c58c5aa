//! `Records`: the thread-safe handle every record queue type wraps.

use std::marker::PhantomData;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use persist_queue_core::records::{Kind, Put, Record, RecordError, RecordQueue, StatusSet, Verdict};

use crate::codec::Codec;
use crate::error::{Error, Result};
use crate::records::delivery::{Delivery, Entry, ItemId};
use crate::records::store::{AnyTable, StoreError};

/// How often a waiting `get` looks at the store for items put by other
/// processes (puts from this process wake it at once).
pub(crate) const POLL: Duration = Duration::from_millis(20);

/// Puts waiting to be committed (group commit): whoever holds the store
/// next commits all of them in one transaction.
#[derive(Default)]
pub(crate) struct PendingPuts {
    next_ticket: u64,
    waiting: Vec<(u64, Vec<OwnedPut>)>,
    results: std::collections::HashMap<u64, Result<Vec<Option<u64>>, String>>,
    /// A thread is committing a batch now.
    committing: bool,
    /// Callers in the last batch (more than one: producers are concurrent).
    last_batch: usize,
}

type OwnedPut = (Vec<u8>, Option<Vec<u8>>, i64);

pub(crate) struct Shared {
    /// Fixed at open; read without the store lock.
    pub(crate) kind: Kind,
    pub(crate) queue: Mutex<RecordQueue<AnyTable>>,
    pub(crate) puts: Mutex<PendingPuts>,
    pub(crate) puts_done: Condvar,
    pub(crate) changed: Condvar,
    /// Wakes async waiters when items may have become ready.
    pub(crate) events: event_listener::Event,
    pub(crate) auto_commit: bool,
    #[cfg_attr(not(feature = "async"), allow(dead_code))]
    pub(crate) synced: bool,
    /// Items this queue handed out and `task_done` has not settled
    /// (plain queues with `auto_commit` off).
    pub(crate) pending: Mutex<Vec<u64>>,
    /// How a waiting `get` polls the store: first after `.0`, doubling up
    /// to `.1`.
    pub(crate) poll: crate::records::builder::Poll,
    /// The store's notifier (a listener thread), started by the first
    /// `get` that finds nothing (a handle that only puts never listens),
    /// then kept alive here.
    pub(crate) listener: Mutex<Listening>,
}

/// A store notifier: not started yet, or started (its guard).
#[derive(Default)]
pub(crate) enum Listening {
    /// The store has none (files, SQLite, MySQL).
    #[default]
    None,
    /// Starts it, given a waker.
    Ready(crate::records::server::Listen),
    /// Running until dropped.
    Running(#[allow(dead_code)] Box<dyn Send + Sync>),
}

/// Wakes everyone waiting on `shared` (a no-op once it is gone).
fn wake_shared(shared: &Shared) {
    shared.changed.notify_all();
    shared.events.notify(usize::MAX);
}

/// The operations shared by every record queue type (`AckQueue`,
/// `PriorityQueue`, `UniqueQueue`, `FifoQueue`, `FiloQueue`), which
/// dereference to it. A cheap `Clone` handle, `Send + Sync`.
pub struct Records<T, C> {
    pub(crate) shared: Arc<Shared>,
    pub(crate) codec: C,
    _item: PhantomData<fn(T) -> T>,
}

impl<T, C: Clone> Clone for Records<T, C> {
    fn clone(&self) -> Self {
        Records { shared: Arc::clone(&self.shared), codec: self.codec.clone(), _item: PhantomData }
    }
}

impl<T, C> std::fmt::Debug for Records<T, C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Records").field("kind", &self.shared.kind).finish()
    }
}

pub(crate) fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

pub(crate) fn lift(e: RecordError<StoreError>) -> Error {
    match e {
        RecordError::Store(s) => crate::error::from_boxed(s.0),
        RecordError::UnknownId(id) => Error::UnknownId(id),
        RecordError::NotInFlight { id, status } => Error::NotInFlight { id, status },
        RecordError::Duplicate => Error::Duplicate,
        other => Error::Storage(other.to_string().into()),
    }
}

impl<T, C> Records<T, C> {
    pub(crate) fn lock(&self) -> MutexGuard<'_, RecordQueue<AnyTable>> {
        self.shared.queue.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl<T, C: Codec<T>> Records<T, C> {
    pub(crate) fn new(
        queue: RecordQueue<AnyTable>,
        auto_commit: bool,
        synced: bool,
        codec: C,
        poll: crate::records::builder::Poll,
    ) -> Self {
        let shared = Shared {
            kind: queue.kind(),
            queue: Mutex::new(queue),
            puts: Mutex::default(),
            puts_done: Condvar::new(),
            changed: Condvar::new(),
            events: event_listener::Event::new(),
            auto_commit,
            synced,
            pending: Mutex::default(),
            poll,
            listener: Mutex::default(),
        };
        Records { shared: Arc::new(shared), codec, _item: PhantomData }
    }

    pub(crate) fn wake(&self) {
        wake_shared(&self.shared);
    }

    /// A waker for a store's notifier thread; it does not keep the queue
    /// alive.
    pub(crate) fn waker(&self) -> crate::records::server::Waker {
        let weak = Arc::downgrade(&self.shared);
        Box::new(move || {
            if let Some(shared) = weak.upgrade() {
                wake_shared(&shared);
            }
        })
    }

    /// Gives the queue a notifier to start when a `get` first has to wait.
    pub(crate) fn listen_later(&self, start: crate::records::server::Listen) {
        *self.shared.listener.lock().unwrap_or_else(|e| e.into_inner()) = Listening::Ready(start);
    }

    /// Starts the store's notifier if it has one not running yet; whether it
    /// did (the caller then looks at the store again before waiting, so a put
    /// made before the notifier listened is not missed). If it cannot start,
    /// waiting falls back to polling.
    pub(crate) fn start_listening(&self) -> bool {
        let mut l = self.shared.listener.lock().unwrap_or_else(|e| e.into_inner());
        match std::mem::take(&mut *l) {
            Listening::Ready(start) => {
                if let Ok(guard) = start(self.waker()) {
                    *l = Listening::Running(guard);
                }
                true
            }
            other => {
                *l = other;
                false
            }
        }
    }

    /// Whether `get` may wait for a disk flush (it deletes at synced
    /// durability).
    #[cfg_attr(not(feature = "async"), allow(dead_code))]
    pub(crate) fn get_flushes(&self) -> bool {
        self.deletes_on_get() && self.shared.synced
    }

    /// Whether puts and acks wait for a disk flush.
    #[cfg_attr(not(feature = "async"), allow(dead_code))]
    pub(crate) fn writes_flush(&self) -> bool {
        self.shared.synced
    }

    /// Damaged ranges of the store skipped instead of failing, since this
    /// queue was opened with `skip_corrupted(true)` (plain files: each
    /// range one plan or more; every other store reports damage as an
    /// error, so 0). Nothing is skipped silently: check it after opening.
    pub fn skipped_ranges(&self) -> u64 {
        persist_queue_core::records::Table::skipped_ranges(self.lock().table())
    }

    /// The kind of queue (order, uniqueness, whether done items are kept).
    pub fn kind(&self) -> Kind {
        self.shared.kind
    }

    /// The canonical encoding for unique queues (see `canonical`).
    fn canonical(&self, item: &T, encoded: &[u8]) -> Option<Vec<u8>>
    where
        T: serde::Serialize,
    {
        Some(super::canonical::canonical_bytes(item, encoded))
    }

    pub(crate) fn put_items(&self, items: &[(&T, i64)]) -> Result<Vec<Option<u64>>>
    where
        T: serde::Serialize,
    {
        let unique = self.kind().unique;
        let mut encoded: Vec<OwnedPut> = Vec::with_capacity(items.len());
        for (item, prio) in items {
            let bytes = self.codec.encode(item)?;
            let canonical = if unique { self.canonical(item, &bytes) } else { None };
            encoded.push((bytes, canonical, *prio));
        }
        let ids = self.commit_puts(encoded)?;
        self.wake();
        Ok(ids)
    }

    /// Group commit: callers queue their puts; one of them (the first to
    /// find no commit running) commits every queued put in one transaction
    /// (one flush) and hands each caller its ids. The others wait on a
    /// condition variable, not on the store, so they can queue for the next
    /// batch while this one flushes.
    fn commit_puts(&self, items: Vec<OwnedPut>) -> Result<Vec<Option<u64>>> {
        let lock_puts = || self.shared.puts.lock().unwrap_or_else(|e| e.into_inner());
        let mut p = lock_puts();
        let ticket = p.next_ticket;
        p.next_ticket += 1;
        p.waiting.push((ticket, items));
        loop {
            if let Some(r) = p.results.remove(&ticket) {
                return r.map_err(|m| Error::Storage(m.into()));
            }
            if p.committing {
                p = self.shared.puts_done.wait(p).unwrap_or_else(|e| e.into_inner());
                continue;
            }
            p.committing = true;
            // Producers are concurrent: let the ones just released queue
            // their next puts into this batch (a few yields at most).
            for _ in 0..8 {
                if p.last_batch <= 1 || p.waiting.len() >= p.last_batch {
                    break;
                }
                drop(p);
                std::thread::yield_now();
                p = lock_puts();
            }
            let batch = std::mem::take(&mut p.waiting);
            drop(p);
            let puts: Vec<Put<'_>> = batch
                .iter()
                .flat_map(|(_, items)| items.iter())
                .map(|(b, c, pr)| Put { payload: b, priority: *pr, canonical: c.as_deref() })
                .collect();
            let outcome = self.lock().put_many(&puts, now_ms());
            p = lock_puts();
            p.committing = false;
            p.last_batch = batch.len();
            match outcome {
                Ok(ids) => {
                    let mut ids = ids.into_iter();
                    for (t, items) in &batch {
                        let part: Vec<Option<u64>> = ids.by_ref().take(items.len()).collect();
                        p.results.insert(*t, Ok(part));
                    }
                }
                Err(e) => {
                    // This thread keeps the typed error (a store's own error
                    // type stays downcastable); the others in the batch get
                    // its message.
                    let e = lift(e);
                    let message = e.to_string();
                    for (t, _) in batch.iter().filter(|(t, _)| *t != ticket) {
                        p.results.insert(*t, Err(message.clone()));
                    }
                    self.shared.puts_done.notify_all();
                    return Err(e);
                }
            }
            self.shared.puts_done.notify_all();
        }
    }

    /// Puts one item with a priority; its id (a unique queue's duplicate
    /// is `Error::Duplicate`).
    pub(crate) fn put_one(&self, item: &T, priority: i64) -> Result<u64>
    where
        T: serde::Serialize,
    {
        self.put_items(&[(item, priority)])?.into_iter().next().flatten().ok_or(Error::Duplicate)
    }

    /// Puts many items in one transaction (one commit, one flush).
    pub fn put_many(&self, items: &[T]) -> Result<Vec<Option<u64>>>
    where
        T: serde::Serialize,
    {
        let pairs: Vec<(&T, i64)> = items.iter().map(|i| (i, 0)).collect();
        self.put_items(&pairs)
    }

    /// Whether a get deletes the item in the same transaction (plain
    /// queues with `auto_commit`).
    fn deletes_on_get(&self) -> bool {
        self.shared.auto_commit && !self.shared.kind.keep_done
    }

    /// Decodes what a claim returned; plain queues with `auto_commit` off
    /// remember the ids for `task_done`. If any item does not decode as `T`
    /// (a wrong type), every item of the claim is given back untouched, at
    /// its place, and the error is returned: nothing is lost or left in
    /// flight.
    fn take(&self, records: Vec<Record>) -> Result<Vec<Delivery<T>>> {
        let mut out = Vec::with_capacity(records.len());
        for r in &records {
            match self.codec.decode(&r.payload) {
                Ok(item) => out.push(Delivery {
                    id: r.id,
                    item,
                    priority: r.priority,
                    timestamp: r.timestamp,
                    deliveries: r.deliveries,
                }),
                Err(e) => {
                    self.give_back(records);
                    return Err(e);
                }
            }
        }
        if !self.shared.kind.keep_done && !self.shared.auto_commit && !out.is_empty() {
            self.shared.pending.lock().unwrap_or_else(|e| e.into_inner()).extend(out.iter().map(|d| d.id));
        }
        Ok(out)
    }

    /// Undoes a claim: every record is ready again at its place, with the
    /// id it had and the delivery the claim counted taken back (a wrong-type
    /// read spends no attempt). Deleted records are put back; records in
    /// flight keep their unique key.
    fn give_back(&self, records: Vec<Record>) {
        let deleted = self.deletes_on_get();
        let mut q = self.lock();
        for r in records {
            let deliveries = if deleted { r.deliveries } else { r.deliveries.saturating_sub(1) };
            let _ = q.restore(Record { deliveries, ..r }, None);
        }
    }

    fn get_until(&self, deadline: Option<Instant>) -> Result<Delivery<T>> {
        let mut q = self.lock();
        let (mut poll, max_poll) = self.shared.poll;
        loop {
            if let Some(r) = q.get(self.deletes_on_get()).map_err(lift)? {
                drop(q);
                return self.take(vec![r])?.pop().ok_or(Error::Empty);
            }
            if deadline.is_none_or(|d| d > Instant::now()) && self.start_listening() {
                continue;
            }
            let wait = match deadline {
                None => poll,
                Some(d) => match d.checked_duration_since(Instant::now()) {
                    Some(left) if !left.is_zero() => left.min(poll),
                    _ => return Err(Error::Empty),
                },
            };
            poll = (poll * 2).min(max_poll);
            q = self.shared.changed.wait_timeout(q, wait).unwrap_or_else(|e| e.into_inner()).0;
        }
    }

    /// Takes the next item in the queue's order, waiting for one (a put in
    /// this process wakes it at once, one in another process within 20 ms).
    pub fn get(&self) -> Result<Delivery<T>> {
        self.get_until(None)
    }

    /// Like `get`, but fails with [`Error::Empty`] after `timeout`.
    pub fn get_timeout(&self, timeout: Duration) -> Result<Delivery<T>> {
        self.get_until(Some(Instant::now() + timeout))
    }

    /// Takes the next item or fails with [`Error::Empty`] at once.
    #[doc(alias = "get_nowait")]
    pub fn try_get(&self) -> Result<Delivery<T>> {
        self.get_until(Some(Instant::now()))
    }

    /// Takes up to `n` items at once (one transaction), without waiting.
    pub fn get_many(&self, n: u32) -> Result<Vec<Delivery<T>>> {
        let records = self.lock().get_many(n, self.deletes_on_get()).map_err(lift)?;
        self.take(records)
    }

    /// Takes the item `id` if it is ready; `None` otherwise (in flight,
    /// done, or unknown: never hands out an item twice, B12).
    pub fn get_id(&self, id: u64) -> Result<Option<Delivery<T>>> {
        let r = self.lock().get_id(id, self.deletes_on_get()).map_err(lift)?;
        Ok(self.take(r.into_iter().collect())?.pop())
    }

    /// Takes the next ready item after `after` in the queue's order,
    /// wrapping to the start (persist-queue's `next_in_order`).
    pub fn next_in_order(&self, after: impl ItemId) -> Result<Option<Delivery<T>>> {
        let r = self.lock().next_in_order(after.item_id(), self.deletes_on_get()).map_err(lift)?;
        Ok(self.take(r.into_iter().collect())?.pop())
    }

    fn settle(&self, id: u64, verdict: Verdict) -> Result<()> {
        self.lock().settle(id, verdict).map_err(lift)?;
        if verdict == Verdict::Nack {
            self.wake();
        }
        Ok(())
    }

    /// Marks an in-flight item done.
    pub fn ack(&self, item: impl ItemId) -> Result<()> {
        self.settle(item.item_id(), Verdict::Ack)
    }

    /// Gives an in-flight item back: ready again, at its place in the order.
    pub fn nack(&self, item: impl ItemId) -> Result<()> {
        self.settle(item.item_id(), Verdict::Nack)
    }

    /// Marks an in-flight item failed for good: never delivered again.
    pub fn ack_failed(&self, item: impl ItemId) -> Result<()> {
        self.settle(item.item_id(), Verdict::Fail)
    }

    /// Acks many in-flight items in one transaction; per id, whether it
    /// was in flight.
    pub fn ack_many(&self, ids: &[u64]) -> Result<Vec<Result<()>>> {
        let done = self.lock().settle_many(ids, Verdict::Ack).map_err(lift)?;
        Ok(done.into_iter().map(|r| r.map_err(lift)).collect())
    }

    /// Confirms every item this queue handed out since the last call
    /// (plain queues with `auto_commit` off): they are deleted. Items not
    /// confirmed come back after a restart. A no-op otherwise.
    pub fn task_done(&self) -> Result<()> {
        let ids = std::mem::take(&mut *self.shared.pending.lock().unwrap_or_else(|e| e.into_inner()));
        if ids.is_empty() {
            return Ok(());
        }
        self.lock().settle_many(&ids, Verdict::Ack).map_err(lift)?;
        Ok(())
    }

    /// Replaces a live item (ready or in flight).
    pub fn update(&self, item: impl ItemId, value: &T) -> Result<()>
    where
        T: serde::Serialize,
    {
        let bytes = self.codec.encode(value)?;
        let canonical = if self.kind().unique { self.canonical(value, &bytes) } else { None };
        let put = Put { payload: &bytes, priority: 0, canonical: canonical.as_deref() };
        self.lock().update(item.item_id(), put).map_err(lift)
    }

    /// Every stored item (ready, in flight, acked, failed) in the queue's
    /// order (persist-queue's `queue()`).
    pub fn queue(&self) -> Result<Vec<Entry<T>>> {
        let records = self.lock().list(StatusSet::ALL).map_err(lift)?;
        records
            .into_iter()
            .map(|r| {
                Ok(Entry {
                    id: r.id,
                    item: self.codec.decode(&r.payload)?,
                    status: r.status,
                    priority: r.priority,
                    timestamp: r.timestamp,
                })
            })
            .collect()
    }

    fn counts(&self) -> Result<persist_queue_core::records::Counts> {
        self.lock().counts().map_err(lift)
    }

    /// Items ready to be taken (including never-delivered ones, B14), read
    /// from the store (so right across processes, B9).
    #[doc(alias = "qsize")]
    pub fn len(&self) -> Result<u64> {
        Ok(self.counts()?.ready)
    }

    /// Whether no item is ready.
    pub fn is_empty(&self) -> Result<bool> {
        Ok(self.len()? == 0)
    }

    /// Items ready (persist-queue's `ready_count`, never-delivered included).
    pub fn ready_count(&self) -> Result<u64> {
        self.len()
    }

    /// Items in flight.
    pub fn unack_count(&self) -> Result<u64> {
        Ok(self.counts()?.unacked)
    }

    /// Acked items kept.
    pub fn acked_count(&self) -> Result<u64> {
        Ok(self.counts()?.acked)
    }

    /// Failed items kept.
    pub fn ack_failed_count(&self) -> Result<u64> {
        Ok(self.counts()?.ack_failed)
    }

    /// Items ready or in flight.
    pub fn active_size(&self) -> Result<u64> {
        let c = self.counts()?;
        Ok(c.ready + c.unacked)
    }

    /// Makes every in-flight item ready again; returns how many.
    pub fn resume_unack_tasks(&self) -> Result<u64> {
        let n = self.lock().resume().map_err(lift)?;
        self.wake();
        Ok(n)
    }

    /// Deletes acked items, newest first, keeping `keep_latest`, at most
    /// `max_delete` (0: no limit), failed ones too if asked.
    pub fn clear_acked_data(&self, max_delete: u64, keep_latest: u64, clear_ack_failed: bool) -> Result<u64> {
        self.lock().clear_done(max_delete, keep_latest, clear_ack_failed).map_err(lift)
    }

    /// Gives unused disk space back (VACUUM), without reopening.
    pub fn shrink_disk_usage(&self) -> Result<()> {
        self.lock().compact().map_err(lift)
    }
}
