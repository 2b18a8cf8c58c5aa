//! Group commit, written once: callers hand in their work with a ticket;
//! the first caller to find no commit running becomes the leader and
//! commits every caller's work at once (one flush, one transaction); each
//! caller gets *its own* typed result. Used by the chunk [`crate::Queue`]
//! (the work is "my write is on disk") and by the record queues (the work
//! is a caller's puts, claims or acks).
//!
//! A blocking caller waits on its own [`Slot`]: the leader puts each
//! caller's answer there and wakes only that caller, so the end of a batch
//! wakes exactly the callers it covered, none of them needing this
//! module's lock again. A leader that finds works queued when its batch
//! ends keeps the disk busy and commits them too (up to [`LEADS`] batches
//! in all), rather than waking a sleeping caller to lead: on a loaded
//! machine a woken thread can wait for a core longer than a flush takes.
//! A new leader first waits for stragglers ([`PATIENCE`]): until as many
//! works are queued as callers were seen around the last batch (the one
//! that completes the count wakes it), or half the last commit's time, so
//! N writers in a loop fill each batch instead of splitting in two.
//! Async callers join the same batches ([`GroupCommit::submit_on_pool`]):
//! they wait on an event, not a thread, and a leader among them hands the
//! commit to a blocking-pool task, one task per batch rather than one per
//! call.

use std::sync::atomic::{AtomicU64, Ordering};

use persist_queue_core::group_commit::{Batch, Batches, Ticket};

use crate::error::{Error, Result};
use crate::sync::{Arc, Condvar, Mutex, MutexGuard};
use crate::telemetry::QueueMetrics;

/// How long a new leader lets concurrent producers join its batch, as a
/// share of the last commit's time: while [`Batches::expects_more`] it
/// waits, until the last expected caller wakes it or this much of a
/// commit has passed (the disk then idles at most that long; a lone
/// writer never waits).
const PATIENCE: u32 = 2;

/// The most batches one blocking caller commits in a row before it hands
/// the lead to a queued caller and returns (its own answer waits that
/// long).
const LEADS: usize = 2;

/// Where one blocking caller waits: for its answer, or to be told to lead.
struct Slot<O> {
    state: Mutex<SlotState<O>>,
    changed: Condvar,
}

enum SlotState<O> {
    Waiting,
    /// A leader ended its batches with this caller's work still queued:
    /// this caller leads next (unless another leader took its work).
    Lead,
    Answer(Result<O>),
}

impl<O> Slot<O> {
    fn new() -> Arc<Self> {
        Arc::new(Slot { state: Mutex::new(SlotState::Waiting), changed: Condvar::new() })
    }

    fn lock(&self) -> MutexGuard<'_, SlotState<O>> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Leaves this caller's answer and wakes it.
    fn answer(&self, answer: Result<O>) {
        *self.lock() = SlotState::Answer(answer);
        self.changed.notify_one();
    }

    /// Tells this caller to lead, unless its answer is already there.
    fn call_to_lead(&self) {
        let mut state = self.lock();
        if matches!(*state, SlotState::Waiting) {
            *state = SlotState::Lead;
            self.changed.notify_one();
        }
    }

    /// Waits until its answer (returned) or a call to lead (`None`) is
    /// left, and takes it.
    fn wait(&self) -> Option<Result<O>> {
        let mut state = self.lock();
        loop {
            match std::mem::replace(&mut *state, SlotState::Waiting) {
                SlotState::Waiting => state = self.changed.wait(state).unwrap_or_else(|e| e.into_inner()),
                SlotState::Lead => return None,
                SlotState::Answer(answer) => return Some(answer),
            }
        }
    }
}

/// A caller's work, and the slot it waits on (async callers have none:
/// their answers stay in [`Batches`] and an event wakes them).
struct Job<W, O> {
    work: W,
    slot: Option<Arc<Slot<O>>>,
}

/// Group commit of work `W`, each caller's answer an `O`: the core's
/// protocol ([`Batches`]) under a mutex; blocking callers wait on their own
/// slots, async callers on an event.
pub(crate) struct GroupCommit<W, O> {
    pending: Mutex<Batches<Job<W, O>, O, Error>>,
    /// Async callers wait on this (notified at the end of every batch).
    finished: event_listener::Event,
    /// Each batch's size and commit time go here.
    metrics: QueueMetrics,
    /// A leader waiting for stragglers waits on this; the caller whose
    /// work makes the expected number wakes it.
    joined: Condvar,
    /// How long the last batch took to commit, in nanoseconds.
    last_commit: AtomicU64,
}

/// What an async caller does next ([`GroupCommit::step`]).
#[cfg(feature = "async")]
enum Step<W, O> {
    /// Its answer.
    Answer(Result<O>),
    /// Wait for the running batch (the listener was made under the lock,
    /// so the batch's end cannot be missed).
    Wait(event_listener::EventListener),
    /// Lead: commit these works off the executor, then
    /// [`GroupCommit::complete`] (with the slots of the batch's blocking
    /// callers).
    Lead(Batch, Vec<W>, Slots<O>),
}

/// The slots of a batch's callers, in the order of its works.
type Slots<O> = Vec<Option<Arc<Slot<O>>>>;

/// A batch's jobs as the works to commit and their callers' slots.
fn split<W, O>(jobs: Vec<Job<W, O>>) -> (Vec<W>, Slots<O>) {
    jobs.into_iter().map(|j| (j.work, j.slot)).unzip()
}

impl<W, O> GroupCommit<W, O> {
    pub(crate) fn new(metrics: QueueMetrics) -> Self {
        GroupCommit {
            pending: Mutex::new(Batches::new()),
            finished: event_listener::Event::new(),
            metrics,
            joined: Condvar::new(),
            last_commit: AtomicU64::new(0),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Batches<Job<W, O>, O, Error>> {
        self.pending.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// How long a leader waits for stragglers ([`PATIENCE`]). Under loom,
    /// which has no clock, never: every execution stays deterministic.
    fn patience(&self) -> std::time::Duration {
        if cfg!(pq_loom) {
            return std::time::Duration::ZERO;
        }
        std::time::Duration::from_nanos(self.last_commit.load(Ordering::Relaxed)) / PATIENCE
    }

    /// A batch of `callers` took `took` to commit: metrics, and the
    /// leaders' [`Self::patience`].
    fn note_commit(&self, callers: usize, took: std::time::Duration) {
        self.last_commit.store(u64::try_from(took.as_nanos()).unwrap_or(u64::MAX), Ordering::Relaxed);
        self.metrics.committed(callers, took);
    }

    /// Queues a job; wakes a leader waiting for stragglers if this one
    /// completes its batch.
    fn enqueue_job(&self, p: &mut Batches<Job<W, O>, O, Error>, job: Job<W, O>) -> Ticket {
        let ticket = p.enqueue(job);
        if p.committing() && p.joined_all() {
            self.joined.notify_one();
        }
        ticket
    }

    /// Commits `work` with whatever other callers hand in meanwhile and
    /// returns this caller's answer.
    ///
    /// `commit` is called by a leader, without any lock of this module
    /// held (others queue for the next batch meanwhile), with every queued
    /// caller's work in ticket order. It returns one answer per work, in
    /// that order, or one error for the whole batch: then every caller of
    /// the batch gets that error, the same variant
    /// ([`Error::for_another_caller`]).
    pub(crate) fn submit(&self, work: W, commit: impl Fn(Vec<W>) -> Result<Vec<O>>) -> Result<O> {
        let slot = Slot::new();
        let mut p = self.lock();
        self.enqueue_job(&mut p, Job { work, slot: Some(Arc::clone(&slot)) });
        loop {
            if p.committing() {
                drop(p);
            } else {
                // This caller's work is still queued (a leader that took
                // it would have left its answer): the first batch takes it.
                self.lead(p, &commit);
            }
            if let Some(answer) = slot.wait() {
                return answer;
            }
            // Called to lead.
            p = self.lock();
        }
    }

    /// Commits queued works, batch after batch while works are queued and
    /// no other leader took over (at most [`LEADS`]), then calls a queued
    /// caller to lead the rest. Answers are handed out after the lock is
    /// released, so the callers they wake do not find it taken.
    fn lead<'a>(
        &'a self,
        mut p: MutexGuard<'a, Batches<Job<W, O>, O, Error>>,
        commit: &impl Fn(Vec<W>) -> Result<Vec<O>>,
    ) {
        for round in 1..=LEADS {
            if !p.has_queued() || p.committing() {
                break;
            }
            // Lead before waiting for stragglers: callers arriving while
            // the lock is released wait for this batch, never lead one too.
            p.lead();
            let patience = self.patience();
            let until = std::time::Instant::now() + patience;
            while !patience.is_zero() && p.expects_more() {
                let Some(left) = until.checked_duration_since(std::time::Instant::now()) else { break };
                p = match self.joined.wait_timeout(p, left) {
                    Ok((p, _)) => p,
                    Err(e) => e.into_inner().0,
                };
            }
            let (batch, jobs) = p.begin();
            drop(p);
            let (works, slots) = split(jobs);
            let started = std::time::Instant::now();
            let answers = commit(works);
            self.note_commit(slots.len(), started.elapsed());
            p = self.lock();
            let answered = Self::deliver(&mut p, batch, slots, answers);
            if round == LEADS || !p.has_queued() {
                Self::call_next_leader(&p);
            }
            drop(p);
            self.finished.notify(usize::MAX);
            Self::hand_out(answered);
            p = self.lock();
        }
    }

    /// Ends a batch: each async caller's answer is left in `p` for it to
    /// collect; the blocking callers' are returned, with their slots, for
    /// [`Self::hand_out`] once the lock is released.
    fn deliver(
        p: &mut Batches<Job<W, O>, O, Error>,
        batch: Batch,
        mut slots: Slots<O>,
        answers: Result<Vec<O>>,
    ) -> Vec<(Arc<Slot<O>>, Result<O>)> {
        let mut answered = Vec::with_capacity(slots.len());
        p.finish_each(
            batch,
            answers,
            Error::for_another_caller,
            || Error::Protocol("a batch answered for a different number of callers"),
            |i, answer| match slots.get_mut(i).and_then(Option::take) {
                Some(slot) => {
                    answered.push((slot, answer));
                    None
                }
                None => Some(answer),
            },
        );
        answered
    }

    /// Puts each answer in its caller's slot, waking that caller.
    fn hand_out(answered: Vec<(Arc<Slot<O>>, Result<O>)>) {
        for (slot, answer) in answered {
            slot.answer(answer);
        }
    }

    /// With works queued and no leader: calls the first queued blocking
    /// caller to lead (async callers lead on the `finished` event).
    fn call_next_leader(p: &Batches<Job<W, O>, O, Error>) {
        if let Some(slot) = p.queued().find_map(|j| j.slot.as_ref()) {
            slot.call_to_lead();
        }
    }

    /// Queues `work` for the next batch (async callers; see
    /// [`Self::submit_async`]).
    #[cfg(feature = "async")]
    fn enqueue(&self, work: W) -> Ticket {
        self.enqueue_job(&mut self.lock(), Job { work, slot: None })
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
        let (batch, jobs) = p.begin();
        let (works, slots) = split(jobs);
        Step::Lead(batch, works, slots)
    }

    /// Ends a batch an async leader handed off: leaves every caller's
    /// answer (or a copy of the batch's error), wakes its callers, blocking
    /// and async, and calls the next leader. The batch's size and `started`
    /// feed the metrics.
    #[cfg(feature = "async")]
    fn complete(&self, batch: Batch, slots: Slots<O>, started: std::time::Instant, answers: Result<Vec<O>>) {
        self.note_commit(batch.len(), started.elapsed());
        let mut p = self.lock();
        let answered = Self::deliver(&mut p, batch, slots, answers);
        Self::call_next_leader(&p);
        drop(p);
        self.finished.notify(usize::MAX);
        Self::hand_out(answered);
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
        owner: &Arc<X>,
        of: fn(&X) -> &GroupCommit<W, O>,
        commit: fn(&X, &[W]) -> Result<Vec<O>>,
    ) -> Result<O>
    where
        W: Send + 'static,
        O: Send + 'static,
    {
        self.submit_async(work, |batch, works, slots| {
            let owner = Arc::clone(owner);
            blocking::unblock(move || {
                let started = std::time::Instant::now();
                let answers = commit(&owner, &works);
                of(&owner).complete(batch, slots, started, answers);
            })
            .detach();
        })
        .await
    }

    /// The protocol of [`Self::submit_on_pool`]: if the caller leads,
    /// `hand_off(batch, works, slots)` must commit the works where blocking
    /// is allowed and then call [`Self::complete`], even if this future is
    /// dropped.
    #[cfg(feature = "async")]
    async fn submit_async(&self, work: W, hand_off: impl FnOnce(Batch, Vec<W>, Slots<O>)) -> Result<O> {
        let ticket = self.enqueue(work);
        let mut hand_off = Some(hand_off);
        loop {
            match self.step(&ticket) {
                Step::Answer(r) => return r,
                Step::Wait(listener) => listener.await,
                Step::Lead(batch, works, slots) => {
                    let Some(hand_off) = hand_off.take() else {
                        return Err(Error::Protocol("group commit lost a caller's work"));
                    };
                    hand_off(batch, works, slots);
                }
            }
        }
    }
}
