//! `Records`: the thread-safe handle every record queue type wraps, and
//! its API. What the handles of one queue share, and the internals the API
//! runs on (group commit, claims, waiting), are in `shared.rs`.

use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use persist_queue_core::records::{Kind, Put, Status, StatusSet, Verdict, complete};

use crate::codec::Codec;
use crate::error::{Error, Result};
use crate::records::delivery::{Delivery, Entry, ItemId, PutOptions, QueueStats};
use crate::records::shared::{OwnedPut, Shared, millis};
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
        self.put_delayed(items, 0)
    }

    /// Puts `items`, each due `delay` ms from now.
    /// Items encoded for a put, with their canonical forms (unique queues).
    pub(crate) fn encode_puts(&self, items: &[(&T, i64)], delay: u64) -> Result<Vec<OwnedPut>>
    where
        T: serde::Serialize,
    {
        let unique = self.kind().unique;
        let mut encoded: Vec<OwnedPut> = Vec::with_capacity(items.len());
        for (item, priority) in items {
            let payload = self.codec.encode(item)?;
            let canonical = if unique { self.canonical(item, &payload) } else { None };
            encoded.push(OwnedPut { payload, canonical, priority: *priority, delay });
        }
        Ok(encoded)
    }

    fn put_delayed(&self, items: &[(&T, i64)], delay: u64) -> Result<Vec<Option<u64>>>
    where
        T: serde::Serialize,
    {
        let ids = self.commit_puts(self.encode_puts(items, delay)?)?;
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

    /// Puts one item with [`PutOptions`]: a priority (priority queues) and a
    /// delay (invisible to consumers until it is due, then delivered in
    /// the queue's order among the ready items). Its id; a unique queue's
    /// duplicate is `Error::Duplicate`.
    pub fn put_with(&self, item: &T, options: PutOptions) -> Result<u64>
    where
        T: serde::Serialize,
    {
        self.put_delayed(&[(item, options.priority)], millis(options.delay))?
            .into_iter()
            .next()
            .flatten()
            .ok_or(Error::Duplicate)
    }

    /// Puts many items with the same [`PutOptions`] in one transaction (one
    /// flush); their ids (`None`: a unique queue's duplicate).
    pub fn put_many_with(&self, items: &[T], options: PutOptions) -> Result<Vec<Option<u64>>>
    where
        T: serde::Serialize,
    {
        let pairs: Vec<(&T, i64)> = items.iter().map(|item| (item, options.priority)).collect();
        self.put_delayed(&pairs, millis(options.delay))
    }

    /// Takes the next item in the queue's order, waiting for one (a put in
    /// this process wakes it at once, one in another process within 20 ms).
    /// The item is leased to this consumer ([`crate::RecordBuilder::lease`],
    /// 30 s by default): if it is neither settled nor extended before the
    /// lease ends, it is delivered again, to whichever consumer asks next.
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
        let records = complete(self.lock().get_many(n, self.deletes_on_get(), self.lease()))?;
        self.take(records)
    }

    /// Takes the item `id` if it is ready; `None` otherwise (in flight,
    /// done, or unknown: never hands out an item twice, B12).
    pub fn get_id(&self, id: u64) -> Result<Option<Delivery<T>>> {
        let r = complete(self.lock().get_id(id, self.deletes_on_get(), self.lease()))?;
        Ok(self.take(r.into_iter().collect())?.pop())
    }

    /// Takes the next ready item after `after` in the queue's order,
    /// wrapping to the start (persist-queue's `next_in_order`).
    pub fn next_in_order(&self, after: impl ItemId) -> Result<Option<Delivery<T>>> {
        let r = complete(self.lock().next_in_order(after.item_id(), self.deletes_on_get(), self.lease()))?;
        Ok(self.take(r.into_iter().collect())?.pop())
    }

    /// Marks an in-flight item done. Given its [`Delivery`], the ack is
    /// fenced by the delivery's lease: [`Error::LeaseLost`] if the lease
    /// ended and the item was taken back or delivered again (nothing
    /// changes). Given a bare id, it acks the item whoever holds it
    /// (persist-queue's behaviour).
    pub fn ack(&self, item: impl ItemId) -> Result<()> {
        self.settle_fenced(item.item_id(), item.lease_token(), Verdict::Ack)
    }

    /// Gives an in-flight item back: ready again, at its place in the
    /// order (fenced like [`Self::ack`]), after the queue's
    /// [`crate::RecordBuilder::backoff`] delay. With `max_attempts`, an
    /// item nacked on its last attempt becomes a dead letter instead.
    pub fn nack(&self, item: impl ItemId) -> Result<()> {
        self.nack_fenced(item.item_id(), item.lease_token(), None)
    }

    /// Gives a delivery back to be delivered again `delay` from now (a
    /// retry with back-off; see [`crate::Backoff`]): delayed until then,
    /// then at its place in the order. Fenced like [`Self::ack`].
    pub fn nack_after(&self, delivery: &Delivery<T>, delay: Duration) -> Result<()> {
        self.settle(delivery.id, Some(delivery.deliveries), Verdict::Nack, delay)
    }

    /// Gives delivery `(id, token)` back; see [`Self::nack`] (`delay`:
    /// `None` for the queue's back-off).
    pub(crate) fn nack_fenced(&self, id: u64, token: Option<u32>, delay: Option<Duration>) -> Result<()> {
        let delay = match (token, delay) {
            (_, Some(d)) => d,
            (Some(t), None) => self.backoff(id, t),
            (None, None) => Duration::ZERO,
        };
        self.settle(id, token, Verdict::Nack, delay)
    }

    /// Marks an in-flight item failed for good (a dead letter): never
    /// delivered again unless requeued ([`Self::requeue_dead`]). Fenced
    /// like [`Self::ack`].
    pub fn ack_failed(&self, item: impl ItemId) -> Result<()> {
        self.settle_fenced(item.item_id(), item.lease_token(), Verdict::Fail)
    }

    /// Settles delivery `(id, token)` (`None`: unfenced) with `verdict`.
    pub(crate) fn settle_fenced(&self, id: u64, token: Option<u32>, verdict: Verdict) -> Result<()> {
        self.settle(id, token, verdict, Duration::ZERO)
    }

    /// Extends the lease of a delivery to `by` from now (a heartbeat for
    /// long work): [`Error::LeaseLost`] if it no longer holds it.
    pub fn extend(&self, delivery: &Delivery<T>, by: Duration) -> Result<()> {
        self.extend_lease(delivery.id, delivery.deliveries, by)
    }

    /// Keeps extending a delivery's lease from a thread of its own while
    /// the work goes on, until the [`crate::KeepAlive`] is dropped (native
    /// hosts with threads; not inside a WASI guest).
    pub fn keep_alive(&self, delivery: &Delivery<T>) -> crate::KeepAlive {
        crate::KeepAlive::start(Arc::clone(&self.shared), delivery.id, delivery.deliveries)
    }

    pub(crate) fn extend_lease(&self, id: u64, token: u32, by: Duration) -> Result<()> {
        let lease = persist_queue_core::records::Lease { now: self.shared.clock.now(), ms: millis(by) };
        Ok(complete(self.lock().extend(id, token, lease))?)
    }

    /// The dead letters: items failed for good by a consumer
    /// ([`Self::ack_failed`]) or whose attempts ran out
    /// ([`crate::RecordBuilder::max_attempts`]), in the queue's order.
    pub fn dead_letters(&self) -> Result<Vec<Entry<T>>> {
        self.entries(StatusSet::of(Status::AckFailed))
    }

    /// Puts dead letters `ids` back in the queue, ready at their place,
    /// their attempts counted from 0 again; returns how many were dead
    /// letters (other ids are left alone).
    pub fn requeue_dead(&self, ids: &[u64]) -> Result<u64> {
        let n = complete(self.lock().requeue_dead(Some(ids)))?;
        self.wake();
        Ok(n)
    }

    /// Puts every dead letter back in the queue; returns how many.
    pub fn requeue_all_dead(&self) -> Result<u64> {
        let n = complete(self.lock().requeue_dead(None))?;
        self.wake();
        Ok(n)
    }

    /// Deletes every item of `status` (`Status::AckFailed`: the dead
    /// letters; `Status::Delayed`: the items not yet due); returns how many.
    /// In-flight items deleted this way are gone: their consumers' acks
    /// then fail with [`Error::UnknownId`].
    pub fn purge_status(&self, status: Status) -> Result<u64> {
        Ok(complete(self.lock().purge(StatusSet::of(status)))?)
    }

    /// Counts by state (ready, in flight, delayed, dead letters, acked),
    /// the age of the oldest ready item, and how many leases have ended
    /// with their items not yet taken back.
    pub fn stats(&self) -> Result<QueueStats> {
        let now = self.shared.clock.now();
        let s = QueueStats::new(complete(self.lock().stats(now))?, now);
        self.shared.metrics.stats(&s);
        Ok(s)
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
        let put = Put { payload: &bytes, priority: 0, canonical: canonical.as_deref(), delay: 0 };
        Ok(complete(self.lock().update(item.item_id(), put))?)
    }

    /// Every stored item (ready, in flight, acked, failed) in the queue's
    /// order (persist-queue's `queue()`).
    pub fn queue(&self) -> Result<Vec<Entry<T>>> {
        self.entries(StatusSet::ALL)
    }

    fn entries(&self, statuses: StatusSet) -> Result<Vec<Entry<T>>> {
        let records = complete(self.lock().list(statuses))?;
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
