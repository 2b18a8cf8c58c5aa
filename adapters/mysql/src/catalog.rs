//! What a database holds: the tables of the connection's database.

use mysql::prelude::Queryable;

use crate::connect::Connect;
use crate::error::MySqlError;
use crate::session::Session;

/// The names of the tables in the connection's database, sorted. Every
/// table is listed; the caller picks the queue tables by their names.
pub fn table_names(connect: &Connect) -> Result<Vec<String>, MySqlError> {
    let mut session = Session::new(connect);
    session.with_retry(|c| {
        let names: Vec<String> = c.query(
            "SELECT CAST(table_name AS CHAR) FROM information_schema.tables \
             WHERE table_schema = DATABASE() AND table_type = 'BASE TABLE' ORDER BY 1",
        )?;
        Ok(names)
    })
}
