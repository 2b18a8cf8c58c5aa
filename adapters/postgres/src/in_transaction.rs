//! Plans run in a transaction of the caller's own: a put (the outbox
//! pattern: the item exists if and only if the caller's writes commit) or
//! a settle (the caller's results and the ack commit together).

use persist_queue_core::records::{NewRecord, Outcome, Plan, Target};
use postgres::Transaction;
use postgres::types::{ToSql, Type};

use crate::error::PgError;
use crate::table::{InsertColumns, ids_inserted, insert_many_sql, insert_sql, leases_outcome, settle_sql};

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
    let columns = InsertColumns::of(records);
    let rows = match records {
        [_] => tx.query_typed(&insert_sql(t), &typed(columns.one(), InsertColumns::ONE_TYPES))?,
        _ => tx.query_typed(&insert_many_sql(t), &typed(columns.many(), InsertColumns::MANY_TYPES))?,
    };
    ids_inserted(records, &rows)
}

/// Values beside their parameter types, as `query_typed` takes them.
fn typed(values: [&(dyn ToSql + Sync); 5], types: [Type; 5]) -> Vec<(&(dyn ToSql + Sync), Type)> {
    values.into_iter().zip(types).collect()
}
