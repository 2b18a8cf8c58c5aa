//! Tables an older version created under a capitalised queue name (names
//! were case-sensitive here then; now every store is named in lowercase,
//! `persist_queue_core::records::store_name`): renamed once to the name
//! they have now, so their items are found.

use crate::connect::{Connect, table_ident};
use crate::error::PgError;
use crate::session::{Session, transaction};
use crate::table::DDL_LOCK;

/// Renames the table `legacy` (the name an older version gave it) to
/// `name` if only `legacy` exists; nothing if `name` exists or neither
/// does. Both existing is [`PgError::CaseConflict`]: two queues whose names
/// differ only in case, never merged or picked between.
pub fn adopt_table(connect: &Connect, legacy: &str, name: &str) -> Result<(), PgError> {
    let (old, new) = (table_ident(legacy)?, table_ident(name)?);
    if old == new {
        return Ok(());
    }
    let mut session = Session::new(connect, name, String::new(), |_| Ok(()));
    let both = session.with_retry_unprepared(|c| {
        transaction(c, "BEGIN", |c| {
            c.execute("SELECT pg_advisory_xact_lock($1)", &[&DDL_LOCK])?;
            let row = c.query_one(
                "SELECT to_regclass($1) IS NOT NULL, to_regclass($2) IS NOT NULL, \
                        to_regclass('pq_schema') IS NOT NULL",
                &[&format!("\"{old}\""), &format!("\"{new}\"")],
            )?;
            let (has_old, has_new, schema): (bool, bool, bool) =
                (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?);
            if has_old && !has_new {
                c.batch_execute(&format!("ALTER TABLE \"{old}\" RENAME TO \"{new}\""))?;
                if schema {
                    c.execute("UPDATE pq_schema SET name = $1 WHERE name = $2", &[&new, &old])?;
                }
            }
            Ok(has_old && has_new)
        })
    })?;
    if both {
        return Err(PgError::CaseConflict { legacy: old, name: new });
    }
    Ok(())
}
