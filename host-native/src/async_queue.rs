//! `AsyncQueue`: the same queue for async code, on any executor. It has a
//! twin of every method of [`Queue`] (`tests/async_twins.rs` fails when one
//! is missing).

use std::time::Duration;

use persist_queue_core::{Durability, Stats};

use crate::codec::Codec;
use crate::error::{Error, Result};
use crate::queue::{Appended, Queue};
use crate::queue_storage::QueueStorage;
use crate::wait::{Deadline, fail_after, first_of};

/// An async face over a [`Queue`]: works on any executor (tokio, smol,
/// async-std ...) and never blocks it. Waiting for items or space parks the
/// task on an [`event_listener`] event, not a thread. A synced put joins
/// the queue's group commit with the blocking puts and awaits its batch's
/// flush, which runs on the [`blocking`] thread pool, one task per batch;
/// other operations that may flush run there whole.
///
/// Futures are cancel-safe while they wait: dropping a pending `get` takes
/// nothing. Once a synced operation has reached its flush, dropping the
/// future does not undo it.
///
/// ```
/// # smol::block_on(async {
/// use persist_queue::Queue;
///
/// let dir = tempfile::tempdir()?;
/// let q = Queue::<u32>::open(dir.path())?.to_async();
/// q.put_many(&[1, 2]).await?;
/// assert_eq!(q.get().await?, 1);
/// q.task_done().await?;
/// assert_eq!(q.len(), 1);
/// # Ok::<(), persist_queue::Error>(())
/// # }).unwrap();
/// ```
pub struct AsyncQueue<T, C, S: QueueStorage> {
    inner: Queue<T, C, S>,
}

impl<T, C: Clone, S: QueueStorage> Clone for AsyncQueue<T, C, S> {
    fn clone(&self) -> Self {
        AsyncQueue { inner: self.inner.clone() }
    }
}

impl<T, C, S: QueueStorage> std::fmt::Debug for AsyncQueue<T, C, S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("AsyncQueue").field(&self.inner).finish()
    }
}

impl<T, C, S> From<Queue<T, C, S>> for AsyncQueue<T, C, S>
where
    S: QueueStorage,
{
    fn from(inner: Queue<T, C, S>) -> Self {
        AsyncQueue { inner }
    }
}

impl<T, C: Codec<T>, S: QueueStorage> Queue<T, C, S> {
    /// An async handle on the same queue.
    pub fn to_async(&self) -> AsyncQueue<T, C, S> {
        AsyncQueue { inner: self.clone() }
    }
}

impl<T, C, S> AsyncQueue<T, C, S>
where
    T: Send + 'static,
    C: Codec<T>,
    S: QueueStorage,
{
    /// The blocking handle on the same queue.
    pub fn blocking(&self) -> &Queue<T, C, S> {
        &self.inner
    }

    /// Whether an operation may wait for a disk flush (reads flush only
    /// with `autosave`).
    fn flushes(&self, reads: bool) -> bool {
        self.inner.shared.durability.is_synced() && (!reads || self.inner.shared.autosave)
    }

    /// Runs `f` on the blocking pool if it `flushes`, inline otherwise.
    async fn offload<R: Send + 'static>(
        &self,
        flushes: bool,
        f: impl FnOnce(&Queue<T, C, S>) -> R + Send + 'static,
    ) -> R {
        crate::offload::offload(&self.inner, flushes, f).await
    }

    /// Puts `encoded` items once there is room for them all, parking the
    /// task on the queue's event meanwhile.
    async fn put_encoded(&self, encoded: Vec<Vec<u8>>) -> Result<()> {
        loop {
            let listener = self.inner.shared.events.listen();
            match self.put_now(&encoded).await {
                Err(Error::Full) if self.room_for(encoded.len()) => listener.await,
                other => return other,
            }
        }
    }

    /// One attempt to put `encoded` ([`Error::Full`] if there is no room
    /// now). The append runs inline (a write to the page cache); a synced
    /// put then joins the queue's group commit and awaits the batch's
    /// flush, which one blocking-pool task runs for the whole batch. Only
    /// an append that starts a new chunk at synced durability (it flushes
    /// the full one first, once per `chunk_size` items) runs on the pool.
    async fn put_now(&self, encoded: &[Vec<u8>]) -> Result<()> {
        match self.inner.append(encoded, Deadline::Now, true)? {
            Appended::Done => Ok(()),
            Appended::Flush(seq) => self.inner.commit_async(seq).await,
            Appended::WouldBlock => {
                let encoded = encoded.to_vec();
                self.offload(true, move |q| q.put_many_bytes(&encoded, Deadline::Now)).await
            }
        }
    }

    /// Whether `n` items can ever fit (a batch above `max_size` never can).
    fn room_for(&self, n: usize) -> bool {
        let max = self.inner.max_size();
        max == 0 || n as u64 <= max
    }

    /// Appends `item`, waiting (asynchronously) for space.
    pub async fn put(&self, item: &T) -> Result<()> {
        self.put_encoded(vec![self.inner.codec.encode(item)?]).await
    }

    /// Like [`AsyncQueue::put`], but gives up with [`Error::Full`] after
    /// `timeout`.
    pub async fn put_timeout(&self, item: &T, timeout: Duration) -> Result<()> {
        let encoded = vec![self.inner.codec.encode(item)?];
        first_of(self.put_encoded(encoded), fail_after(timeout, Error::Full)).await
    }

    /// Appends `item` or fails with [`Error::Full`] at once.
    pub async fn try_put(&self, item: &T) -> Result<()> {
        self.put_now(&[self.inner.codec.encode(item)?]).await
    }

    /// Appends every item with one write per chunk and one flush, waiting
    /// for room for all of them (a batch larger than `max_size` fails with
    /// [`Error::Full`]).
    pub async fn put_many(&self, items: &[T]) -> Result<()> {
        let encoded = items.iter().map(|i| self.inner.codec.encode(i)).collect::<Result<Vec<_>>>()?;
        if encoded.is_empty() {
            return Ok(());
        }
        self.put_encoded(encoded).await
    }

    /// Takes the next item, waiting (asynchronously) for one.
    pub async fn get(&self) -> Result<T> {
        loop {
            let listener = self.inner.shared.events.listen();
            match self.try_get().await {
                Err(Error::Empty) => listener.await,
                other => return other,
            }
        }
    }

    /// Takes the next item, or fails with [`Error::Empty`] after `timeout`.
    pub async fn get_timeout(&self, timeout: Duration) -> Result<T> {
        first_of(self.get(), fail_after(timeout, Error::Empty)).await
    }

    /// Takes the next item or fails with [`Error::Empty`] at once.
    pub async fn try_get(&self) -> Result<T> {
        self.offload(self.flushes(true), |q| q.get_item(Deadline::Now)).await
    }

    /// The next item, without taking it (`None` when empty).
    pub async fn peek(&self) -> Result<Option<T>> {
        self.inner.peek()
    }

    /// Up to `n` items without taking any; see [`Queue::peek_many`].
    pub async fn peek_many(&self, n: usize) -> Result<Vec<T>> {
        self.inner.peek_many(n)
    }

    /// Confirms one item; see [`Queue::task_done`].
    pub async fn task_done(&self) -> Result<()> {
        self.offload(self.flushes(false), |q| q.task_done()).await
    }

    /// Waits until every item is confirmed or the queue is closed.
    pub async fn join(&self) {
        loop {
            let listener = self.inner.shared.events.listen();
            if self.inner.unfinished_tasks() == 0 || self.inner.is_closed() {
                return;
            }
            listener.await;
        }
    }

    /// Flushes everything written so far to disk, whatever the durability.
    pub async fn sync(&self) -> Result<()> {
        self.offload(true, |q| q.sync()).await
    }

    /// Closes the queue for every handle; see [`Queue::close`].
    pub fn close(&self) {
        self.inner.close();
    }

    /// Items not yet got.
    pub fn len(&self) -> u64 {
        self.inner.len()
    }

    /// Whether no item waits.
    pub fn is_empty(&self) -> bool {
        self.inner.is_empty()
    }

    /// Whether `put` would wait (only with a `max_size`).
    pub fn is_full(&self) -> bool {
        self.inner.is_full()
    }

    /// Items put and not yet confirmed by `task_done`.
    pub fn unfinished_tasks(&self) -> u64 {
        self.inner.unfinished_tasks()
    }

    /// Whether the queue was closed.
    pub fn is_closed(&self) -> bool {
        self.inner.is_closed()
    }

    /// Recovery and skip counters since open.
    pub fn stats(&self) -> Stats {
        self.inner.stats()
    }

    /// The durability in force.
    pub fn durability(&self) -> Durability {
        self.inner.durability()
    }

    /// Items per chunk file.
    pub fn chunk_size(&self) -> u32 {
        self.inner.chunk_size()
    }

    /// The serializer the items were written with; see [`Queue::codec_name`].
    pub fn codec_name(&self) -> String {
        self.inner.codec_name()
    }
}
