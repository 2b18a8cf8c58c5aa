//! What a database holds: the tables of its current schema.

use crate::connect::Connect;
use crate::error::PgError;
use crate::session::Session;

/// The names of the tables in the connection's current schema, sorted.
/// Every table is listed; the caller picks the queue tables by their names.
pub fn table_names(connect: &Connect) -> Result<Vec<String>, PgError> {
    let mut session = Session::new(connect, "", String::new(), |_| Ok(()));
    session.with_retry_unprepared(|c| {
        let rows = c.query(
            "SELECT table_name::text FROM information_schema.tables \
             WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY 1",
            &[],
        )?;
        Ok(rows.iter().map(|r| r.get::<_, String>(0)).collect())
    })
}
