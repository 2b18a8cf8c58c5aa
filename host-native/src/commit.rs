//! Group commit, written once: callers hand in their work with a ticket;
//! the first caller to find no commit running becomes the leader and
//! commits every caller's work at once (one flush, one transaction); each
//! caller gets *its own* typed result. Used by the chunk [`crate::Queue`]
//! (the work is "my write is on disk") and by the record queues (the work
//! is a caller's puts).

use std::collections::HashMap;

use crate::error::{Error, Result};
use crate::sync::{Condvar, Mutex, MutexGuard};

/// How long a new leader lets concurrent producers join its batch: while
/// the last batch had more than one caller and fewer have queued than it
/// had, it yields its thread, at most this many times (a lone writer never
/// waits).
const STRAGGLER_YIELDS: usize = 8;

/// Work waiting to be committed, and the results of committed work.
struct Pending<W, O> {
    next_ticket: u64,
    waiting: Vec<(u64, W)>,
    results: HashMap<u64, Result<O>>,
    /// A leader is committing a batch now.
    committing: bool,
    /// Callers in the last batch (more than one: producers are concurrent).
    last_batch: usize,
}

/// Group commit of work `W`, each caller's answer an `O`.
pub(crate) struct GroupCommit<W, O> {
    pending: Mutex<Pending<W, O>>,
    done: Condvar,
}

impl<W, O> GroupCommit<W, O> {
    pub(crate) fn new() -> Self {
        let pending = Pending {
            next_ticket: 0,
            waiting: Vec::new(),
            results: HashMap::new(),
            committing: false,
            last_batch: 0,
        };
        GroupCommit { pending: Mutex::new(pending), done: Condvar::new() }
    }

    fn lock(&self) -> MutexGuard<'_, Pending<W, O>> {
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
        let ticket = p.next_ticket;
        p.next_ticket += 1;
        p.waiting.push((ticket, work));
        loop {
            if let Some(r) = p.results.remove(&ticket) {
                return r;
            }
            if p.committing {
                p = self.done.wait(p).unwrap_or_else(|e| e.into_inner());
                continue;
            }
            // This caller's work is still queued (a leader that took it
            // would have left its result), so it leads at most once.
            let Some(commit) = commit.take() else {
                return Err(Error::Protocol("group commit lost a caller's work"));
            };
            p.committing = true;
            for _ in 0..STRAGGLER_YIELDS {
                if p.last_batch <= 1 || p.waiting.len() >= p.last_batch {
                    break;
                }
                drop(p);
                crate::sync::yield_now();
                p = self.lock();
            }
            let batch = std::mem::take(&mut p.waiting);
            drop(p);
            let (tickets, works): (Vec<u64>, Vec<W>) = batch.into_iter().unzip();
            let answers = commit(works);
            p = self.lock();
            p.committing = false;
            p.last_batch = tickets.len();
            let mine = match answers {
                Ok(answers) if answers.len() == tickets.len() => {
                    let mut mine = None;
                    for (t, a) in tickets.into_iter().zip(answers) {
                        if t == ticket {
                            mine = Some(Ok(a));
                        } else {
                            p.results.insert(t, Ok(a));
                        }
                    }
                    mine
                }
                Ok(_) => {
                    let e = Error::Protocol("a batch answered for a different number of callers");
                    Some(self.fail_batch(&mut p, &tickets, ticket, e))
                }
                Err(e) => Some(self.fail_batch(&mut p, &tickets, ticket, e)),
            };
            self.done.notify_all();
            if let Some(r) = mine {
                return r;
            }
        }
    }

    /// Hands `e` to every caller of the batch but this one; this one's.
    fn fail_batch(&self, p: &mut Pending<W, O>, tickets: &[u64], mine: u64, e: Error) -> Result<O> {
        for &t in tickets.iter().filter(|&&t| t != mine) {
            p.results.insert(t, Err(e.for_another_caller()));
        }
        Err(e)
    }
}
