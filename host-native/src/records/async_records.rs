//! `AsyncRecords`: the record queues for async code, on any executor. It
//! has a twin of every method of [`Records`] (`tests/async_twins.rs` fails
//! when one is missing).

use std::time::Duration;

use persist_queue_core::records::{Kind, Status, Verdict};
use serde::Serialize;

use crate::codec::Codec;
use crate::error::{Error, Result};
use crate::records::delivery::{Delivery, Entry, ItemId, PutOptions, QueueStats};
use crate::records::handle::Records;
use crate::wait::{fail_after, first_of, wait_async};

/// An async face over a record queue (`q.to_async()` on any of them).
/// Works on any executor: waiting parks the task on an event (puts in this
/// process) or a timer (puts from other processes). Puts and fenced acks
/// that wait for a disk flush or a database server join the queue's group
/// commits with the blocking callers and await their batch, which one
/// [`blocking`]-pool task commits; other operations that wait run on that
/// pool whole.
///
/// Cancel-safe while waiting: dropping a pending `get` takes nothing.
///
/// ```
/// # smol::block_on(async {
/// use persist_queue::AckQueue;
///
/// let q = AckQueue::in_memory().open::<String>()?.to_async();
/// q.put("job".to_string(), 0).await?;
/// let job = q.get().await?;
/// q.ack(&job).await?;
/// assert_eq!(q.acked_count().await?, 1);
/// # Ok::<(), persist_queue::Error>(())
/// # }).unwrap();
/// ```
pub struct AsyncRecords<T, C> {
    inner: Records<T, C>,
}

impl<T, C: Clone> Clone for AsyncRecords<T, C> {
    fn clone(&self) -> Self {
        AsyncRecords { inner: self.inner.clone() }
    }
}

impl<T, C> std::fmt::Debug for AsyncRecords<T, C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("AsyncRecords").field(&self.inner).finish()
    }
}

impl<T, C: Codec<T>> Records<T, C> {
    /// An async handle on the same queue.
    pub fn to_async(&self) -> AsyncRecords<T, C> {
        AsyncRecords { inner: self.clone() }
    }
}

impl<T, C> AsyncRecords<T, C>
where
    T: Serialize + Send + 'static,
    C: Codec<T>,
{
    /// The blocking handle on the same queue.
    pub fn blocking(&self) -> &Records<T, C> {
        &self.inner
    }

    /// Runs `f` on the blocking pool if it may wait, inline otherwise.
    async fn offload<R: Send + 'static>(
        &self,
        waits: bool,
        f: impl FnOnce(&Records<T, C>) -> R + Send + 'static,
    ) -> R {
        crate::offload::offload(&self.inner, waits, f).await
    }

    /// A write (put, settle, update, clean-up).
    async fn write<R: Send + 'static>(&self, f: impl FnOnce(&Records<T, C>) -> R + Send + 'static) -> R {
        self.offload(self.inner.writes_flush(), f).await
    }

    /// A claim (get).
    async fn claim<R: Send + 'static>(&self, f: impl FnOnce(&Records<T, C>) -> R + Send + 'static) -> R {
        self.offload(self.inner.get_flushes(), f).await
    }

    /// A read (counts, listing).
    async fn read<R: Send + 'static>(&self, f: impl FnOnce(&Records<T, C>) -> R + Send + 'static) -> R {
        self.offload(self.inner.reads_block(), f).await
    }

    /// Damaged ranges skipped at open; see [`Records::skipped_ranges`].
    pub fn skipped_ranges(&self) -> u64 {
        self.inner.skipped_ranges()
    }

    /// The kind of queue.
    pub fn kind(&self) -> Kind {
        self.inner.kind()
    }

    /// Puts an item with a priority (0 outside priority queues); its id
    /// (a unique queue's duplicate is [`Error::Duplicate`]).
    pub async fn put(&self, item: T, priority: i64) -> Result<u64> {
        let encoded = self.inner.encode_puts(&[(&item, priority)], 0)?;
        self.put_encoded(encoded).await?.pop().flatten().ok_or(Error::Duplicate)
    }

    /// Puts items encoded by `encode_puts` (encoded before any await, so
    /// a future holds no `&T`): where a put waits for a flush or a server,
    /// it joins the queue's group commit with the blocking puts and awaits
    /// its batch, which one blocking-pool task commits (no pool hop per
    /// call); inline otherwise.
    async fn put_encoded(&self, encoded: Vec<crate::records::shared::OwnedPut>) -> Result<Vec<Option<u64>>> {
        let ids = if self.inner.writes_flush() {
            self.inner.commit_puts_async(encoded).await?
        } else {
            self.inner.commit_puts(encoded)?
        };
        self.inner.wake();
        Ok(ids)
    }

    /// Puts many items in one transaction; see [`Records::put_many`].
    pub async fn put_many(&self, items: Vec<T>) -> Result<Vec<Option<u64>>> {
        let encoded = self.inner.encode_puts(&items.iter().map(|i| (i, 0)).collect::<Vec<_>>(), 0)?;
        self.put_encoded(encoded).await
    }

    /// Puts `(item, priority)` pairs in one transaction; see
    /// [`Records::put_many_prioritized`].
    pub async fn put_many_prioritized(&self, items: Vec<(T, i64)>) -> Result<Vec<Option<u64>>> {
        let encoded = self.inner.encode_puts(&items.iter().map(|(i, p)| (i, *p)).collect::<Vec<_>>(), 0)?;
        self.put_encoded(encoded).await
    }

    /// Takes the next item, waiting (asynchronously) for one.
    pub async fn get(&self) -> Result<Delivery<T>> {
        let mut polls = self.inner.shared.poll.intervals();
        loop {
            let listener = self.inner.shared.events.listen();
            match self.try_get().await {
                Err(Error::Empty) if self.inner.start_listening() => continue,
                Err(Error::Empty) => wait_async(listener, polls.next()).await,
                other => return other,
            }
        }
    }

    /// Takes the next item, or [`Error::Empty`] after `timeout`.
    pub async fn get_timeout(&self, timeout: Duration) -> Result<Delivery<T>> {
        first_of(self.get(), fail_after(timeout, Error::Empty)).await
    }

    /// Takes the next item or fails with [`Error::Empty`] at once.
    pub async fn try_get(&self) -> Result<Delivery<T>> {
        self.claim(|q| q.try_get()).await
    }

    /// Takes up to `n` items at once (one transaction), without waiting.
    pub async fn get_many(&self, n: u32) -> Result<Vec<Delivery<T>>> {
        self.claim(move |q| q.get_many(n)).await
    }

    /// Takes the item `id` if it is ready; see [`Records::get_id`].
    pub async fn get_id(&self, id: u64) -> Result<Option<Delivery<T>>> {
        self.claim(move |q| q.get_id(id)).await
    }

    /// Takes the next ready item after `after`; see
    /// [`Records::next_in_order`].
    pub async fn next_in_order(&self, after: impl ItemId) -> Result<Option<Delivery<T>>> {
        let after = after.item_id();
        self.claim(move |q| q.next_in_order(after)).await
    }

    /// Acks an in-flight item; given its delivery, fenced by its lease
    /// (see [`Records::ack`]).
    pub async fn ack(&self, item: impl ItemId) -> Result<()> {
        let (id, token) = (item.item_id(), item.lease_token());
        match token {
            // Fenced acks that flush share batches with the blocking ones.
            Some(token) if self.inner.writes_flush() => self.inner.ack_async(id, token).await,
            _ => self.write(move |q| q.settle_fenced(id, token, Verdict::Ack)).await,
        }
    }

    /// Gives an in-flight item back, after the queue's back-off; see
    /// [`Records::nack`].
    pub async fn nack(&self, item: impl ItemId) -> Result<()> {
        let (id, token) = (item.item_id(), item.lease_token());
        self.write(move |q| q.nack_fenced(id, token, None)).await
    }

    /// Gives a delivery back, due again after `delay`; see
    /// [`Records::nack_after`].
    pub async fn nack_after(&self, delivery: &Delivery<T>, delay: Duration) -> Result<()> {
        let (id, token) = (delivery.id, delivery.deliveries);
        self.write(move |q| q.nack_fenced(id, Some(token), Some(delay))).await
    }

    /// Marks an in-flight item failed for good (a dead letter).
    pub async fn ack_failed(&self, item: impl ItemId) -> Result<()> {
        let (id, token) = (item.item_id(), item.lease_token());
        self.write(move |q| q.settle_fenced(id, token, Verdict::Fail)).await
    }

    /// Extends a delivery's lease to `by` from now; see
    /// [`Records::extend`].
    pub async fn extend(&self, delivery: &Delivery<T>, by: Duration) -> Result<()> {
        let (id, token) = (delivery.id, delivery.deliveries);
        self.write(move |q| q.extend_lease(id, token, by)).await
    }

    /// Keeps extending a delivery's lease while the task works; see
    /// [`Records::keep_alive`] (the heartbeat runs on its own thread, so a
    /// busy executor does not miss a beat).
    pub fn keep_alive(&self, delivery: &Delivery<T>) -> crate::KeepAlive {
        self.inner.keep_alive(delivery)
    }

    /// Puts one item with [`PutOptions`] (priority, delay); see
    /// [`Records::put_with`].
    pub async fn put_with(&self, item: T, options: PutOptions) -> Result<u64> {
        let delay = crate::records::shared::millis(options.delay);
        let encoded = self.inner.encode_puts(&[(&item, options.priority)], delay)?;
        self.put_encoded(encoded).await?.pop().flatten().ok_or(Error::Duplicate)
    }

    /// Puts many items with the same [`PutOptions`] in one transaction;
    /// see [`Records::put_many_with`].
    pub async fn put_many_with(&self, items: Vec<T>, options: PutOptions) -> Result<Vec<Option<u64>>> {
        let encoded = {
            let pairs: Vec<(&T, i64)> = items.iter().map(|i| (i, options.priority)).collect();
            self.inner.encode_puts(&pairs, crate::records::shared::millis(options.delay))?
        };
        self.put_encoded(encoded).await
    }

    /// The dead letters; see [`Records::dead_letters`].
    pub async fn dead_letters(&self) -> Result<Vec<Entry<T>>> {
        self.read(|q| q.dead_letters()).await
    }

    /// Puts dead letters back; see [`Records::requeue_dead`].
    pub async fn requeue_dead(&self, ids: &[u64]) -> Result<u64> {
        let ids = ids.to_vec();
        self.write(move |q| q.requeue_dead(&ids)).await
    }

    /// Puts every dead letter back; see [`Records::requeue_all_dead`].
    pub async fn requeue_all_dead(&self) -> Result<u64> {
        self.write(|q| q.requeue_all_dead()).await
    }

    /// Deletes every item of `status`; see [`Records::purge_status`].
    pub async fn purge_status(&self, status: Status) -> Result<u64> {
        self.write(move |q| q.purge_status(status)).await
    }

    /// The queue's state at a glance; see [`Records::stats`].
    pub async fn stats(&self) -> Result<QueueStats> {
        self.read(|q| q.stats()).await
    }

    /// Acks many in-flight items in one transaction; see
    /// [`Records::ack_many`].
    pub async fn ack_many(&self, ids: &[u64]) -> Result<Vec<Result<()>>> {
        let ids = ids.to_vec();
        self.write(move |q| q.ack_many(&ids)).await
    }

    /// Confirms every item handed out since the last call; see
    /// [`Records::task_done`].
    pub async fn task_done(&self) -> Result<()> {
        self.write(|q| q.task_done()).await
    }

    /// Replaces a live item (ready or in flight).
    pub async fn update(&self, item: impl ItemId, value: T) -> Result<()> {
        let id = item.item_id();
        self.write(move |q| q.update(id, &value)).await
    }

    /// Every stored item in the queue's order; see [`Records::queue`].
    pub async fn queue(&self) -> Result<Vec<Entry<T>>> {
        self.read(|q| q.queue()).await
    }

    /// Items ready to be taken.
    pub async fn len(&self) -> Result<u64> {
        self.read(|q| q.len()).await
    }

    /// Whether no item is ready.
    pub async fn is_empty(&self) -> Result<bool> {
        self.read(|q| q.is_empty()).await
    }

    /// Items ready (never-delivered included).
    pub async fn ready_count(&self) -> Result<u64> {
        self.read(|q| q.ready_count()).await
    }

    /// Items in flight.
    pub async fn unack_count(&self) -> Result<u64> {
        self.read(|q| q.unack_count()).await
    }

    /// Acked items kept.
    pub async fn acked_count(&self) -> Result<u64> {
        self.read(|q| q.acked_count()).await
    }

    /// Failed items kept.
    pub async fn ack_failed_count(&self) -> Result<u64> {
        self.read(|q| q.ack_failed_count()).await
    }

    /// Items ready or in flight.
    pub async fn active_size(&self) -> Result<u64> {
        self.read(|q| q.active_size()).await
    }

    /// Makes every in-flight item ready again; returns how many.
    pub async fn resume_unack_tasks(&self) -> Result<u64> {
        self.write(|q| q.resume_unack_tasks()).await
    }

    /// Deletes acked items; see [`Records::clear_acked_data`].
    pub async fn clear_acked_data(
        &self,
        max_delete: u64,
        keep_latest: u64,
        clear_ack_failed: bool,
    ) -> Result<u64> {
        self.write(move |q| q.clear_acked_data(max_delete, keep_latest, clear_ack_failed)).await
    }

    /// Gives unused disk space back (VACUUM).
    pub async fn shrink_disk_usage(&self) -> Result<()> {
        self.write(|q| q.shrink_disk_usage()).await
    }
}
