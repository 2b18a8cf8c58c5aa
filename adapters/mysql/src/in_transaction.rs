//! Plans run in a transaction of the caller's own: a put (the outbox
//! pattern: the item exists if and only if the caller's writes commit) or
//! a settle (the caller's results and the ack commit together).

use mysql::Transaction;
use persist_queue_core::records::{Outcome, Plan};

use crate::error::MySqlError;
use crate::table::{insert, settle};

/// A queue's table as statements on another connection name it; made only
/// by [`MySqlTable::table_ref`](crate::MySqlTable::table_ref), so no other
/// text reaches the SQL.
#[derive(Clone, Debug)]
pub struct MySqlTableRef {
    pub(crate) t: String,
    pub(crate) returning: bool,
}

/// Runs `plan` in the caller's transaction `tx` on the table `table`:
/// the queue's own statements (prepared once per connection by the
/// client's statement cache, then one round trip each). Supported:
/// [`Plan::Insert`] and [`Plan::Settle`]; anything else is
/// [`MySqlError::NotInTransaction`]. Nothing is retried: the transaction
/// is the caller's. MySQL has no notifications: waiting consumers see a
/// committed put at their next poll (within 50 ms).
pub fn execute_in(
    tx: &mut Transaction<'_>,
    table: &MySqlTableRef,
    plan: &Plan,
) -> Result<Outcome, MySqlError> {
    match plan {
        Plan::Insert { records } => Ok(Outcome::Inserted(insert(tx, &table.t, records, table.returning)?)),
        Plan::Settle { leases, to, now: _, delay } => {
            Ok(Outcome::Leases(settle(tx, &table.t, leases, *to, *delay)?))
        }
        _ => Err(MySqlError::NotInTransaction),
    }
}
