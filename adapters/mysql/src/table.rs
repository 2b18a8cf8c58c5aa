//! `MySqlTable`: the core's record contract on one InnoDB table.

use std::collections::HashMap;

use mysql::prelude::Queryable;
use mysql::{Params, PooledConn, Row, Value};
use persist_queue_core::Durability;
use persist_queue_core::records::sql::{order_by, status_in};
use persist_queue_core::records::{
    Claimed, Counts, NewRecord, Order, Outcome, Plan, Record, Status, StatusSet, Table, Target, inserted_ids,
    settle_steps, settled_status, transition_steps,
};

use crate::connect::{Connect, table_ident, table_sql};
use crate::error::MySqlError;
use crate::in_transaction::MySqlTableRef;
use crate::session::{Fail, Session, transaction};

/// The schema version this crate creates and reads. Version 1 (before
/// leases) is upgraded at open under the schema lock: a `visible_at`
/// column and a `timed` index on (status, visible_at).
pub const SCHEMA_VERSION: i32 = 2;

const COLUMNS: &str = "id, payload, priority, status, timestamp, deliveries, visible_at";

/// The server's clock in ms since the Unix epoch: leases and delays are
/// reckoned on it, so clients with skewed clocks agree.
const NOW_MS: &str = "CAST(UNIX_TIMESTAMP(NOW(3)) * 1000 AS UNSIGNED)";

/// Most expired leases or due delays one claim makes ready.
const EXPIRE_BATCH: usize = 1000;

/// Ids per `IN (…)` list.
const CHUNK: usize = 1000;

fn marks(n: usize) -> String {
    vec!["?"; n].join(",")
}

fn ids_params(ids: &[u64]) -> Params {
    Params::Positional(ids.iter().map(|&id| Value::from(id)).collect())
}

fn record(row: Row) -> Result<Record, mysql::Error> {
    type Columns = (u64, Vec<u8>, i64, i16, u64, u32, u64);
    let (id, payload, priority, code, timestamp, deliveries, visible_at): Columns =
        mysql::from_row_opt(row).map_err(|e| mysql::Error::FromRowError(e.0))?;
    Ok(Record {
        id,
        payload,
        priority,
        status: u8::try_from(code).ok().and_then(Status::from_code).unwrap_or(Status::Ready),
        timestamp,
        deliveries,
        visible_at,
    })
}

/// `status = n`, clearing the unique key of a record no longer live.
fn set_status(s: Status) -> String {
    if s.is_live() {
        format!("status = {}, visible_at = 0", s.code())
    } else {
        format!("status = {}, visible_at = 0, unique_key = NULL", s.code())
    }
}

/// `status = n` and the `visible_at` a settle to `n` after `delay` ms sets
/// (`delay` is an integer of ours, never user text).
fn set_settled(s: Status, delay: u64) -> String {
    if s.is_timed() {
        format!("status = {}, visible_at = {NOW_MS} + {delay}", s.code())
    } else {
        set_status(s)
    }
}

fn state(code: i16, deliveries: u32) -> Option<(Status, u32)> {
    u8::try_from(code).ok().and_then(Status::from_code).map(|s| (s, deliveries))
}

/// One queue's records in one InnoDB table. See the crate docs.
#[derive(Debug)]
pub struct MySqlTable {
    session: Session,
    t: String,
    /// MariaDB has `INSERT … RETURNING`; MySQL does not.
    returning: bool,
    /// The order the `ready` index serves.
    order: Order,
}

impl MySqlTable {
    /// Opens (creating if needed) the table `name`, indexed for `order`.
    pub fn open(
        connect: &Connect,
        name: &str,
        durability: Durability,
        order: Order,
    ) -> Result<MySqlTable, MySqlError> {
        let ident = table_ident(name)?;
        let t = table_sql(&ident);
        let mut session = Session::new(connect);
        let (version, flush): (String, String) = session.with_retry(|c| {
            Ok(c.query_first("SELECT VERSION(), CAST(@@innodb_flush_log_at_trx_commit AS CHAR)")?
                .unwrap_or_default())
        })?;
        if durability.is_synced() && flush != "1" {
            return Err(MySqlError::NotDurable { setting: flush });
        }
        let found = session.with_retry(|c| create(c, &ident, &t, order))?;
        if let Some(found) = found.filter(|v| *v > SCHEMA_VERSION) {
            return Err(MySqlError::SchemaTooNew { table: ident, found });
        }
        let returning = version.contains("MariaDB") && connect.returning;
        Ok(MySqlTable { session, t, returning, order })
    }

    /// The table, for plans run in a transaction of the caller's own
    /// ([`execute_in`](crate::execute_in)).
    pub fn table_ref(&self) -> MySqlTableRef {
        MySqlTableRef { t: self.t.clone(), returning: self.returning }
    }

    fn body(&mut self, plan: &Plan) -> Result<Outcome, MySqlError> {
        let (t, returning) = (self.t.as_str(), self.returning);
        match plan {
            // One statement in autocommit where one suffices (a failure then
            // counts as at COMMIT: retried only if the server rolled back).
            Plan::Insert { records } if returning || records.len() == 1 => self.session.with_retry(|c| {
                Ok(Outcome::Inserted(insert(c, t, records, returning).map_err(Fail::AtCommit)?))
            }),
            Plan::Insert { records } => self
                .session
                .with_retry(|c| transaction(c, |c| Ok(Outcome::Inserted(insert(c, t, records, returning)?)))),
            Plan::Claim { order, limit, then, lease } => {
                // The index, forced: InnoDB locks every row a locking read
                // scans, and a table scan + sort (the optimizer's choice
                // for a table it thinks small) would lock every ready row,
                // which other consumers then skip out of order.
                let served =
                    *order == self.order || (*order != Order::Priority && self.order != Order::Priority);
                let index = if served { "FORCE INDEX (ready)" } else { "" };
                // Text protocol, two round trips: every value in it is an
                // integer of ours (limit, ids), none is user text.
                // The first result: leases and delays that ended (a plain
                // read, no locks), made ready with the claim's commit, so
                // claimable from the next statement on.
                let expired = format!(
                    "SELECT id FROM {t} FORCE INDEX (timed) WHERE status IN (2, 3) AND visible_at BETWEEN 1 AND {NOW_MS}
                     LIMIT {EXPIRE_BATCH}"
                );
                let select = |n: u32| {
                    format!(
                        "START TRANSACTION; {expired};
                         SELECT {COLUMNS} FROM {t} {index} WHERE status = 1 ORDER BY {} LIMIT {n}
                         FOR UPDATE SKIP LOCKED",
                        order_by(*order),
                    )
                };
                let want = (*limit).max(1);
                self.session.with_retry(|c| {
                    let (mut out, expired) = claim_text(c, t, &select(want), *then, lease.ms, true)?;
                    if expired > 0 && out.len() < want as usize {
                        let more = want - out.len() as u32;
                        out.extend(claim_text(c, t, &select(more), *then, lease.ms, true)?.0);
                    }
                    Ok(Outcome::Records(out))
                })
            }
            Plan::ClaimId { id, then, lease } => {
                let sql = format!(
                    "START TRANSACTION; SELECT {COLUMNS} FROM {t} WHERE id = {id}
                     AND (status = 1 OR (status IN (2, 3) AND visible_at BETWEEN 1 AND {NOW_MS})) FOR UPDATE"
                );
                self.session
                    .with_retry(|c| Ok(Outcome::Records(claim_text(c, t, &sql, *then, lease.ms, false)?.0)))
            }
            Plan::Settle { leases, to, now: _, delay } if leases.len() == 1 => {
                // One delivery: one autocommit statement; its state is read
                // only if nothing changed (then a retry changes nothing).
                let (id, token) = leases[0];
                let sql = match to {
                    Target::Delete => {
                        format!("DELETE FROM {t} WHERE id = ? AND status = 2 AND deliveries = ?")
                    }
                    Target::Status(s) => format!(
                        "UPDATE {t} SET {} WHERE id = ? AND status = 2 AND deliveries = ?",
                        set_settled(settled_status(*s, *delay), *delay)
                    ),
                };
                self.session.with_retry(|c| {
                    c.exec_drop(&sql, (id, token)).map_err(Fail::AtCommit)?;
                    if c.affected_rows() == 1 {
                        return Ok(Outcome::Leases(vec![Some((Status::Unacked, token))]));
                    }
                    let found: Option<(i16, u32)> =
                        c.exec_first(format!("SELECT status, deliveries FROM {t} WHERE id = ?"), (id,))?;
                    Ok(Outcome::Leases(vec![found.and_then(|(code, d)| state(code, d))]))
                })
            }
            Plan::Settle { leases, to, now: _, delay } => self
                .session
                .with_retry(|c| transaction(c, |c| Ok(Outcome::Leases(settle(c, t, leases, *to, *delay)?)))),
            Plan::LeaseInFlight { lease } => {
                let sql =
                    format!("UPDATE {t} SET visible_at = {NOW_MS} + ? WHERE status = 2 AND visible_at = 0");
                self.session.with_retry(|c| {
                    transaction(c, |c| {
                        c.exec_drop(&sql, (lease.ms,))?;
                        Ok(Outcome::Count(c.affected_rows()))
                    })
                })
            }
            Plan::Transition { ids, from, to } if ids.len() == 1 && from.iter().count() == 1 => {
                // An ack: one autocommit statement; the status is read only
                // if nothing changed (then a retry changes nothing either).
                let (id, one) = (ids[0], from.iter().next().expect("one status"));
                let sql = match to {
                    Target::Delete => format!("DELETE FROM {t} WHERE id = ? AND status = ?"),
                    Target::Status(s) => {
                        format!("UPDATE {t} SET {} WHERE id = ? AND status = ?", set_status(*s))
                    }
                };
                self.session.with_retry(|c| {
                    c.exec_drop(&sql, (id, one.code())).map_err(Fail::AtCommit)?;
                    if c.affected_rows() == 1 {
                        return Ok(Outcome::Before(vec![Some(one)]));
                    }
                    let code: Option<i16> =
                        c.exec_first(format!("SELECT status FROM {t} WHERE id = ?"), (id,))?;
                    Ok(Outcome::Before(vec![
                        code.and_then(|c| u8::try_from(c).ok()).and_then(Status::from_code),
                    ]))
                })
            }
            Plan::Transition { ids, from, to } => self
                .session
                .with_retry(|c| transaction(c, |c| Ok(Outcome::Before(transition(c, t, ids, *from, *to)?)))),
            Plan::TransitionAll { from, to } => {
                let sql = match to {
                    Target::Delete => format!("DELETE FROM {t} WHERE {}", status_in(*from)),
                    Target::Status(s) => {
                        format!("UPDATE {t} SET {} WHERE {}", set_status(*s), status_in(*from))
                    }
                };
                self.session.with_retry(|c| {
                    transaction(c, |c| {
                        c.query_drop(&sql)?;
                        Ok(Outcome::Count(c.affected_rows()))
                    })
                })
            }
            Plan::Update { id, payload, unique_key, from } => {
                let sql = format!(
                    "UPDATE {t} SET payload = ?, unique_key = ? WHERE id = ? AND {}",
                    status_in(*from)
                );
                let key = unique_key.map(|k| k.to_vec());
                let result = self.session.with_retry(|c| {
                    transaction(c, |c| {
                        let before = statuses(c, t, &[*id])?.remove(id).flatten();
                        c.exec_drop(&sql, (payload, &key, *id))?;
                        Ok(Outcome::Before(vec![before]))
                    })
                });
                match result {
                    Err(MySqlError::Db(mysql::Error::MySqlError(e))) if e.code == 1062 => {
                        Ok(Outcome::Duplicate)
                    }
                    other => other,
                }
            }
            Plan::Fetch { ids } => self.session.with_retry(|c| {
                let mut by_id = HashMap::with_capacity(ids.len());
                for part in ids.chunks(CHUNK) {
                    let sql = format!("SELECT {COLUMNS} FROM {t} WHERE id IN ({})", marks(part.len()));
                    let rows: Vec<Row> = c.exec(&sql, ids_params(part))?;
                    for r in rows {
                        let r = record(r)?;
                        by_id.insert(r.id, r);
                    }
                }
                Ok(Outcome::Records(ids.iter().filter_map(|id| by_id.remove(id)).collect()))
            }),
            Plan::Scan { statuses, order, after, limit } => {
                let cond = match (order, after) {
                    (_, None) => "TRUE",
                    (Order::Fifo, Some(_)) => "id > ?",
                    (Order::Filo, Some(_)) => "id < ?",
                    (Order::Priority, Some(_)) => "(priority > ? OR (priority = ? AND id > ?))",
                };
                let mut params: Vec<Value> = match (order, after) {
                    (_, None) => vec![],
                    (Order::Priority, Some(k)) => vec![k.priority.into(), k.priority.into(), k.id.into()],
                    (_, Some(k)) => vec![k.id.into()],
                };
                let limit = if *limit == 0 { u64::MAX } else { u64::from(*limit) };
                params.push(limit.into());
                let sql = format!(
                    "SELECT {COLUMNS} FROM {t} WHERE {} AND {cond} ORDER BY {} LIMIT ?",
                    status_in(*statuses),
                    order_by(*order)
                );
                self.session.with_retry(|c| {
                    let rows: Vec<Row> = c.exec(&sql, Params::Positional(params.clone()))?;
                    Ok(Outcome::Records(rows.into_iter().map(record).collect::<Result<_, _>>()?))
                })
            }
            Plan::Count => {
                let sql = format!("SELECT status, COUNT(*) FROM {t} GROUP BY status");
                self.session.with_retry(|c| {
                    let mut counts = Counts::default();
                    let rows: Vec<(i16, u64)> = c.query(&sql)?;
                    for (code, n) in rows {
                        if let Some(s) = u8::try_from(code).ok().and_then(Status::from_code) {
                            counts.add_n(s, n);
                        }
                    }
                    Ok(Outcome::Counts(counts))
                })
            }
            Plan::Purge { statuses, keep_latest, max_delete } => {
                // MySQL cannot DELETE from a table it selects from with
                // LIMIT in a subquery: read the ids, then delete them.
                let limit = if *max_delete == 0 { u64::MAX } else { *max_delete };
                let select = format!(
                    "SELECT id FROM {t} WHERE {} ORDER BY id DESC LIMIT ? OFFSET ? FOR UPDATE",
                    status_in(*statuses)
                );
                self.session.with_retry(|c| {
                    transaction(c, |c| {
                        let ids: Vec<u64> = c.exec(&select, (limit, *keep_latest))?;
                        for part in ids.chunks(CHUNK) {
                            c.exec_drop(
                                format!("DELETE FROM {t} WHERE id IN ({})", marks(part.len())),
                                ids_params(part),
                            )?;
                        }
                        Ok(Outcome::Count(ids.len() as u64))
                    })
                })
            }
            // OPTIMIZE rebuilds the table online (InnoDB: ALTER … FORCE with
            // concurrent reads and writes) and returns space to the OS.
            Plan::Compact => {
                let sql = format!("OPTIMIZE TABLE {t}");
                self.session.with_retry(|c| Ok(c.query_drop(&sql).map(|()| Outcome::Done)?))
            }
            Plan::Restore { record: r, unique_key } => {
                // Not an upsert: ON DUPLICATE KEY would also fire on another
                // record's unique key. An in-flight record is updated (and
                // keeps its key); a deleted one is inserted again.
                let find = format!("SELECT id FROM {t} WHERE id = ? FOR UPDATE");
                let update = format!(
                    "UPDATE {t} SET payload = ?, priority = ?, status = 1, timestamp = ?, deliveries = ?,
                     visible_at = 0 WHERE id = ?"
                );
                let insert = format!(
                    "INSERT INTO {t} (id, payload, priority, status, timestamp, deliveries, unique_key)
                     VALUES (?, ?, ?, 1, ?, ?, ?)"
                );
                let key = unique_key.map(|k| k.to_vec());
                self.session.with_retry(|c| {
                    transaction(c, |c| {
                        let present: Option<u64> = c.exec_first(&find, (r.id,))?;
                        if present.is_some() {
                            c.exec_drop(&update, (&r.payload, r.priority, r.timestamp, r.deliveries, r.id))?;
                        } else {
                            c.exec_drop(
                                &insert,
                                (r.id, &r.payload, r.priority, r.timestamp, r.deliveries, &key),
                            )?;
                        }
                        Ok(Outcome::Done)
                    })
                })
            }
        }
    }
}

/// Runs `select` (`START TRANSACTION; [SELECT expired ids;] SELECT … FOR
/// UPDATE …`), then makes the expired ready, marks the rows in flight
/// (leased for `lease_ms`) or deletes them, and commits, in one more round
/// trip. The records claimed and how many were made ready.
fn claim_text(
    c: &mut PooledConn,
    t: &str,
    select: &str,
    then: Claimed,
    lease_ms: u64,
    expiring: bool,
) -> Result<(Vec<Record>, usize), Fail> {
    let mut found = Vec::new();
    let mut expired: Vec<String> = Vec::new();
    let read = (|| {
        let mut result = c.query_iter(select)?;
        let mut first = expiring;
        while let Some(set) = result.iter() {
            // START TRANSACTION answers no rows: its set is skipped here.
            if set.columns().as_ref().is_empty() {
                continue;
            }
            for row in set {
                let row = row?;
                if first {
                    expired.push(
                        mysql::from_row_opt::<u64>(row)
                            .map_err(|e| mysql::Error::FromRowError(e.0))?
                            .to_string(),
                    );
                } else {
                    found.push(record(row)?);
                }
            }
            first = false;
        }
        Ok::<_, mysql::Error>(())
    })();
    if let Err(e) = read {
        let _ = c.query_drop("ROLLBACK");
        return Err(Fail::Before(e));
    }
    let mut changes = Vec::new();
    if !expired.is_empty() {
        changes.push(format!(
            "UPDATE {t} SET status = 1, visible_at = 0 WHERE id IN ({}) AND status IN (2, 3)
             AND visible_at <= {NOW_MS}",
            expired.join(",")
        ));
    }
    let leasing = !found.is_empty() && then == Claimed::Unacked;
    if leasing {
        // One lease end for every record of the claim, read back below.
        changes.push(format!("SET @pq_until = {NOW_MS} + {lease_ms}"));
    }
    if !found.is_empty() {
        let ids: Vec<String> = found.iter().map(|r| r.id.to_string()).collect();
        changes.push(match then {
            Claimed::Unacked => format!(
                "UPDATE {t} SET status = 2, deliveries = deliveries + 1, visible_at = @pq_until WHERE id IN ({})",
                ids.join(",")
            ),
            Claimed::Deleted => format!("DELETE FROM {t} WHERE id IN ({})", ids.join(",")),
        });
    }
    if changes.is_empty() {
        c.query_drop("COMMIT").map_err(Fail::AtCommit)?;
        return Ok((found, 0));
    }
    if leasing {
        changes.push("SELECT @pq_until".into());
    }
    changes.push("COMMIT".into());
    // The changes and the COMMIT in one round trip: a failure of a change
    // stops the batch before the COMMIT, so it is rolled back here.
    let mut leased_until = None;
    let run = (|| {
        let mut result = c.query_iter(changes.join("; "))?;
        while let Some(set) = result.iter() {
            for row in set {
                leased_until =
                    Some(mysql::from_row_opt::<u64>(row?).map_err(|e| mysql::Error::FromRowError(e.0))?);
            }
        }
        Ok::<_, mysql::Error>(())
    })();
    if let Err(e) = run {
        // The server answered with an error: nothing was committed.
        let ambiguous = !matches!(&e, mysql::Error::MySqlError(_));
        if ambiguous {
            return Err(Fail::AtCommit(e));
        }
        let _ = c.query_drop("ROLLBACK");
        return Err(Fail::Before(e));
    }
    let out = match then {
        Claimed::Deleted => found,
        Claimed::Unacked => found
            .into_iter()
            .map(|r| Record {
                status: Status::Unacked,
                deliveries: r.deliveries.saturating_add(1),
                visible_at: leased_until.unwrap_or(0),
                ..r
            })
            .collect(),
    };
    Ok((out, expired.len()))
}

/// Settles deliveries in a transaction: rows locked, read, then changed.
pub(crate) fn settle(
    c: &mut impl Queryable,
    t: &str,
    leases: &[(u64, u32)],
    to: Target,
    delay: u64,
) -> Result<Vec<Option<(Status, u32)>>, mysql::Error> {
    let mut distinct: Vec<u64> = leases.iter().map(|&(id, _)| id).collect();
    distinct.sort_unstable();
    distinct.dedup();
    let mut current = HashMap::with_capacity(distinct.len());
    for part in distinct.chunks(CHUNK) {
        let sql =
            format!("SELECT id, status, deliveries FROM {t} WHERE id IN ({}) FOR UPDATE", marks(part.len()));
        let rows: Vec<(u64, i16, u32)> = c.exec(sql, ids_params(part))?;
        current.extend(rows.into_iter().map(|(id, code, d)| (id, state(code, d))));
    }
    let (before, change) = settle_steps(leases, |id| current.get(&id).copied().flatten(), to);
    for part in change.chunks(CHUNK) {
        let sql = match to {
            Target::Delete => format!("DELETE FROM {t} WHERE id IN ({})", marks(part.len())),
            Target::Status(s) => format!(
                "UPDATE {t} SET {} WHERE id IN ({})",
                set_settled(settled_status(s, delay), delay),
                marks(part.len())
            ),
        };
        c.exec_drop(sql, ids_params(part))?;
    }
    Ok(before)
}

/// The statuses of `ids`, rows locked until the transaction ends.
fn statuses(c: &mut PooledConn, t: &str, ids: &[u64]) -> Result<HashMap<u64, Option<Status>>, mysql::Error> {
    let mut out = HashMap::with_capacity(ids.len());
    for part in ids.chunks(CHUNK) {
        let sql = format!("SELECT id, status FROM {t} WHERE id IN ({}) FOR UPDATE", marks(part.len()));
        let rows: Vec<(u64, i16)> = c.exec(sql, ids_params(part))?;
        out.extend(
            rows.into_iter().map(|(id, code)| (id, u8::try_from(code).ok().and_then(Status::from_code))),
        );
    }
    Ok(out)
}

fn transition(
    c: &mut PooledConn,
    t: &str,
    ids: &[u64],
    from: StatusSet,
    to: Target,
) -> Result<Vec<Option<Status>>, mysql::Error> {
    let mut distinct = ids.to_vec();
    distinct.sort_unstable();
    distinct.dedup();
    let current = statuses(c, t, &distinct)?;
    let (before, change) = transition_steps(ids, |id| current.get(&id).copied().flatten(), from, to);
    for part in change.chunks(CHUNK) {
        let sql = match to {
            Target::Delete => format!("DELETE FROM {t} WHERE id IN ({})", marks(part.len())),
            Target::Status(s) => {
                format!("UPDATE {t} SET {} WHERE id IN ({})", set_status(s), marks(part.len()))
            }
        };
        c.exec_drop(sql, ids_params(part))?;
    }
    Ok(before)
}

/// What the last statement on a connection, or in a transaction, wrote.
pub(crate) trait Written: Queryable {
    /// Rows it changed.
    fn rows_changed(&self) -> u64;
    /// The id it gave a row (`AUTO_INCREMENT`).
    fn new_id(&self) -> u64;
}

impl Written for PooledConn {
    fn rows_changed(&self) -> u64 {
        self.affected_rows()
    }
    fn new_id(&self) -> u64 {
        self.last_insert_id()
    }
}

impl Written for mysql::Transaction<'_> {
    fn rows_changed(&self) -> u64 {
        self.affected_rows()
    }
    fn new_id(&self) -> u64 {
        self.last_insert_id().unwrap_or(0)
    }
}

pub(crate) fn insert(
    c: &mut impl Written,
    t: &str,
    records: &[NewRecord],
    returning: bool,
) -> Result<Vec<Option<u64>>, mysql::Error> {
    let columns = "(payload, priority, status, timestamp, unique_key, visible_at)";
    let values = format!("(?, ?, ?, ?, ?, IF(? > 0, {NOW_MS} + ?, 0))");
    let status = |r: &NewRecord| if r.delay > 0 { Status::Delayed.code() } else { Status::Ready.code() };
    if !returning || records.len() == 1 {
        // One row per statement: its id is the connection's last insert id.
        let sql = format!("INSERT IGNORE INTO {t} {columns} VALUES {values}");
        let mut ids = Vec::with_capacity(records.len());
        for r in records {
            let key = r.unique_key.map(|k| k.to_vec());
            let params: Vec<Value> = vec![
                Value::from(&r.payload),
                r.priority.into(),
                status(r).into(),
                r.timestamp.into(),
                key.into(),
                r.delay.into(),
                r.delay.into(),
            ];
            c.exec_drop(&sql, Params::Positional(params))?;
            ids.push((c.rows_changed() == 1).then(|| c.new_id()));
        }
        return Ok(ids);
    }
    let mut out = Vec::with_capacity(records.len());
    for part in records.chunks(CHUNK) {
        let sql = format!(
            "INSERT IGNORE INTO {t} {columns} VALUES {} RETURNING id, unique_key",
            vec![values.as_str(); part.len()].join(",")
        );
        let mut params = Vec::with_capacity(part.len() * 7);
        for r in part {
            params.push(Value::from(&r.payload));
            params.push(r.priority.into());
            params.push(status(r).into());
            params.push(r.timestamp.into());
            params.push(r.unique_key.map(|k| k.to_vec()).into());
            params.push(r.delay.into());
            params.push(r.delay.into());
        }
        let rows: Vec<(u64, Option<Vec<u8>>)> = c.exec(sql, Params::Positional(params))?;
        // Rows are inserted, and ids assigned, in the VALUES order.
        out.extend(inserted_ids(part, rows));
    }
    Ok(out)
}

/// Creates the table on first open under a server-wide named lock (DDL is
/// not transactional in MySQL); the version found, if it existed.
fn create(c: &mut PooledConn, name: &str, t: &str, order: Order) -> Result<Option<i32>, Fail> {
    let got: Option<i64> = c.query_first("SELECT GET_LOCK('persist_queue_schema', 60)")?;
    if got != Some(1) {
        return Err(Fail::Before(mysql::Error::DriverError(mysql::DriverError::Timeout)));
    }
    let result = (|| {
        c.query_drop(
            "CREATE TABLE IF NOT EXISTS pq_schema (name VARCHAR(64) PRIMARY KEY, version INT NOT NULL) ENGINE=InnoDB",
        )?;
        let found: Option<i32> = c.exec_first("SELECT version FROM pq_schema WHERE name = ?", (name,))?;
        if found == Some(1) {
            // Before leases: in-flight items get theirs when a queue opens
            // (`Plan::LeaseInFlight`). DDL commits on its own: a crash between the
            // ALTER and the version leaves the column, found next time.
            let has: Option<u64> = c.exec_first(
                "SELECT COUNT(*) FROM information_schema.columns
                 WHERE table_schema = DATABASE() AND table_name = ? AND column_name = 'visible_at'",
                (name,),
            )?;
            if has != Some(1) {
                c.query_drop(format!(
                    "ALTER TABLE {t} ADD COLUMN visible_at BIGINT UNSIGNED NOT NULL DEFAULT 0,
                     ADD KEY timed (status, visible_at)"
                ))?;
            }
            c.exec_drop("UPDATE pq_schema SET version = ? WHERE name = ?", (SCHEMA_VERSION, name))?;
            return Ok(Some(SCHEMA_VERSION));
        }
        if found.is_some() {
            return Ok(found);
        }
        let index = match order {
            Order::Priority => "(status, priority, id)",
            Order::Fifo | Order::Filo => "(status, id)",
        };
        c.query_drop(format!(
            "CREATE TABLE IF NOT EXISTS {t} (
                 id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
                 payload LONGBLOB NOT NULL,
                 priority BIGINT NOT NULL DEFAULT 0,
                 status SMALLINT NOT NULL,
                 timestamp BIGINT UNSIGNED NOT NULL,
                 deliveries INT UNSIGNED NOT NULL DEFAULT 0,
                 unique_key VARBINARY(32) NULL,
                 visible_at BIGINT UNSIGNED NOT NULL DEFAULT 0,
                 UNIQUE KEY unique_key (unique_key),
                 KEY ready {index},
                 KEY timed (status, visible_at)
             ) ENGINE=InnoDB"
        ))?;
        c.exec_drop("INSERT INTO pq_schema (name, version) VALUES (?, ?)", (name, SCHEMA_VERSION))?;
        Ok(None)
    })();
    let _ = c.query_drop("DO RELEASE_LOCK('persist_queue_schema')");
    result.map_err(Fail::Before)
}

impl Table for MySqlTable {
    type Error = MySqlError;

    async fn execute(&mut self, plan: &Plan) -> Result<Outcome, MySqlError> {
        self.body(plan)
    }
}
