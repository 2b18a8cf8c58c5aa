//! # persist-queue-postgres
//!
//! The PostgreSQL record store of persist-queue: every queue kind (FIFO,
//! FILO, priority, unique, ack) and `PDict` on a PostgreSQL server, so that
//! producers and consumers on any number of machines share one queue.
//!
//! What it is:
//! - table names from the core's name rule (lowercase store names, cut
//!   with a digest past 63 bytes); a table an older version created under
//!   a capitalised name is renamed at open ([`adopt_table`]);
//! - one table per queue (`id BIGINT` identity, `payload BYTEA` up to 1 GiB,
//!   `priority`, `status`, `timestamp`, `deliveries`, `unique_key`), indexed
//!   for the queue's order, created on first open and versioned in
//!   `pq_schema`;
//! - claims in one statement, `UPDATE … WHERE id = ANY(ARRAY(SELECT … FOR
//!   UPDATE SKIP LOCKED)) RETURNING …`: any number of consumers, never the
//!   same item twice, none waiting on another's lock;
//! - one round trip per put, claim and ack (autocommit statements), as a
//!   raw client would;
//! - `LISTEN/NOTIFY` wake-ups ([`Listener`]): a trigger notifies when an
//!   item becomes ready, so a waiting `get` wakes within milliseconds of a
//!   put on any machine;
//! - durability mapped to `synchronous_commit` per connection (claims that
//!   only mark items in flight use a second, unflushed connection);
//! - faults handled by rule: a plan that failed before its commit was sent,
//!   or that the server answered it rolled back (connection refused, server
//!   restarting, deadlock), is retried on a new connection; a connection
//!   lost while a commit may have happened is [`PgError::CommitUnknown`],
//!   never retried (a retry could put an item twice);
//! - TLS with rustls ([`Connect`]: `sslmode` `disable`, `prefer`,
//!   `require`, `verify-ca`, `verify-full`; a CA file (`sslrootcert`) or the
//!   bundled Mozilla roots; client certificates `sslcert`/`sslkey`). The
//!   default is `disable` on a loopback host and `require` on any other; a
//!   failed handshake is [`PgError::TlsHandshake`], never retried;
//! - settings per queue: connect and statement timeouts, the retry window
//!   (default 30 s), the application name (default `persist-queue
//!   <table>`, so a DBA finds the queue in `pg_stat_activity`), a schema
//!   (created if missing), as URL parameters or [`Connect`] methods;
//! - puts and acks inside a transaction of the caller's own
//!   ([`execute_in`] on a [`PgTableRef`]): the outbox pattern, one round
//!   trip, the `NOTIFY` sent at the caller's commit;
//! - online migrations: a table of an older schema version gets the new
//!   columns under the schema lock while older processes keep using it; a
//!   table newer than this crate is [`PgError::SchemaTooNew`].
//!
//! What it is not: a pool shared by handles. Each open table owns its
//! connections, because a queue handle runs one operation at a time; open
//! more handles for more concurrency.
//!
//! ```no_run
//! use persist_queue_core::Durability;
//! use persist_queue_core::records::{Kind, Lease, Put, RecordQueue, Verdict, complete};
//! use persist_queue_postgres::{Connect, PgTable};
//!
//! let connect = Connect::url("postgresql://postgres@127.0.0.1:5432/postgres")?;
//! let table = PgTable::open(&connect, "ack_queue_jobs", Durability::Synced, Kind::ACK.order)?;
//! // A claim leases its item for 30 s (the host's clock; servers use their own).
//! let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as u64;
//! let lease = Lease { now, ms: 30_000 };
//! let mut q = complete(RecordQueue::open(table, Kind::ACK, false, lease)).expect("open");
//! complete(q.put(Put::new(b"job"), lease.now)).expect("put");
//! let job = complete(q.get(false, lease)).expect("get").expect("an item");
//! complete(q.settle_leased(&[(job.id, job.deliveries)], Verdict::Ack, lease.now, 0)).expect("ack");
//! # Ok::<(), persist_queue_postgres::PgError>(())
//! ```

mod adopt;
mod catalog;
mod connect;
mod error;
mod in_transaction;
mod listen;
mod map;
mod session;
mod table;
mod tls;

pub use crate::adopt::adopt_table;
pub use crate::catalog::table_names;
pub use crate::connect::Connect;
pub use crate::error::PgError;
pub use crate::in_transaction::{PgTableRef, execute_in};
pub use crate::listen::Listener;
pub use crate::map::PgMap;
pub use crate::table::{PgTable, SCHEMA_VERSION};
/// The client crate whose [`postgres::Transaction`] [`execute_in`] takes.
pub use postgres;
