//! What every table of this crate does with its connection: the same
//! settings, and one way to run a `BEGIN IMMEDIATE` transaction.

use std::time::Duration;

use persist_queue_core::Durability;
use rusqlite::Connection;
use rusqlite::config::DbConfig;

/// How long a connection waits for others before "database is locked".
const BUSY: Duration = Duration::from_secs(300);

/// WAL journal; `synchronous` FULL for synced durability (each commit is
/// flushed), NORMAL for buffered (survives a process crash); writers wait
/// for each other (busy timeout) instead of failing with "database is
/// locked".
pub(crate) fn configure(conn: &Connection, durability: Durability) -> rusqlite::Result<()> {
    conn.busy_timeout(BUSY)?;
    // Stable plans: without this, a statement whose LIMIT is a bound
    // parameter is re-parsed on every use (the statement cache clears
    // bindings, which expires it) -- a fifth of a claim's time.
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
    use_wal(conn)?;
    conn.pragma_update(None, "wal_autocheckpoint", 1000)?;
    conn.pragma_update(None, "synchronous", if durability.is_synced() { "FULL" } else { "NORMAL" })
}

/// Puts the database file in WAL mode. WAL is a property of the file, so
/// once any opener converted it there is nothing to do. Converting needs
/// the file to itself, and there SQLite answers "database is locked" at
/// once instead of running the busy handler: when several connections open
/// a new file together, the others wait (1 ms, doubling to 50 ms) and
/// look again, within the busy timeout. A database that cannot be WAL (in
/// memory) keeps its mode, as SQLite decides.
fn use_wal(conn: &Connection) -> rusqlite::Result<()> {
    let give_up = std::time::Instant::now() + BUSY;
    let mut pause = Duration::from_millis(1);
    let file_backed = conn.path().is_some_and(|p| !p.is_empty());
    loop {
        let attempt = conn.query_row("PRAGMA journal_mode", [], |r| r.get::<_, String>(0)).and_then(|mode| {
            if mode.eq_ignore_ascii_case("wal") {
                return Ok(mode);
            }
            conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get::<_, String>(0))
        });
        match attempt {
            Ok(mode) if mode.eq_ignore_ascii_case("wal") || !file_backed => return Ok(()),
            Ok(_) => {}
            Err(rusqlite::Error::SqliteFailure(e, _)) if e.code == rusqlite::ErrorCode::DatabaseBusy => {}
            Err(e) => return Err(e),
        }
        if std::time::Instant::now() >= give_up {
            return Err(rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_BUSY),
                Some("could not switch the database to WAL: another connection held it".into()),
            ));
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(50));
    }
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
