//! Plans run in a transaction of the caller's own: a put (the outbox
//! pattern: the item exists if and only if the caller's writes commit) or
//! a settle (the caller's results and the ack commit together).

use persist_queue_core::records::{NewRecord, Outcome, Plan, Target, inserted_ids};
use postgres::Transaction;
use postgres::types::{ToSql, Type};

use crate::error::PgError;
use crate::table::{insert_many_sql, insert_sql, leases_outcome, settle_sql};

/// A queue's table as statements on another connection name it (quoted,
/// schema-qualified when the queue has a schema); made only by
/// [`PgTable::table_ref`](crate::PgTable::table_ref), so no other text
/// reaches the SQL.
#[derive(Clone, Debug)]
pub struct PgTableRef {
    pub(crate) sql: String,
}

/// Runs `plan` in the caller's transaction `tx` on the table `table`, one
/// round trip (an unnamed statement with typed parameters: no prepare).
/// Supported: [`Plan::Insert`] and [`Plan::Settle`] of distinct
/// deliveries; anything else is [`PgError::NotInTransaction`]. Nothing is
/// retried: the transaction is the caller's. A `NOTIFY` from the table's
/// trigger is sent when, and only if, the caller commits.
pub fn execute_in(tx: &mut Transaction<'_>, table: &PgTableRef, plan: &Plan) -> Result<Outcome, PgError> {
    let t = table.sql.as_str();
    match plan {
        Plan::Insert { records } => Ok(Outcome::Inserted(insert(tx, t, records)?)),
        Plan::Settle { leases, to, now: _, delay } => {
            let mut ids: Vec<i64> = leases.iter().map(|&(id, _)| id as i64).collect();
            let tokens: Vec<i32> = leases.iter().map(|&(_, d)| d as i32).collect();
            ids.sort_unstable();
            if ids.windows(2).any(|w| w[0] == w[1]) {
                return Err(PgError::NotInTransaction("a settle naming one item twice"));
            }
            let ids: Vec<i64> = leases.iter().map(|&(id, _)| id as i64).collect();
            let delay = (*delay).min(i64::MAX as u64) as i64;
            let sql = settle_sql(t, *to, delay);
            let rows = match to {
                Target::Delete => {
                    tx.query_typed(&sql, &[(&ids, Type::INT8_ARRAY), (&tokens, Type::INT4_ARRAY)])?
                }
                Target::Status(_) => tx.query_typed(
                    &sql,
                    &[(&ids, Type::INT8_ARRAY), (&tokens, Type::INT4_ARRAY), (&delay, Type::INT8)],
                )?,
            };
            Ok(leases_outcome(leases, &rows)?)
        }
        _ => Err(PgError::NotInTransaction("only puts and settles run in the caller's transaction")),
    }
}

fn insert(
    tx: &mut Transaction<'_>,
    t: &str,
    records: &[NewRecord],
) -> Result<Vec<Option<u64>>, postgres::Error> {
    if let [r] = records {
        let key = r.unique_key.map(|k| k.to_vec());
        let (stamp, delay) = (r.timestamp as i64, r.delay.min(i64::MAX as u64) as i64);
        let params: [(&(dyn ToSql + Sync), Type); 5] = [
            (&r.payload, Type::BYTEA),
            (&r.priority, Type::INT8),
            (&stamp, Type::INT8),
            (&key, Type::BYTEA),
            (&delay, Type::INT8),
        ];
        let rows = tx.query_typed(&insert_sql(t), &params)?;
        return Ok(vec![rows.first().map(|row| row.try_get::<_, i64>(0)).transpose()?.map(|id| id as u64)]);
    }
    let payloads: Vec<&[u8]> = records.iter().map(|r| r.payload.as_slice()).collect();
    let priorities: Vec<i64> = records.iter().map(|r| r.priority).collect();
    let stamps: Vec<i64> = records.iter().map(|r| r.timestamp as i64).collect();
    let keys: Vec<Option<Vec<u8>>> = records.iter().map(|r| r.unique_key.map(|k| k.to_vec())).collect();
    let delays: Vec<i64> = records.iter().map(|r| r.delay.min(i64::MAX as u64) as i64).collect();
    let params: [(&(dyn ToSql + Sync), Type); 5] = [
        (&payloads, Type::BYTEA_ARRAY),
        (&priorities, Type::INT8_ARRAY),
        (&stamps, Type::INT8_ARRAY),
        (&keys, Type::BYTEA_ARRAY),
        (&delays, Type::INT8_ARRAY),
    ];
    let rows = tx.query_typed(&insert_many_sql(t), &params)?;
    let inserted = rows
        .iter()
        .map(|row| Ok((row.try_get::<_, i64>(0)? as u64, row.try_get::<_, Option<Vec<u8>>>(1)?)))
        .collect::<Result<Vec<_>, postgres::Error>>()?;
    Ok(inserted_ids(records, inserted))
}
