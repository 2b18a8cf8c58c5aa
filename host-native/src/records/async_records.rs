//! `AsyncRecords`: the record queues for async code, on any executor.

use std::time::Duration;

use serde::Serialize;

use crate::codec::Codec;
use crate::error::{Error, Result};
use crate::records::delivery::{Delivery, ItemId};
use crate::records::handle::Records;

/// An async face over a record queue (`q.to_async()` on any of them).
/// Works on any executor: waiting parks the task on an event (puts in this
/// process) or a timer (puts from other processes, checked every 20 ms);
/// operations that wait for a disk flush run on the [`blocking`] pool.
///
/// Cancel-safe while waiting: dropping a pending `get` takes nothing.
pub struct AsyncRecords<T, C> {
    inner: Records<T, C>,
}

impl<T, C: Clone> Clone for AsyncRecords<T, C> {
    fn clone(&self) -> Self {
        AsyncRecords { inner: self.inner.clone() }
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

    /// Runs `f` on the blocking pool if `flushes`, inline otherwise.
    async fn run<R: Send + 'static>(
        &self,
        flushes: bool,
        f: impl FnOnce(&Records<T, C>) -> R + Send + 'static,
    ) -> R {
        crate::offload::run(&self.inner, flushes, f).await
    }

    /// Puts an item with a priority (0 outside priority queues); its id.
    pub async fn put(&self, item: T, priority: i64) -> Result<u64> {
        self.run(self.inner.writes_flush(), move |q| q.put_one(&item, priority)).await
    }

    /// Takes the next item, waiting (asynchronously) for one.
    pub async fn get(&self) -> Result<Delivery<T>> {
        let (mut poll, max_poll) = self.inner.shared.poll;
        loop {
            let listener = self.inner.shared.events.listen();
            match self.try_get().await {
                Err(Error::Empty) if self.inner.start_listening() => continue,
                Err(Error::Empty) => {
                    let wait = poll;
                    poll = (poll * 2).min(max_poll);
                    let timer = async {
                        async_io::Timer::after(wait).await;
                    };
                    first_of(listener, timer).await;
                }
                other => return other,
            }
        }
    }

    /// Takes the next item or fails with [`Error::Empty`] at once.
    pub async fn try_get(&self) -> Result<Delivery<T>> {
        self.run(self.inner.get_flushes(), |q| q.try_get()).await
    }

    /// Takes the next item, or [`Error::Empty`] after `timeout`.
    pub async fn get_timeout(&self, timeout: Duration) -> Result<Delivery<T>> {
        let deadline = async {
            async_io::Timer::after(timeout).await;
            Err(Error::Empty)
        };
        first_of(self.get(), deadline).await
    }

    /// Acks an in-flight item.
    pub async fn ack(&self, item: impl ItemId) -> Result<()> {
        let id = item.item_id();
        self.run(self.inner.writes_flush(), move |q| q.ack(id)).await
    }

    /// Gives an in-flight item back.
    pub async fn nack(&self, item: impl ItemId) -> Result<()> {
        let id = item.item_id();
        self.run(self.inner.writes_flush(), move |q| q.nack(id)).await
    }

    /// Marks an in-flight item failed for good.
    pub async fn ack_failed(&self, item: impl ItemId) -> Result<()> {
        let id = item.item_id();
        self.run(self.inner.writes_flush(), move |q| q.ack_failed(id)).await
    }
}

/// The first of two futures to finish (the other is dropped).
async fn first_of<A, F1, F2>(a: F1, b: F2) -> A
where
    F1: Future<Output = A>,
    F2: Future<Output = A>,
{
    let mut a = std::pin::pin!(a);
    let mut b = std::pin::pin!(b);
    std::future::poll_fn(|cx| {
        if let std::task::Poll::Ready(v) = a.as_mut().poll(cx) {
            return std::task::Poll::Ready(v);
        }
        b.as_mut().poll(cx)
    })
    .await
}
