//! What every handle of one record queue shares ([`Shared`]: the core's
//! queue over its store, group commit of puts, wake-ups, the store's
//! notifier) and the handle's internals over it: committing puts, taking
//! and giving back claims, waiting for an item, settling. `handle.rs` is
//! the API on top.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use std::sync::atomic::{AtomicU64, Ordering};

use persist_queue_core::records::{Kind, Lease, Put, Record, RecordQueue, Verdict, complete};

use crate::codec::Codec;
use crate::commit::GroupCommit;
use crate::error::{Error, Result};
use crate::records::delivery::Delivery;
use crate::records::handle::Records;
use crate::records::store::RecordStore;
use crate::sync::{Condvar, Mutex, MutexGuard};
use crate::telemetry::QueueMetrics;
use crate::wait::{Deadline, PollPolicy, wait_once};
use std::marker::PhantomData;
use std::sync::Arc;

/// How often a waiting `get` looks at the store for items put by other
/// processes (puts from this process wake it at once).
pub(crate) const POLL: PollPolicy = PollPolicy::fixed(Duration::from_millis(20));

/// One item a caller puts.
pub(crate) struct OwnedPut {
    /// The encoded item.
    pub(crate) payload: Vec<u8>,
    /// Its canonical form (unique queues).
    pub(crate) canonical: Option<Vec<u8>>,
    pub(crate) priority: i64,
    /// Milliseconds before it is due.
    pub(crate) delay: u64,
}

impl OwnedPut {
    /// The put as the core's plans take it, borrowing this one's bytes.
    pub(crate) fn as_put(&self) -> Put<'_> {
        Put {
            payload: &self.payload,
            priority: self.priority,
            canonical: self.canonical.as_deref(),
            delay: self.delay,
        }
    }
}

/// A queue's lease length and retry delays.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Retries {
    pub(crate) lease: Duration,
    pub(crate) backoff: persist_queue_core::records::Backoff,
}

/// How long a claimed item stays leased to its consumer unless the
/// builder says otherwise ([`crate::RecordBuilder::lease`]).
pub const DEFAULT_LEASE: Duration = Duration::from_secs(30);

/// The host's wall clock in ms since the Unix epoch, never going back: a
/// step of the system clock backwards holds it at the latest reading
/// until the clock catches up (leases and delays never shrink by it).
#[derive(Debug, Default)]
pub(crate) struct Clock(AtomicU64);

impl Clock {
    pub(crate) fn now(&self) -> u64 {
        self.reading(now_ms())
    }

    /// The clock's time given the wall clock's reading `wall`: never less
    /// than an earlier answer.
    fn reading(&self, wall: u64) -> u64 {
        self.0.fetch_max(wall, Ordering::Relaxed).max(wall)
    }
}

#[cfg(test)]
mod tests {
    use super::Clock;

    #[test]
    fn a_wall_clock_stepping_back_holds_the_clock_until_it_catches_up() {
        let c = Clock::default();
        assert_eq!(c.reading(1_000), 1_000);
        assert_eq!(c.reading(400), 1_000, "a step back: leases and delays do not shrink");
        assert_eq!(c.reading(999), 1_000);
        assert_eq!(c.reading(1_500), 1_500, "caught up: it moves again");
    }
}

/// The state every handle of one queue shares.
pub(crate) struct Shared {
    /// Fixed at open; read without the store lock.
    pub(crate) kind: Kind,
    pub(crate) queue: Mutex<RecordQueue<RecordStore>>,
    /// Puts of concurrent callers share one transaction.
    pub(crate) puts: GroupCommit<Vec<OwnedPut>, Vec<Option<u64>>>,
    /// Fenced acks of concurrent callers share one transaction (one flush
    /// for several consumers).
    pub(crate) acks: GroupCommit<(u64, u32), Result<()>>,
    /// Synced: the claims of concurrent getters share one transaction
    /// (one flush); each caller gets its own item, or none.
    pub(crate) claims: GroupCommit<(), Option<Record>>,
    pub(crate) metrics: QueueMetrics,
    pub(crate) changed: Condvar,
    /// Wakes async waiters when items may have become ready.
    pub(crate) events: event_listener::Event,
    pub(crate) auto_commit: bool,
    #[cfg_attr(not(feature = "async"), allow(dead_code))]
    pub(crate) synced: bool,
    /// The store is a database server: every operation waits on the
    /// network.
    #[cfg_attr(not(feature = "async"), allow(dead_code))]
    pub(crate) remote: bool,
    /// Items this queue handed out and `task_done` has not settled
    /// (plain queues with `auto_commit` off).
    pub(crate) pending: Mutex<Vec<u64>>,
    /// How a waiting `get` polls the store.
    pub(crate) poll: PollPolicy,
    /// How long a claim leases an item, and how a nack waits.
    pub(crate) retries: Retries,
    pub(crate) clock: Clock,
    /// The store's notifier (a listener thread), started by the first
    /// `get` that finds nothing (a handle that only puts never listens),
    /// then kept alive here.
    pub(crate) listener: Mutex<Listening>,
}

/// A store notifier: not started yet, or started (its guard).
#[derive(Default)]
pub(crate) enum Listening {
    /// The store has none (files, SQLite, MySQL).
    #[default]
    None,
    /// Starts it, given a waker.
    Ready(crate::records::server::Listen),
    /// Running until dropped.
    Running(#[allow(dead_code)] Box<dyn Send + Sync>),
}

/// Wakes everyone waiting on `shared` (a no-op once it is gone).
pub(crate) fn wake_shared(shared: &Shared) {
    shared.changed.notify_all();
    shared.events.notify(usize::MAX);
}

/// `d` in whole milliseconds (saturating).
pub(crate) fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

pub(crate) fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

impl<T, C> Records<T, C> {
    pub(crate) fn lock(&self) -> MutexGuard<'_, RecordQueue<RecordStore>> {
        self.shared.lock()
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, RecordQueue<RecordStore>> {
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// One group commit of puts: every caller's items in one transaction;
    /// each caller's ids.
    fn put_batch(&self, batch: &[Vec<OwnedPut>]) -> Result<Vec<Vec<Option<u64>>>> {
        let puts: Vec<Put<'_>> = batch.iter().flatten().map(OwnedPut::as_put).collect();
        let ids = complete(self.lock().put_many(&puts, self.clock.now()))?;
        self.metrics.put(ids.iter().filter(|id| id.is_some()).count());
        let mut ids = ids.into_iter();
        Ok(batch.iter().map(|items| ids.by_ref().take(items.len()).collect()).collect())
    }

    /// One group commit of claims: the next `batch.len()` items in order,
    /// in one claim; the i-th caller gets the i-th (none once they run out).
    fn claim_batch(&self, batch: &[()], deletes: bool, lease: Lease) -> Result<Vec<Option<Record>>> {
        let n = u32::try_from(batch.len()).unwrap_or(u32::MAX);
        let mut records = complete(self.lock().get_many(n, deletes, lease))?.into_iter();
        Ok(batch.iter().map(|()| records.next()).collect())
    }

    /// One group commit of fenced acks: one atomic settle of every
    /// distinct delivery; each caller's own answer. A delivery acked twice
    /// in the batch is settled again after the first (a second settle in
    /// the same lock), so its second caller gets what it would have got one
    /// after the other.
    fn ack_batch(&self, batch: &[(u64, u32)]) -> Result<Vec<Result<()>>> {
        let mut answers: Vec<Option<Result<()>>> = batch.iter().map(|_| None).collect();
        let mut q = self.lock();
        while answers.iter().any(Option::is_none) {
            // This round: the first unanswered caller of each delivery.
            let mut round: Vec<usize> = Vec::new();
            for (i, lease) in batch.iter().enumerate() {
                if answers[i].is_none() && !round.iter().any(|&j| batch[j] == *lease) {
                    round.push(i);
                }
            }
            let leases: Vec<(u64, u32)> = round.iter().map(|&i| batch[i]).collect();
            let done = complete(q.settle_leased(&leases, Verdict::Ack, self.clock.now(), 0))?;
            if done.len() != leases.len() {
                return Err(Error::Protocol("settle answered for a different number of deliveries"));
            }
            for (i, r) in round.into_iter().zip(done) {
                answers[i] = Some(r.map_err(Error::from));
            }
        }
        Ok(answers.into_iter().flatten().collect())
    }
}

impl<T, C: Codec<T>> Records<T, C> {
    /// `metrics`: the queue's handles (labelled with its name and kind).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        queue: RecordQueue<RecordStore>,
        auto_commit: bool,
        synced: bool,
        remote: bool,
        codec: C,
        poll: PollPolicy,
        metrics: QueueMetrics,
        retries: Retries,
    ) -> Self {
        let shared = Shared {
            kind: queue.kind(),
            queue: Mutex::new(queue),
            puts: GroupCommit::new(metrics.clone()),
            acks: GroupCommit::new(metrics.clone()),
            claims: GroupCommit::new(metrics.clone()),
            metrics,
            changed: Condvar::new(),
            events: event_listener::Event::new(),
            auto_commit,
            synced,
            remote,
            pending: Mutex::default(),
            poll,
            retries,
            clock: Clock::default(),
            listener: Mutex::default(),
        };
        Records { shared: Arc::new(shared), codec, _item: PhantomData }
    }

    pub(crate) fn wake(&self) {
        wake_shared(&self.shared);
    }

    /// The lease a claim takes now.
    pub(crate) fn lease(&self) -> Lease {
        Lease { now: self.shared.clock.now(), ms: millis(self.shared.retries.lease) }
    }

    /// How long a nack of delivery number `attempt` of item `id` waits.
    pub(crate) fn backoff(&self, id: u64, attempt: u32) -> Duration {
        // Jitter from the clock and the id: spread, not secret.
        let mut x = self.shared.clock.now() ^ id.rotate_left(32) ^ u64::from(attempt);
        x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        Duration::from_millis(self.shared.retries.backoff.delay_ms(attempt, x ^ (x >> 31)))
    }

    /// A waker for a store's notifier thread; it does not keep the queue
    /// alive.
    pub(crate) fn waker(&self) -> crate::records::server::Waker {
        let weak = Arc::downgrade(&self.shared);
        Box::new(move || {
            if let Some(shared) = weak.upgrade() {
                wake_shared(&shared);
            }
        })
    }

    /// Gives the queue a notifier to start when a `get` first has to wait.
    pub(crate) fn listen_later(&self, start: crate::records::server::Listen) {
        *self.shared.listener.lock().unwrap_or_else(|e| e.into_inner()) = Listening::Ready(start);
    }

    /// Starts the store's notifier if it has one not running yet; whether it
    /// did (the caller then looks at the store again before waiting, so a put
    /// made before the notifier listened is not missed). If it cannot start,
    /// waiting falls back to polling.
    pub(crate) fn start_listening(&self) -> bool {
        let mut l = self.shared.listener.lock().unwrap_or_else(|e| e.into_inner());
        match std::mem::take(&mut *l) {
            Listening::Ready(start) => {
                if let Ok(guard) = start(self.waker()) {
                    *l = Listening::Running(guard);
                }
                true
            }
            other => {
                *l = other;
                false
            }
        }
    }

    /// Whether `get` may wait for a disk flush (it deletes at synced
    /// durability).
    #[cfg_attr(not(feature = "async"), allow(dead_code))]
    pub(crate) fn get_flushes(&self) -> bool {
        (self.deletes_on_get() && self.shared.synced) || self.shared.remote
    }

    /// Whether puts and acks wait for a disk flush.
    #[cfg_attr(not(feature = "async"), allow(dead_code))]
    pub(crate) fn writes_flush(&self) -> bool {
        self.shared.synced || self.shared.remote
    }

    /// Whether reads wait on the network (a server store).
    #[cfg_attr(not(feature = "async"), allow(dead_code))]
    pub(crate) fn reads_block(&self) -> bool {
        self.shared.remote
    }

    /// The canonical encoding for unique queues (see `canonical`).
    pub(crate) fn canonical(&self, item: &T, encoded: &[u8]) -> Option<Vec<u8>>
    where
        T: serde::Serialize,
    {
        Some(super::canonical::canonical_bytes(item, encoded))
    }

    /// Commits `items` with the puts of concurrent callers in one
    /// transaction (one flush, [`GroupCommit`]); this caller's ids.
    pub(crate) fn commit_puts(&self, items: Vec<OwnedPut>) -> Result<Vec<Option<u64>>> {
        self.shared.puts.submit(items, |batch| self.shared.put_batch(&batch))
    }

    /// [`Self::commit_puts`] for async callers: the same batches; one
    /// detached blocking-pool task commits a batch an async caller leads.
    #[cfg(feature = "async")]
    pub(crate) async fn commit_puts_async(&self, items: Vec<OwnedPut>) -> Result<Vec<Option<u64>>> {
        self.shared.puts.submit_on_pool(items, &self.shared, |s| &s.puts, Shared::put_batch).await
    }

    /// A fenced ack for async callers, in the same batches as the blocking
    /// ones (see [`Self::commit_puts_async`]).
    #[cfg(feature = "async")]
    pub(crate) async fn ack_async(&self, id: u64, token: u32) -> Result<()> {
        self.shared.acks.submit_on_pool((id, token), &self.shared, |s| &s.acks, Shared::ack_batch).await??;
        self.shared.metrics.acked(1);
        Ok(())
    }

    /// Whether a get deletes the item in the same transaction (plain
    /// queues with `auto_commit`).
    pub(crate) fn deletes_on_get(&self) -> bool {
        self.shared.auto_commit && !self.shared.kind.keep_done
    }

    /// Decodes what a claim returned; plain queues with `auto_commit` off
    /// remember the ids for `task_done`. If any item does not decode as `T`
    /// (a wrong type), every item of the claim is given back untouched, at
    /// its place, and the error is returned: nothing is lost or left in
    /// flight.
    pub(crate) fn take(&self, records: Vec<Record>) -> Result<Vec<Delivery<T>>> {
        let mut out = Vec::with_capacity(records.len());
        for r in &records {
            match self.codec.decode(&r.payload) {
                Ok(item) => out.push(Delivery {
                    id: r.id,
                    item,
                    priority: r.priority,
                    timestamp: r.timestamp,
                    deliveries: r.deliveries,
                    lease_until: if r.status == persist_queue_core::records::Status::Unacked {
                        r.visible_at
                    } else {
                        0
                    },
                }),
                Err(e) => {
                    self.give_back(records);
                    return Err(e);
                }
            }
        }
        self.shared.metrics.got(out.len());
        if !self.shared.kind.keep_done && !self.shared.auto_commit && !out.is_empty() {
            self.shared.pending.lock().unwrap_or_else(|e| e.into_inner()).extend(out.iter().map(|d| d.id));
        }
        Ok(out)
    }

    /// Undoes a claim: every record is ready again at its place, with the
    /// id it had and the delivery the claim counted taken back (a wrong-type
    /// read spends no attempt). Deleted records are put back; records in
    /// flight keep their unique key.
    pub(crate) fn give_back(&self, records: Vec<Record>) {
        let deleted = self.deletes_on_get();
        let mut q = self.lock();
        for r in records {
            let deliveries = if deleted { r.deliveries } else { r.deliveries.saturating_sub(1) };
            let _ = complete(q.restore(Record { deliveries, ..r }, None));
        }
    }

    pub(crate) fn get_until(&self, deadline: Deadline) -> Result<Delivery<T>> {
        if self.shared.synced {
            // Concurrent getters' first claims share one flush. One that
            // finds nothing goes on below, under the lock, where it
            // cannot miss a put's wake-up.
            let (deletes, lease) = (self.deletes_on_get(), self.lease());
            let claimed =
                self.shared.claims.submit((), |batch| self.shared.claim_batch(&batch, deletes, lease))?;
            if let Some(r) = claimed {
                return self.take(vec![r])?.pop().ok_or(Error::Empty);
            }
        }
        let mut q = self.lock();
        let mut polls = self.shared.poll.intervals();
        loop {
            if let Some(r) = complete(q.get(self.deletes_on_get(), self.lease()))? {
                drop(q);
                return self.take(vec![r])?.pop().ok_or(Error::Empty);
            }
            if deadline.left().is_some() && self.start_listening() {
                continue;
            }
            q = wait_once(&self.shared.changed, q, deadline, polls.next(), None).ok_or(Error::Empty)?;
        }
    }

    /// Settles item `id`; with its lease `token`, fenced (refused with
    /// [`Error::LeaseLost`] if the lease is no longer the caller's). A nack
    /// with `delay` makes it due that much later.
    pub(crate) fn settle(
        &self,
        id: u64,
        token: Option<u32>,
        verdict: Verdict,
        delay: Duration,
    ) -> Result<()> {
        match token {
            // A bare id: persist-queue's unfenced settle (its callers give
            // no delay).
            None => complete(self.lock().settle(id, verdict))?,
            Some(t) if verdict == Verdict::Ack => {
                self.shared.acks.submit((id, t), |batch| self.shared.ack_batch(&batch))??
            }
            Some(t) => {
                let now = self.shared.clock.now();
                let mut done = complete(self.lock().settle_leased(&[(id, t)], verdict, now, millis(delay)))?;
                done.pop()
                    .unwrap_or(Err(persist_queue_core::records::RecordError::Protocol("empty settle")))?;
            }
        }
        match verdict {
            Verdict::Ack => self.shared.metrics.acked(1),
            Verdict::Fail => self.shared.metrics.failed(),
            Verdict::Nack => {
                self.shared.metrics.nacked();
                self.wake();
            }
        }
        Ok(())
    }

    pub(crate) fn counts(&self) -> Result<persist_queue_core::records::Counts> {
        let counts = complete(self.lock().counts())?;
        self.shared.metrics.depth(counts.ready);
        Ok(counts)
    }
}
