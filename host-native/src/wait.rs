//! Waiting, written once: how long an operation may wait ([`Deadline`]),
//! how often a waiting `get` looks again at a store other processes write
//! to ([`PollPolicy`]), and the one condition-variable wait both the chunk
//! [`crate::Queue`] and the record queues use, counting its waiters so that
//! a change notifies only when someone waits.

use std::time::{Duration, Instant};

use crate::sync::{Condvar, MutexGuard};

/// How long an operation may wait.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Deadline {
    /// Not at all (`try_get`, `try_put`).
    Now,
    /// Until this instant.
    At(Instant),
    /// For as long as it takes.
    Never,
}

impl Deadline {
    /// `timeout` from now (a timeout too large to add is no deadline).
    pub(crate) fn after(timeout: Duration) -> Deadline {
        Instant::now().checked_add(timeout).map_or(Deadline::Never, Deadline::At)
    }

    /// The time left: `None` when the wait is over, `Some(None)` when it
    /// never ends.
    pub(crate) fn left(self) -> Option<Option<Duration>> {
        match self {
            Deadline::Now => None,
            Deadline::Never => Some(None),
            Deadline::At(at) => match at.checked_duration_since(Instant::now()) {
                Some(left) if !left.is_zero() => Some(Some(left)),
                _ => None,
            },
        }
    }
}

/// How a waiting `get` looks at a store other processes write to: first
/// after `first`, doubling up to `max` (puts in this process wake it at
/// once).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct PollPolicy {
    first: Duration,
    max: Duration,
}

impl PollPolicy {
    /// Every `every`.
    pub(crate) const fn fixed(every: Duration) -> PollPolicy {
        PollPolicy { first: every, max: every }
    }

    /// First after `first`, doubling up to `max`.
    #[cfg_attr(not(feature = "mysql"), allow(dead_code))]
    pub(crate) const fn doubling(first: Duration, max: Duration) -> PollPolicy {
        PollPolicy { first, max }
    }

    /// The intervals of one wait, in order.
    pub(crate) fn intervals(self) -> impl Iterator<Item = Duration> {
        std::iter::successors(Some(self.first), move |d| Some((*d * 2).min(self.max)))
    }
}

/// Waits once on `cv` until notified, the deadline passes, or `poll` has
/// elapsed (`None`: no polling), with `waiters(state)` (if given) counting
/// this thread meanwhile. `None` when the deadline has passed (nothing was
/// waited).
pub(crate) fn wait_once<'a, T>(
    cv: &Condvar,
    mut guard: MutexGuard<'a, T>,
    deadline: Deadline,
    poll: Option<Duration>,
    waiters: Option<fn(&mut T) -> &mut usize>,
) -> Option<MutexGuard<'a, T>> {
    let left = deadline.left()?;
    let limit = match (left, poll) {
        (Some(l), Some(p)) => Some(l.min(p)),
        (l, p) => l.or(p),
    };
    if let Some(count) = waiters {
        *count(&mut guard) += 1;
    }
    let mut guard = match limit {
        None => cv.wait(guard).unwrap_or_else(|e| e.into_inner()),
        Some(limit) => cv.wait_timeout(guard, limit).unwrap_or_else(|e| e.into_inner()).0,
    };
    if let Some(count) = waiters {
        *count(&mut guard) -= 1;
    }
    Some(guard)
}

/// The async twin of [`wait_once`]: until `listener` fires or `poll` has
/// elapsed (`None`: no polling).
#[cfg(feature = "async")]
pub(crate) async fn wait_async(listener: event_listener::EventListener, poll: Option<Duration>) {
    match poll {
        None => listener.await,
        Some(poll) => {
            let timer = async {
                async_io::Timer::after(poll).await;
            };
            first_of(listener, timer).await;
        }
    }
}

/// The first of two futures to finish (the other is dropped).
#[cfg(feature = "async")]
pub(crate) async fn first_of<A>(a: impl Future<Output = A>, b: impl Future<Output = A>) -> A {
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

/// Fails with `e` after `timeout` (the deadline of an async `*_timeout`).
#[cfg(feature = "async")]
pub(crate) async fn fail_after<R>(timeout: Duration, e: crate::Error) -> crate::Result<R> {
    async_io::Timer::after(timeout).await;
    Err(e)
}
