//! `PgMap`: the map contract (persist-queue's `PDict`) on one table.

use persist_queue_core::Durability;
use persist_queue_core::records::{MapOutcome, MapPlan, MapTable};

use crate::connect::{Connect, table_ident};
use crate::error::PgError;
use crate::session::{Session, transaction};

/// A persistent map in one PostgreSQL table `(key BYTEA PRIMARY KEY, value
/// BYTEA)`.
#[derive(Debug)]
pub struct PgMap {
    session: Session<()>,
    t: String,
}

impl PgMap {
    /// Opens (creating if needed) the map table `name`.
    pub fn open(connect: &Connect, name: &str, durability: Durability) -> Result<PgMap, PgError> {
        let t = format!("\"{}\"", table_ident(name)?);
        let setup = if durability.is_synced() {
            "SET synchronous_commit = on"
        } else {
            "SET synchronous_commit = off"
        };
        let mut session = Session::new(connect, name, setup.to_string(), |_| Ok(()));
        let schema = connect.create_schema();
        let create = format!("CREATE TABLE IF NOT EXISTS {t} (key BYTEA PRIMARY KEY, value BYTEA NOT NULL)");
        session.with_retry_unprepared(|c| {
            transaction(c, "BEGIN", |c| {
                c.execute("SELECT pg_advisory_xact_lock($1)", &[&crate::table::DDL_LOCK])?;
                c.batch_execute(&schema)?;
                c.batch_execute(&create)
            })
        })?;
        Ok(PgMap { session, t })
    }
}

impl MapTable for PgMap {
    type Error = PgError;

    async fn execute_map(&mut self, plan: &MapPlan) -> Result<MapOutcome, PgError> {
        let t = self.t.as_str();
        match plan {
            MapPlan::Insert { key, value } => {
                // The old value, read under the row lock, then the upsert.
                let old = format!("SELECT value FROM {t} WHERE key = $1 FOR UPDATE");
                let put = format!(
                    "INSERT INTO {t} (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value"
                );
                self.session.with_retry_unprepared(|c| {
                    transaction(c, "BEGIN", |c| {
                        let before = c.query_opt(&old, &[key])?.map(|r| r.try_get(0)).transpose()?;
                        c.execute(&put, &[key, value])?;
                        Ok(MapOutcome::Value(before))
                    })
                })
            }
            MapPlan::Get { key } => {
                let sql = format!("SELECT value FROM {t} WHERE key = $1");
                self.session.with_retry_unprepared(|c| {
                    Ok(MapOutcome::Value(c.query_opt(&sql, &[key])?.map(|r| r.try_get(0)).transpose()?))
                })
            }
            MapPlan::Remove { key } => {
                let sql = format!("DELETE FROM {t} WHERE key = $1 RETURNING value");
                self.session.with_retry_unprepared(|c| {
                    transaction(c, "BEGIN", |c| {
                        Ok(MapOutcome::Value(c.query_opt(&sql, &[key])?.map(|r| r.try_get(0)).transpose()?))
                    })
                })
            }
            MapPlan::Len => {
                let sql = format!("SELECT COUNT(*) FROM {t}");
                self.session.with_retry_unprepared(|c| {
                    Ok(MapOutcome::Len(c.query_one(&sql, &[])?.try_get::<_, i64>(0)? as u64))
                })
            }
            MapPlan::Scan { after, limit } => {
                let sql = format!(
                    "SELECT key, value FROM {t} WHERE $1::bytea IS NULL OR key > $1 ORDER BY key LIMIT $2"
                );
                let limit = i64::from((*limit).max(1));
                self.session.with_retry_unprepared(|c| {
                    let rows = c.query(&sql, &[after, &limit])?;
                    let entries =
                        rows.iter()
                            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
                            .collect::<Result<_, postgres::Error>>()?;
                    Ok(MapOutcome::Entries(entries))
                })
            }
        }
    }
}
