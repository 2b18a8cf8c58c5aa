//! `PgTable`: the core's record contract on one PostgreSQL table.

use std::collections::HashMap;

use persist_queue_core::Durability;
use persist_queue_core::records::sql::order_by;
use persist_queue_core::records::{
    Claimed, Counts, NewRecord, Order, OrderKey, Outcome, Plan, Record, Status, StatusSet, Table, Target,
    inserted_ids, settle_steps, settled_status, transition_steps,
};
use postgres::error::SqlState;
use postgres::types::{ToSql, Type};
use postgres::{Client, Row, Statement};

use crate::connect::{Connect, table_ident};
use crate::error::PgError;
use crate::in_transaction::PgTableRef;
use crate::session::{Fail, Session, transaction};

/// The schema version this crate creates and reads. Version 1 (before
/// leases) is upgraded at open under the schema lock: a `visible_at`
/// column and an index on `visible_at` of the leased and delayed rows.
pub const SCHEMA_VERSION: i32 = 2;

/// The server's clock in ms since the Unix epoch: leases and delays are
/// reckoned on it, so clients with skewed clocks agree.
const NOW_MS: &str = "(extract(epoch from clock_timestamp()) * 1000)::int8";

/// Serialises schema changes of every persist-queue table on a server
/// (concurrent `CREATE TABLE IF NOT EXISTS` can fail in PostgreSQL).
pub(crate) const DDL_LOCK: i64 = 0x7071_5f73_6368_656d; // "pq_schem"

const COLUMNS: &str = "id, payload, priority, status, timestamp, deliveries, visible_at";

fn codes(set: StatusSet) -> Vec<i16> {
    set.iter().map(|s| i16::from(s.code())).collect()
}

fn record(row: &Row) -> Result<Record, postgres::Error> {
    let code: i16 = row.try_get(3)?;
    Ok(Record {
        id: row.try_get::<_, i64>(0)? as u64,
        payload: row.try_get(1)?,
        priority: row.try_get(2)?,
        // Codes outside the enum are never written; read them as ready
        // (persist-queue's 0) rather than fail a whole batch.
        status: u8::try_from(code).ok().and_then(Status::from_code).unwrap_or(Status::Ready),
        timestamp: row.try_get::<_, i64>(4)? as u64,
        deliveries: row.try_get::<_, i32>(5)? as u32,
        visible_at: row.try_get::<_, i64>(6)? as u64,
    })
}

/// The statements every plan uses, prepared once per connection.
pub(crate) struct Stmts {
    insert: Statement,
    insert_many: Statement,
    fetch: Statement,
    statuses: Statement,
    /// Locks records and reads their status and deliveries.
    leases: Statement,
    /// Claims in the table's order: mark in flight, or delete.
    claim: [Statement; 2],
    claim_id: [Statement; 2],
    /// Other statements, prepared on first use (each `query` with SQL text
    /// would prepare it again: one more round trip).
    cache: std::cell::RefCell<HashMap<String, Statement>>,
}

impl Stmts {
    /// `sql`, prepared once on this connection.
    fn cached(&self, c: &mut Client, sql: &str) -> Result<Statement, postgres::Error> {
        if let Some(st) = self.cache.borrow().get(sql) {
            return Ok(st.clone());
        }
        let st = c.prepare(sql)?;
        self.cache.borrow_mut().insert(sql.to_string(), st.clone());
        Ok(st)
    }
}

/// The head of a claim of `then` kind: mark in flight leased for `$2`
/// ms, or delete.
fn claim_head(t: &str, then: Claimed) -> String {
    match then {
        Claimed::Unacked => format!(
            "UPDATE {t} SET status = 2, deliveries = deliveries + 1, visible_at = {NOW_MS} + $2::int8 WHERE"
        ),
        Claimed::Deleted => format!("DELETE FROM {t} WHERE $2::int8 IS NOT NULL AND"),
    }
}

/// One statement that makes ready the records whose lease or delay ended
/// and claims the first `$1` ready records in `order`. Both see the same
/// snapshot, so the records it made ready are claimable from the next
/// statement on: the last column counts them (one row with a NULL id
/// when nothing was claimed).
fn claim_sql(t: &str, order: Order, then: Claimed) -> String {
    format!(
        "WITH expired AS (
             UPDATE {t} SET status = 1, visible_at = 0 WHERE id = ANY(ARRAY(
                 SELECT id FROM {t} WHERE status IN (2, 3) AND visible_at BETWEEN 1 AND {NOW_MS} FOR UPDATE SKIP LOCKED))
             RETURNING id),
         claimed AS (
             {} id = ANY(ARRAY(SELECT id FROM {t} WHERE status = 1 ORDER BY {} LIMIT $1 FOR UPDATE SKIP LOCKED))
             RETURNING {COLUMNS})
         SELECT c.*, (SELECT count(*) FROM expired) FROM (SELECT 1) one LEFT JOIN claimed c ON true",
        claim_head(t, then),
        order_by(order)
    )
}

/// The records a claim statement returned, and how many it made ready.
fn claimed_rows(rows: &[Row]) -> Result<(Vec<Record>, i64), postgres::Error> {
    let mut out = Vec::with_capacity(rows.len());
    let mut expired = 0;
    for row in rows {
        expired = row.try_get::<_, i64>(7)?;
        if row.try_get::<_, Option<i64>>(0)?.is_some() {
            out.push(record(row)?);
        }
    }
    Ok((out, expired))
}

/// A claim of the record `$1` only, if it is ready or due.
fn claim_id_sql(t: &str, then: Claimed) -> String {
    format!(
        "{} id = $1 AND (status = 1 OR (status IN (2, 3) AND visible_at BETWEEN 1 AND {NOW_MS})) RETURNING {COLUMNS}",
        claim_head(t, then)
    )
}

/// One record: `$1` payload, `$2` priority, `$3` timestamp, `$4` unique
/// key, `$5` delay (ms); its id, none for a duplicate.
pub(crate) fn insert_sql(t: &str) -> String {
    format!(
        "INSERT INTO {t} (payload, priority, status, timestamp, unique_key, visible_at)
         VALUES ($1, $2, CASE WHEN $5::int8 > 0 THEN 3 ELSE 1 END, $3, $4,
                 CASE WHEN $5::int8 > 0 THEN {NOW_MS} + $5::int8 ELSE 0 END)
         ON CONFLICT DO NOTHING RETURNING id"
    )
}

/// Many records, the same columns as arrays, inserted in their order.
pub(crate) fn insert_many_sql(t: &str) -> String {
    format!(
        "INSERT INTO {t} (payload, priority, status, timestamp, unique_key, visible_at)
         SELECT p, pr, CASE WHEN d > 0 THEN 3 ELSE 1 END, ts, k,
                CASE WHEN d > 0 THEN {NOW_MS} + d ELSE 0 END
         FROM UNNEST($1::bytea[], $2::int8[], $3::int8[], $4::bytea[], $5::int8[])
             WITH ORDINALITY AS u(p, pr, ts, k, d, n) ORDER BY n
         ON CONFLICT DO NOTHING RETURNING id, unique_key"
    )
}

fn prepare(client: &mut Client, t: &str, order: Order) -> Result<Stmts, postgres::Error> {
    Ok(Stmts {
        insert: client.prepare(&insert_sql(t))?,
        insert_many: client.prepare(&insert_many_sql(t))?,
        fetch: client.prepare(&format!("SELECT {COLUMNS} FROM {t} WHERE id = ANY($1)"))?,
        statuses: client.prepare(&format!("SELECT id, status FROM {t} WHERE id = ANY($1) FOR UPDATE"))?,
        leases: client
            .prepare(&format!("SELECT id, status, deliveries FROM {t} WHERE id = ANY($1) FOR UPDATE"))?,
        claim: [
            client.prepare(&claim_sql(t, order, Claimed::Unacked))?,
            client.prepare(&claim_sql(t, order, Claimed::Deleted))?,
        ],
        claim_id: [
            client.prepare(&claim_id_sql(t, Claimed::Unacked))?,
            client.prepare(&claim_id_sql(t, Claimed::Deleted))?,
        ],
        cache: Default::default(),
    })
}

/// One queue's records in one PostgreSQL table. See the crate docs.
#[derive(Debug)]
pub struct PgTable {
    session: Session<Stmts>,
    /// At synced durability, a second connection with `synchronous_commit
    /// = off` for claims that only mark items in flight: they need no
    /// flush, since losing one makes its items ready again, which recovery
    /// does anyway. (A `SET LOCAL` would cost two more round trips.)
    relaxed: Option<Session<Stmts>>,
    t: String,
    order: Order,
    /// The table for statements on other connections (the caller's
    /// transactions): schema-qualified when a schema was set.
    qualified: String,
}

/// A single statement in autocommit: its failure may have happened after
/// the server committed, so it counts as a failure at `COMMIT` (the session
/// retries it only if the server answered that it rolled it back).
fn single<T>(r: Result<T, postgres::Error>) -> Result<T, Fail> {
    r.map_err(Fail::AtCommit)
}

impl PgTable {
    /// Opens (creating if needed) the table `name`, indexed for `order`.
    /// [`Durability::Synced`]: every commit waits for the WAL flush
    /// (`synchronous_commit = on`); [`Durability::Buffered`]: commits do
    /// not wait (`off`; a server crash may lose the last few hundred ms,
    /// never corrupt).
    pub fn open(
        connect: &Connect,
        name: &str,
        durability: Durability,
        order: Order,
    ) -> Result<PgTable, PgError> {
        let ident = table_ident(name)?;
        let t = format!("\"{ident}\"");
        let setup = if durability.is_synced() {
            "SET synchronous_commit = on"
        } else {
            "SET synchronous_commit = off"
        };
        let session_with = |setup: &str| {
            let prepared = t.clone();
            Session::new(connect, name, setup.to_string(), move |client| prepare(client, &prepared, order))
        };
        let mut session = session_with(setup);
        let schema = connect.create_schema();
        let found = session.with_retry_unprepared(|client| create(client, &schema, &ident, &t, order))?;
        if let Some(found) = found.filter(|v| *v > SCHEMA_VERSION) {
            return Err(PgError::SchemaTooNew { table: ident, found });
        }
        let relaxed = durability.is_synced().then(|| session_with("SET synchronous_commit = off"));
        let qualified = match &connect.schema {
            Some(schema) => format!("\"{schema}\".{t}"),
            None => t.clone(),
        };
        Ok(PgTable { session, relaxed, t, order, qualified })
    }

    /// The table, for plans run in a transaction of the caller's own
    /// ([`execute_in`](crate::execute_in)).
    pub fn table_ref(&self) -> PgTableRef {
        PgTableRef { sql: self.qualified.clone() }
    }

    fn body(&mut self, plan: &Plan) -> Result<Outcome, PgError> {
        let PgTable { session, relaxed, t, order, .. } = self;
        let (t, order) = (t.as_str(), *order);
        let claims = |then: Claimed| -> &mut Session<Stmts> {
            match (relaxed, then) {
                (Some(relaxed), Claimed::Unacked) => relaxed,
                _ => session,
            }
        };
        match plan {
            Plan::Insert { records } => {
                self.session.with_retry(|c, st| Ok(Outcome::Inserted(single(insert(c, st, records))?)))
            }
            Plan::Claim { order: o, limit, then, lease } => {
                let want = (*limit).max(1) as usize;
                let limit = i64::from((*limit).max(1));
                let ms = lease.ms.min(i64::MAX as u64) as i64;
                // Another order than the table's: prepared on first use.
                let other = (*o != order).then(|| claim_sql(t, *o, *then));
                claims(*then).with_retry(|c, st| {
                    let stmt = match &other {
                        None => st.claim[claim_index(*then)].clone(),
                        Some(sql) => st.cached(c, sql)?,
                    };
                    let (mut out, expired) = claimed_rows(&single(c.query(&stmt, &[&limit, &ms]))?)?;
                    if expired > 0 && out.len() < want {
                        // What it made ready is claimable now, in order.
                        let more = i64::try_from(want - out.len()).unwrap_or(limit);
                        out.extend(claimed_rows(&single(c.query(&stmt, &[&more, &ms]))?)?.0);
                    }
                    out.sort_by(|a, b| o.compare(key(a), key(b)));
                    Ok(Outcome::Records(out))
                })
            }
            Plan::ClaimId { id, then, lease } => {
                let ms = lease.ms.min(i64::MAX as u64) as i64;
                claims(*then).with_retry(|c, st| {
                    let rows = single(c.query(&st.claim_id[claim_index(*then)], &[&(*id as i64), &ms]))?;
                    Ok(Outcome::Records(rows.iter().map(record).collect::<Result<_, _>>()?))
                })
            }
            Plan::Settle { leases, to, now: _, delay } => {
                let distinct = leases.iter().map(|l| l.0).collect::<std::collections::HashSet<_>>().len()
                    == leases.len();
                let ids: Vec<i64> = leases.iter().map(|&(id, _)| id as i64).collect();
                let tokens: Vec<i32> = leases.iter().map(|&(_, d)| d as i32).collect();
                let delay = (*delay).min(i64::MAX as u64) as i64;
                if distinct {
                    let sql = settle_sql(t, *to, delay);
                    self.session.with_retry(|c, st| {
                        let stmt = st.cached(c, &sql)?;
                        let rows = match to {
                            Target::Delete => single(c.query(&stmt, &[&ids, &tokens]))?,
                            Target::Status(_) => single(c.query(&stmt, &[&ids, &tokens, &delay]))?,
                        };
                        Ok(leases_outcome(leases, &rows)?)
                    })
                } else {
                    self.session.with_retry(|c, st| {
                        transaction(c, "BEGIN", |c| {
                            Ok(Outcome::Leases(settle(c, st, t, leases, *to, delay)?))
                        })
                    })
                }
            }
            Plan::LeaseInFlight { lease } => {
                let sql =
                    format!("UPDATE {t} SET visible_at = {NOW_MS} + $1 WHERE status = 2 AND visible_at = 0");
                let ms = lease.ms.min(i64::MAX as u64) as i64;
                self.session.with_retry(|c, _| Ok(Outcome::Count(single(c.execute(&sql, &[&ms]))?)))
            }
            Plan::Transition { ids, from, to } => {
                let mut only = from.iter();
                let distinct = ids.iter().collect::<std::collections::HashSet<_>>().len() == ids.len();
                match (only.next(), only.next()) {
                    (Some(one), None) if distinct => {
                        // One statement: change what is in `one`, report the
                        // others' statuses from the same snapshot.
                        let change = match to {
                            Target::Delete => format!("DELETE FROM {t} WHERE id = ANY($1) AND status = $2"),
                            Target::Status(s) => {
                                format!(
                                    "UPDATE {t} SET {} WHERE id = ANY($1) AND status = $2",
                                    set_status(*s)
                                )
                            }
                        };
                        let sql = format!(
                            "WITH changed AS ({change} RETURNING id)
                             SELECT id, $2 FROM changed
                             UNION ALL
                             SELECT id, status FROM {t} WHERE id = ANY($1) AND id NOT IN (SELECT id FROM changed)"
                        );
                        let wanted: Vec<i64> = ids.iter().map(|&id| id as i64).collect();
                        let code = i16::from(one.code());
                        session.with_retry(|c, st| {
                            let stmt = st.cached(c, &sql)?;
                            let rows = single(c.query(&stmt, &[&wanted, &code]))?;
                            let mut before = HashMap::with_capacity(rows.len());
                            for row in rows {
                                let (id, code): (i64, i16) = (row.try_get(0)?, row.try_get(1)?);
                                before.insert(id as u64, u8::try_from(code).ok().and_then(Status::from_code));
                            }
                            Ok(Outcome::Before(
                                ids.iter().map(|id| before.get(id).copied().flatten()).collect(),
                            ))
                        })
                    }
                    _ => self.session.with_retry(|c, st| {
                        transaction(c, "BEGIN", |c| {
                            Ok(Outcome::Before(transition(c, st, t, ids, *from, *to)?))
                        })
                    }),
                }
            }
            Plan::TransitionAll { from, to } => {
                let sql = match to {
                    Target::Delete => format!("DELETE FROM {t} WHERE status = ANY($1)"),
                    Target::Status(s) => format!("UPDATE {t} SET {} WHERE status = ANY($1)", set_status(*s)),
                };
                let from = codes(*from);
                self.session.with_retry(|c, _| {
                    transaction(c, "BEGIN", |c| Ok(Outcome::Count(c.execute(&sql, &[&from])?)))
                })
            }
            Plan::Update { id, payload, unique_key, from } => {
                let sql = format!(
                    "UPDATE {t} SET payload = $2, unique_key = $3 WHERE id = $1 AND status = ANY($4) RETURNING id"
                );
                let (id, key, from) = (*id as i64, unique_key.map(|k| k.to_vec()), codes(*from));
                let result = self.session.with_retry(|c, st| {
                    transaction(c, "BEGIN", |c| {
                        let before = status_of(c, st, id)?;
                        c.execute(&sql, &[&id, payload, &key, &from])?;
                        Ok(Outcome::Before(vec![before]))
                    })
                });
                match result {
                    Err(PgError::Db(e)) if e.code() == Some(&SqlState::UNIQUE_VIOLATION) => {
                        Ok(Outcome::Duplicate)
                    }
                    other => other,
                }
            }
            Plan::Fetch { ids } => {
                let wanted: Vec<i64> = ids.iter().map(|&id| id as i64).collect();
                self.session.with_retry(|c, st| {
                    let rows = c.query(&st.fetch, &[&wanted])?;
                    let mut by_id: HashMap<u64, Record> =
                        rows.iter().map(|r| record(r).map(|r| (r.id, r))).collect::<Result<_, _>>()?;
                    Ok(Outcome::Records(ids.iter().filter_map(|id| by_id.remove(id)).collect()))
                })
            }
            Plan::Scan { statuses, order: o, after, limit } => {
                let cond = match (o, after) {
                    (_, None) => "$2::int8 IS NOT NULL AND $3::int8 IS NOT NULL",
                    (Order::Fifo, Some(_)) => "$2::int8 IS NOT NULL AND id > $3::int8",
                    (Order::Filo, Some(_)) => "$2::int8 IS NOT NULL AND id < $3::int8",
                    (Order::Priority, Some(_)) => "(priority, id) > ($2::int8, $3::int8)",
                };
                let sql = format!(
                    "SELECT {COLUMNS} FROM {t} WHERE status = ANY($1) AND {cond} ORDER BY {} LIMIT $4",
                    order_by(*o)
                );
                let k = after.unwrap_or(OrderKey { priority: 0, id: 0 });
                let (set, prio, id) = (codes(*statuses), k.priority, k.id as i64);
                let limit: Option<i64> = (*limit > 0).then_some(i64::from(*limit));
                self.session.with_retry(|c, st| {
                    let stmt = st.cached(c, &sql)?;
                    let rows = c.query(&stmt, &[&set, &prio, &id, &limit])?;
                    Ok(Outcome::Records(rows.iter().map(record).collect::<Result<_, _>>()?))
                })
            }
            Plan::Count => {
                let sql = format!("SELECT status, COUNT(*) FROM {t} GROUP BY status");
                self.session.with_retry(|c, st| {
                    let mut counts = Counts::default();
                    let stmt = st.cached(c, &sql)?;
                    for row in c.query(&stmt, &[])? {
                        let (code, n): (i16, i64) = (row.try_get(0)?, row.try_get(1)?);
                        if let Some(s) = u8::try_from(code).ok().and_then(Status::from_code) {
                            counts.add_n(s, n as u64);
                        }
                    }
                    Ok(Outcome::Counts(counts))
                })
            }
            Plan::Purge { statuses, keep_latest, max_delete } => {
                let sql = format!(
                    "DELETE FROM {t} WHERE id IN
                     (SELECT id FROM {t} WHERE status = ANY($1) ORDER BY id DESC LIMIT $2 OFFSET $3)"
                );
                let set = codes(*statuses);
                let limit: Option<i64> = (*max_delete > 0).then_some(*max_delete as i64);
                let skip = *keep_latest as i64;
                self.session.with_retry(|c, _| {
                    transaction(c, "BEGIN", |c| Ok(Outcome::Count(c.execute(&sql, &[&set, &limit, &skip])?)))
                })
            }
            // Plain VACUUM: online (no exclusive lock), returns dead rows'
            // space for reuse; it cannot run inside a transaction.
            Plan::Compact => {
                let sql = format!("VACUUM {t}");
                self.session.with_retry(|c, _| Ok(c.batch_execute(&sql).map(|()| Outcome::Done)?))
            }
            Plan::Restore { record: r, unique_key } => {
                let sql = format!(
                    "INSERT INTO {t} (id, payload, priority, status, timestamp, deliveries, unique_key)
                     VALUES ($1, $2, $3, 1, $4, $5, $6)
                     ON CONFLICT (id) DO UPDATE SET payload = EXCLUDED.payload, visible_at = 0,
                       priority = EXCLUDED.priority, status = 1, timestamp = EXCLUDED.timestamp,
                       deliveries = EXCLUDED.deliveries,
                       unique_key = COALESCE({t}.unique_key, EXCLUDED.unique_key)"
                );
                let key = unique_key.map(|k| k.to_vec());
                let (id, ts, n) = (r.id as i64, r.timestamp as i64, r.deliveries as i32);
                self.session.with_retry(|c, _| {
                    transaction(c, "BEGIN", |c| {
                        c.execute(&sql, &[&id, &r.payload, &r.priority, &ts, &n, &key])?;
                        Ok(Outcome::Done)
                    })
                })
            }
        }
    }
}

fn key(r: &Record) -> OrderKey {
    OrderKey { priority: r.priority, id: r.id }
}

fn claim_index(then: Claimed) -> usize {
    match then {
        Claimed::Unacked => 0,
        Claimed::Deleted => 1,
    }
}

/// `status = n`, clearing the unique key of a record no longer live.
fn set_status(s: Status) -> String {
    if s.is_live() {
        format!("status = {}, visible_at = 0", s.code())
    } else {
        format!("status = {}, visible_at = 0, unique_key = NULL", s.code())
    }
}

/// `status = n` and the `visible_at` a settle to `n` after `delay` ms
/// (the statement's parameter `delay`, e.g. `$3`) sets.
fn set_settled(s: Status, delay: &str) -> String {
    match (s.is_timed(), s.is_live()) {
        (true, _) => format!("status = {}, visible_at = {NOW_MS} + {delay}::int8", s.code()),
        (false, true) => format!("status = {}, visible_at = 0", s.code()),
        (false, false) => format!("status = {}, visible_at = 0, unique_key = NULL", s.code()),
    }
}

/// One statement settling the distinct deliveries `($1 ids, $2 tokens)`
/// to `to` (a status after `$3` ms): per delivery, the record's status
/// and deliveries before. A record the statement's snapshot shows held
/// under the token but that it did not change (another transaction took
/// it meanwhile) reports deliveries -1: the lease is lost.
pub(crate) fn settle_sql(t: &str, to: Target, delay: i64) -> String {
    let change = match to {
        Target::Delete => format!(
            "DELETE FROM {t} USING input
             WHERE {t}.id = input.id AND {t}.deliveries = input.token AND {t}.status = 2 RETURNING {t}.id"
        ),
        Target::Status(s) => format!(
            "UPDATE {t} SET {} FROM input
             WHERE {t}.id = input.id AND {t}.deliveries = input.token AND {t}.status = 2
               AND $3::int8 IS NOT NULL RETURNING {t}.id",
            set_settled(settled_status(s, delay.max(0) as u64), "$3")
        ),
    };
    format!(
        "WITH input AS (SELECT * FROM UNNEST($1::int8[], $2::int4[]) AS u(id, token)),
         changed AS ({change})
         SELECT s.id, s.status,
                CASE WHEN s.status = 2 AND s.deliveries = i.token AND s.id NOT IN (SELECT id FROM changed)
                     THEN -1 ELSE s.deliveries END
         FROM {t} s JOIN input i ON s.id = i.id"
    )
}

/// What a [`settle_sql`] statement answered, per delivery in `leases`.
pub(crate) fn leases_outcome(leases: &[(u64, u32)], rows: &[Row]) -> Result<Outcome, postgres::Error> {
    let mut before = HashMap::with_capacity(rows.len());
    for row in rows {
        let (id, code, d): (i64, i16, i32) = (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?);
        let status = u8::try_from(code).ok().and_then(Status::from_code);
        before.insert(id as u64, status.map(|s| (s, d as u32)));
    }
    Ok(Outcome::Leases(leases.iter().map(|(id, _)| before.get(id).copied().flatten()).collect()))
}

/// Settles deliveries one at a time in a transaction (repeated ids).
fn settle(
    c: &mut Client,
    st: &Stmts,
    t: &str,
    leases: &[(u64, u32)],
    to: Target,
    delay: i64,
) -> Result<Vec<Option<(Status, u32)>>, postgres::Error> {
    let mut distinct: Vec<i64> = leases.iter().map(|&(id, _)| id as i64).collect();
    distinct.sort_unstable();
    distinct.dedup();
    let mut current = HashMap::with_capacity(distinct.len());
    for row in c.query(&st.leases, &[&distinct])? {
        let (id, code, d): (i64, i16, i32) = (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?);
        let status = u8::try_from(code).ok().and_then(Status::from_code);
        current.insert(id as u64, status.map(|s| (s, d as u32)));
    }
    let (before, change) = settle_steps(leases, |id| current.get(&id).copied().flatten(), to);
    if !change.is_empty() {
        let change: Vec<i64> = change.into_iter().map(|id| id as i64).collect();
        match to {
            Target::Delete => {
                c.execute(&format!("DELETE FROM {t} WHERE id = ANY($1)"), &[&change])?;
            }
            Target::Status(s) => {
                let sql = format!(
                    "UPDATE {t} SET {} WHERE id = ANY($1) AND $2::int8 IS NOT NULL",
                    set_settled(settled_status(s, delay.max(0) as u64), "$2")
                );
                c.execute(&sql, &[&change, &delay])?;
            }
        }
    }
    Ok(before)
}

fn status_of(c: &mut Client, st: &Stmts, id: i64) -> Result<Option<Status>, postgres::Error> {
    let rows = c.query(&st.statuses, &[&vec![id]])?;
    match rows.first() {
        Some(row) => Ok(u8::try_from(row.try_get::<_, i16>(1)?).ok().and_then(Status::from_code)),
        None => Ok(None),
    }
}

fn insert(c: &mut Client, st: &Stmts, records: &[NewRecord]) -> Result<Vec<Option<u64>>, postgres::Error> {
    let columns = InsertColumns::of(records);
    let rows = match records {
        [_] => c.query(&st.insert, &columns.one())?,
        _ => c.query(&st.insert_many, &columns.many())?,
    };
    ids_inserted(records, &rows)
}

/// The bound values of [`insert_sql`] (one record) or [`insert_many_sql`]
/// (the same columns as arrays), built once for either statement; the
/// types are the statements' parameter types in order, for a typed,
/// unprepared query.
pub(crate) struct InsertColumns<'a> {
    payloads: Vec<&'a [u8]>,
    priorities: Vec<i64>,
    stamps: Vec<i64>,
    keys: Vec<Option<Vec<u8>>>,
    delays: Vec<i64>,
}

impl<'a> InsertColumns<'a> {
    pub(crate) const ONE_TYPES: [Type; 5] = [Type::BYTEA, Type::INT8, Type::INT8, Type::BYTEA, Type::INT8];
    pub(crate) const MANY_TYPES: [Type; 5] =
        [Type::BYTEA_ARRAY, Type::INT8_ARRAY, Type::INT8_ARRAY, Type::BYTEA_ARRAY, Type::INT8_ARRAY];

    pub(crate) fn of(records: &'a [NewRecord]) -> Self {
        InsertColumns {
            payloads: records.iter().map(|r| r.payload.as_slice()).collect(),
            priorities: records.iter().map(|r| r.priority).collect(),
            stamps: records.iter().map(|r| r.timestamp as i64).collect(),
            keys: records.iter().map(|r| r.unique_key.map(|k| k.to_vec())).collect(),
            delays: records.iter().map(|r| r.delay.min(i64::MAX as u64) as i64).collect(),
        }
    }

    /// The first record's values, for [`insert_sql`].
    pub(crate) fn one(&self) -> [&(dyn ToSql + Sync); 5] {
        [&self.payloads[0], &self.priorities[0], &self.stamps[0], &self.keys[0], &self.delays[0]]
    }

    /// The arrays, for [`insert_many_sql`].
    pub(crate) fn many(&self) -> [&(dyn ToSql + Sync); 5] {
        [&self.payloads, &self.priorities, &self.stamps, &self.keys, &self.delays]
    }
}

/// The ids an insert returned, in the records' order, none for a
/// duplicate: one record's statement returns its id (no row for a
/// duplicate), many records' returns `(id, unique_key)` rows in the plan's
/// order (ORDER BY n), so identity values increase along it.
pub(crate) fn ids_inserted(records: &[NewRecord], rows: &[Row]) -> Result<Vec<Option<u64>>, postgres::Error> {
    if records.len() == 1 {
        return Ok(vec![rows.first().map(|row| row.try_get::<_, i64>(0)).transpose()?.map(|id| id as u64)]);
    }
    let inserted = rows
        .iter()
        .map(|row| Ok((row.try_get::<_, i64>(0)? as u64, row.try_get::<_, Option<Vec<u8>>>(1)?)))
        .collect::<Result<Vec<_>, postgres::Error>>()?;
    Ok(inserted_ids(records, inserted))
}

fn transition(
    c: &mut Client,
    st: &Stmts,
    t: &str,
    ids: &[u64],
    from: StatusSet,
    to: Target,
) -> Result<Vec<Option<Status>>, postgres::Error> {
    let distinct: Vec<i64> = {
        let mut d: Vec<i64> = ids.iter().map(|&id| id as i64).collect();
        d.sort_unstable();
        d.dedup();
        d
    };
    // Lock the rows and read their statuses, then change the ones that
    // may change, in one statement.
    let mut current = HashMap::with_capacity(distinct.len());
    for row in c.query(&st.statuses, &[&distinct])? {
        let (id, code): (i64, i16) = (row.try_get(0)?, row.try_get(1)?);
        current.insert(id as u64, u8::try_from(code).ok().and_then(Status::from_code));
    }
    let (before, change) = transition_steps(ids, |id| current.get(&id).copied().flatten(), from, to);
    if !change.is_empty() {
        let change: Vec<i64> = change.into_iter().map(|id| id as i64).collect();
        let sql = match to {
            Target::Delete => format!("DELETE FROM {t} WHERE id = ANY($1)"),
            Target::Status(s) => format!("UPDATE {t} SET {} WHERE id = ANY($1)", set_status(s)),
        };
        c.execute(&sql, &[&change as &(dyn ToSql + Sync)])?;
    }
    Ok(before)
}

/// Creates the table, its indexes and its notify triggers on first open,
/// under a server-wide advisory lock; checks the schema version.
/// The version found, if the table existed.
fn create(c: &mut Client, schema: &str, name: &str, t: &str, order: Order) -> Result<Option<i32>, Fail> {
    transaction(c, "BEGIN", |c| {
        c.execute("SELECT pg_advisory_xact_lock($1)", &[&DDL_LOCK])?;
        c.batch_execute(schema)?;
        c.batch_execute(
            "CREATE TABLE IF NOT EXISTS pq_schema (name TEXT PRIMARY KEY, version INTEGER NOT NULL);
             CREATE OR REPLACE FUNCTION pq_notify() RETURNS trigger LANGUAGE plpgsql AS
                 $$ BEGIN PERFORM pg_notify(TG_TABLE_NAME, ''); RETURN NULL; END $$;",
        )?;
        let found = c.query("SELECT version FROM pq_schema WHERE name = $1", &[&name])?;
        if let Some(row) = found.first() {
            let version = row.try_get::<_, i32>(0)?;
            if version == 1 {
                // Before leases: in-flight items get theirs when a queue
                // opens (`Plan::LeaseInFlight`).
                // In this transaction: all of it or none.
                c.batch_execute(&format!(
                    "ALTER TABLE {t} ADD COLUMN visible_at BIGINT NOT NULL DEFAULT 0;
                     CREATE INDEX ON {t} (visible_at) WHERE status IN (2, 3);"
                ))?;
                c.execute("UPDATE pq_schema SET version = $2 WHERE name = $1", &[&name, &SCHEMA_VERSION])?;
                return Ok(Some(SCHEMA_VERSION));
            }
            return Ok(Some(version));
        }
        let index = match order {
            Order::Priority => "(status, priority, id)",
            Order::Fifo | Order::Filo => "(status, id)",
        };
        c.batch_execute(&format!(
            "CREATE TABLE {t} (
                 id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
                 payload BYTEA NOT NULL,
                 priority BIGINT NOT NULL DEFAULT 0,
                 status SMALLINT NOT NULL,
                 timestamp BIGINT NOT NULL,
                 deliveries INTEGER NOT NULL DEFAULT 0,
                 unique_key BYTEA,
                 visible_at BIGINT NOT NULL DEFAULT 0
             );
             CREATE INDEX ON {t} {index};
             CREATE INDEX ON {t} (visible_at) WHERE status IN (2, 3);
             CREATE UNIQUE INDEX ON {t} (unique_key) WHERE unique_key IS NOT NULL;
             CREATE TRIGGER pq_put AFTER INSERT ON {t} FOR EACH STATEMENT EXECUTE FUNCTION pq_notify();
             CREATE TRIGGER pq_ready AFTER UPDATE OF status ON {t} FOR EACH ROW
                 WHEN (NEW.status = 1) EXECUTE FUNCTION pq_notify();"
        ))?;
        c.execute("INSERT INTO pq_schema (name, version) VALUES ($1, $2)", &[&name, &SCHEMA_VERSION])?;
        Ok(None)
    })
}

impl Table for PgTable {
    type Error = PgError;

    async fn execute(&mut self, plan: &Plan) -> Result<Outcome, PgError> {
        self.body(plan)
    }
}
