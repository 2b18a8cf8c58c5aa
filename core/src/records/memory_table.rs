//! `MemoryTable`: the record contract in memory, indexed like a real store
//! (claims and scans are O(log n)). The reference the other stores are
//! tested against.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use core::convert::Infallible;
use core::future::Future;

use crate::records::index::Index;
use crate::records::order::{Order, OrderKey};
use crate::records::plan::{
    Claimed, Counts, Lease, Outcome, Plan, Table, Target, purge_selection, settled_status,
};
use crate::records::record::{Record, Status, StatusSet};

#[derive(Clone, Debug)]
struct Row {
    record: Record,
    unique_key: Option<[u8; 32]>,
}

/// Records in memory, for tests and as the model of the contract.
#[derive(Clone, Debug, Default)]
pub struct MemoryTable {
    rows: BTreeMap<u64, Row>,
    next_id: u64,
    index: Index,
}

impl MemoryTable {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many records are stored.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether no record is stored.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    fn index(&mut self, id: u64) {
        if let Some(row) = self.rows.get(&id) {
            let r = &row.record;
            self.index.add(id, r.status, r.priority, row.unique_key, r.visible_at);
        }
    }

    fn unindex(&mut self, id: u64) {
        if let Some(row) = self.rows.get(&id) {
            self.index.remove(id, row.record.priority, row.unique_key, row.record.visible_at);
        }
    }

    /// Applies `to` to record `id` (which exists).
    fn apply(&mut self, id: u64, to: Target) {
        self.unindex(id);
        match to {
            Target::Delete => {
                self.rows.remove(&id);
            }
            Target::Status(s) => {
                if let Some(row) = self.rows.get_mut(&id) {
                    row.record.status = s;
                    if !s.is_timed() {
                        row.record.visible_at = 0;
                    }
                    if !s.is_live() {
                        row.unique_key = None;
                    }
                }
                self.index(id);
            }
        }
    }

    /// Sets record `id`'s status and `visible_at` (it exists and stays).
    fn set(&mut self, id: u64, status: Status, visible_at: u64) {
        self.unindex(id);
        if let Some(row) = self.rows.get_mut(&id) {
            row.record.visible_at = visible_at;
        }
        self.apply(id, Target::Status(status));
    }

    /// Leases and delays that ended at `now` are ready again.
    fn expire(&mut self, now: u64) {
        for id in self.index.due(now) {
            self.set(id, Status::Ready, 0);
        }
    }

    fn claim(&mut self, id: u64, then: Claimed, lease: Lease) -> Option<Record> {
        let before = self.rows.get(&id)?.record.clone();
        match then {
            Claimed::Deleted => {
                self.apply(id, Target::Delete);
                Some(before)
            }
            Claimed::Unacked => {
                if let Some(row) = self.rows.get_mut(&id) {
                    row.record.deliveries = row.record.deliveries.saturating_add(1);
                }
                self.set(id, Status::Unacked, lease.until());
                self.rows.get(&id).map(|r| r.record.clone())
            }
        }
    }

    fn scan(&self, statuses: StatusSet, order: Order, after: Option<OrderKey>, limit: u32) -> Vec<Record> {
        let mut out: Vec<&Record> =
            self.rows.values().map(|r| &r.record).filter(|r| statuses.contains(r.status)).collect();
        let key = |r: &Record| OrderKey { priority: r.priority, id: r.id };
        out.sort_by(|a, b| order.compare(key(a), key(b)));
        let it = out.into_iter().filter(|r| after.is_none_or(|k| order.before(k, key(r))));
        let limit = if limit == 0 { usize::MAX } else { limit as usize };
        it.take(limit).cloned().collect()
    }
}

impl MemoryTable {
    /// Executes `plan` at once (the [`Table`] contract).
    fn execute_now(&mut self, plan: &Plan) -> Result<Outcome, Infallible> {
        Ok(match plan {
            Plan::Insert { records } => {
                let mut ids = Vec::with_capacity(records.len());
                for n in records {
                    if let Some(k) = n.unique_key
                        && self.index.key_holder(&k).is_some()
                    {
                        ids.push(None);
                        continue;
                    }
                    self.next_id += 1;
                    let id = self.next_id;
                    let delayed = n.delay > 0;
                    let record = Record {
                        id,
                        payload: n.payload.clone(),
                        priority: n.priority,
                        status: if delayed { Status::Delayed } else { Status::Ready },
                        timestamp: n.timestamp,
                        deliveries: 0,
                        visible_at: if delayed { n.timestamp.saturating_add(n.delay) } else { 0 },
                    };
                    self.rows.insert(id, Row { record, unique_key: n.unique_key });
                    self.index(id);
                    ids.push(Some(id));
                }
                Outcome::Inserted(ids)
            }
            Plan::Claim { order, limit, then, lease } => {
                self.expire(lease.now);
                let mut out = Vec::new();
                for id in self.index.first_ready(*order, (*limit).max(1) as usize) {
                    out.extend(self.claim(id, *then, *lease));
                }
                Outcome::Records(out)
            }
            Plan::ClaimId { id, then, lease } => {
                let ready = self.rows.get(id).is_some_and(|r| {
                    let r = &r.record;
                    r.status == Status::Ready
                        || (r.status.is_timed() && r.visible_at != 0 && r.visible_at <= lease.now)
                });
                Outcome::Records(if ready {
                    self.claim(*id, *then, *lease).into_iter().collect()
                } else {
                    Vec::new()
                })
            }
            Plan::Settle { leases, to, now, delay } => {
                let mut before = Vec::with_capacity(leases.len());
                for &(id, token) in leases {
                    let state = self.rows.get(&id).map(|r| (r.record.status, r.record.deliveries));
                    if state == Some((Status::Unacked, token)) {
                        match to {
                            Target::Delete => self.apply(id, Target::Delete),
                            Target::Status(s) => {
                                let status = settled_status(*s, *delay);
                                let at = if status.is_timed() { now.saturating_add(*delay) } else { 0 };
                                self.set(id, status, at);
                            }
                        }
                    }
                    before.push(state);
                }
                Outcome::Leases(before)
            }
            Plan::LeaseInFlight { lease } => {
                let ids: Vec<u64> = self
                    .rows
                    .values()
                    .filter(|r| r.record.status == Status::Unacked && r.record.visible_at == 0)
                    .map(|r| r.record.id)
                    .collect();
                for id in &ids {
                    self.set(*id, Status::Unacked, lease.until());
                }
                Outcome::Count(ids.len() as u64)
            }
            Plan::Transition { ids, from, to } => {
                let mut before = Vec::with_capacity(ids.len());
                for id in ids {
                    let status = self.rows.get(id).map(|r| r.record.status);
                    if status.is_some_and(|s| from.contains(s)) {
                        self.apply(*id, *to);
                    }
                    before.push(status);
                }
                Outcome::Before(before)
            }
            Plan::TransitionAll { from, to } => {
                let ids: Vec<u64> = self
                    .rows
                    .values()
                    .filter(|r| from.contains(r.record.status))
                    .map(|r| r.record.id)
                    .collect();
                for id in &ids {
                    self.apply(*id, *to);
                }
                Outcome::Count(ids.len() as u64)
            }
            Plan::Update { id, payload, unique_key, from } => {
                let status = self.rows.get(id).map(|r| r.record.status);
                if !status.is_some_and(|s| from.contains(s)) {
                    return Ok(Outcome::Before(alloc::vec![status]));
                }
                if let Some(k) = unique_key
                    && self.index.key_holder(k).is_some_and(|other| other != *id)
                {
                    return Ok(Outcome::Duplicate);
                }
                self.unindex(*id);
                if let Some(row) = self.rows.get_mut(id) {
                    row.record.payload.clone_from(payload);
                    row.unique_key = *unique_key;
                }
                self.index(*id);
                Outcome::Before(alloc::vec![status])
            }
            Plan::Fetch { ids } => Outcome::Records(
                ids.iter().filter_map(|id| self.rows.get(id)).map(|r| r.record.clone()).collect(),
            ),
            Plan::Scan { statuses, order, after, limit } => {
                Outcome::Records(self.scan(*statuses, *order, *after, *limit))
            }
            Plan::Count => {
                let mut c = Counts::default();
                for r in self.rows.values() {
                    c.add(r.record.status);
                }
                Outcome::Counts(c)
            }
            Plan::Purge { statuses, keep_latest, max_delete } => {
                let ids = purge_selection(
                    self.rows
                        .values()
                        .rev()
                        .filter(|r| statuses.contains(r.record.status))
                        .map(|r| r.record.id),
                    *keep_latest,
                    *max_delete,
                );
                for id in &ids {
                    self.apply(*id, Target::Delete);
                }
                Outcome::Count(ids.len() as u64)
            }
            Plan::Compact => Outcome::Done,
            Plan::Restore { record, unique_key } => {
                let record = Record { status: Status::Ready, visible_at: 0, ..record.clone() };
                let id = record.id;
                let unique_key = self.rows.get(&id).map_or(*unique_key, |row| row.unique_key);
                self.unindex(id);
                self.rows.insert(id, Row { record, unique_key });
                self.index(id);
                Outcome::Done
            }
        })
    }
}

impl Table for MemoryTable {
    type Error = Infallible;

    fn execute(&mut self, plan: &Plan) -> impl Future<Output = Result<Outcome, Infallible>> {
        core::future::ready(self.execute_now(plan))
    }
}
