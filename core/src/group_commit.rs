//! The group-commit protocol, written once for every host: callers queue
//! their work under a [`Ticket`]; one leader at a time takes every queued
//! work ([`Batches::begin`]), commits it at once (one flush, one
//! transaction), and hands each caller *its own* answer
//! ([`Batches::finish`]); when the batch fails, every other caller gets a
//! copy of the error made for it.
//!
//! No lock and no waiting here: each host wraps the protocol in its own.
//! Natively (`persist_queue::commit`) it sits under a mutex, and each
//! blocking caller waits on its own slot, where the leader hands it its
//! answer ([`Batches::finish_each`]); in a browser
//! (`persist-queue-wasm`) it sits in a `RefCell`, and the leader is the
//! first caller to get the queue's async lock.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

/// A caller's place in the protocol: where its answer is found.
#[derive(Debug, PartialEq, Eq)]
pub struct Ticket(u64);

/// The tickets of a batch a leader took, in the order of its works.
#[derive(Debug)]
pub struct Batch(Vec<u64>);

impl Batch {
    /// Callers in the batch.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the batch is empty (never, for a batch a leader took for
    /// its own ticket).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Work `W` waiting to be committed, and answers (`O`, or the error `E`)
/// waiting to be collected.
#[derive(Debug)]
pub struct Batches<W, O, E> {
    next_ticket: u64,
    waiting: Vec<(u64, W)>,
    answers: BTreeMap<u64, Result<O, E>>,
    committing: bool,
    /// Callers seen around the last batch: its own, and those that
    /// queued while it committed (the concurrent producers).
    callers: usize,
    /// Batches begun so far: the running one (if any) is `begun - 1`, and
    /// queued works go to batch `begun`.
    begun: u64,
}

impl<W, O, E> Default for Batches<W, O, E> {
    fn default() -> Self {
        Batches {
            next_ticket: 0,
            waiting: Vec::new(),
            answers: BTreeMap::new(),
            committing: false,
            callers: 0,
            begun: 0,
        }
    }
}

impl<W, O, E> Batches<W, O, E> {
    /// Nothing queued.
    pub fn new() -> Self {
        Self::default()
    }

    /// Queues `work`; its answer will be under the returned ticket.
    pub fn enqueue(&mut self, work: W) -> Ticket {
        let t = self.next_ticket;
        self.next_ticket += 1;
        self.waiting.push((t, work));
        Ticket(t)
    }

    /// The answer for `ticket`, once a leader committed its work (taken:
    /// it is handed out once).
    pub fn answer(&mut self, ticket: &Ticket) -> Option<Result<O, E>> {
        self.answers.remove(&ticket.0)
    }

    /// Whether a leader is committing a batch now (the others wait for it).
    pub fn committing(&self) -> bool {
        self.committing
    }

    /// The number of the batch that commits `ticket`'s work: the running
    /// batch if a leader took it, else the next one to begin. Batches are
    /// numbered from 0 in the order they begin, so a host can wake only
    /// the callers of the batch that ended (say, one condition variable
    /// per batch parity: while batch `n` runs, every waiting caller's work
    /// is in batch `n` or `n + 1`).
    pub fn batch_of(&self, ticket: &Ticket) -> u64 {
        let queued = self.waiting.first().is_some_and(|&(first, _)| ticket.0 >= first);
        if queued { self.begun } else { self.begun.saturating_sub(1) }
    }

    /// The number of the batch a leader took last ([`Self::begin`]).
    pub fn last_begun(&self) -> u64 {
        self.begun.saturating_sub(1)
    }

    /// Whether works are queued for the next batch.
    pub fn has_queued(&self) -> bool {
        !self.waiting.is_empty()
    }

    /// Whether a new leader may expect more callers to join: the last
    /// batch saw several (its own callers and those that queued while it
    /// committed: concurrent producers) and fewer are queued now. A lone
    /// writer never waits.
    pub fn expects_more(&self) -> bool {
        self.callers > 1 && self.waiting.len() < self.callers
    }

    /// Whether the work queued last made the queued works as many as the
    /// callers [`Self::expects_more`] waits for (a host wakes a leader
    /// waiting for stragglers then, once).
    pub fn joined_all(&self) -> bool {
        self.callers > 1 && self.waiting.len() == self.callers
    }

    /// Makes the caller the leader, before it takes the batch: from now
    /// until [`Self::finish`], [`Self::committing`] is true, so callers
    /// arriving while it waits for stragglers (the lock released) wait for
    /// it instead of leading a batch of their own at the same time.
    pub fn lead(&mut self) {
        self.committing = true;
    }

    /// Takes every queued work for the caller that leads (it calls
    /// [`Self::lead`] first, or this does): the batch (to hand to
    /// [`Self::finish`]) and the works, in ticket order. Until `finish`,
    /// [`Self::committing`] is true.
    pub fn begin(&mut self) -> (Batch, Vec<W>) {
        self.committing = true;
        self.begun += 1;
        let (tickets, works) = core::mem::take(&mut self.waiting).into_iter().unzip();
        (Batch(tickets), works)
    }

    /// Ends the leader's commit: `answers` holds one answer per work of
    /// `batch`, in order, or one error for all of them. Every other
    /// caller's answer is left for it to collect (an error as
    /// `for_another(&e)`); the leader's own (`mine`) is returned. An answer
    /// count that does not match the batch fails every caller with
    /// `miscount()`.
    pub fn finish(
        &mut self,
        batch: Batch,
        mine: &Ticket,
        answers: Result<Vec<O>, E>,
        for_another: impl Fn(&E) -> E,
        miscount: impl Fn() -> E,
    ) -> Result<O, E> {
        let at = batch.0.iter().position(|&t| t == mine.0);
        let mut own = None;
        self.hand_out(batch, answers, at, for_another, &miscount, |i, answer| {
            if Some(i) == at {
                own = Some(answer);
                None
            } else {
                Some(answer)
            }
        });
        own.unwrap_or_else(|| Err(miscount()))
    }

    /// Ends a commit and gives each answer, with its work's place in the
    /// batch, to `deliver`, which hands it to its caller directly (a host
    /// whose callers each wait on their own slot) or gives it back to be
    /// left for [`Self::answer`]. A failed or miscounted batch gives every
    /// work `for_another(&e)`.
    pub fn finish_each(
        &mut self,
        batch: Batch,
        answers: Result<Vec<O>, E>,
        for_another: impl Fn(&E) -> E,
        miscount: impl Fn() -> E,
        deliver: impl FnMut(usize, Result<O, E>) -> Option<Result<O, E>>,
    ) {
        self.hand_out(batch, answers, None, for_another, &miscount, deliver);
    }

    /// Ends the batch: every work's answer through `deliver` (the original
    /// error of a failed batch to the work at `original`, copies to the
    /// others); what `deliver` gives back is kept for [`Self::answer`].
    fn hand_out(
        &mut self,
        batch: Batch,
        answers: Result<Vec<O>, E>,
        original: Option<usize>,
        for_another: impl Fn(&E) -> E,
        miscount: &impl Fn() -> E,
        mut deliver: impl FnMut(usize, Result<O, E>) -> Option<Result<O, E>>,
    ) {
        self.committing = false;
        self.callers = batch.0.len() + self.waiting.len();
        let answers = match answers {
            Ok(a) if a.len() == batch.0.len() => Ok(a),
            Ok(_) => Err(miscount()),
            Err(e) => Err(e),
        };
        match answers {
            Ok(answers) => {
                for (i, (t, a)) in batch.0.into_iter().zip(answers).enumerate() {
                    if let Some(kept) = deliver(i, Ok(a)) {
                        self.answers.insert(t, kept);
                    }
                }
            }
            Err(e) => {
                let mut theirs = None;
                for (i, t) in batch.0.into_iter().enumerate() {
                    if Some(i) == original {
                        theirs = Some(t);
                    } else if let Some(kept) = deliver(i, Err(for_another(&e))) {
                        self.answers.insert(t, kept);
                    }
                }
                if let (Some(i), Some(t)) = (original, theirs)
                    && let Some(kept) = deliver(i, Err(e))
                {
                    self.answers.insert(t, kept);
                }
            }
        }
    }

    /// The works queued for the next batch, in ticket order (a host looks
    /// for the caller to hand the lead to).
    pub fn queued(&self) -> impl Iterator<Item = &W> {
        self.waiting.iter().map(|(_, w)| w)
    }
}

#[cfg(test)]
mod tests {
    use alloc::vec;

    use super::*;

    type B = Batches<u32, u32, &'static str>;

    #[test]
    fn each_caller_gets_its_own_answer_from_one_commit() {
        let mut b = B::new();
        let (t1, t2, t3) = (b.enqueue(10), b.enqueue(20), b.enqueue(30));
        assert!(b.answer(&t2).is_none() && !b.committing());
        b.lead();
        assert!(b.committing(), "a leader waiting for stragglers holds the lead");
        let (batch, works) = b.begin();
        assert_eq!((works, batch.len(), b.committing()), (vec![10, 20, 30], 3, true));
        let late = b.enqueue(40);
        let mine = b.finish(batch, &t2, Ok(vec![11, 21, 31]), |e| e, || "miscount");
        assert_eq!(mine, Ok(21));
        assert_eq!((b.answer(&t1), b.answer(&t3)), (Some(Ok(11)), Some(Ok(31))));
        assert_eq!(b.answer(&t1), None, "an answer is handed out once");
        assert!(b.answer(&late).is_none(), "the late caller waits for the next batch");
        assert!(b.expects_more(), "the last batch had 3 callers, 1 is queued");
        let (batch, works) = b.begin();
        assert_eq!(works, vec![40]);
        assert_eq!(b.finish(batch, &late, Ok(vec![41]), |e| e, || "miscount"), Ok(41));
        assert!(!b.expects_more(), "a lone writer never waits");
    }

    #[test]
    fn each_work_knows_the_batch_that_commits_it() {
        let mut b = B::new();
        let t1 = b.enqueue(1);
        assert_eq!(b.batch_of(&t1), 0, "queued: the next batch, 0");
        let (batch, _) = b.begin();
        assert_eq!((b.batch_of(&t1), b.last_begun()), (0, 0), "taken: the running batch");
        let t2 = b.enqueue(2);
        assert_eq!(b.batch_of(&t2), 1, "queued while batch 0 runs: batch 1");
        assert!(b.has_queued());
        assert_eq!(b.finish(batch, &t1, Ok(vec![10]), |e| e, || "miscount"), Ok(10));
        let (batch, _) = b.begin();
        assert_eq!((b.batch_of(&t2), b.has_queued()), (1, false));
        b.finish_each(batch, Ok(vec![20]), |e| e, || "miscount", |_, a| Some(a));
    }

    #[test]
    fn finish_each_hands_answers_out_or_leaves_them_for_their_callers() {
        let mut b = B::new();
        let (t1, t2) = (b.enqueue(1), b.enqueue(2));
        let (batch, works) = b.begin();
        assert_eq!(works, vec![1, 2]);
        let mut handed = Vec::new();
        b.finish_each(
            batch,
            Ok(vec![10, 20]),
            |e| e,
            || "miscount",
            |i, a| {
                if i == 0 {
                    handed.push(a);
                    None
                } else {
                    Some(a)
                }
            },
        );
        assert_eq!(handed, vec![Ok(10)], "the first answer went to its caller directly");
        assert!(!b.committing());
        assert_eq!((b.answer(&t1), b.answer(&t2)), (None, Some(Ok(20))), "only the one given back is kept");
        let t3 = b.enqueue(3);
        let (batch, _) = b.begin();
        b.finish_each(batch, Err("disk full"), |_| "disk full (copy)", || "miscount", |_, a| Some(a));
        assert_eq!(b.answer(&t3), Some(Err("disk full (copy)")));
    }

    #[test]
    fn a_failed_or_miscounted_batch_fails_every_caller() {
        let mut b = B::new();
        let (t1, t2) = (b.enqueue(1), b.enqueue(2));
        let (batch, _) = b.begin();
        assert_eq!(
            b.finish(batch, &t1, Err("disk full"), |_| "disk full (another caller's batch)", || "x"),
            Err("disk full")
        );
        assert_eq!(b.answer(&t2), Some(Err("disk full (another caller's batch)")));
        let (t3, t4) = (b.enqueue(3), b.enqueue(4));
        let (batch, _) = b.begin();
        assert_eq!(b.finish(batch, &t4, Ok(vec![1]), |e| e, || "miscount"), Err("miscount"));
        assert_eq!(b.answer(&t3), Some(Err("miscount")));
    }
}
