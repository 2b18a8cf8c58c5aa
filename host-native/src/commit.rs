//! Group commit, written once: callers hand in their work with a ticket;
//! the first caller to find no commit running becomes the leader and
//! commits every caller's work at once (one flush, one transaction); each
//! caller gets *its own* typed result. Used by the chunk [`crate::Queue`]
//! (the work is "my write is on disk") and by the record queues (the work
//! is a caller's puts).

use persist_queue_core::group_commit::Batches;

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
    done: Condvar,
    /// Each batch's size and commit time go here.
    metrics: QueueMetrics,
}

impl<W, O> GroupCommit<W, O> {
    pub(crate) fn new(metrics: QueueMetrics) -> Self {
        GroupCommit { pending: Mutex::new(Batches::new()), done: Condvar::new(), metrics }
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
                p = self.done.wait(p).unwrap_or_else(|e| e.into_inner());
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
            self.done.notify_all();
            return mine;
        }
    }
}
