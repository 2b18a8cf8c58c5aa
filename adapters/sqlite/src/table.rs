//! `SqliteTable`: the record contract on one SQLite table.

use std::path::Path;

use persist_queue_core::Durability;
use persist_queue_core::records::sql::{order_by, status_in};
use persist_queue_core::records::{
    Claimed, Counts, Lease, NewRecord, Order, OrderKey, Outcome, Plan, Record, Status, StatusSet, Table,
    Target, settled_status,
};
use rusqlite::{Connection, ErrorCode, OptionalExtension, TransactionBehavior, params};

use crate::connection::{configure, immediate};
use crate::error::SqliteError;
use crate::name::Ident;

/// The schema version this crate creates. Versions 1 and 2 (before
/// leases) are upgraded at open: a `visible_at` column and an index on
/// `visible_at` of the leased and delayed records (partial: a put never
/// writes to it) are added.
pub const SCHEMA_VERSION: i64 = 3;

/// The status code of the marker row that keeps the last id taken after
/// the newest record is deleted (schema 2; never a record).
const MARKER: i64 = -1;

/// One queue's records in one SQLite table (several queues may share a
/// database file). WAL journal; `synchronous` is `FULL` for
/// [`Durability::Synced`] (each plan is one fsynced commit) and `NORMAL`
/// for [`Durability::Buffered`] (survives a process crash; the WAL is
/// synced at checkpoints). Writers wait for each other (busy timeout),
/// never surface "database is locked".
#[derive(Debug)]
pub struct SqliteTable {
    conn: Connection,
    t: String,
    sql: std::sync::Arc<Sql>,
    synced: bool,
}

/// A queue's table as statements on another connection to the same file
/// name it; made only by [`SqliteTable::table_ref`], so no other text
/// reaches the SQL.
#[derive(Clone, Debug)]
pub struct SqliteTableRef {
    t: String,
    sql: std::sync::Arc<Sql>,
}

/// Runs `plan` in the caller's transaction `tx` (a connection of the
/// caller's own to the queue's database file) on the table `table`.
/// Supported: [`Plan::Insert`] and [`Plan::Settle`]; anything else is
/// [`SqliteError::NotInTransaction`]. The statements are the queue's own,
/// so the rules are the same; they commit or roll back with `tx`.
pub fn execute_in(
    tx: &rusqlite::Transaction<'_>,
    table: &SqliteTableRef,
    plan: &Plan,
) -> Result<Outcome, SqliteError> {
    match plan {
        Plan::Insert { .. } | Plan::Settle { .. } => Ok(SqliteTable::body(tx, &table.t, &table.sql, plan)?),
        _ => Err(SqliteError::NotInTransaction),
    }
}

/// The hot statements, built once (formatting and hashing them on every
/// call showed in profiles).
#[derive(Debug)]
struct Sql {
    fetch: String,
    delete: String,
    set_live: String,
    set_done: String,
    claim: String,
    /// Leases and delays that ended: ready again.
    expire: String,
    state: String,
    settle_live: String,
    settle_done: String,
    insert: String,
    /// First ready records, per order (FIFO, FILO, priority).
    ready: [String; 3],
}

impl Sql {
    /// The statements of table `t` (quoted), whose name is `n`.
    fn new(t: &str, n: &str) -> Sql {
        let ready = |order| {
            format!("SELECT {COLUMNS} FROM {t} WHERE status = 1 ORDER BY {} LIMIT ?1", order_by(order))
        };
        Sql {
            fetch: format!("SELECT {COLUMNS} FROM {t} WHERE id = ?1 AND status <> {MARKER}"),
            delete: format!("DELETE FROM {t} WHERE id = ?1"),
            set_live: format!("UPDATE {t} SET status = ?2, visible_at = 0 WHERE id = ?1"),
            set_done: format!("UPDATE {t} SET status = ?2, visible_at = 0, unique_key = NULL WHERE id = ?1"),
            claim: format!(
                "UPDATE {t} SET status = 2, deliveries = deliveries + 1, visible_at = ?2 WHERE id = ?1"
            ),
            // The partial index, named: the planner would otherwise walk
            // every leased and delayed row by (status, id).
            expire: format!(
                "UPDATE {t} INDEXED BY \"{n}_timed\" SET status = 1, visible_at = 0
                 WHERE status IN (2, 3) AND visible_at BETWEEN 1 AND ?1"
            ),
            state: format!("SELECT status, deliveries FROM {t} WHERE id = ?1 AND status <> {MARKER}"),
            settle_live: format!("UPDATE {t} SET status = ?2, visible_at = ?3 WHERE id = ?1"),
            settle_done: format!("UPDATE {t} SET status = ?2, visible_at = 0, unique_key = NULL WHERE id = ?1"),
            insert: format!(
                "INSERT OR IGNORE INTO {t} (payload, priority, status, timestamp, deliveries, unique_key, visible_at)
                 VALUES (?1, ?2, ?5, ?3, 0, ?4, ?6)"
            ),
            ready: [ready(Order::Fifo), ready(Order::Filo), ready(Order::Priority)],
        }
    }

    fn ready(&self, order: Order) -> &str {
        match order {
            Order::Fifo => &self.ready[0],
            Order::Filo => &self.ready[1],
            Order::Priority => &self.ready[2],
        }
    }
}

const COLUMNS: &str = "id, payload, priority, status, timestamp, deliveries, visible_at";

fn row_to_record(row: &rusqlite::Row<'_>) -> rusqlite::Result<Record> {
    let code: i64 = row.get(3)?;
    let status = u8::try_from(code).ok().and_then(Status::from_code).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(
            3,
            rusqlite::types::Type::Integer,
            format!("status {code}").into(),
        )
    })?;
    Ok(Record {
        id: row.get::<_, i64>(0)? as u64,
        payload: row.get(1)?,
        priority: row.get(2)?,
        status,
        timestamp: row.get::<_, i64>(4)? as u64,
        deliveries: row.get::<_, i64>(5)? as u32,
        visible_at: row.get::<_, i64>(6)? as u64,
    })
}

fn is_unique_violation(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _) if f.code == ErrorCode::ConstraintViolation)
}

impl SqliteTable {
    /// Opens (creating if needed) the table `name` in the database file
    /// `path`, indexed for every order.
    pub fn open(
        path: impl AsRef<Path>,
        name: &str,
        durability: Durability,
    ) -> Result<SqliteTable, SqliteError> {
        Self::with_connection(Connection::open(path)?, name, durability, None)
    }

    /// Like [`SqliteTable::open`], indexed for one order only: each insert
    /// then maintains one index instead of two (fewer pages per commit).
    /// Claims in another order still work, by sorting.
    pub fn open_for(
        path: impl AsRef<Path>,
        name: &str,
        durability: Durability,
        order: Order,
    ) -> Result<SqliteTable, SqliteError> {
        Self::with_connection(Connection::open(path)?, name, durability, Some(order))
    }

    /// Uses an open connection (`Connection::open_in_memory()` for tests);
    /// `order`: index for that order only (`None`: for all).
    pub fn with_connection(
        conn: Connection,
        name: &str,
        durability: Durability,
        order: Option<Order>,
    ) -> Result<SqliteTable, SqliteError> {
        let ident = Ident::new(name).map_err(SqliteError::Name)?;
        configure(&conn, durability)?;
        let t = ident.quoted();
        let sql = std::sync::Arc::new(Sql::new(&t, ident.as_str()));
        let mut table = SqliteTable { conn, t, sql, synced: durability.is_synced() };
        table.create(&ident, order)?;
        Ok(table)
    }

    /// The table, for plans run in a transaction of the caller's own
    /// ([`execute_in`]).
    pub fn table_ref(&self) -> SqliteTableRef {
        SqliteTableRef { t: self.t.clone(), sql: std::sync::Arc::clone(&self.sql) }
    }

    fn create(&mut self, ident: &Ident, order: Option<Order>) -> Result<(), SqliteError> {
        let t = &self.t;
        let n = ident.as_str();
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute_batch(
            "CREATE TABLE IF NOT EXISTS pq_schema (name TEXT PRIMARY KEY, version INTEGER NOT NULL)",
        )?;
        let found: Option<i64> =
            // NOCASE: table names are case-insensitive in SQLite, so a table
            // an older version registered as `ack_queue_Jobs` is this one.
            tx.query_row("SELECT version FROM pq_schema WHERE name = ?1 COLLATE NOCASE", [n], |r| r.get(0))
                .optional()?;
        match found {
            Some(SCHEMA_VERSION) => {}
            Some(1 | 2) => {
                // Before leases: in-flight items get theirs when a queue
                // opens (`Plan::LeaseInFlight`).
                tx.execute_batch(&format!(
                    "ALTER TABLE {t} ADD COLUMN visible_at INTEGER NOT NULL DEFAULT 0;
                     CREATE INDEX IF NOT EXISTS \"{n}_timed\" ON {t} (visible_at) WHERE status IN (2, 3);"
                ))?;
                tx.execute(
                    "UPDATE pq_schema SET version = ?2 WHERE name = ?1 COLLATE NOCASE",
                    params![n, SCHEMA_VERSION],
                )?;
            }
            Some(found) => return Err(SqliteError::Schema { found }),
            None => {
                let by_id = if order != Some(Order::Priority) {
                    format!("CREATE INDEX IF NOT EXISTS \"{n}_by_status_id\" ON {t} (status, id);")
                } else {
                    String::new()
                };
                let by_priority = if order.is_none() || order == Some(Order::Priority) {
                    format!(
                        "CREATE INDEX IF NOT EXISTS \"{n}_by_status_priority\" ON {t} (status, priority, id);"
                    )
                } else {
                    String::new()
                };
                // No AUTOINCREMENT (its sequence table is one more page
                // per commit): ids come from the largest id in the table,
                // and when the newest record is deleted a marker row keeps
                // its id taken until a newer record exists, so ids are
                // never reused.
                tx.execute_batch(&format!(
                    "CREATE TABLE IF NOT EXISTS {t} (
                        id INTEGER PRIMARY KEY,
                        payload BLOB NOT NULL,
                        priority INTEGER NOT NULL DEFAULT 0,
                        status INTEGER NOT NULL,
                        timestamp INTEGER NOT NULL,
                        deliveries INTEGER NOT NULL DEFAULT 0,
                        unique_key BLOB,
                        visible_at INTEGER NOT NULL DEFAULT 0
                    );
                    CREATE INDEX IF NOT EXISTS \"{n}_timed\" ON {t} (visible_at) WHERE status IN (2, 3);
                    {by_id}
                    {by_priority}
                    CREATE UNIQUE INDEX IF NOT EXISTS \"{n}_unique\" ON {t} (unique_key)
                        WHERE unique_key IS NOT NULL;
                    CREATE TRIGGER IF NOT EXISTS \"{n}_keep_last_id\" AFTER DELETE ON {t}
                        WHEN old.status <> {MARKER} AND NOT EXISTS (SELECT 1 FROM {t} WHERE id > old.id)
                    BEGIN
                        INSERT INTO {t} (id, payload, priority, status, timestamp, deliveries)
                            VALUES (old.id, x'', 0, {MARKER}, 0, 0);
                    END;
                    CREATE TRIGGER IF NOT EXISTS \"{n}_drop_marker\" AFTER INSERT ON {t}
                        WHEN new.status <> {MARKER}
                    BEGIN
                        DELETE FROM {t} WHERE status = {MARKER} AND id < new.id;
                    END;"
                ))?;
                tx.execute(
                    "INSERT INTO pq_schema (name, version) VALUES (?1, ?2)",
                    params![n, SCHEMA_VERSION],
                )?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    fn fetch(tx: &Connection, sql: &Sql, id: u64) -> rusqlite::Result<Option<Record>> {
        tx.prepare_cached(&sql.fetch)?.query_row([id as i64], row_to_record).optional()
    }

    fn status_of(tx: &Connection, sql: &Sql, id: u64) -> rusqlite::Result<Option<Status>> {
        Ok(Self::fetch(tx, sql, id)?.map(|r| r.status))
    }

    fn apply(tx: &Connection, sql: &Sql, id: u64, to: Target) -> rusqlite::Result<()> {
        match to {
            Target::Delete => tx.prepare_cached(&sql.delete)?.execute([id as i64])?,
            Target::Status(s) if s.is_live() => {
                tx.prepare_cached(&sql.set_live)?.execute(params![id as i64, s.code()])?
            }
            Target::Status(s) => tx.prepare_cached(&sql.set_done)?.execute(params![id as i64, s.code()])?,
        };
        Ok(())
    }

    /// Claims a record known to be claimable (read in this transaction).
    fn claim_one(
        tx: &Connection,
        sql: &Sql,
        r: Record,
        then: Claimed,
        lease: Lease,
    ) -> rusqlite::Result<Record> {
        match then {
            Claimed::Deleted => {
                Self::apply(tx, sql, r.id, Target::Delete)?;
                Ok(r)
            }
            Claimed::Unacked => {
                let until = lease.until().min(i64::MAX as u64) as i64;
                tx.prepare_cached(&sql.claim)?.execute(params![r.id as i64, until])?;
                Ok(Record {
                    status: Status::Unacked,
                    deliveries: r.deliveries.saturating_add(1),
                    visible_at: until as u64,
                    ..r
                })
            }
        }
    }

    /// Per delivery, its state before, settling those still held.
    fn settle(
        tx: &Connection,
        sql: &Sql,
        leases: &[(u64, u32)],
        to: Target,
        now: u64,
        delay: u64,
    ) -> rusqlite::Result<Vec<Option<(Status, u32)>>> {
        let mut before = Vec::with_capacity(leases.len());
        for &(id, token) in leases {
            let state: Option<(i64, i64)> = tx
                .prepare_cached(&sql.state)?
                .query_row([id as i64], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?;
            let state = state
                .and_then(|(code, d)| Some((u8::try_from(code).ok().and_then(Status::from_code)?, d as u32)));
            if state == Some((Status::Unacked, token)) {
                match to {
                    Target::Delete => Self::apply(tx, sql, id, Target::Delete)?,
                    Target::Status(s) => {
                        let status = settled_status(s, delay);
                        if status.is_live() {
                            let at = if status.is_timed() { now.saturating_add(delay) } else { 0 };
                            let at = at.min(i64::MAX as u64) as i64;
                            tx.prepare_cached(&sql.settle_live)?.execute(params![
                                id as i64,
                                status.code(),
                                at
                            ])?;
                        } else {
                            tx.prepare_cached(&sql.settle_done)?
                                .execute(params![id as i64, status.code()])?;
                        }
                    }
                }
            }
            before.push(state);
        }
        Ok(before)
    }

    /// A transition of many distinct ids: one UPDATE (or DELETE) per 500
    /// ids instead of two statements per id. When `from` is one status, the
    /// rows it changed (`RETURNING id`) had that status, so only the others
    /// (usually none) are read back.
    fn transition_batch(
        tx: &Connection,
        t: &str,
        ids: &[u64],
        from: StatusSet,
        to: Target,
    ) -> rusqlite::Result<Vec<Option<Status>>> {
        let mut before = std::collections::HashMap::with_capacity(ids.len());
        let mut only = from.iter();
        let single = match (only.next(), only.next()) {
            (Some(s), None) => Some(s),
            _ => None,
        };
        for part in ids.chunks(500) {
            let marks = vec!["?"; part.len()].join(",");
            let params = || rusqlite::params_from_iter(part.iter().map(|&id| id as i64));
            if single.is_none() {
                Self::read_statuses(tx, t, &marks, params(), &mut before)?;
            }
            let cond = format!("id IN ({marks}) AND {}", status_in(from));
            let change = match to {
                Target::Delete => format!("DELETE FROM {t} WHERE {cond}"),
                Target::Status(s) if s.is_live() => {
                    format!("UPDATE {t} SET status = {}, visible_at = 0 WHERE {cond}", s.code())
                }
                Target::Status(s) => {
                    format!(
                        "UPDATE {t} SET status = {}, visible_at = 0, unique_key = NULL WHERE {cond}",
                        s.code()
                    )
                }
            };
            let mut stmt = tx.prepare(&format!("{change} RETURNING id"))?;
            let changed: Vec<u64> =
                stmt.query_map(params(), |r| Ok(r.get::<_, i64>(0)? as u64))?.collect::<Result<_, _>>()?;
            if let Some(s) = single {
                let all = changed.len() == part.len();
                before.extend(changed.into_iter().map(|id| (id, Some(s))));
                if !all {
                    let rest: Vec<i64> =
                        part.iter().filter(|id| !before.contains_key(id)).map(|&id| id as i64).collect();
                    let marks = vec!["?"; rest.len()].join(",");
                    Self::read_statuses(tx, t, &marks, rusqlite::params_from_iter(rest), &mut before)?;
                }
            }
        }
        Ok(ids.iter().map(|id| before.get(id).copied().flatten()).collect())
    }

    /// Reads the status of the ids bound to `marks` into `into`.
    fn read_statuses(
        tx: &Connection,
        t: &str,
        marks: &str,
        params: impl rusqlite::Params,
        into: &mut std::collections::HashMap<u64, Option<Status>>,
    ) -> rusqlite::Result<()> {
        let mut stmt =
            tx.prepare(&format!("SELECT id, status FROM {t} WHERE id IN ({marks}) AND status <> {MARKER}"))?;
        let rows = stmt.query_map(params, |r| Ok((r.get::<_, i64>(0)? as u64, r.get::<_, i64>(1)?)))?;
        for row in rows {
            let (id, code) = row?;
            into.insert(id, u8::try_from(code).ok().and_then(Status::from_code));
        }
        Ok(())
    }

    fn insert(tx: &Connection, sql: &Sql, records: &[NewRecord]) -> rusqlite::Result<Vec<Option<u64>>> {
        let mut stmt = tx.prepare_cached(&sql.insert)?;
        let mut ids = Vec::with_capacity(records.len());
        for r in records {
            let key = r.unique_key.as_ref().map(|k| k.as_slice());
            let (status, at) = if r.delay > 0 {
                (Status::Delayed, r.timestamp.saturating_add(r.delay).min(i64::MAX as u64) as i64)
            } else {
                (Status::Ready, 0)
            };
            let changed =
                stmt.execute(params![r.payload, r.priority, r.timestamp as i64, key, status.code(), at])?;
            ids.push((changed == 1).then(|| tx.last_insert_rowid() as u64));
        }
        Ok(ids)
    }

    fn scan(
        tx: &Connection,
        t: &str,
        statuses: StatusSet,
        order: Order,
        after: Option<OrderKey>,
        limit: u32,
    ) -> rusqlite::Result<Vec<Record>> {
        let cond = match (order, after) {
            (_, None) => "1 = 1",
            (Order::Fifo, Some(_)) => "id > ?2",
            (Order::Filo, Some(_)) => "id < ?2",
            (Order::Priority, Some(_)) => "(priority > ?1 OR (priority = ?1 AND id > ?2))",
        };
        let sql = format!(
            "SELECT {COLUMNS} FROM {t} WHERE {} AND {cond} ORDER BY {} LIMIT ?3",
            status_in(statuses),
            order_by(order)
        );
        let key = after.unwrap_or(OrderKey { priority: 0, id: 0 });
        let limit = if limit == 0 { -1 } else { i64::from(limit) };
        let mut stmt = tx.prepare_cached(&sql)?;
        let rows = stmt.query_map(params![key.priority, key.id as i64, limit], row_to_record)?;
        rows.collect()
    }

    fn execute_now(&mut self, plan: &Plan) -> rusqlite::Result<Outcome> {
        if matches!(plan, Plan::Compact) {
            // VACUUM cannot run inside a transaction; the connection stays
            // open (persist-queue #183).
            self.conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE); VACUUM;")?;
            return Ok(Outcome::Done);
        }
        // A claim that only marks items in flight needs no flush: if a
        // power cut loses it, the items are ready again, which is what
        // recovery at open does to in-flight items anyway.
        let relaxed = self.synced
            && matches!(
                plan,
                Plan::Claim { then: Claimed::Unacked, .. } | Plan::ClaimId { then: Claimed::Unacked, .. }
            );
        if relaxed {
            self.conn.pragma_update(None, "synchronous", "NORMAL")?;
        }
        let result = self.run_tx(plan);
        if relaxed {
            self.conn.pragma_update(None, "synchronous", "FULL")?;
        }
        result
    }

    /// One plan, one `BEGIN IMMEDIATE` transaction.
    fn run_tx(&mut self, plan: &Plan) -> rusqlite::Result<Outcome> {
        immediate(&self.conn, |tx| Self::body(tx, &self.t, &self.sql, plan))
    }

    fn body(tx: &Connection, t: &str, sql: &Sql, plan: &Plan) -> rusqlite::Result<Outcome> {
        let outcome = match plan {
            Plan::Insert { records } => Outcome::Inserted(Self::insert(tx, sql, records)?),
            Plan::Claim { order, limit, then, lease } => {
                tx.prepare_cached(&sql.expire)?.execute([lease.now.min(i64::MAX as u64) as i64])?;
                let mut stmt = tx.prepare_cached(sql.ready(*order))?;
                let candidates: Vec<Record> =
                    stmt.query_map([i64::from((*limit).max(1))], row_to_record)?.collect::<Result<_, _>>()?;
                drop(stmt);
                let mut out = Vec::with_capacity(candidates.len());
                for c in candidates {
                    out.push(Self::claim_one(tx, sql, c, *then, *lease)?);
                }
                Outcome::Records(out)
            }
            Plan::ClaimId { id, then, lease } => match Self::fetch(tx, sql, *id)? {
                Some(r)
                    if r.status == Status::Ready
                        || (r.status.is_timed() && r.visible_at != 0 && r.visible_at <= lease.now) =>
                {
                    Outcome::Records(vec![Self::claim_one(tx, sql, r, *then, *lease)?])
                }
                _ => Outcome::Records(vec![]),
            },
            Plan::Settle { leases, to, now, delay } => {
                Outcome::Leases(Self::settle(tx, sql, leases, *to, *now, *delay)?)
            }
            Plan::LeaseInFlight { lease } => {
                let until = lease.until().min(i64::MAX as u64) as i64;
                let n = tx.execute(
                    &format!("UPDATE {t} SET visible_at = ?1 WHERE status = 2 AND visible_at = 0"),
                    [until],
                )?;
                Outcome::Count(n as u64)
            }
            Plan::Transition { ids, from, to } => {
                let distinct = ids.iter().collect::<std::collections::HashSet<_>>().len() == ids.len();
                if distinct && ids.len() > 8 {
                    Outcome::Before(Self::transition_batch(tx, t, ids, *from, *to)?)
                } else {
                    // Repeated ids: one at a time, each seeing the last.
                    let mut before = Vec::with_capacity(ids.len());
                    for &id in ids {
                        let s = Self::status_of(tx, sql, id)?;
                        if s.is_some_and(|s| from.contains(s)) {
                            Self::apply(tx, sql, id, *to)?;
                        }
                        before.push(s);
                    }
                    Outcome::Before(before)
                }
            }
            Plan::TransitionAll { from, to } => {
                let n = match to {
                    Target::Delete => {
                        tx.execute(&format!("DELETE FROM {t} WHERE {}", status_in(*from)), [])?
                    }
                    Target::Status(s) if s.is_live() => tx.execute(
                        &format!("UPDATE {t} SET status = ?1, visible_at = 0 WHERE {}", status_in(*from)),
                        [s.code()],
                    )?,
                    Target::Status(s) => tx.execute(
                        &format!(
                            "UPDATE {t} SET status = ?1, visible_at = 0, unique_key = NULL WHERE {}",
                            status_in(*from)
                        ),
                        [s.code()],
                    )?,
                };
                Outcome::Count(n as u64)
            }
            Plan::Update { id, payload, unique_key, from } => {
                let s = Self::status_of(tx, sql, *id)?;
                if !s.is_some_and(|s| from.contains(s)) {
                    Outcome::Before(vec![s])
                } else {
                    let key = unique_key.as_ref().map(|k| k.as_slice());
                    match tx.execute(
                        &format!("UPDATE {t} SET payload = ?2, unique_key = ?3 WHERE id = ?1"),
                        params![*id as i64, payload, key],
                    ) {
                        Ok(_) => Outcome::Before(vec![s]),
                        Err(e) if is_unique_violation(&e) => Outcome::Duplicate,
                        Err(e) => return Err(e),
                    }
                }
            }
            Plan::Fetch { ids } => {
                let mut out = Vec::with_capacity(ids.len());
                for &id in ids {
                    out.extend(Self::fetch(tx, sql, id)?);
                }
                Outcome::Records(out)
            }
            Plan::Scan { statuses, order, after, limit } => {
                Outcome::Records(Self::scan(tx, t, *statuses, *order, *after, *limit)?)
            }
            Plan::Count => {
                let mut c = Counts::default();
                let mut stmt =
                    tx.prepare_cached(&format!("SELECT status, COUNT(*) FROM {t} GROUP BY status"))?;
                let rows = stmt.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)))?;
                for row in rows {
                    let (code, n) = row?;
                    if let Some(s) = u8::try_from(code).ok().and_then(Status::from_code) {
                        c.add_n(s, n as u64);
                    }
                }
                drop(stmt);
                Outcome::Counts(c)
            }
            Plan::Purge { statuses, keep_latest, max_delete } => {
                let limit = if *max_delete == 0 { -1 } else { *max_delete as i64 };
                let n = tx.execute(
                    &format!(
                        "DELETE FROM {t} WHERE id IN (SELECT id FROM {t} WHERE {} ORDER BY id DESC LIMIT ?1 OFFSET ?2)",
                        status_in(*statuses)
                    ),
                    params![limit, *keep_latest as i64],
                )?;
                Outcome::Count(n as u64)
            }
            Plan::Compact => Outcome::Done,
            Plan::Restore { record, unique_key } => {
                let key = unique_key.as_ref().map(|k| k.as_slice());
                tx.execute(
                    &format!(
                        // An upsert: the record may be in flight, or have left
                        // a marker behind; one in flight keeps its key.
                        "INSERT INTO {t} (id, payload, priority, status, timestamp, deliveries, unique_key)
                         VALUES (?1, ?2, ?3, 1, ?4, ?5, ?6)
                         ON CONFLICT (id) DO UPDATE SET payload = excluded.payload, visible_at = 0,
                           priority = excluded.priority, status = 1, timestamp = excluded.timestamp,
                           deliveries = excluded.deliveries,
                           unique_key = COALESCE(unique_key, excluded.unique_key)"
                    ),
                    params![
                        record.id as i64,
                        record.payload,
                        record.priority,
                        record.timestamp as i64,
                        i64::from(record.deliveries),
                        key
                    ],
                )?;
                Outcome::Done
            }
        };
        Ok(outcome)
    }
}

impl Table for SqliteTable {
    type Error = SqliteError;

    async fn execute(&mut self, plan: &Plan) -> Result<Outcome, SqliteError> {
        Ok(self.execute_now(plan)?)
    }
}

#[cfg(test)]
mod tests {
    use persist_queue_core::records::{Kind, Lease, RecordQueue, Status, complete};

    use super::*;

    /// A schema-2 table (before leases) holding a ready and an in-flight
    /// record opens as schema 3: the in-flight one gets a lease from the
    /// open (not taken back at once), then comes back when it ends.
    #[test]
    fn a_schema_2_table_opens_and_its_in_flight_items_get_a_lease() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("data.db");
        let conn = Connection::open(&path).expect("open");
        conn.execute_batch(
            "CREATE TABLE pq_schema (name TEXT PRIMARY KEY, version INTEGER NOT NULL);
             INSERT INTO pq_schema VALUES ('ack_queue_default', 2);
             CREATE TABLE \"ack_queue_default\" (id INTEGER PRIMARY KEY, payload BLOB NOT NULL,
                 priority INTEGER NOT NULL DEFAULT 0, status INTEGER NOT NULL, timestamp INTEGER NOT NULL,
                 deliveries INTEGER NOT NULL DEFAULT 0, unique_key BLOB);
             CREATE INDEX \"ack_queue_default_by_status_id\" ON \"ack_queue_default\" (status, id);
             INSERT INTO \"ack_queue_default\" VALUES (1, x'61', 0, 2, 5, 1, NULL);
             INSERT INTO \"ack_queue_default\" VALUES (2, x'62', 0, 1, 5, 0, NULL);",
        )
        .expect("a schema-2 table");
        drop(conn);
        let t = SqliteTable::open(&path, "ack_queue_default", Durability::Synced).expect("upgrade");
        let lease = Lease { now: 1_000_000, ms: 30_000 };
        let mut q = complete(RecordQueue::open(t, Kind::ACK, false, lease)).expect("queue");
        let got = complete(q.get(false, lease)).expect("get").expect("the ready one");
        assert_eq!(got.id, 2, "the item in flight before the upgrade is not taken back at once");
        assert!(complete(q.get(false, Lease { now: 1_029_000, ..lease })).expect("get").is_none());
        let back = complete(q.get(false, Lease { now: 1_031_000, ..lease })).expect("get").expect("back");
        assert_eq!((back.id, back.deliveries, back.status), (1, 2, Status::Unacked));
        let conn = Connection::open(&path).expect("reopen");
        let v: i64 = conn.query_row("SELECT version FROM pq_schema", [], |r| r.get(0)).expect("version");
        assert_eq!(v, SCHEMA_VERSION);
    }
}
