//! `AsyncQueue`: the same queue for async code, on any executor.

use persist_queue_core::Stats;

use crate::backend::Backend;
use crate::codec::Codec;
use crate::error::{Error, Result};
use crate::queue::{Queue, Wait};

/// An async face over a [`Queue`]: works on any executor (tokio, smol,
/// async-std ...) and never blocks it. Waiting for items or space parks the
/// task on an [`event_listener`] event, not a thread; a disk flush (synced
/// durability) runs on the [`blocking`] thread pool.
///
/// Futures are cancel-safe while they wait: dropping a pending `get` takes
/// nothing. Once a synced operation has reached its flush, dropping the
/// future does not undo it.
pub struct AsyncQueue<T, C, S: Backend> {
    inner: Queue<T, C, S>,
}

impl<T, C: Clone, S: Backend> Clone for AsyncQueue<T, C, S> {
    fn clone(&self) -> Self {
        AsyncQueue { inner: self.inner.clone() }
    }
}

impl<T, C, S> From<Queue<T, C, S>> for AsyncQueue<T, C, S>
where
    S: Backend,
{
    fn from(inner: Queue<T, C, S>) -> Self {
        AsyncQueue { inner }
    }
}

impl<T, C: Codec<T>, S: Backend> Queue<T, C, S> {
    /// An async handle on the same queue.
    pub fn to_async(&self) -> AsyncQueue<T, C, S> {
        AsyncQueue { inner: self.clone() }
    }
}

impl<T, C, S> AsyncQueue<T, C, S>
where
    T: Send + 'static,
    C: Codec<T>,
    S: Backend,
{
    /// The blocking handle on the same queue.
    pub fn blocking(&self) -> &Queue<T, C, S> {
        &self.inner
    }

    /// Whether an operation may wait for a disk flush.
    fn flushes(&self, reads: bool) -> bool {
        self.inner.shared.durability.is_synced() && (!reads || self.inner.shared.autosave)
    }

    /// Runs `f` on the blocking pool if `flushes`, inline otherwise.
    async fn run<R: Send + 'static>(
        &self,
        flushes: bool,
        f: impl FnOnce(&Queue<T, C, S>) -> R + Send + 'static,
    ) -> R {
        crate::offload::run(&self.inner, flushes, f).await
    }

    /// Appends `item`, waiting (asynchronously) for space.
    pub async fn put(&self, item: &T) -> Result<()> {
        let mut bytes = self.inner.codec.encode(item)?;
        loop {
            let listener = self.inner.shared.events.listen();
            let (res, back) = self
                .run(self.flushes(false), move |q| {
                    let r = q.put_bytes(&bytes, Wait::No);
                    (r, bytes)
                })
                .await;
            match res {
                Err(Error::Full) => {
                    bytes = back;
                    listener.await;
                }
                other => return other,
            }
        }
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

    /// Takes the next item or fails with [`Error::Empty`] at once.
    pub async fn try_get(&self) -> Result<T> {
        self.run(self.flushes(true), |q| q.get_item(Wait::No)).await
    }

    /// Appends `item` or fails with [`Error::Full`] at once.
    pub async fn try_put(&self, item: &T) -> Result<()> {
        let bytes = self.inner.codec.encode(item)?;
        self.run(self.flushes(false), move |q| q.put_bytes(&bytes, Wait::No)).await
    }

    /// Confirms one item; see [`Queue::task_done`].
    pub async fn task_done(&self) -> Result<()> {
        self.run(self.flushes(false), |q| q.task_done()).await
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

    /// Items not yet got.
    pub fn len(&self) -> u64 {
        self.inner.len()
    }

    /// Whether no item waits.
    pub fn is_empty(&self) -> bool {
        self.inner.is_empty()
    }

    /// Recovery counters.
    pub fn stats(&self) -> Stats {
        self.inner.stats()
    }

    /// Closes the queue for every handle.
    pub fn close(&self) {
        self.inner.close();
    }
}
