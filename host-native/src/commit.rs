//! Group commit, written once: callers hand in their work with a ticket;
//! the first caller to find no commit running becomes the leader and
//! commits every caller's work at once (one flush, one transaction); each
//! caller gets *its own* typed result. Used by the chunk [`crate::Queue`]
//! (the work is "my write is on disk") and by the record queues (the work
//! is a caller's puts). Async callers join the same batches
//! ([`GroupCommit::submit_on_pool`]): they wait on an event, not a thread,
//! and a leader among them hands the commit to a blocking-pool task, one
//! task per batch rather than one per call.

use persist_queue_core::group_commit::Batches;
#[cfg(feature = "async")]
use persist_queue_core::group_commit::{Batch, Ticket};

use crate::error::{Error, Result};
use crate::sync::{Condvar, Mutex, MutexGuard};
use crate::telemetry::QueueMetrics;

/// How long a new leader lets concurrent producers join its batch: while
/// [`Batches::expects_more`], it yields its thread, at most this many times
/// (a lone writer never waits).
const STRAGGLER_YIELDS: usize = 8;

/// Group commit of work `W`, each caller's answer an `O`: the core's
/// protocol ([`Batches`]) under a mutex, callers waiting on a condition
/// variable while a leader commits.
pub(crate) struct GroupCommit<W, O> {
    pending: Mutex<Batches<W, O, Error>>,
    /// Callers wait on the condition variable of their batch's parity
    /// ([`Batches::batch_of`]): a batch's end wakes its own callers and one
    /// queued caller to lead the next, not every waiter.
    done: [Condvar; 2],
    /// Async callers wait on this (notified with `done`).
    finished: event_listener::Event,
    /// Each batch's size and commit time go here.
    metrics: QueueMetrics,
}

/// What an async caller does next ([`GroupCommit::step`]).
#[cfg(feature = "async")]
pub(crate) enum Step<W, O> {
    /// Its answer.
    Answer(Result<O>),
    /// Wait for the running batch (the listener was made under the lock,
    /// so the batch's end cannot be missed).
    Wait(event_listener::EventListener),
    /// Lead: commit these works off the executor, then
    /// [`GroupCommit::complete`].
    Lead(Batch, Vec<W>),
}

impl<W, O> GroupCommit<W, O> {
    pub(crate) fn new(metrics: QueueMetrics) -> Self {
        GroupCommit {
            pending: Mutex::new(Batches::new()),
            done: [Condvar::new(), Condvar::new()],
            finished: event_listener::Event::new(),
            metrics,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Batches<W, O, Error>> {
        self.pending.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Commits `work` with whatever other callers hand in meanwhile and
    /// returns this caller's answer.
    ///
    /// `commit` is called by the leader, without any lock of this module
    /// held (others queue for the next batch meanwhile), with every queued
    /// caller's work in ticket order. It returns one answer per work, in
    /// that order, or one error for the whole batch: then every caller of
    /// the batch gets that error, the same variant
    /// ([`Error::for_another_caller`]).
    pub(crate) fn submit(&self, work: W, commit: impl FnOnce(Vec<W>) -> Result<Vec<O>>) -> Result<O> {
        let mut commit = Some(commit);
        let mut p = self.lock();
        let ticket = p.enqueue(work);
        loop {
            if let Some(r) = p.answer(&ticket) {
                return r;
            }
            if p.committing() {
                let parity = (p.batch_of(&ticket) % 2) as usize;
                p = self.done[parity].wait(p).unwrap_or_else(|e| e.into_inner());
                continue;
            }
            // This caller's work is still queued (a leader that took it
            // would have left its answer), so it leads at most once.
            let Some(commit) = commit.take() else {
                return Err(Error::Protocol("group commit lost a caller's work"));
            };
            // Lead before waiting for stragglers: callers arriving while
            // the lock is released wait for this batch, never lead one too.
            p.lead();
            for _ in 0..STRAGGLER_YIELDS {
                if !p.expects_more() {
                    break;
                }
                drop(p);
                crate::sync::yield_now();
                p = self.lock();
            }
            let (batch, works) = p.begin();
            drop(p);
            let (callers, started) = (works.len(), std::time::Instant::now());
            let answers = commit(works);
            self.metrics.committed(callers, started.elapsed());
            p = self.lock();
            let mine = p.finish(batch, &ticket, answers, Error::for_another_caller, || {
                Error::Protocol("a batch answered for a different number of callers")
            });
            self.wake_after(&p);
            drop(p);
            self.finished.notify(usize::MAX);
            return mine;
        }
    }

    /// After the last begun batch finished: wakes its callers, and one
    /// caller queued for the next batch to lead it.
    fn wake_after(&self, p: &Batches<W, O, Error>) {
        let ended = p.last_begun();
        self.done[(ended % 2) as usize].notify_all();
        if p.has_queued() {
            self.done[((ended + 1) % 2) as usize].notify_one();
        }
    }

    /// Queues `work` for the next batch (async callers; see
    /// [`Self::submit_async`]).
    #[cfg(feature = "async")]
    fn enqueue(&self, work: W) -> Ticket {
        self.lock().enqueue(work)
    }

    /// An async caller's next step for `ticket`.
    #[cfg(feature = "async")]
    fn step(&self, ticket: &Ticket) -> Step<W, O> {
        let mut p = self.lock();
        if let Some(r) = p.answer(ticket) {
            return Step::Answer(r);
        }
        if p.committing() {
            return Step::Wait(self.finished.listen());
        }
        let (batch, works) = p.begin();
        Step::Lead(batch, works)
    }

    /// Ends a batch an async leader handed off: leaves every caller's
    /// answer (or a copy of the batch's error) and wakes every waiter,
    /// blocking and async. The batch's size and `started` feed the metrics.
    #[cfg(feature = "async")]
    fn complete(&self, batch: Batch, started: std::time::Instant, answers: Result<Vec<O>>) {
        self.metrics.committed(batch.len(), started.elapsed());
        let mut p = self.lock();
        p.finish_all(batch, answers, Error::for_another_caller, || {
            Error::Protocol("a batch answered for a different number of callers")
        });
        self.wake_after(&p);
        drop(p);
        self.finished.notify(usize::MAX);
    }

    /// [`Self::submit`] for async code: the caller waits on an event, not
    /// a thread. If it leads, one detached task on the `blocking` pool runs
    /// `commit(owner, works)` and completes the batch, whether or not this
    /// future is still polled (a dropped future leaves the batch to finish
    /// on its own). `of(owner)` is this group commit.
    #[cfg(feature = "async")]
    pub(crate) async fn submit_on_pool<X: Send + Sync + 'static>(
        &self,
        work: W,
        owner: &std::sync::Arc<X>,
        of: fn(&X) -> &GroupCommit<W, O>,
        commit: fn(&X, &[W]) -> Result<Vec<O>>,
    ) -> Result<O>
    where
        W: Send + 'static,
        O: Send + 'static,
    {
        self.submit_async(work, |batch, works| {
            let owner = std::sync::Arc::clone(owner);
            blocking::unblock(move || {
                let started = std::time::Instant::now();
                let answers = commit(&owner, &works);
                of(&owner).complete(batch, started, answers);
            })
            .detach();
        })
        .await
    }

    /// The protocol of [`Self::submit_on_pool`]: if the caller leads,
    /// `hand_off(batch, works)` must commit the works where blocking is
    /// allowed and then call [`Self::complete`], even if this future is
    /// dropped.
    #[cfg(feature = "async")]
    async fn submit_async(&self, work: W, hand_off: impl FnOnce(Batch, Vec<W>)) -> Result<O> {
        let ticket = self.enqueue(work);
        let mut hand_off = Some(hand_off);
        loop {
            match self.step(&ticket) {
                Step::Answer(r) => return r,
                Step::Wait(listener) => listener.await,
                Step::Lead(batch, works) => {
                    let Some(hand_off) = hand_off.take() else {
                        return Err(Error::Protocol("group commit lost a caller's work"));
                    };
                    hand_off(batch, works);
                }
            }
        }
    }
}
