//! One connection with its prepared statements, reconnected after a
//! failure, and the retry rule: retry only what the server rolled back.

use std::time::{Duration, Instant};

use postgres::Client;
use postgres::error::SqlState;

use crate::connect::Connect;
use crate::error::PgError;

/// How a plan failed: before its `COMMIT` was sent (the server rolls it
/// back: safe to retry) or while the `COMMIT` was in flight.
#[derive(Debug)]
pub(crate) enum Fail {
    Before(postgres::Error),
    AtCommit(postgres::Error),
}

impl From<postgres::Error> for Fail {
    /// Reads and statements inside a transaction fail before its `COMMIT`.
    fn from(e: postgres::Error) -> Self {
        Fail::Before(e)
    }
}

/// Failures after which the same plan may succeed on a new connection or
/// on a second try: the connection is gone, the server is starting or
/// stopping, or it aborted the transaction to break a deadlock.
fn transient(e: &postgres::Error) -> bool {
    if crate::tls::handshake_failure(e).is_some() {
        return false;
    }
    if e.is_closed() {
        return true;
    }
    match e.code() {
        None => e.as_db_error().is_none(),
        Some(code) => [
            SqlState::T_R_SERIALIZATION_FAILURE,
            SqlState::T_R_DEADLOCK_DETECTED,
            SqlState::ADMIN_SHUTDOWN,
            SqlState::CRASH_SHUTDOWN,
            SqlState::CANNOT_CONNECT_NOW,
            SqlState::CONNECTION_FAILURE,
            SqlState::CONNECTION_EXCEPTION,
        ]
        .contains(code),
    }
}

/// A `COMMIT` that failed with one of these was rolled back by the server
/// (it answered), so the plan may run again.
fn rolled_back(e: &postgres::Error) -> bool {
    e.code()
        .is_some_and(|c| *c == SqlState::T_R_SERIALIZATION_FAILURE || *c == SqlState::T_R_DEADLOCK_DETECTED)
}

/// Prepares a table's statements on a new connection.
type Prepare<S> = Box<dyn Fn(&mut Client) -> Result<S, postgres::Error> + Send>;

/// A connection and the statements `prepare` made on it.
pub(crate) struct Session<S> {
    connect: Connect,
    prepare: Prepare<S>,
    /// `SET` commands run on every new connection.
    setup: String,
    /// The table the connection serves (the name the server shows).
    table: String,
    live: Option<Client>,
    /// Prepared on `live` at its first `run` (the table may not exist yet
    /// when the connection opens).
    stmts: Option<S>,
}

impl<S> std::fmt::Debug for Session<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session").field("connected", &self.live.is_some()).finish()
    }
}

impl<S> Session<S> {
    /// A session for the table `table` (empty: none), running `setup` on
    /// each new connection and `prepare` before the first prepared use.
    pub(crate) fn new(
        connect: &Connect,
        table: &str,
        setup: String,
        prepare: impl Fn(&mut Client) -> Result<S, postgres::Error> + Send + 'static,
    ) -> Session<S> {
        Session {
            connect: connect.clone(),
            prepare: Box::new(prepare),
            setup,
            table: table.to_string(),
            live: None,
            stmts: None,
        }
    }

    fn drop_connection(&mut self) {
        self.live = None;
        self.stmts = None;
    }

    fn connection(&mut self, prepared: bool) -> Result<(&mut Client, Option<&S>), postgres::Error> {
        if self.live.as_ref().is_some_and(Client::is_closed) {
            self.drop_connection();
        }
        if self.live.is_none() {
            self.live = Some(self.connect.open_client(&self.table, &self.setup)?);
        }
        let client = self.live.as_mut().expect("connected above");
        if prepared && self.stmts.is_none() {
            self.stmts = Some((self.prepare)(client)?);
        }
        Ok((client, self.stmts.as_ref()))
    }

    /// Like [`Session::with_retry`], without the prepared statements.
    pub(crate) fn with_retry_unprepared<T>(
        &mut self,
        mut attempt: impl FnMut(&mut Client) -> Result<T, Fail>,
    ) -> Result<T, PgError> {
        self.retrying(false, |c, _| attempt(c))
    }

    /// Runs `attempt` until it succeeds, fails for good, or the retry
    /// window ends. Only failures before `COMMIT` that [`transient`] calls
    /// temporary are retried.
    pub(crate) fn with_retry<T>(
        &mut self,
        mut attempt: impl FnMut(&mut Client, &S) -> Result<T, Fail>,
    ) -> Result<T, PgError> {
        self.retrying(true, |c, s| attempt(c, s.expect("prepared")))
    }

    fn retrying<T>(
        &mut self,
        prepared: bool,
        mut attempt: impl FnMut(&mut Client, Option<&S>) -> Result<T, Fail>,
    ) -> Result<T, PgError> {
        let start = Instant::now();
        let mut pause = Duration::from_millis(10);
        loop {
            let failure = match self.connection(prepared) {
                Ok((client, stmts)) => match attempt(client, stmts) {
                    Ok(v) => return Ok(v),
                    Err(Fail::AtCommit(e)) if rolled_back(&e) => e,
                    Err(Fail::AtCommit(e)) if e.as_db_error().is_some() && !transient(&e) => {
                        return Err(PgError::Db(e));
                    }
                    Err(Fail::AtCommit(e)) => {
                        self.drop_connection();
                        return Err(PgError::CommitUnknown(e));
                    }
                    Err(Fail::Before(e)) => e,
                },
                Err(e) => e,
            };
            if let Some(reason) = crate::tls::handshake_failure(&failure) {
                return Err(PgError::TlsHandshake { reason });
            }
            if !transient(&failure) {
                return Err(PgError::Db(failure));
            }
            if failure.is_closed() || failure.as_db_error().is_none() {
                self.drop_connection();
            }
            if start.elapsed() + pause > self.connect.retry_for {
                return Err(PgError::Unavailable { waited: start.elapsed(), source: failure });
            }
            std::thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_millis(500));
        }
    }
}

/// Runs `body` between `begin` (a `BEGIN …` command, possibly with `SET
/// LOCAL`s) and `COMMIT`, telling a failure of the `COMMIT` apart.
pub(crate) fn transaction<T>(
    client: &mut Client,
    begin: &str,
    body: impl FnOnce(&mut Client) -> Result<T, postgres::Error>,
) -> Result<T, Fail> {
    client.batch_execute(begin)?;
    match body(client) {
        Ok(v) => client.batch_execute("COMMIT").map(|()| v).map_err(Fail::AtCommit),
        Err(e) => {
            let _ = client.batch_execute("ROLLBACK");
            Err(Fail::Before(e))
        }
    }
}
