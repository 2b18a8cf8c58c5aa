//! `MySqlTable`: the core's record contract on one InnoDB table.

use std::collections::HashMap;

use mysql::prelude::Queryable;
use mysql::{Params, PooledConn, Row, Value};
use persist_queue_core::Durability;
use persist_queue_core::records::sql::{order_by, status_in};
use persist_queue_core::records::{
    Claimed, Counts, NewRecord, Order, Outcome, Plan, Record, Status, StatusSet, Table, Target, inserted_ids,
    transition_steps,
};

use crate::connect::{Connect, table_ident};
use crate::error::MySqlError;
use crate::session::{Fail, Session, transaction};

/// The schema version this crate creates and reads.
pub const SCHEMA_VERSION: i32 = 1;

const COLUMNS: &str = "id, payload, priority, status, timestamp, deliveries";

/// Ids per `IN (…)` list.
const CHUNK: usize = 1000;

fn marks(n: usize) -> String {
    vec!["?"; n].join(",")
}

fn ids_params(ids: &[u64]) -> Params {
    Params::Positional(ids.iter().map(|&id| Value::from(id)).collect())
}

fn record(row: Row) -> Result<Record, mysql::Error> {
    let (id, payload, priority, code, timestamp, deliveries): (u64, Vec<u8>, i64, i16, u64, u32) =
        mysql::from_row_opt(row).map_err(|e| mysql::Error::FromRowError(e.0))?;
    Ok(Record {
        id,
        payload,
        priority,
        status: u8::try_from(code).ok().and_then(Status::from_code).unwrap_or(Status::Ready),
        timestamp,
        deliveries,
    })
}

/// `status = n`, clearing the unique key of a record no longer live.
fn set_status(s: Status) -> String {
    if s.is_live() {
        format!("status = {}", s.code())
    } else {
        format!("status = {}, unique_key = NULL", s.code())
    }
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
        let t = format!("`{ident}`");
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
            return Err(MySqlError::Schema { table: ident, found });
        }
        Ok(MySqlTable { session, t, returning: version.contains("MariaDB"), order })
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
            Plan::Claim { order, limit, then } => {
                // The index, forced: InnoDB locks every row a locking read
                // scans, and a table scan + sort (the optimizer's choice
                // for a table it thinks small) would lock every ready row,
                // which other consumers then skip out of order.
                let served =
                    *order == self.order || (*order != Order::Priority && self.order != Order::Priority);
                let index = if served { "FORCE INDEX (ready)" } else { "" };
                // Text protocol, two round trips: every value in it is an
                // integer of ours (limit, ids), none is user text.
                let sql = format!(
                    "START TRANSACTION; SELECT {COLUMNS} FROM {t} {index} WHERE status = 1 ORDER BY {} LIMIT {}
                     FOR UPDATE SKIP LOCKED",
                    order_by(*order),
                    (*limit).max(1)
                );
                self.session.with_retry(|c| Ok(Outcome::Records(claim_text(c, t, &sql, *then)?)))
            }
            Plan::ClaimId { id, then } => {
                let sql = format!(
                    "START TRANSACTION; SELECT {COLUMNS} FROM {t} WHERE id = {id} AND status = 1 FOR UPDATE"
                );
                self.session.with_retry(|c| Ok(Outcome::Records(claim_text(c, t, &sql, *then)?)))
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
                    "UPDATE {t} SET payload = ?, priority = ?, status = 1, timestamp = ?, deliveries = ?
                     WHERE id = ?"
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

/// Runs `select` (`START TRANSACTION; SELECT … FOR UPDATE …`), then marks
/// the rows in flight or deletes them and commits, in one more round trip.
fn claim_text(c: &mut PooledConn, t: &str, select: &str, then: Claimed) -> Result<Vec<Record>, Fail> {
    let mut found = Vec::new();
    let read = (|| {
        let mut result = c.query_iter(select)?;
        while let Some(set) = result.iter() {
            for row in set {
                found.push(record(row?)?);
            }
        }
        Ok::<_, mysql::Error>(())
    })();
    if let Err(e) = read {
        let _ = c.query_drop("ROLLBACK");
        return Err(Fail::Before(e));
    }
    if found.is_empty() {
        c.query_drop("COMMIT").map_err(Fail::AtCommit)?;
        return Ok(found);
    }
    let ids: Vec<String> = found.iter().map(|r| r.id.to_string()).collect();
    let change = match then {
        Claimed::Unacked => {
            format!("UPDATE {t} SET status = 2, deliveries = deliveries + 1 WHERE id IN ({})", ids.join(","))
        }
        Claimed::Deleted => format!("DELETE FROM {t} WHERE id IN ({})", ids.join(",")),
    };
    // The change and the COMMIT in one round trip: a failure of the change
    // stops the batch before the COMMIT, so it is rolled back here.
    if let Err(e) = c.query_drop(format!("{change}; COMMIT")) {
        // The server answered with an error: nothing was committed.
        let ambiguous = !matches!(&e, mysql::Error::MySqlError(_));
        if ambiguous {
            return Err(Fail::AtCommit(e));
        }
        let _ = c.query_drop("ROLLBACK");
        return Err(Fail::Before(e));
    }
    Ok(match then {
        Claimed::Deleted => found,
        Claimed::Unacked => found
            .into_iter()
            .map(|r| Record { status: Status::Unacked, deliveries: r.deliveries.saturating_add(1), ..r })
            .collect(),
    })
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

fn insert(
    c: &mut PooledConn,
    t: &str,
    records: &[NewRecord],
    returning: bool,
) -> Result<Vec<Option<u64>>, mysql::Error> {
    let columns = "(payload, priority, status, timestamp, unique_key)";
    if !returning || records.len() == 1 {
        // One row per statement: its id is the connection's last insert id.
        let sql = format!("INSERT IGNORE INTO {t} {columns} VALUES (?, ?, 1, ?, ?)");
        let mut ids = Vec::with_capacity(records.len());
        for r in records {
            c.exec_drop(&sql, (&r.payload, r.priority, r.timestamp, r.unique_key.map(|k| k.to_vec())))?;
            ids.push((c.affected_rows() == 1).then(|| c.last_insert_id()));
        }
        return Ok(ids);
    }
    let mut out = Vec::with_capacity(records.len());
    for part in records.chunks(CHUNK) {
        let sql = format!(
            "INSERT IGNORE INTO {t} {columns} VALUES {} RETURNING id, unique_key",
            vec!["(?, ?, 1, ?, ?)"; part.len()].join(",")
        );
        let mut params = Vec::with_capacity(part.len() * 4);
        for r in part {
            params.push(Value::from(&r.payload));
            params.push(r.priority.into());
            params.push(r.timestamp.into());
            params.push(r.unique_key.map(|k| k.to_vec()).into());
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
                 UNIQUE KEY unique_key (unique_key),
                 KEY ready {index}
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
