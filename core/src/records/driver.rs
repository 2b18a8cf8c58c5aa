//! The driver: a record queue of one [`Kind`] over a [`Table`]. The rules
//! are written once, as async methods over the one store seam: IndexedDB
//! awaits its transactions, a synchronous store (SQLite, a server client,
//! the plain-files log, memory) answers with a ready future, and a
//! synchronous host runs each method to its end with [`complete`].

use alloc::collections::BTreeSet;
use alloc::vec::Vec;

use core::future::Future;
use core::pin::pin;
use core::task::{Context, Poll, Waker};

use crate::records::kind::{Kind, Put, Verdict};
use crate::records::order::{Order, OrderKey};
use crate::records::outcome::{
    Settled, read_count, read_counts, read_inserted, read_leases, read_records, read_settled,
    read_settled_from,
};
use crate::records::plan::{Counts, Lease, Outcome, Plan, Table};
use crate::records::record::{Record, Status, StatusSet};
use crate::records::record_error::RecordError;
use crate::records::unique::unique_key;

/// Runs a future that never waits (one over a synchronous [`Table`]) to its
/// end. A future that does wait is polled again at once, so this spins:
/// never use it on a store that awaits I/O.
pub fn complete<F: Future>(f: F) -> F::Output {
    let mut f = pin!(f);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
    }
}

/// A delivery: a record id and its lease token.
type Delivery = (u64, u32);

/// What [`RecordQueue::stats`] reports.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Records per status (ready, in flight, delayed, dead letters, acked).
    pub counts: Counts,
    /// When the oldest ready item was put (ms; `None`: none is ready).
    pub oldest_ready: Option<u64>,
    /// In-flight items whose lease has ended (their consumer is late or
    /// gone); the next claim takes them back.
    pub expired_leases: u64,
}

/// A record queue of one [`Kind`] on a [`Table`]: each method is one
/// atomic plan (two for `next_in_order`, which is then a claim of a known
/// id: still atomic against other consumers).
#[derive(Debug)]
pub struct RecordQueue<T: Table> {
    table: T,
    kind: Kind,
    /// Items this queue took while the store was at its quota, without
    /// writing: ready in the store, held here (see [`Self::claim_held`]).
    held: BTreeSet<u64>,
    /// Deliveries an item may have (0: no limit); see
    /// [`Self::set_max_attempts`].
    max_attempts: u32,
}

impl<T: Table> RecordQueue<T> {
    /// A queue over `table`. With `auto_resume` (persist-queue's
    /// behaviour), every item in flight is made ready again, including
    /// those live consumers hold; without it, items in flight since before
    /// leases existed get a lease from `lease.now`, and every other item in
    /// flight comes back when its lease ends.
    pub async fn open(
        table: T,
        kind: Kind,
        auto_resume: bool,
        lease: Lease,
    ) -> Result<Self, RecordError<T::Error>> {
        let mut q = RecordQueue { table, kind, held: BTreeSet::new(), max_attempts: 0 };
        let recovery = if auto_resume { q.resume().await } else { q.lease_in_flight(lease).await };
        {
            match recovery {
                // At its quota the store cannot make them ready: they stay
                // in flight until it can, and the queue still opens.
                Err(RecordError::Store(e)) if T::only_deletes(&e) => {}
                other => {
                    other?;
                }
            }
        }
        Ok(q)
    }

    async fn lease_in_flight(&mut self, lease: Lease) -> Result<u64, RecordError<T::Error>> {
        let o = self.execute(&self.kind.lease_in_flight_plan(lease)).await?;
        read_count(o)
    }

    /// Items delivered `n` times whose lease ends or which are nacked are
    /// dead letters (`AckFailed`) instead of being delivered again: a claim
    /// that takes an item for the `n + 1`-th time fails it under that
    /// delivery's lease and takes the next. 0: no limit (the default).
    pub fn set_max_attempts(&mut self, n: u32) {
        self.max_attempts = n;
    }

    async fn execute(&mut self, plan: &Plan) -> Result<Outcome, RecordError<T::Error>> {
        self.table.execute(plan).await.map_err(RecordError::Store)
    }

    /// The queue's kind.
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// The table, for inspection.
    pub fn table(&self) -> &T {
        &self.table
    }

    /// The table, for store-specific operations.
    pub fn table_mut(&mut self) -> &mut T {
        &mut self.table
    }

    /// The table, closing the queue.
    pub fn into_table(self) -> T {
        self.table
    }

    /// Puts one item; `None` if a unique queue already holds an equal live
    /// item.
    pub async fn put(&mut self, item: Put<'_>, now: u64) -> Result<Option<u64>, RecordError<T::Error>> {
        Ok(self.put_many(&[item], now).await?.into_iter().next().flatten())
    }

    /// Puts many items in one atomic insert.
    pub async fn put_many(
        &mut self,
        items: &[Put<'_>],
        now: u64,
    ) -> Result<Vec<Option<u64>>, RecordError<T::Error>> {
        let o = self.execute(&self.kind.put_plan(items, now)).await?;
        read_inserted(o, items.len())
    }

    /// Takes the next item in order, leased for `lease.ms`.
    pub async fn get(
        &mut self,
        auto_commit: bool,
        lease: Lease,
    ) -> Result<Option<Record>, RecordError<T::Error>> {
        Ok(self.get_many(1, auto_commit, lease).await?.into_iter().next())
    }

    /// Takes up to `n` items in order, atomically, each leased for
    /// `lease.ms` (its `deliveries` is the lease token).
    pub async fn get_many(
        &mut self,
        n: u32,
        auto_commit: bool,
        lease: Lease,
    ) -> Result<Vec<Record>, RecordError<T::Error>> {
        loop {
            let o = self.execute(&self.kind.claim_plan(n, auto_commit, lease)).await?;
            let claimed = read_records(o)?;
            let taken = claimed.len();
            let delivered = self.drop_exhausted(claimed, lease.now).await?;
            // All of them were dead letters: try the next ones.
            if delivered.len() == taken || !delivered.is_empty() {
                return Ok(delivered);
            }
        }
    }

    /// The claimed records that may be delivered; those past
    /// `max_attempts` are failed under the lease just taken.
    async fn drop_exhausted(
        &mut self,
        claimed: Vec<Record>,
        now: u64,
    ) -> Result<Vec<Record>, RecordError<T::Error>> {
        let max = self.max_attempts;
        if max == 0 || claimed.iter().all(|r| r.status != Status::Unacked || r.deliveries <= max) {
            return Ok(claimed);
        }
        let (dead, live): (Vec<Record>, Vec<Record>) =
            claimed.into_iter().partition(|r| r.status == Status::Unacked && r.deliveries > max);
        let leases: Vec<(u64, u32)> = dead.iter().map(|r| (r.id, r.deliveries)).collect();
        self.execute(&self.kind.settle_lease_plan(leases, Verdict::Fail, now, 0)).await?;
        Ok(live)
    }

    /// Takes the item `id`, leased; `None` unless it is ready or its lease
    /// or delay ended (never hands out an item in flight or done: B12).
    pub async fn get_id(
        &mut self,
        id: u64,
        auto_commit: bool,
        lease: Lease,
    ) -> Result<Option<Record>, RecordError<T::Error>> {
        let o = self.execute(&self.kind.claim_id_plan(id, auto_commit, lease)).await?;
        let claimed = read_records(o)?;
        Ok(self.drop_exhausted(claimed, lease.now).await?.into_iter().next())
    }

    /// Settles deliveries `(id, lease token)` atomically, fenced: per
    /// delivery, `Ok` if it was in flight under that token,
    /// [`RecordError::LeaseLost`] if its lease ended and the item was taken
    /// back or delivered again. A nack with `delay` above 0 makes the item
    /// due `delay` ms after `now`; a nack of an item whose deliveries
    /// reached `max_attempts` fails it (a dead letter).
    pub async fn settle_leased(
        &mut self,
        leases: &[(u64, u32)],
        verdict: Verdict,
        now: u64,
        delay: u64,
    ) -> Result<Settled<T::Error>, RecordError<T::Error>> {
        if leases.is_empty() {
            return Ok(Vec::new());
        }
        let max = self.max_attempts;
        if verdict == Verdict::Nack && max > 0 && leases.iter().any(|&(_, t)| t >= max) {
            // Two plans (exhausted ones fail, the rest go back), each
            // atomic; the answers in the callers' order.
            let (dead, back): (Vec<Delivery>, Vec<Delivery>) = leases.iter().partition(|&&(_, t)| t >= max);
            let plan = self.kind.settle_lease_plan(dead.clone(), Verdict::Fail, now, 0);
            let mut dead_r = read_leases(&dead, self.execute(&plan).await?)?.into_iter();
            let mut back_r = if back.is_empty() {
                Vec::new().into_iter()
            } else {
                let plan = self.kind.settle_lease_plan(back.clone(), verdict, now, delay);
                read_leases(&back, self.execute(&plan).await?)?.into_iter()
            };
            return Ok(leases
                .iter()
                .map(|&(_, t)| {
                    let next = if t >= max { dead_r.next() } else { back_r.next() };
                    next.unwrap_or(Err(RecordError::Protocol("settle answered too few slots")))
                })
                .collect());
        }
        let o = self.execute(&self.kind.settle_lease_plan(leases.to_vec(), verdict, now, delay)).await?;
        read_leases(leases, o)
    }

    /// Extends the lease of delivery `(id, token)` to `lease.until()` (a
    /// heartbeat): [`RecordError::LeaseLost`] if it is no longer held.
    pub async fn extend(&mut self, id: u64, token: u32, lease: Lease) -> Result<(), RecordError<T::Error>> {
        let o = self.execute(&self.kind.extend_plan(id, token, lease)).await?;
        read_leases(&[(id, token)], o)?.pop().unwrap_or(Err(RecordError::Protocol("empty extend outcome")))
    }

    /// Takes the next ready item after `after_id` in the queue's order,
    /// wrapping to the start (persist-queue's `next_in_order`).
    pub async fn next_in_order(
        &mut self,
        after_id: u64,
        auto_commit: bool,
        lease: Lease,
    ) -> Result<Option<Record>, RecordError<T::Error>> {
        let fetched = read_records(self.execute(&Plan::Fetch { ids: alloc::vec![after_id] }).await?)?;
        let after = match fetched.first() {
            Some(r) => OrderKey { priority: r.priority, id: r.id },
            None => OrderKey { priority: i64::MIN, id: after_id },
        };
        for from in [Some(after), None] {
            // Another consumer may take the candidate first: try the next.
            loop {
                let scan = Plan::Scan {
                    statuses: StatusSet::of(Status::Ready),
                    order: self.kind.order,
                    after: from,
                    limit: 1,
                };
                let Some(candidate) = read_records(self.execute(&scan).await?)?.into_iter().next() else {
                    break;
                };
                if let Some(r) = self.get_id(candidate.id, auto_commit, lease).await? {
                    return Ok(Some(r));
                }
            }
        }
        Ok(None)
    }

    /// Settles one in-flight item.
    pub async fn settle(&mut self, id: u64, verdict: Verdict) -> Result<(), RecordError<T::Error>> {
        let mut settled = self.settle_many(&[id], verdict).await?;
        settled.pop().unwrap_or(Err(RecordError::Protocol("empty settle outcome")))
    }

    /// Settles many in-flight items atomically; per id, whether it was in
    /// flight.
    ///
    /// At the store's quota ([`Table::only_deletes`]) an ack or a
    /// fail deletes the item (nothing else can be written: it is never
    /// delivered again, but not kept as acked or failed), and items held
    /// by [`Self::claim_held`] are settled here: a nack lets go of one, an
    /// ack or a fail deletes it. Then the held and the stored ids are two
    /// transactions, each atomic.
    pub async fn settle_many(
        &mut self,
        ids: &[u64],
        verdict: Verdict,
    ) -> Result<Settled<T::Error>, RecordError<T::Error>> {
        if self.held.is_empty() {
            return self.settle_stored(ids, verdict).await;
        }
        let (held, stored): (Vec<u64>, Vec<u64>) = ids.iter().partition(|id| self.held.contains(id));
        let was_held: BTreeSet<u64> = held.iter().copied().collect();
        let mut held_results = self.settle_held(&held, verdict).await?.into_iter();
        let mut stored_results = self.settle_stored(&stored, verdict).await?.into_iter();
        Ok(ids
            .iter()
            .map(|id| {
                let next = if was_held.contains(id) { held_results.next() } else { stored_results.next() };
                next.unwrap_or(Err(RecordError::Protocol("settle answered too few slots")))
            })
            .collect())
    }

    async fn settle_stored(
        &mut self,
        ids: &[u64],
        verdict: Verdict,
    ) -> Result<Settled<T::Error>, RecordError<T::Error>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        match self.execute(&self.kind.settle_plan(ids.to_vec(), verdict)).await {
            Err(RecordError::Store(e)) if T::only_deletes(&e) && verdict != Verdict::Nack => {
                let o = self.execute(&self.kind.delete_plan(ids.to_vec(), Status::Unacked)).await?;
                read_settled(ids, o)
            }
            o => read_settled(ids, o?),
        }
    }

    async fn settle_held(
        &mut self,
        ids: &[u64],
        verdict: Verdict,
    ) -> Result<Settled<T::Error>, RecordError<T::Error>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        if verdict == Verdict::Nack {
            return Ok(ids
                .iter()
                .map(|id| if self.held.remove(id) { Ok(()) } else { Err(RecordError::UnknownId(*id)) })
                .collect());
        }
        // Held means ready in the store.
        let o = self.execute(&self.kind.delete_plan(ids.to_vec(), Status::Ready)).await?;
        for id in ids {
            self.held.remove(id);
        }
        read_settled_from(ids, o, Status::Ready)
    }

    /// Takes up to `n` ready items, in order, without writing: for a store
    /// at its quota ([`Table::only_deletes`]), where a claim cannot
    /// mark them in flight. This queue holds them (each shows one delivery
    /// more than the store counts) until they are settled; they stay ready
    /// in the store, so if this handle goes away they are delivered again,
    /// never lost. Another handle taking held claims of the same queue at
    /// the same time would take the same items: the caller must exclude
    /// that (the browser host holds a Web Lock while it holds claims).
    pub async fn claim_held(&mut self, n: u32) -> Result<Vec<Record>, RecordError<T::Error>> {
        let skip = u32::try_from(self.held.len()).unwrap_or(u32::MAX);
        let scan = Plan::Scan {
            statuses: StatusSet::of(Status::Ready),
            order: self.kind.order,
            after: None,
            limit: n.max(1).saturating_add(skip),
        };
        let taken: Vec<Record> = read_records(self.execute(&scan).await?)?
            .into_iter()
            .filter(|r| !self.held.contains(&r.id))
            .take(n.max(1) as usize)
            .map(|r| Record { status: Status::Unacked, deliveries: r.deliveries.saturating_add(1), ..r })
            .collect();
        self.held.extend(taken.iter().map(|r| r.id));
        Ok(taken)
    }

    /// How many items [`Self::claim_held`] holds now.
    pub fn held(&self) -> usize {
        self.held.len()
    }

    /// Replaces the payload of a live item (ready or in flight).
    pub async fn update(&mut self, id: u64, item: Put<'_>) -> Result<(), RecordError<T::Error>> {
        match self.execute(&self.kind.update_plan(id, &item)).await? {
            Outcome::Duplicate => Err(RecordError::Duplicate),
            Outcome::Before(b) => match b.first().copied().flatten() {
                None => Err(RecordError::UnknownId(id)),
                Some(s) if s.is_live() => Ok(()),
                Some(status) => Err(RecordError::NotInFlight { id, status }),
            },
            _ => Err(RecordError::Protocol("update must answer Before or Duplicate")),
        }
    }

    /// Puts dead letters (`AckFailed` records) `ids` back, ready at their
    /// place with no delivery counted (each one atomic); returns how many
    /// were dead letters. `None`: every dead letter.
    pub async fn requeue_dead(&mut self, ids: Option<&[u64]>) -> Result<u64, RecordError<T::Error>> {
        let dead = match ids {
            Some(ids) => read_records(self.execute(&Plan::Fetch { ids: ids.to_vec() }).await?)?
                .into_iter()
                .filter(|r| r.status == Status::AckFailed)
                .collect(),
            None => self.list(StatusSet::of(Status::AckFailed)).await?,
        };
        let n = dead.len() as u64;
        for r in dead {
            let unique_key = self.kind.unique.then(|| unique_key(&r.payload));
            self.execute(&Plan::Restore { record: Record { deliveries: 0, ..r }, unique_key }).await?;
        }
        Ok(n)
    }

    /// Deletes the records whose status is in `statuses`; returns how many.
    pub async fn purge(&mut self, statuses: StatusSet) -> Result<u64, RecordError<T::Error>> {
        read_count(self.execute(&Plan::Purge { statuses, keep_latest: 0, max_delete: 0 }).await?)
    }

    /// Counts per status, the oldest ready item's put time, and how many
    /// leases ended at `now` whose items no claim has taken back yet.
    pub async fn stats(&mut self, now: u64) -> Result<Stats, RecordError<T::Error>> {
        let counts = self.counts().await?;
        let oldest =
            Plan::Scan { statuses: StatusSet::of(Status::Ready), order: Order::Fifo, after: None, limit: 1 };
        let oldest_ready = read_records(self.execute(&oldest).await?)?.first().map(|r| r.timestamp);
        let expired_leases = if counts.unacked == 0 {
            0
        } else {
            self.list(StatusSet::of(Status::Unacked))
                .await?
                .iter()
                .filter(|r| r.visible_at != 0 && r.visible_at <= now)
                .count() as u64
        };
        Ok(Stats { counts, oldest_ready, expired_leases })
    }

    /// Every in-flight item is ready again; returns how many.
    pub async fn resume(&mut self) -> Result<u64, RecordError<T::Error>> {
        let o = self.execute(&self.kind.resume_plan()).await?;
        read_count(o)
    }

    /// Records per status.
    pub async fn counts(&mut self) -> Result<Counts, RecordError<T::Error>> {
        let o = self.execute(&Plan::Count).await?;
        read_counts(o)
    }

    /// Every record with a status in `statuses`, in the queue's order.
    pub async fn list(&mut self, statuses: StatusSet) -> Result<Vec<Record>, RecordError<T::Error>> {
        let o = self.execute(&Plan::Scan { statuses, order: self.kind.order, after: None, limit: 0 }).await?;
        read_records(o)
    }

    /// Deletes acked (and optionally failed) records; see
    /// [`Kind::purge_plan`].
    pub async fn clear_done(
        &mut self,
        max_delete: u64,
        keep_latest: u64,
        include_failed: bool,
    ) -> Result<u64, RecordError<T::Error>> {
        let o = self.execute(&self.kind.purge_plan(max_delete, keep_latest, include_failed)).await?;
        read_count(o)
    }

    /// Puts back a record a claim returned, deleted or in flight (see
    /// [`Plan::Restore`]).
    pub async fn restore(
        &mut self,
        record: Record,
        canonical: Option<&[u8]>,
    ) -> Result<(), RecordError<T::Error>> {
        let unique_key = self.kind.unique.then(|| unique_key(canonical.unwrap_or(&record.payload)));
        self.execute(&Plan::Restore { record, unique_key }).await.map(drop)
    }

    /// Gives unused space back, online.
    pub async fn compact(&mut self) -> Result<(), RecordError<T::Error>> {
        self.execute(&Plan::Compact).await.map(drop)
    }
}
