//! `Records`: the thread-safe handle every record queue type wraps, and
//! its API. What the handles of one queue share, and the internals the API
//! runs on (group commit, claims, waiting), are in `shared.rs`.

use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use persist_queue_core::records::{Kind, Put, StatusSet, Verdict, complete};

use crate::codec::Codec;
use crate::error::{Error, Result};
use crate::records::delivery::{Delivery, Entry, ItemId};
use crate::records::shared::{OwnedPut, Shared};
use crate::wait::Deadline;

/// The operations shared by every record queue type (`AckQueue`,
/// `PriorityQueue`, `UniqueQueue`, `FifoQueue`, `FiloQueue`), which
/// delegate to it explicitly. A cheap `Clone` handle, `Send + Sync`.
pub struct Records<T, C> {
    pub(crate) shared: Arc<Shared>,
    pub(crate) codec: C,
    pub(crate) _item: PhantomData<fn(T) -> T>,
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

impl<T, C: Codec<T>> Records<T, C> {
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

    /// Puts `(item, priority)` pairs in one transaction (one commit, one
    /// flush); per item its id, `None` for a unique queue's duplicate.
    /// Priorities order only priority queues.
    pub fn put_many_prioritized(&self, items: &[(T, i64)]) -> Result<Vec<Option<u64>>>
    where
        T: serde::Serialize,
    {
        let refs: Vec<(&T, i64)> = items.iter().map(|(item, p)| (item, *p)).collect();
        self.put_items(&refs)
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
        self.shared.metrics.acked(done.iter().filter(|r| r.is_ok()).count());
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
        let done = complete(self.lock().settle_many(&ids, Verdict::Ack))?;
        self.shared.metrics.acked(done.iter().filter(|r| r.is_ok()).count());
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
