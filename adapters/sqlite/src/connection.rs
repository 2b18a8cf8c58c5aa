//! What every table of this crate does with its connection: the same
//! settings, and one way to run a `BEGIN IMMEDIATE` transaction.

use std::time::Duration;

use persist_queue_core::Durability;
use rusqlite::Connection;
use rusqlite::config::DbConfig;

/// WAL journal; `synchronous` FULL for synced durability (each commit is
/// flushed), NORMAL for buffered (survives a process crash); writers wait
/// for each other (busy timeout) instead of failing with "database is
/// locked".
pub(crate) fn configure(conn: &Connection, durability: Durability) -> rusqlite::Result<()> {
    conn.busy_timeout(Duration::from_secs(300))?;
    // Stable plans: without this, a statement whose LIMIT is a bound
    // parameter is re-parsed on every use (the statement cache clears
    // bindings, which expires it) -- a fifth of a claim's time.
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "wal_autocheckpoint", 1000)?;
    conn.pragma_update(None, "synchronous", if durability.is_synced() { "FULL" } else { "NORMAL" })
}

/// Runs `body` in one `BEGIN IMMEDIATE` transaction, committed if it
/// succeeds and rolled back otherwise. The statements are prepared once and
/// cached: parsing `BEGIN`/`COMMIT` on every call cost a third of a claim.
pub(crate) fn immediate<T>(
    conn: &Connection,
    body: impl FnOnce(&Connection) -> rusqlite::Result<T>,
) -> rusqlite::Result<T> {
    conn.prepare_cached("BEGIN IMMEDIATE")?.execute([])?;
    let outcome = body(conn);
    let end = if outcome.is_ok() { "COMMIT" } else { "ROLLBACK" };
    match conn.prepare_cached(end).and_then(|mut st| st.execute([])) {
        Ok(_) => outcome,
        Err(e) => {
            if outcome.is_ok() {
                let _ = conn.prepare_cached("ROLLBACK").and_then(|mut st| st.execute([]));
            }
            Err(e)
        }
    }
}
