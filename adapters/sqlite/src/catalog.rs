//! What a database file holds: its tables, read without changing the file.

use std::path::Path;

use rusqlite::{Connection, OpenFlags};

use crate::error::SqliteError;

/// The names of the tables in the database file `path`, sorted, read from
/// a read-only connection: a missing file is an error, never created.
/// Tables of every writer are listed (persist-queue's own too); the caller
/// picks the queue tables by their names.
pub fn table_names(path: impl AsRef<Path>) -> Result<Vec<String>, SqliteError> {
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let mut stmt = conn.prepare(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
    )?;
    let names = stmt.query_map([], |r| r.get::<_, String>(0))?.collect::<Result<Vec<_>, _>>()?;
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_tables_and_never_creates_a_file() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("data.db");
        assert!(table_names(&path).is_err());
        assert!(!path.exists());
        let conn = Connection::open(&path).expect("open");
        conn.execute_batch("CREATE TABLE queue_b (x); CREATE TABLE ack_queue_a (x);").expect("create");
        drop(conn);
        assert_eq!(table_names(&path).expect("list"), ["ack_queue_a", "queue_b"]);
    }
}
