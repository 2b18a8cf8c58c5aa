//! Executing each [`Plan`] on the log: the entries it appends (one
//! committed group per plan, so a plan is atomic across a crash) and the
//! outcome it answers.

use alloc::collections::{BTreeMap, BTreeSet};
use alloc::vec::Vec;

use super::LogTable;
use super::entry::{Entry, Loc};
use super::error::{LogError, corrupted};
use crate::error::CorruptionKind;
use crate::format::chunk::{self, CHUNK_HEADER_LEN};
use crate::format::frame::{self, Layout};
use crate::records::order::OrderKey;
use crate::records::plan::{Claimed, Counts, Lease, Outcome, Plan, Target, purge_selection, settled_status};
use crate::records::record::{Record, Status};
use crate::storage::{Blob, Storage};

impl<S: Storage> LogTable<S> {
    pub(super) fn apply_then_compact(&mut self, plan: &Plan) -> Result<Outcome, LogError<S::Error>> {
        self.shrinking = plan.only_deletes();
        let outcome = self.execute_plan(plan);
        // A compaction writes a snapshot: never from the reserve.
        self.shrinking = false;
        let outcome = outcome?;
        if !matches!(plan, Plan::Compact) {
            self.maybe_compact()?;
        }
        Ok(outcome)
    }

    fn execute_plan(&mut self, plan: &Plan) -> Result<Outcome, LogError<S::Error>> {
        Ok(match plan {
            Plan::Insert { records } => {
                let mut keys = BTreeSet::new();
                let mut entries = Vec::new();
                let mut ids = Vec::with_capacity(records.len());
                let mut next = self.next_id;
                for r in records {
                    if let Some(k) = r.unique_key
                        && (self.index.key_holder(&k).is_some() || !keys.insert(k))
                    {
                        ids.push(None);
                        continue;
                    }
                    next += 1;
                    ids.push(Some(next));
                    let (status, visible_at) = if r.delay > 0 {
                        (Status::Delayed, r.timestamp.saturating_add(r.delay))
                    } else {
                        (Status::Ready, 0)
                    };
                    entries.push(Entry::put(
                        next,
                        status,
                        r.priority,
                        r.timestamp,
                        0,
                        visible_at,
                        r.unique_key,
                        r.payload.clone(),
                    ));
                }
                self.commit(entries)?;
                Outcome::Inserted(ids)
            }
            Plan::Claim { order, limit, then, lease } => {
                // One committed group: the records due at `now` made ready,
                // and the claim taking the first ready ones among them.
                let n = (*limit).max(1) as usize;
                let due = self.index.due(lease.now);
                let mut keys: Vec<OrderKey> = self
                    .index
                    .first_ready(*order, n)
                    .into_iter()
                    .chain(due.iter().copied())
                    .filter_map(|id| self.rows.get(id).map(|r| OrderKey { priority: r.priority, id }))
                    .collect();
                keys.sort_by(|a, b| order.compare(*a, *b));
                keys.truncate(n);
                let mut out = Vec::with_capacity(keys.len());
                for k in &keys {
                    out.extend(self.record(k.id)?.map(|r| Record {
                        status: Status::Ready,
                        visible_at: 0,
                        ..r
                    }));
                }
                let taken: BTreeSet<u64> = keys.iter().map(|k| k.id).collect();
                let readied = due
                    .into_iter()
                    .filter(|id| !taken.contains(id))
                    .map(|id| Entry::Status {
                        id,
                        status: Status::Ready.code(),
                        deliveries: self.rows.get(id).map_or(0, |r| r.deliveries),
                    })
                    .collect();
                self.claim(out, *then, *lease, readied)?
            }
            Plan::ClaimId { id, then, lease } => {
                let ready = self.rows.get(*id).is_some_and(|r| {
                    r.status == Status::Ready
                        || (r.status.is_timed() && self.rows.visible_at(*id) <= lease.now)
                });
                let rs = if ready { self.record(*id)?.into_iter().collect() } else { Vec::new() };
                self.claim(rs, *then, *lease, Vec::new())?
            }
            Plan::Settle { leases, to, now, delay } => {
                let mut overlay: BTreeMap<u64, Option<(Status, u32)>> = BTreeMap::new();
                let mut before = Vec::with_capacity(leases.len());
                let mut entries = Vec::new();
                for &(id, token) in leases {
                    let state = match overlay.get(&id) {
                        Some(s) => *s,
                        None => self.rows.get(id).map(|r| (r.status, r.deliveries)),
                    };
                    if state == Some((Status::Unacked, token)) {
                        let after = match to {
                            Target::Delete => {
                                entries.push(Entry::Delete { id });
                                None
                            }
                            Target::Status(s) => {
                                let status = settled_status(*s, *delay);
                                let visible_at =
                                    if status.is_timed() { now.saturating_add(*delay) } else { 0 };
                                entries.push(Entry::Timed {
                                    id,
                                    status: status.code(),
                                    deliveries: token,
                                    visible_at,
                                });
                                Some((status, token))
                            }
                        };
                        overlay.insert(id, after);
                    }
                    before.push(state);
                }
                self.commit(entries)?;
                Outcome::Leases(before)
            }
            Plan::LeaseInFlight { lease } => {
                let entries: Vec<Entry> = self
                    .rows
                    .iter()
                    .filter(|&(id, r)| r.status == Status::Unacked && self.rows.visible_at(id) == 0)
                    .map(|(id, r)| Entry::Timed {
                        id,
                        status: Status::Unacked.code(),
                        deliveries: r.deliveries,
                        visible_at: lease.until(),
                    })
                    .collect();
                let n = entries.len() as u64;
                // At every open: write nothing when there is nothing to do.
                if n > 0 {
                    self.commit(entries)?;
                }
                Outcome::Count(n)
            }
            Plan::Transition { ids, from, to } => {
                // Ids are processed in order: a repeated id sees the effect
                // of its earlier occurrence.
                let mut overlay: BTreeMap<u64, Option<Status>> = BTreeMap::new();
                let mut before = Vec::with_capacity(ids.len());
                let mut entries = Vec::new();
                for &id in ids {
                    let s = match overlay.get(&id) {
                        Some(s) => *s,
                        None => self.rows.get(id).map(|r| r.status),
                    };
                    if s.is_some_and(|s| from.contains(s)) {
                        entries.push(self.change(id, *to));
                        overlay.insert(id, if let Target::Status(n) = to { Some(*n) } else { None });
                    }
                    before.push(s);
                }
                self.commit(entries)?;
                Outcome::Before(before)
            }
            Plan::TransitionAll { from, to } => {
                let ids: Vec<u64> =
                    self.rows.iter().filter(|(_, r)| from.contains(r.status)).map(|(id, _)| id).collect();
                let entries = ids.iter().map(|id| self.change(*id, *to)).collect();
                self.commit(entries)?;
                Outcome::Count(ids.len() as u64)
            }
            Plan::Update { id, payload, unique_key, from } => {
                let s = self.rows.get(*id).map(|r| r.status);
                if !s.is_some_and(|s| from.contains(s)) {
                    return Ok(Outcome::Before(alloc::vec![s]));
                }
                if let Some(k) = unique_key
                    && self.index.key_holder(k).is_some_and(|other| other != *id)
                {
                    return Ok(Outcome::Duplicate);
                }
                self.commit(alloc::vec![Entry::Update {
                    id: *id,
                    key: *unique_key,
                    payload: payload.clone()
                }])?;
                Outcome::Before(alloc::vec![s])
            }
            Plan::Fetch { ids } => {
                let mut out = Vec::new();
                for id in ids {
                    out.extend(self.record(*id)?);
                }
                Outcome::Records(out)
            }
            Plan::Scan { statuses, order, after, limit } => {
                let mut keys: Vec<OrderKey> = self
                    .rows
                    .iter()
                    .filter(|(_, r)| statuses.contains(r.status))
                    .map(|(id, r)| OrderKey { priority: r.priority, id })
                    .filter(|k| after.is_none_or(|a| order.before(a, *k)))
                    .collect();
                keys.sort_by(|a, b| order.compare(*a, *b));
                if *limit > 0 {
                    keys.truncate(*limit as usize);
                }
                let mut out = Vec::with_capacity(keys.len());
                for k in keys {
                    out.extend(self.record(k.id)?);
                }
                Outcome::Records(out)
            }
            Plan::Count => {
                let mut c = Counts::default();
                for r in self.rows.values() {
                    c.add(r.status);
                }
                Outcome::Counts(c)
            }
            Plan::Purge { statuses, keep_latest, max_delete } => {
                let ids = purge_selection(
                    self.rows.iter().rev().filter(|(_, r)| statuses.contains(r.status)).map(|(id, _)| id),
                    *keep_latest,
                    *max_delete,
                );
                self.commit(ids.iter().map(|&id| Entry::Delete { id }).collect())?;
                Outcome::Count(ids.len() as u64)
            }
            Plan::Compact => {
                self.compact()?;
                Outcome::Done
            }
            Plan::Restore { record, unique_key } => {
                self.commit(alloc::vec![Entry::put(
                    record.id,
                    Status::Ready,
                    record.priority,
                    record.timestamp,
                    record.deliveries,
                    0,
                    if self.rows.get(record.id).is_some() { self.rows.key(record.id) } else { *unique_key },
                    record.payload.clone(),
                )])?;
                Outcome::Done
            }
        })
    }

    /// Claims `rs` after the entries `first` (records made ready), all in
    /// one committed group.
    fn claim(
        &mut self,
        rs: Vec<Record>,
        then: Claimed,
        lease: Lease,
        first: Vec<Entry>,
    ) -> Result<Outcome, LogError<S::Error>> {
        let mut entries = first;
        entries.extend(rs.iter().map(|r| match then {
            Claimed::Deleted => Entry::Delete { id: r.id },
            Claimed::Unacked => Entry::Timed {
                id: r.id,
                status: Status::Unacked.code(),
                deliveries: r.deliveries.saturating_add(1),
                visible_at: lease.until(),
            },
        }));
        self.commit(entries)?;
        let out = match then {
            Claimed::Deleted => rs,
            Claimed::Unacked => rs
                .into_iter()
                .map(|r| Record {
                    status: Status::Unacked,
                    deliveries: r.deliveries.saturating_add(1),
                    visible_at: lease.until(),
                    ..r
                })
                .collect(),
        };
        Ok(Outcome::Records(out))
    }

    pub(super) fn record(&mut self, id: u64) -> Result<Option<Record>, LogError<S::Error>> {
        let Some(row) = self.rows.get(id).cloned() else { return Ok(None) };
        let visible_at = self.rows.visible_at(id);
        let payload = match self.read_entry(row.payload_at)? {
            Some((Entry::Put { payload, .. }, _))
            | Some((Entry::PutTimed { payload, .. }, _))
            | Some((Entry::Update { payload, .. }, _)) => payload,
            _ => {
                return Err(corrupted(
                    Blob::Chunk(row.payload_at.chunk),
                    row.payload_at.offset,
                    CorruptionKind::Record,
                ));
            }
        };
        Ok(Some(Record {
            id,
            payload,
            priority: row.priority,
            status: row.status,
            timestamp: row.timestamp,
            deliveries: row.deliveries,
            visible_at,
        }))
    }

    fn change(&self, id: u64, to: Target) -> Entry {
        match to {
            Target::Delete => Entry::Delete { id },
            Target::Status(s) => Entry::Status {
                id,
                status: s.code(),
                deliveries: self.rows.get(id).map_or(0, |r| r.deliveries),
            },
        }
    }

    /// Appends the entries of one plan and its commit, then applies them.
    pub(super) fn commit(&mut self, entries: Vec<Entry>) -> Result<(), LogError<S::Error>> {
        if self.poisoned {
            return Err(LogError::Poisoned);
        }
        if entries.iter().any(Entry::is_v2) {
            self.upgrade_meta()?;
        }
        if self.head.offset > self.limits.chunk_bytes {
            self.next_chunk()?;
        }
        let mut bytes = Vec::new();
        let mut locs = Vec::with_capacity(entries.len());
        let mut next_id = self.next_id;
        let layout = self.layout(self.head.chunk);
        let mut index = self.head_index;
        for e in &entries {
            if let Entry::Put { id, .. } | Entry::PutTimed { id, .. } = e {
                next_id = next_id.max(*id);
            }
            let before = bytes.len() as u64;
            frame::encode_in(&mut bytes, layout, index, &postcard::to_allocvec(e).unwrap_or_default());
            index += 1;
            locs.push((
                Loc { chunk: self.head.chunk, offset: self.head.offset + before },
                bytes.len() as u64 - before,
            ));
        }
        frame::encode_in(
            &mut bytes,
            layout,
            index,
            &postcard::to_allocvec(&Entry::<Vec<u8>>::Commit { next_id }).unwrap_or_default(),
        );
        self.append_making_room(Blob::Chunk(self.head.chunk), &bytes)?;
        self.head_index = index + 1;
        self.head.offset += bytes.len() as u64;
        self.logged += bytes.len() as u64;
        self.flush()?;
        for (e, (at, len)) in entries.iter().zip(locs) {
            self.apply(e, at, len);
        }
        self.next_id = self.next_id.max(next_id);
        Ok(())
    }

    /// Starts the chunk after the head one; appends go there from now on.
    pub(super) fn next_chunk(&mut self) -> Result<u64, LogError<S::Error>> {
        let next = self.head.chunk + 1;
        self.append_making_room(Blob::Chunk(next), &chunk::encode_header(next))?;
        self.head = Loc { chunk: next, offset: CHUNK_HEADER_LEN as u64 };
        self.head_index = 0;
        self.layouts.insert(next, Layout::V2 { chunk: next });
        Ok(next)
    }
}

#[cfg(test)]
mod tests {
    use alloc::vec;

    use crate::records::log::test_support::{SMALL, fresh, run};
    use crate::records::plan::{Outcome, Plan, Target};
    use crate::records::record::{NewRecord, Status, StatusSet};

    #[test]
    fn an_insert_skips_a_key_held_or_repeated_and_a_transition_sees_its_own_earlier_steps() {
        let mut t = fresh(SMALL);
        let rec = |p: &[u8], k: u8| NewRecord {
            payload: p.to_vec(),
            priority: 0,
            timestamp: 0,
            unique_key: Some([k; 32]),
            delay: 0,
        };
        let o = run(&mut t, &Plan::Insert { records: vec![rec(b"a", 1), rec(b"b", 1), rec(b"c", 2)] });
        assert_eq!(o, Outcome::Inserted(vec![Some(1), None, Some(2)]));
        let o = run(&mut t, &Plan::Insert { records: vec![rec(b"d", 2)] });
        assert_eq!(o, Outcome::Inserted(vec![None]), "a live record holds key 2");

        let claim = Plan::Transition {
            ids: vec![1, 1, 9],
            from: StatusSet::of(Status::Ready),
            to: Target::Status(Status::Unacked),
        };
        let o = run(&mut t, &claim);
        assert_eq!(o, Outcome::Before(vec![Some(Status::Ready), Some(Status::Unacked), None]));
        let counts = match run(&mut t, &Plan::Count) {
            Outcome::Counts(c) => c,
            other => panic!("{other:?}"),
        };
        assert_eq!((counts.ready, counts.unacked), (1, 1));
    }
}
