//! `MySqlMap`: the map contract (persist-queue's `PDict`) on one table.

use mysql::prelude::Queryable;
use persist_queue_core::records::{MapOutcome, MapPlan, MapTable};

use crate::connect::{Connect, table_ident};
use crate::error::MySqlError;
use crate::session::{Session, transaction};

/// A persistent map in one InnoDB table `(key VARBINARY(767) PRIMARY KEY,
/// value LONGBLOB)`: keys (encoded) up to 767 bytes.
#[derive(Debug)]
pub struct MySqlMap {
    session: Session,
    t: String,
}

impl MySqlMap {
    /// Opens (creating if needed) the map table `name`.
    pub fn open(connect: &Connect, name: &str) -> Result<MySqlMap, MySqlError> {
        let t = crate::connect::table_sql(&table_ident(name)?);
        let mut session = Session::new(connect);
        let create = format!(
            "CREATE TABLE IF NOT EXISTS {t} (k VARBINARY(767) PRIMARY KEY, v LONGBLOB NOT NULL) ENGINE=InnoDB"
        );
        session.with_retry(|c| Ok(c.query_drop(&create)?))?;
        Ok(MySqlMap { session, t })
    }
}

impl MapTable for MySqlMap {
    type Error = MySqlError;

    async fn execute_map(&mut self, plan: &MapPlan) -> Result<MapOutcome, MySqlError> {
        let t = self.t.as_str();
        match plan {
            MapPlan::Insert { key, value } => {
                let old = format!("SELECT v FROM {t} WHERE k = ? FOR UPDATE");
                let put =
                    format!("INSERT INTO {t} (k, v) VALUES (?, ?) ON DUPLICATE KEY UPDATE v = VALUES(v)");
                self.session.with_retry(|c| {
                    transaction(c, |c| {
                        let before: Option<Vec<u8>> = c.exec_first(&old, (key,))?;
                        c.exec_drop(&put, (key, value))?;
                        Ok(MapOutcome::Value(before))
                    })
                })
            }
            MapPlan::Get { key } => {
                let sql = format!("SELECT v FROM {t} WHERE k = ?");
                self.session.with_retry(|c| Ok(MapOutcome::Value(c.exec_first(&sql, (key,))?)))
            }
            MapPlan::Remove { key } => {
                let old = format!("SELECT v FROM {t} WHERE k = ? FOR UPDATE");
                let delete = format!("DELETE FROM {t} WHERE k = ?");
                self.session.with_retry(|c| {
                    transaction(c, |c| {
                        let before: Option<Vec<u8>> = c.exec_first(&old, (key,))?;
                        c.exec_drop(&delete, (key,))?;
                        Ok(MapOutcome::Value(before))
                    })
                })
            }
            MapPlan::Len => {
                let sql = format!("SELECT COUNT(*) FROM {t}");
                self.session.with_retry(|c| Ok(MapOutcome::Len(c.query_first::<u64, _>(&sql)?.unwrap_or(0))))
            }
            MapPlan::Scan { after, limit } => {
                let limit = u64::from((*limit).max(1));
                self.session.with_retry(|c| {
                    let entries: Vec<(Vec<u8>, Vec<u8>)> = match after {
                        Some(k) => c.exec(
                            format!("SELECT k, v FROM {t} WHERE k > ? ORDER BY k LIMIT ?"),
                            (k, limit),
                        )?,
                        None => c.exec(format!("SELECT k, v FROM {t} ORDER BY k LIMIT ?"), (limit,))?,
                    };
                    Ok(MapOutcome::Entries(entries))
                })
            }
        }
    }
}
