//! `SqliteMap`: the map contract (persist-queue's `PDict`) on one table.

use std::path::Path;

use persist_queue_core::Durability;
use persist_queue_core::records::{MapOutcome, MapPlan, MapTable};
use rusqlite::{Connection, OptionalExtension, params};

use crate::connection::{configure, immediate};
use crate::error::SqliteError;
use crate::name::Ident;

/// A persistent map in one SQLite table `(key BLOB PRIMARY KEY, value
/// BLOB)`, `WITHOUT ROWID`.
#[derive(Debug)]
pub struct SqliteMap {
    conn: Connection,
    t: String,
}

impl SqliteMap {
    /// Opens (creating if needed) the map table `name` in `path`.
    pub fn open(
        path: impl AsRef<Path>,
        name: &str,
        durability: Durability,
    ) -> Result<SqliteMap, SqliteError> {
        let ident = Ident::new(name).map_err(SqliteError::Name)?;
        let conn = Connection::open(path)?;
        configure(&conn, durability)?;
        let t = ident.quoted();
        conn.execute_batch(&format!(
            "CREATE TABLE IF NOT EXISTS {t} (key BLOB PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID"
        ))?;
        Ok(SqliteMap { conn, t })
    }

    fn value(conn: &Connection, t: &str, key: &[u8]) -> rusqlite::Result<Option<Vec<u8>>> {
        conn.prepare_cached(&format!("SELECT value FROM {t} WHERE key = ?1"))?
            .query_row([key], |r| r.get(0))
            .optional()
    }
}

impl MapTable for SqliteMap {
    type Error = SqliteError;

    async fn execute_map(&mut self, plan: &MapPlan) -> Result<MapOutcome, SqliteError> {
        let t = self.t.as_str();
        Ok(match plan {
            MapPlan::Insert { key, value } => MapOutcome::Value(immediate(&self.conn, |tx| {
                let old = Self::value(tx, t, key)?;
                tx.prepare_cached(&format!("INSERT OR REPLACE INTO {t} (key, value) VALUES (?1, ?2)"))?
                    .execute(params![key, value])?;
                Ok(old)
            })?),
            MapPlan::Get { key } => MapOutcome::Value(Self::value(&self.conn, t, key)?),
            MapPlan::Remove { key } => MapOutcome::Value(immediate(&self.conn, |tx| {
                let old = Self::value(tx, t, key)?;
                tx.prepare_cached(&format!("DELETE FROM {t} WHERE key = ?1"))?.execute([key])?;
                Ok(old)
            })?),
            MapPlan::Len => MapOutcome::Len(self.conn.query_row(
                &format!("SELECT COUNT(*) FROM {t}"),
                [],
                |r| r.get::<_, i64>(0),
            )? as u64),
            MapPlan::Scan { after, limit } => {
                let limit = i64::from((*limit).max(1));
                let mut stmt = self.conn.prepare_cached(&format!(
                    "SELECT key, value FROM {t} WHERE ?1 IS NULL OR key > ?1 ORDER BY key LIMIT ?2"
                ))?;
                let rows = stmt.query_map(params![after, limit], |r| Ok((r.get(0)?, r.get(1)?)))?;
                MapOutcome::Entries(rows.collect::<Result<_, _>>()?)
            }
        })
    }
}
