//! [`IdbTable`]: the record contract over one IndexedDB database per
//! queue, one transaction per plan.

use std::collections::BTreeSet;

use js_sys::Array;
use persist_queue_core::Durability;
use persist_queue_core::records::{
    Claimed, Counts, Lease, NewRecord, Order, OrderKey, Outcome, Plan, Record, Status, StatusSet, Table,
    Target, purge_selection, settle_steps, settled_status, transition_steps,
};
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{IdbCursorDirection, IdbCursorWithValue, IdbDatabase, IdbIndex, IdbKeyRange, IdbObjectStore};

use crate::error::IdbError;
use crate::js;
use crate::row::{Meta, Row, id_key, prio_key, unique_hex};

/// The database version of the schema in `js/idb.js` (2: the `timed`
/// index; version-1 databases are upgraded when opened).
const VERSION: u32 = 2;
const RECORDS: &str = "records";
const PAYLOADS: &str = "payloads";
const META: &str = "meta";
const META_KEY: &str = "queue";

/// The IndexedDB database that holds the queue `name`.
pub fn database_name(name: &str) -> String {
    format!("persist-queue/{name}")
}

/// A queue's records in IndexedDB. Each plan is one transaction
/// (`readwrite` with durability `strict` at [`Durability::Synced`], which
/// Chromium answers with one fdatasync; `relaxed` otherwise, on the OS
/// before it completes), so every plan is atomic and isolated from every
/// other tab and worker using the same queue.
#[derive(Debug)]
pub struct IdbTable {
    db: IdbDatabase,
    strict: bool,
    session: Option<String>,
    /// The order the queue delivers in: a priority table keeps the
    /// priority bound at every put; others put without reading the meta
    /// entry (one request, as a raw put), and claim in priority order (only
    /// the contract tests do) without that bound.
    order: Order,
}

/// One plan's transaction: the records store and, for writes, the meta
/// entry read at its start.
struct Tx {
    /// The table delivers by priority (keeps the `prio` index).
    prio: bool,
    tx: web_sys::IdbTransaction,
    records: IdbObjectStore,
    /// The large payloads (`None`: a put of small items only, which leaves
    /// the store out of its transaction's scope).
    payloads: Option<IdbObjectStore>,
    meta: Option<(IdbObjectStore, Meta, Meta)>,
}

impl Tx {
    fn index(&self, name: &str) -> Result<IdbIndex, IdbError> {
        self.records.index(name).map_err(IdbError::from_js)
    }

    /// The index and range holding the records of status `s`: a ready
    /// record is in the `ready` index only (one index entry per put), the
    /// others in `status`.
    fn of_status(&self, s: Status) -> Result<(IdbIndex, JsValue), IdbError> {
        if s == Status::Ready {
            return Ok((self.index("ready")?, JsValue::UNDEFINED));
        }
        let range = IdbKeyRange::only(&s.code().into()).map_err(IdbError::from_js)?;
        Ok((self.index("status")?, range.into()))
    }

    /// Every record of status `s`, as stored.
    async fn with_status(&self, s: Status) -> Result<Vec<JsValue>, IdbError> {
        let (index, range) = self.of_status(s)?;
        range_values(&index, &range, true, 0).await
    }

    /// The records whose status is in `statuses`, sorted here in `order`,
    /// strictly after `after`, at most `limit` (0: all): listings no index
    /// keeps in order, and priority claims on a table opened for FIFO or
    /// FILO (which keeps no `prio` index). Correct, and as slow as it sounds.
    async fn sorted(
        &self,
        statuses: StatusSet,
        order: Order,
        after: Option<OrderKey>,
        limit: u32,
    ) -> Result<Vec<Row>, IdbError> {
        let mut keyed = Vec::new();
        for s in statuses.iter() {
            for v in self.with_status(s).await? {
                let row = Row::from_js(v)?;
                let key = OrderKey { priority: row.priority()?, id: row.id()? };
                if after.is_none_or(|a| order.before(a, key)) {
                    keyed.push((key, row));
                }
            }
        }
        keyed.sort_by(|a, b| order.compare(a.0, b.0));
        if limit != 0 {
            keyed.truncate(limit as usize);
        }
        Ok(keyed.into_iter().map(|(_, r)| r).collect())
    }

    fn meta(&mut self) -> Result<&mut Meta, IdbError> {
        self.meta
            .as_mut()
            .map(|(_, _, m)| m)
            .ok_or(IdbError::Protocol("read-only plan changed the meta entry"))
    }

    async fn get(&self, id: u64) -> Result<Option<Row>, IdbError> {
        let v = js::request(self.records.get(&(id as f64).into())).await?;
        if v.is_undefined() { Ok(None) } else { Row::from_js(v).map(Some) }
    }

    /// Rows by id, all requested at once (`None`: no such record).
    async fn get_many(&self, ids: &[u64]) -> Result<Vec<Option<Row>>, IdbError> {
        let reqs = ids
            .iter()
            .map(|&id| js::pending(self.records.get(&(id as f64).into())))
            .collect::<Result<Vec<_>, _>>()?;
        let mut out = Vec::with_capacity(ids.len());
        for r in reqs {
            let v = js::settled(r).await?;
            out.push(if v.is_undefined() { None } else { Some(Row::from_js(v)?) });
        }
        Ok(out)
    }

    /// The records of `rows`, reading the payloads kept apart (all
    /// requested at once).
    async fn records_of(&self, rows: &[Row]) -> Result<Vec<Record>, IdbError> {
        let mut reads = Vec::with_capacity(rows.len());
        for row in rows {
            reads.push(match row.inline_payload() {
                Some(p) => Ok(p),
                None => Err(js::pending(self.payloads()?.get(&(row.id()? as f64).into()))?),
            });
        }
        let mut out = Vec::with_capacity(rows.len());
        for (row, read) in rows.iter().zip(reads) {
            let payload = match read {
                Ok(p) => p,
                Err(pending) => js::bytes_of(&js::settled(pending).await?)?,
            };
            out.push(row.record(payload)?);
        }
        Ok(out)
    }

    fn payloads(&self) -> Result<&IdbObjectStore, IdbError> {
        self.payloads.as_ref().ok_or(IdbError::Protocol("the payloads store is not in this transaction"))
    }

    fn put(&self, row: &Row) -> Result<(), IdbError> {
        self.records.put(&row.0).map(drop).map_err(IdbError::from_js)
    }

    /// Stores the payload of record `id` if it does not fit in the record.
    fn put_payload(&self, id: u64, payload: &[u8]) -> Result<(), IdbError> {
        if payload.len() > crate::row::INLINE_MAX {
            self.payloads()?
                .put_with_key(&js::uint8(payload), &(id as f64).into())
                .map_err(IdbError::from_js)?;
        }
        Ok(())
    }

    /// Deletes record `id`, and its payload if kept apart (`external`).
    fn delete(&self, id: u64, external: bool) -> Result<(), IdbError> {
        let key: JsValue = (id as f64).into();
        self.records.delete(&key).map_err(IdbError::from_js)?;
        if external {
            self.payloads()?.delete(&key).map_err(IdbError::from_js)?;
        }
        Ok(())
    }

    /// Writes the meta entry if the plan changed it, then commits.
    async fn finish(self) -> Result<(), IdbError> {
        if let Some((store, before, after)) = &self.meta
            && before != after
        {
            store.put_with_key(&after.to_js()?, &META_KEY.into()).map_err(IdbError::from_js)?;
        }
        js::finish(&self.tx).await
    }
}

/// Up to `limit` (0: all) values of `index` in `range`, forwards or back.
async fn range_values(
    index: &IdbIndex,
    range: &JsValue,
    forward: bool,
    limit: u32,
) -> Result<Vec<JsValue>, IdbError> {
    if forward {
        let req = if limit == 0 {
            index.get_all_with_key(range)
        } else {
            index.get_all_with_key_and_limit(range, limit)
        };
        return Ok(Array::from(&js::request(req).await?).to_vec());
    }
    let req = index
        .open_cursor_with_range_and_direction(range, IdbCursorDirection::Prev)
        .map_err(IdbError::from_js)?;
    let mut out = Vec::new();
    let mut cursor = js::request(Ok(req.clone())).await?;
    while let Some(c) = cursor.dyn_ref::<IdbCursorWithValue>() {
        out.push(c.value().map_err(IdbError::from_js)?);
        if limit != 0 && out.len() >= limit as usize {
            break;
        }
        c.continue_().map_err(IdbError::from_js)?;
        cursor = js::request(Ok(req.clone())).await?;
    }
    Ok(out)
}

/// Stored values as rows.
fn rows(values: Vec<JsValue>) -> Result<Vec<Row>, IdbError> {
    values.into_iter().map(Row::from_js).collect()
}

fn bound(lower: Option<JsValue>, upper: Option<JsValue>, open: bool) -> Result<JsValue, IdbError> {
    let r = match (lower, upper) {
        (Some(l), None) => IdbKeyRange::lower_bound_with_open(&l, open),
        (None, Some(u)) => IdbKeyRange::upper_bound_with_open(&u, open),
        (None, None) => return Ok(JsValue::UNDEFINED),
        (Some(l), Some(u)) => IdbKeyRange::bound_with_lower_open_and_upper_open(&l, &u, open, open),
    };
    r.map(Into::into).map_err(IdbError::from_js)
}

impl IdbTable {
    /// Opens (creating) the queue `name`'s database, for a queue that
    /// delivers in `order` (any order can be claimed; this one fastest).
    /// `name` must be valid ([`persist_queue_core::records::valid_name`]).
    pub async fn open(name: &str, durability: Durability, order: Order) -> Result<IdbTable, IdbError> {
        let db = js::open(&database_name(name), VERSION, "queue").await?;
        Ok(IdbTable { db, strict: durability.is_synced(), session: None, order })
    }

    /// Marks the records this table claims as held by `session` (a tab's
    /// or worker's id), so [`IdbTable::release_orphans`] run by anyone
    /// else can tell whether their holder is still alive.
    pub fn with_session(mut self, session: String) -> IdbTable {
        self.session = Some(session);
        self
    }

    /// Deletes the queue `name` and everything in it.
    pub async fn delete(name: &str) -> Result<(), IdbError> {
        js::delete_database(&database_name(name)).await
    }

    /// Closes the connection (also done when dropped by the browser).
    pub fn close(&self) {
        self.db.close();
    }

    /// A transaction: read-only, or read-write with the meta entry read.
    async fn begin(&self, write: bool) -> Result<Tx, IdbError> {
        self.begin_with(write, write, true).await
    }

    async fn begin_with(&self, write: bool, with_meta: bool, with_payloads: bool) -> Result<Tx, IdbError> {
        let mut stores = vec![RECORDS];
        if with_payloads {
            stores.push(PAYLOADS);
        }
        if with_meta {
            stores.push(META);
        }
        let tx = js::transaction(&self.db, &stores, write, self.strict)?;
        let records = tx.object_store(RECORDS).map_err(IdbError::from_js)?;
        let payloads =
            if with_payloads { Some(tx.object_store(PAYLOADS).map_err(IdbError::from_js)?) } else { None };
        let meta = if with_meta {
            let store = tx.object_store(META).map_err(IdbError::from_js)?;
            let m = Meta::from_js(&js::request(store.get(&META_KEY.into())).await?)?;
            Some((store, m.clone(), m))
        } else {
            None
        };
        Ok(Tx { prio: self.order == Order::Priority, tx, records, payloads, meta })
    }

    /// Makes ready again every in-flight record whose holder is not in
    /// `live` (the sessions whose Web Lock is held: a closed tab's locks
    /// are released by the browser). Records claimed without a session
    /// count as orphans. Returns how many.
    pub async fn release_orphans(&mut self, live: &BTreeSet<String>) -> Result<u64, IdbError> {
        let mut tx = self.begin(true).await?;
        let held = tx.with_status(Status::Unacked).await?;
        let mut n = 0;
        for v in held {
            let row = Row::from_js(v)?;
            if row.owner().is_some_and(|o| live.contains(&o)) {
                continue;
            }
            Self::move_row(&mut tx, row, Target::Status(Status::Ready))?;
            n += 1;
        }
        tx.finish().await?;
        Ok(n)
    }

    async fn insert(&self, records: &[NewRecord]) -> Result<Outcome, IdbError> {
        let priority = self.order == Order::Priority;
        let large = records.iter().any(|r| r.payload.len() > crate::row::INLINE_MAX);
        let mut tx = self.begin_with(true, priority, large).await?;
        let unique = tx.index("unique")?;
        let mut seen = BTreeSet::new();
        // Which records are added (false: a duplicate, skipped), and the
        // first and last add requests: the store's key generator gives the
        // adds of one transaction consecutive ids (the transaction holds
        // the store alone), so those two answers name every id.
        let mut added = Vec::with_capacity(records.len());
        let mut first = None;
        let mut last = None;
        for nr in records {
            if let Some(k) = &nr.unique_key {
                let taken = !seen.insert(*k)
                    || !js::request(unique.get_key(&unique_hex(k).into())).await?.is_undefined();
                if taken {
                    added.push(false);
                    continue;
                }
            }
            let req = tx.records.add(&Row::ready(None, nr, 0, tx.prio)?.0).map_err(IdbError::from_js)?;
            if first.is_none() {
                first = Some(js::pending(Ok(req.clone()))?);
            }
            last = Some(req);
            added.push(true);
        }
        let key =
            |v: JsValue| v.as_f64().map(|k| k as u64).ok_or(IdbError::Protocol("add did not answer a key"));
        let n = added.iter().filter(|a| **a).count() as u64;
        // Listen to the last add before yielding (its answer could come
        // first); one add is its own first and last.
        let last = if n > 1 { last.map(|r| js::pending(Ok(r))).transpose()? } else { None };
        let mut ids = Vec::with_capacity(records.len());
        if let Some(first) = first {
            let first = key(js::settled(first).await?)?;
            if let Some(last) = last
                && key(js::settled(last).await?)? != first + n - 1
            {
                return Err(IdbError::Protocol("the key generator skipped ids inside one transaction"));
            }
            let mut next = first;
            for (nr, a) in records.iter().zip(&added) {
                if *a {
                    tx.put_payload(next, &nr.payload)?;
                    if priority {
                        tx.meta()?.readied(next, nr.priority);
                    }
                    ids.push(Some(next));
                    next += 1;
                } else {
                    ids.push(None);
                }
            }
        } else {
            ids.resize(records.len(), None);
        }
        tx.finish().await?;
        Ok(Outcome::Inserted(ids))
    }

    /// Claims `row` (whose record, payload included, is `before`).
    fn claim_row(
        &self,
        tx: &Tx,
        mut row: Row,
        before: Record,
        then: Claimed,
        lease: Lease,
    ) -> Result<Record, IdbError> {
        match then {
            Claimed::Deleted => {
                tx.delete(before.id, row.external())?;
                Ok(before)
            }
            Claimed::Unacked => {
                row.delivered()?;
                row.set_status(Status::Unacked, self.session.as_deref(), tx.prio)?;
                row.set_visible_at(lease.until());
                tx.put(&row)?;
                Ok(Record {
                    status: Status::Unacked,
                    deliveries: before.deliveries + 1,
                    visible_at: lease.until(),
                    ..before
                })
            }
        }
    }

    /// Makes ready the records whose lease or delay ended at `now` (index
    /// `timed`: only those are read).
    async fn expire(tx: &mut Tx, now: u64) -> Result<(), IdbError> {
        let range = bound(None, Some((now as f64).into()), false)?;
        for v in range_values(&tx.index("timed")?, &range, true, 0).await? {
            Self::move_row(tx, Row::from_js(v)?, Target::Status(Status::Ready))?;
        }
        Ok(())
    }

    /// A claim. A deleting claim over the quota is tried again without
    /// moving the meta entry's bounds (they stay true lower bounds): a
    /// transaction that only deletes is the one Chromium still admits
    /// there, so a full queue drains.
    async fn claim(
        &self,
        order: Order,
        limit: u32,
        then: Claimed,
        lease: Lease,
    ) -> Result<Outcome, IdbError> {
        match self.claim_moving_bounds(order, limit, then, lease, true).await {
            Err(IdbError::QuotaExceeded(_)) if then == Claimed::Deleted => {
                self.claim_moving_bounds(order, limit, then, lease, false).await
            }
            other => other,
        }
    }

    async fn claim_moving_bounds(
        &self,
        order: Order,
        limit: u32,
        then: Claimed,
        lease: Lease,
        move_bounds: bool,
    ) -> Result<Outcome, IdbError> {
        let mut tx = self.begin(true).await?;
        if move_bounds {
            Self::expire(&mut tx, lease.now).await?;
        }
        let meta = tx.meta()?.clone();
        let limit = limit.max(1);
        let rows = match order {
            Order::Fifo => {
                let range = bound(Some(id_key(meta.lo)), None, false)?;
                rows(range_values(&tx.index("ready")?, &range, true, limit).await?)?
            }
            Order::Filo => rows(range_values(&tx.index("ready")?, &JsValue::UNDEFINED, false, limit).await?)?,
            Order::Priority if tx.prio => {
                let from = meta.lp.map(|(p, i)| prio_key(p, i)).transpose()?;
                rows(range_values(&tx.index("prio")?, &bound(from, None, false)?, true, limit).await?)?
            }
            Order::Priority => tx.sorted(StatusSet::of(Status::Ready), order, None, limit).await?,
        };
        let records = tx.records_of(&rows).await?;
        let mut out = Vec::with_capacity(rows.len());
        for (row, record) in rows.into_iter().zip(records) {
            out.push(self.claim_row(&tx, row, record, then, lease)?);
        }
        if let Some(last) = out.last().filter(|_| move_bounds) {
            let prio = tx.prio;
            let m = tx.meta()?;
            match order {
                Order::Fifo => m.lo = last.id + 1,
                Order::Filo => {}
                Order::Priority if prio => m.lp = Some((last.priority, last.id)),
                Order::Priority => {}
            }
        }
        tx.finish().await?;
        Ok(Outcome::Records(out))
    }

    async fn claim_id(&self, id: u64, then: Claimed, lease: Lease) -> Result<Outcome, IdbError> {
        let tx = self.begin(true).await?;
        let mut out = Vec::new();
        if let Some(row) = tx.get(id).await? {
            let s = row.status()?;
            if s == Status::Ready || (s.is_timed() && row.visible_at() <= lease.now) {
                let record = tx.records_of(std::slice::from_ref(&row)).await?.remove(0);
                out.push(self.claim_row(&tx, row, record, then, lease)?);
            }
        }
        tx.finish().await?;
        Ok(Outcome::Records(out))
    }

    async fn settle(
        &self,
        leases: &[(u64, u32)],
        to: Target,
        now: u64,
        delay: u64,
    ) -> Result<Outcome, IdbError> {
        let mut tx = self.begin(true).await?;
        let distinct: Vec<u64> = leases.iter().map(|l| l.0).collect::<BTreeSet<_>>().into_iter().collect();
        let mut rows: std::collections::BTreeMap<u64, Row> = std::collections::BTreeMap::new();
        let mut current = std::collections::BTreeMap::new();
        for (id, row) in distinct.iter().zip(tx.get_many(&distinct).await?) {
            if let Some(r) = row {
                current.insert(*id, (r.status()?, r.deliveries()?));
                rows.insert(*id, r);
            }
        }
        let (before, change) = settle_steps(leases, |id| current.get(&id).copied(), to);
        for id in change {
            if let Some(mut row) = rows.remove(&id) {
                match to {
                    Target::Status(s) if settled_status(s, delay).is_timed() => {
                        row.set_status(settled_status(s, delay), self.session.as_deref(), tx.prio)?;
                        row.set_visible_at(now.saturating_add(delay));
                        tx.put(&row)?;
                    }
                    _ => Self::move_row(&mut tx, row, to)?,
                }
            }
        }
        tx.finish().await?;
        Ok(Outcome::Leases(before))
    }

    async fn lease_in_flight(&self, lease: Lease) -> Result<Outcome, IdbError> {
        let tx = self.begin(true).await?;
        let mut n = 0;
        for v in tx.with_status(Status::Unacked).await? {
            let mut row = Row::from_js(v)?;
            if row.visible_at() == 0 {
                row.set_visible_at(lease.until());
                tx.put(&row)?;
                n += 1;
            }
        }
        tx.finish().await?;
        Ok(Outcome::Count(n))
    }

    /// Applies `to` to `row`, keeping the meta bounds true.
    fn move_row(tx: &mut Tx, mut row: Row, to: Target) -> Result<(), IdbError> {
        match to {
            Target::Delete => tx.delete(row.id()?, row.external()),
            Target::Status(s) => {
                row.set_status(s, None, tx.prio)?;
                if s == Status::Ready {
                    let (id, p) = (row.id()?, row.priority()?);
                    tx.meta()?.readied(id, p);
                }
                tx.put(&row)
            }
        }
    }

    async fn transition(&self, ids: &[u64], from: StatusSet, to: Target) -> Result<Outcome, IdbError> {
        let mut tx = self.begin(true).await?;
        let distinct: Vec<u64> = ids.iter().copied().collect::<BTreeSet<_>>().into_iter().collect();
        let mut rows: std::collections::BTreeMap<u64, Row> = std::collections::BTreeMap::new();
        for (id, row) in distinct.iter().zip(tx.get_many(&distinct).await?) {
            if let Some(r) = row {
                rows.insert(*id, r);
            }
        }
        let mut bad = None;
        let (before, change) = transition_steps(
            ids,
            |id| {
                rows.get(&id).and_then(|r| match r.status() {
                    Ok(s) => Some(s),
                    Err(e) => {
                        bad = Some(e);
                        None
                    }
                })
            },
            from,
            to,
        );
        if let Some(e) = bad {
            return Err(e);
        }
        for id in change {
            if let Some(row) = rows.remove(&id) {
                Self::move_row(&mut tx, row, to)?;
            }
        }
        tx.finish().await?;
        Ok(Outcome::Before(before))
    }

    async fn transition_all(&self, from: StatusSet, to: Target) -> Result<Outcome, IdbError> {
        let mut tx = self.begin(true).await?;
        let mut n = 0;
        for s in from.iter() {
            for v in tx.with_status(s).await? {
                Self::move_row(&mut tx, Row::from_js(v)?, to)?;
                n += 1;
            }
        }
        tx.finish().await?;
        Ok(Outcome::Count(n))
    }

    async fn update(
        &self,
        id: u64,
        payload: &[u8],
        unique_key: Option<&[u8; 32]>,
        from: StatusSet,
    ) -> Result<Outcome, IdbError> {
        let tx = self.begin(true).await?;
        let Some(mut row) = tx.get(id).await? else {
            tx.finish().await?;
            return Ok(Outcome::Before(vec![None]));
        };
        let s = row.status()?;
        if from.contains(s) {
            if let Some(k) = unique_key {
                let holder = js::request(tx.index("unique")?.get_key(&unique_hex(k).into())).await?;
                if holder.as_f64().is_some_and(|h| h as u64 != id) {
                    tx.finish().await?;
                    return Ok(Outcome::Duplicate);
                }
            }
            if row.external() {
                tx.payloads()?.delete(&(id as f64).into()).map_err(IdbError::from_js)?;
            }
            row.set_payload(payload, unique_key.filter(|_| s.is_live()));
            tx.put_payload(id, payload)?;
            tx.put(&row)?;
        }
        tx.finish().await?;
        Ok(Outcome::Before(vec![Some(s)]))
    }

    async fn fetch(&self, ids: &[u64]) -> Result<Outcome, IdbError> {
        let tx = self.begin(false).await?;
        let rows: Vec<Row> = tx.get_many(ids).await?.into_iter().flatten().collect();
        Ok(Outcome::Records(tx.records_of(&rows).await?))
    }

    async fn scan(
        &self,
        statuses: StatusSet,
        order: Order,
        after: Option<OrderKey>,
        limit: u32,
    ) -> Result<Outcome, IdbError> {
        let tx = self.begin(false).await?;
        // The ready indexes keep ready records in order (the priority one
        // only in a priority table); anything else is sorted here.
        if statuses == StatusSet::of(Status::Ready) && (order != Order::Priority || tx.prio) {
            let values = match order {
                Order::Fifo => {
                    let range = bound(after.map(|k| id_key(k.id)), None, true)?;
                    range_values(&tx.index("ready")?, &range, true, limit).await?
                }
                Order::Filo => {
                    let range = bound(None, after.map(|k| id_key(k.id)), true)?;
                    range_values(&tx.index("ready")?, &range, false, limit).await?
                }
                Order::Priority => {
                    let from = after.map(|k| prio_key(k.priority, k.id)).transpose()?;
                    range_values(&tx.index("prio")?, &bound(from, None, true)?, true, limit).await?
                }
            };
            return Ok(Outcome::Records(tx.records_of(&rows(values)?).await?));
        }
        let rows = tx.sorted(statuses, order, after, limit).await?;
        Ok(Outcome::Records(tx.records_of(&rows).await?))
    }

    async fn count(&self) -> Result<Outcome, IdbError> {
        let tx = self.begin(false).await?;
        let mut counting = Vec::new();
        for s in StatusSet::ALL.iter() {
            let (index, range) = tx.of_status(s)?;
            counting.push((s, js::pending(index.count_with_key(&range))?));
        }
        let mut c = Counts::default();
        for (s, n) in counting {
            c.add_n(s, js::settled(n).await?.as_f64().unwrap_or(0.0) as u64);
        }
        Ok(Outcome::Counts(c))
    }

    async fn purge(
        &self,
        statuses: StatusSet,
        keep_latest: u64,
        max_delete: u64,
    ) -> Result<Outcome, IdbError> {
        let tx = self.begin(true).await?;
        let mut ids = Vec::new();
        for s in statuses.iter() {
            let (index, range) = tx.of_status(s)?;
            let keys = js::request(index.get_all_keys_with_key(&range)).await?;
            ids.extend(Array::from(&keys).iter().filter_map(|k| k.as_f64()).map(|k| k as u64));
        }
        ids.sort_unstable_by(|a, b| b.cmp(a));
        let doomed = purge_selection(ids.into_iter(), keep_latest, max_delete);
        for &id in &doomed {
            // Only keys were read: delete a payload that may be kept apart.
            tx.delete(id, true)?;
        }
        tx.finish().await?;
        Ok(Outcome::Count(doomed.len() as u64))
    }

    async fn restore(&self, record: &Record, unique_key: Option<&[u8; 32]>) -> Result<Outcome, IdbError> {
        let mut tx = self.begin(true).await?;
        tx.meta()?.readied(record.id, record.priority);
        if let Some(mut row) = tx.get_many(&[record.id]).await?.pop().flatten() {
            // Still in flight: only its status and count change; it keeps
            // its payload and unique key.
            js::set(&row.0, "d", &record.deliveries.into());
            row.set_status(Status::Ready, None, tx.prio)?;
            tx.put(&row)?;
        } else {
            let r = NewRecord {
                payload: record.payload.clone(),
                priority: record.priority,
                timestamp: record.timestamp,
                unique_key: unique_key.copied(),
                delay: 0,
            };
            tx.put(&Row::ready(Some(record.id), &r, record.deliveries, tx.prio)?)?;
            tx.put_payload(record.id, &r.payload)?;
        }
        tx.finish().await?;
        Ok(Outcome::Done)
    }
}

impl Table for IdbTable {
    type Error = IdbError;

    /// Over its quota, Chromium still commits transactions that only
    /// delete (and only those: every write, however small, is refused,
    /// and deletions do not give the space back within the session).
    fn only_deletes(error: &IdbError) -> bool {
        matches!(error, IdbError::QuotaExceeded(_))
    }

    async fn execute(&mut self, plan: &Plan) -> Result<Outcome, IdbError> {
        match plan {
            Plan::Insert { records } => self.insert(records).await,
            Plan::Claim { order, limit, then, lease } => self.claim(*order, *limit, *then, *lease).await,
            Plan::ClaimId { id, then, lease } => self.claim_id(*id, *then, *lease).await,
            Plan::Settle { leases, to, now, delay } => self.settle(leases, *to, *now, *delay).await,
            Plan::LeaseInFlight { lease } => self.lease_in_flight(*lease).await,
            Plan::Transition { ids, from, to } => self.transition(ids, *from, *to).await,
            Plan::TransitionAll { from, to } => self.transition_all(*from, *to).await,
            Plan::Update { id, payload, unique_key, from } => {
                self.update(*id, payload, unique_key.as_ref(), *from).await
            }
            Plan::Fetch { ids } => self.fetch(ids).await,
            Plan::Scan { statuses, order, after, limit } => {
                self.scan(*statuses, *order, *after, *limit).await
            }
            Plan::Count => self.count().await,
            Plan::Purge { statuses, keep_latest, max_delete } => {
                self.purge(*statuses, *keep_latest, *max_delete).await
            }
            // LevelDB compacts on its own; there is no call to ask for it.
            Plan::Compact => Ok(Outcome::Done),
            Plan::Restore { record, unique_key } => self.restore(record, unique_key.as_ref()).await,
        }
    }
}
