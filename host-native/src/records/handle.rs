//! `Records`: the thread-safe handle every record queue type wraps.

use std::marker::PhantomData;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use persist_queue_core::records::{Kind, Put, Record, RecordQueue, StatusSet, Verdict, complete};

use crate::codec::Codec;
use crate::commit::GroupCommit;
use crate::error::{Error, Result};
use crate::records::delivery::{Delivery, Entry, ItemId};
use crate::records::store::RecordStore;
use crate::sync::{Condvar, Mutex, MutexGuard};
use crate::wait::{Deadline, PollPolicy, wait_once};
use std::sync::Arc;

/// How often a waiting `get` looks at the store for items put by other
/// processes (puts from this process wake it at once).
pub(crate) const POLL: PollPolicy = PollPolicy::fixed(Duration::from_millis(20));

/// One caller's puts: payload, canonical form (unique queues), priority.
type OwnedPut = (Vec<u8>, Option<Vec<u8>>, i64);

pub(crate) struct Shared {
    /// Fixed at open; read without the store lock.
    pub(crate) kind: Kind,
    pub(crate) queue: Mutex<RecordQueue<RecordStore>>,
    /// Puts of concurrent callers share one transaction.
    puts: GroupCommit<Vec<OwnedPut>, Vec<Option<u64>>>,
    pub(crate) changed: Condvar,
    /// Wakes async waiters when items may have become ready.
    pub(crate) events: event_listener::Event,
    pub(crate) auto_commit: bool,
    #[cfg_attr(not(feature = "async"), allow(dead_code))]
    pub(crate) synced: bool,
    /// The store is a database server: every operation waits on the
    /// network.
    #[cfg_attr(not(feature = "async"), allow(dead_code))]
    pub(crate) remote: bool,
    /// Items this queue handed out and `task_done` has not settled
    /// (plain queues with `auto_commit` off).
    pub(crate) pending: Mutex<Vec<u64>>,
    /// How a waiting `get` polls the store.
    pub(crate) poll: PollPolicy,
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
/// delegate to it explicitly. A cheap `Clone` handle, `Send + Sync`.
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

impl<T, C> Records<T, C> {
    pub(crate) fn lock(&self) -> MutexGuard<'_, RecordQueue<RecordStore>> {
        self.shared.queue.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl<T, C: Codec<T>> Records<T, C> {
    pub(crate) fn new(
        queue: RecordQueue<RecordStore>,
        auto_commit: bool,
        synced: bool,
        remote: bool,
        codec: C,
        poll: PollPolicy,
    ) -> Self {
        let shared = Shared {
            kind: queue.kind(),
            queue: Mutex::new(queue),
            puts: GroupCommit::new(),
            changed: Condvar::new(),
            events: event_listener::Event::new(),
            auto_commit,
            synced,
            remote,
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
        (self.deletes_on_get() && self.shared.synced) || self.shared.remote
    }

    /// Whether puts and acks wait for a disk flush.
    #[cfg_attr(not(feature = "async"), allow(dead_code))]
    pub(crate) fn writes_flush(&self) -> bool {
        self.shared.synced || self.shared.remote
    }

    /// Whether reads wait on the network (a server store).
    #[cfg_attr(not(feature = "async"), allow(dead_code))]
    pub(crate) fn reads_block(&self) -> bool {
        self.shared.remote
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

    /// Commits `items` with the puts of concurrent callers in one
    /// transaction (one flush, [`GroupCommit`]); this caller's ids.
    fn commit_puts(&self, items: Vec<OwnedPut>) -> Result<Vec<Option<u64>>> {
        self.shared.puts.submit(items, |batch| {
            let puts: Vec<Put<'_>> = batch
                .iter()
                .flatten()
                .map(|(b, c, pr)| Put { payload: b, priority: *pr, canonical: c.as_deref() })
                .collect();
            let mut ids = complete(self.lock().put_many(&puts, now_ms()))?.into_iter();
            Ok(batch.iter().map(|items| ids.by_ref().take(items.len()).collect()).collect())
        })
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
            let _ = complete(q.restore(Record { deliveries, ..r }, None));
        }
    }

    fn get_until(&self, deadline: Deadline) -> Result<Delivery<T>> {
        let mut q = self.lock();
        let mut polls = self.shared.poll.intervals();
        loop {
            if let Some(r) = complete(q.get(self.deletes_on_get()))? {
                drop(q);
                return self.take(vec![r])?.pop().ok_or(Error::Empty);
            }
            if deadline.left().is_some() && self.start_listening() {
                continue;
            }
            q = wait_once(&self.shared.changed, q, deadline, polls.next(), None).ok_or(Error::Empty)?;
        }
    }

    /// Takes the next item in the queue's order, waiting for one (a put in
    /// this process wakes it at once, one in another process within 20 ms).
    pub fn get(&self) -> Result<Delivery<T>> {
        self.get_until(Deadline::Never)
    }

    /// Like `get`, but fails with [`Error::Empty`] after `timeout`.
    pub fn get_timeout(&self, timeout: Duration) -> Result<Delivery<T>> {
        self.get_until(Deadline::after(timeout))
    }

    /// Takes the next item or fails with [`Error::Empty`] at once.
    #[doc(alias = "get_nowait")]
    pub fn try_get(&self) -> Result<Delivery<T>> {
        self.get_until(Deadline::Now)
    }

    /// Takes up to `n` items at once (one transaction), without waiting.
    pub fn get_many(&self, n: u32) -> Result<Vec<Delivery<T>>> {
        let records = complete(self.lock().get_many(n, self.deletes_on_get()))?;
        self.take(records)
    }

    /// Takes the item `id` if it is ready; `None` otherwise (in flight,
    /// done, or unknown: never hands out an item twice, B12).
    pub fn get_id(&self, id: u64) -> Result<Option<Delivery<T>>> {
        let r = complete(self.lock().get_id(id, self.deletes_on_get()))?;
        Ok(self.take(r.into_iter().collect())?.pop())
    }

    /// Takes the next ready item after `after` in the queue's order,
    /// wrapping to the start (persist-queue's `next_in_order`).
    pub fn next_in_order(&self, after: impl ItemId) -> Result<Option<Delivery<T>>> {
        let r = complete(self.lock().next_in_order(after.item_id(), self.deletes_on_get()))?;
        Ok(self.take(r.into_iter().collect())?.pop())
    }

    fn settle(&self, id: u64, verdict: Verdict) -> Result<()> {
        complete(self.lock().settle(id, verdict))?;
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
        let done = complete(self.lock().settle_many(ids, Verdict::Ack))?;
        Ok(done.into_iter().map(|r| r.map_err(Error::from)).collect())
    }

    /// Confirms every item this queue handed out since the last call
    /// (plain queues with `auto_commit` off): they are deleted. Items not
    /// confirmed come back after a restart. A no-op otherwise.
    pub fn task_done(&self) -> Result<()> {
        let ids = std::mem::take(&mut *self.shared.pending.lock().unwrap_or_else(|e| e.into_inner()));
        if ids.is_empty() {
            return Ok(());
        }
        complete(self.lock().settle_many(&ids, Verdict::Ack))?;
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
        Ok(complete(self.lock().update(item.item_id(), put))?)
    }

    /// Every stored item (ready, in flight, acked, failed) in the queue's
    /// order (persist-queue's `queue()`).
    pub fn queue(&self) -> Result<Vec<Entry<T>>> {
        let records = complete(self.lock().list(StatusSet::ALL))?;
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
        Ok(complete(self.lock().counts())?)
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
        let n = complete(self.lock().resume())?;
        self.wake();
        Ok(n)
    }

    /// Deletes acked items, newest first, keeping `keep_latest`, at most
    /// `max_delete` (0: no limit), failed ones too if asked.
    pub fn clear_acked_data(&self, max_delete: u64, keep_latest: u64, clear_ack_failed: bool) -> Result<u64> {
        Ok(complete(self.lock().clear_done(max_delete, keep_latest, clear_ack_failed))?)
    }

    /// Gives unused disk space back (VACUUM), without reopening.
    pub fn shrink_disk_usage(&self) -> Result<()> {
        Ok(complete(self.lock().compact())?)
    }
}
