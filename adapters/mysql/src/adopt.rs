//! Tables an older version created under a capitalised queue name (names
//! were case-sensitive on a case-sensitive server then; now every store is
//! named in lowercase, `persist_queue_core::records::store_name`): renamed
//! once to the name they have now, so their items are found.

use mysql::prelude::Queryable;

use crate::connect::{Connect, table_ident};
use crate::error::MySqlError;
use crate::session::Session;

/// Renames the table `legacy` (the name an older version gave it) to
/// `name` if only `legacy` exists; nothing if `name` exists or neither
/// does. Both existing is [`MySqlError::CaseConflict`]: two queues whose
/// names differ only in case, never merged or picked between.
pub fn adopt_table(connect: &Connect, legacy: &str, name: &str) -> Result<(), MySqlError> {
    let (old, new) = (table_ident(legacy)?, table_ident(name)?);
    if old == new {
        return Ok(());
    }
    let mut session = Session::new(connect);
    let both = session.with_retry(|c| {
        let found: Vec<String> = c.exec(
            "SELECT CAST(table_name AS CHAR) FROM information_schema.tables
             WHERE table_schema = DATABASE() AND BINARY table_name IN (?, ?)",
            (&old, &new),
        )?;
        let (has_old, has_new) = (found.contains(&old), found.contains(&new));
        if has_old && !has_new {
            // RENAME TABLE is atomic, and fails if `new` appeared meanwhile.
            c.query_drop(format!("RENAME TABLE `{old}` TO `{new}`"))?;
            let schema: Option<String> = c.query_first(
                "SELECT CAST(table_name AS CHAR) FROM information_schema.tables
                 WHERE table_schema = DATABASE() AND table_name = 'pq_schema'",
            )?;
            if schema.is_some() {
                c.exec_drop("UPDATE pq_schema SET name = ? WHERE BINARY name = ?", (&new, &old))?;
            }
        }
        Ok(has_old && has_new)
    })?;
    if both {
        return Err(MySqlError::CaseConflict { legacy: old, name: new });
    }
    Ok(())
}
