//! A pooled connection, replaced after a failure, and the retry rule: retry
//! only what the server rolled back.

use std::time::{Duration, Instant};

use mysql::prelude::Queryable;
use mysql::{Error, PooledConn};

use persist_queue_core::records::server::TlsMode;

use crate::connect::Connect;
use crate::error::MySqlError;

/// How a plan failed: before its `COMMIT` was sent (the server rolls back
/// an open transaction when its connection goes: safe to retry) or while
/// the `COMMIT` was in flight.
#[derive(Debug)]
pub(crate) enum Fail {
    Before(Error),
    AtCommit(Error),
}

impl From<Error> for Fail {
    fn from(e: Error) -> Self {
        Fail::Before(e)
    }
}

/// Server error codes after which the same plan may succeed on a second
/// try: deadlock, lock wait timeout, server shutting down, connection
/// killed, server gone / lost.
const TRANSIENT_CODES: [u16; 7] = [1213, 1205, 1053, 1927, 2006, 2013, 1040];

fn transient(e: &Error) -> bool {
    if handshake_failed(e) {
        return false;
    }
    match e {
        Error::MySqlError(m) => TRANSIENT_CODES.contains(&m.code),
        Error::IoError(_) | Error::CodecError(_) | Error::DriverError(_) => true,
        _ => false,
    }
}

/// A failed TLS handshake (a certificate refused): the same attempt would
/// fail again. rustls reports it inside the client's I/O error.
fn handshake_failed(e: &Error) -> bool {
    let io = match e {
        Error::IoError(io) => Some(io),
        Error::CodecError(mysql::mysql_common::proto::codec::error::PacketCodecError::Io(io)) => Some(io),
        _ => None,
    };
    matches!(e, Error::TlsError(_)) || io.and_then(|io| io.get_ref()).is_some_and(|i| i.is::<rustls::Error>())
}

/// The connection is unusable after this error.
fn broken(e: &Error) -> bool {
    match e {
        Error::MySqlError(m) => [1053, 1927, 2006, 2013].contains(&m.code),
        Error::IoError(_) | Error::CodecError(_) | Error::DriverError(_) => true,
        _ => false,
    }
}

/// A deadlock or lock wait timeout answered to `COMMIT`: rolled back.
fn rolled_back(e: &Error) -> bool {
    matches!(e, Error::MySqlError(m) if m.code == 1213 || m.code == 1205)
}

/// One pooled connection held by a table.
#[derive(Debug)]
pub(crate) struct Session {
    connect: Connect,
    live: Option<PooledConn>,
}

impl Session {
    pub(crate) fn new(connect: &Connect) -> Session {
        Session { connect: connect.clone(), live: None }
    }

    /// A connection that could not be opened, typed by why.
    fn refused(&self, e: Error) -> MySqlError {
        match &e {
            _ if handshake_failed(&e) => MySqlError::TlsHandshake { reason: e.to_string() },
            Error::MySqlError(m) if m.code == 1045 && self.connect.tls_mode() == TlsMode::Disable => {
                MySqlError::RefusedPlain(e)
            }
            _ => MySqlError::Db(e),
        }
    }

    /// A connection taken from the pool with the per-session settings
    /// the pool's options cannot carry: the statement timeout, whose
    /// variable differs between MariaDB and MySQL (one more round trip per
    /// connection taken, only when a timeout is set).
    fn configured(&self, mut conn: PooledConn) -> Result<PooledConn, Error> {
        if let Some(limit) = self.connect.statement_timeout {
            let version: Option<String> = conn.query_first("SELECT VERSION()")?;
            let sql = if version.is_some_and(|v| v.contains("MariaDB")) {
                format!("SET SESSION max_statement_time = {:.3}", limit.as_secs_f64().max(0.001))
            } else {
                format!("SET SESSION max_execution_time = {}", limit.as_millis().max(1))
            };
            conn.query_drop(sql)?;
        }
        Ok(conn)
    }

    /// Runs `attempt` until it succeeds, fails for good, or the retry
    /// window ends.
    pub(crate) fn with_retry<T>(
        &mut self,
        mut attempt: impl FnMut(&mut PooledConn) -> Result<T, Fail>,
    ) -> Result<T, MySqlError> {
        let start = Instant::now();
        let mut pause = Duration::from_millis(10);
        loop {
            if self.live.is_none() {
                match self.connect.pool.get_conn().and_then(|c| self.configured(c)) {
                    Ok(c) => self.live = Some(c),
                    Err(e) if transient(&e) && start.elapsed() + pause <= self.connect.retry_for => {
                        std::thread::sleep(pause);
                        pause = (pause * 2).min(Duration::from_millis(500));
                        continue;
                    }
                    Err(e) if transient(&e) => {
                        return Err(MySqlError::Unavailable { waited: start.elapsed(), source: e });
                    }
                    Err(e) => return Err(self.refused(e)),
                }
            }
            let conn = self.live.as_mut().expect("connected above");
            let failure = match attempt(conn) {
                Ok(v) => return Ok(v),
                Err(Fail::AtCommit(e)) if rolled_back(&e) => e,
                Err(Fail::AtCommit(e)) if !transient(&e) => return Err(MySqlError::Db(e)),
                Err(Fail::AtCommit(e)) => {
                    self.live = None;
                    return Err(MySqlError::CommitUnknown(e));
                }
                Err(Fail::Before(e)) => e,
            };
            if broken(&failure) {
                self.live = None;
            }
            if !transient(&failure) {
                return Err(MySqlError::Db(failure));
            }
            if start.elapsed() + pause > self.connect.retry_for {
                return Err(MySqlError::Unavailable { waited: start.elapsed(), source: failure });
            }
            std::thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_millis(500));
        }
    }
}

/// Runs `body` in a transaction, telling a failure of the `COMMIT` apart.
pub(crate) fn transaction<T>(
    conn: &mut PooledConn,
    body: impl FnOnce(&mut PooledConn) -> Result<T, Error>,
) -> Result<T, Fail> {
    conn.query_drop("START TRANSACTION")?;
    match body(conn) {
        Ok(v) => conn.query_drop("COMMIT").map(|()| v).map_err(Fail::AtCommit),
        Err(e) => {
            let _ = conn.query_drop("ROLLBACK");
            Err(Fail::Before(e))
        }
    }
}
